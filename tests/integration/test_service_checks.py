"""The real CLI against the namespace lab, every check family: web, mail, net, DNS, resolver.

One full scan (module-scoped) of the full lab target list (every scenario, and
the Lab Operator's systems by tier) from the dual-stack client, with
`--checks dns,web,mail,net,resolver --timeout 2`; and one from the IPv4-only
client. The expected outcomes come from ipv6scan.lab.scenarios, next to the
zone data; what each server does is in ipv6scan.lab.websites / mailhosts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ipv6scan.lab import Lab, webserver
from ipv6scan.lab import scenarios as sc
from ipv6scan.lab import topology as t
from ipv6scan.lab import websites as w
from ipv6scan.lab.scanrun import ScanRun

pytestmark = pytest.mark.lab

CHECKS = "dns,web,mail,net,resolver"
TIMEOUT = 2.0
# The trickle server, the 256 MiB page, the echo-dropping backbone host: none may
# hold the scan up beyond its timeouts.
WALL_SECONDS = 60.0
EVIDENCE_BYTES = 256 * 1024  # a result line stays small, whatever a server sends
Key = tuple[str, str, str]  # (target, subject, check)


def scan(lab: Lab, ns: str, targets: Path, out: Path) -> ScanRun:
    run = lab.scan(ns, targets, out, checks=CHECKS, timeout=TIMEOUT)
    assert run.returncode == 0, run.argv
    return run


def get(run: ScanRun, target: str, subject: str, check: str) -> dict[str, Any]:
    try:
        return run.get(target, subject, check)
    except KeyError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="module")
def full_run(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> ScanRun:
    return scan(lab, lab.client_ns, lab.full_targets_file, tmp_path_factory.mktemp("scan-full"))


@pytest.fixture(scope="module")
def ipv4_only_run(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> ScanRun:
    out = tmp_path_factory.mktemp("scan-full-ipv4only")
    targets = lab.write_targets(
        out.parent / "ipv4only-full-targets.yaml", sc.IPV4_ONLY_TARGETS, full=True
    )
    return scan(lab, lab.client4_ns, targets, out)


def _evidence(record: dict[str, Any]) -> str:
    return json.dumps(record["evidence"], ensure_ascii=False)


# web.latency "pass" in the lab means "no real degradation". The scanner and every lab
# server share two cores while the full scan runs, and time-to-first-byte medians of a
# few ms then move by more than 20% of the 25 ms floor (seen: 13.1 against 4.6 ms), so a
# warn is accepted there; a fail is not, and the delaying relay (slow6) must still fail.
# The judge's thresholds are held exactly by tests/unit/test_web_judges.py.
ACCEPTED = {("web.latency", "pass"): {"pass", "warn"}}


def _assert_row(run: ScanRun, row: sc.Row) -> None:
    target, subject, check, status = row
    record = get(run, target, subject, check)
    assert record["status"] in ACCEPTED.get((check, status), {status}), (
        f"{check} for {subject} ({target}): expected {status}, got {record['status']}: "
        f"{record['detail']!r}; evidence {_evidence(record)[:3000]}"
    )


def _ids(row: sc.Row) -> str:
    return f"{row[1]}:{row[2]}"


# ------------------------------------------------------------------ every expected row


@pytest.mark.parametrize("row", sc.FULL_EXPECTED, ids=_ids)
def test_full_run(full_run: ScanRun, row: sc.Row) -> None:
    _assert_row(full_run, row)


@pytest.mark.parametrize("key", sc.OPERATOR_ABSENT, ids=lambda k: f"{k[1]}:{k[2]}")
def test_tier_defaults_and_overrides_leave_these_out(full_run: ScanRun, key: Key) -> None:
    assert key not in full_run.by_key(), full_run.by_key()[key]


@pytest.mark.parametrize("row", sc.IPV4_ONLY_SERVICES_EXPECTED, ids=_ids)
def test_ipv4_only_run(ipv4_only_run: ScanRun, row: sc.Row) -> None:
    _assert_row(ipv4_only_run, row)


# ------------------------------------------------------------------ the run as a whole


def test_scan_finishes_within_its_timeouts(full_run: ScanRun) -> None:
    assert full_run.seconds < WALL_SECONDS, f"{full_run.seconds:.1f} s"
    # No check ran into the engine's own deadline (timeout * 8 + 2): every probe
    # was bounded by its own timeout, the trickle and the huge page included.
    slow = [r for r in full_run.records if "ran out of time" in r["detail"]]
    assert not slow, slow


def test_records_are_small(full_run: ScanRun) -> None:
    for record in full_run.records:
        assert len(_evidence(record).encode()) < EVIDENCE_BYTES, (
            record["subject"],
            record["check"],
        )


def test_one_line_per_target_subject_check(full_run: ScanRun) -> None:
    keys = [(r["target"], r["subject"], r["check"]) for r in full_run.records]
    assert len(keys) == len(set(keys))
    families = {r["check"].split(".")[0] for r in full_run.records}
    assert {"dns", "resolver", "mail", "net"} <= families


def test_tiers_follow_the_systems_entries(full_run: ScanRun) -> None:
    domains = {s.target_name: s.zone for s in sc.SCENARIOS}
    for record in full_run.records:
        if record["subject"] in sc.OPERATOR_TIERS and record["target"] == sc.OPERATOR_NAME:
            assert record["tier"] == sc.OPERATOR_TIERS[record["subject"]], record
        else:
            zone = domains[record["target"]]
            assert record["subject"] in (zone, f"www.{zone}"), record
            assert record["tier"] == "services", record


def test_no_connection_to_the_scanners_own_loopback(lab: Lab, full_run: ScanRun) -> None:
    # nonglobal.example and scope.example publish ::1 and 127.0.0.1.
    assert lab.canary_hits(full_run.started - 1, full_run.ended + 1) == []


# ------------------------------------------------------------------ evidence details


def test_links_evidence_names_the_failing_links_and_the_share(full_run: ScanRun) -> None:
    record = get(full_run, "links.example", "links.example", "web.links")
    evidence = _evidence(record)
    missing = [url for url in w.FAILING_LINKS if url.rstrip("/") not in evidence]
    assert not missing, f"failing links not named: {missing}; evidence {evidence[:3000]}"
    assert any(token in evidence for token in ("0.7", "7/10", "70%")), evidence[:3000]


def test_huge_page_is_a_truncated_pass(full_run: ScanRun) -> None:
    record = get(full_run, "huge.example", "huge.example", "web.http")
    assert record["status"] == "pass"
    assert "truncat" in _evidence(record).lower(), _evidence(record)[:3000]


def test_certificates_are_evidence(full_run: ScanRun) -> None:
    # Self-signed and unverifiable, yet recorded, and never a reason for "no response".
    record = get(full_run, "good.example", "good.example", "web.http")
    assert record["status"] == "pass"
    assert webserver.WEB_CERT_CN in _evidence(record), _evidence(record)[:3000]


def _hops(record: dict[str, Any]) -> list[str | None]:
    return [hop["address"] for hop in record["evidence"]["hops"]]


def test_trace_sees_every_router_of_the_backbone(full_run: ScanRun) -> None:
    record = get(full_run, sc.OPERATOR_NAME, t.CORE_OK6, "net.trace")
    hops = _hops(record)
    assert len(hops) >= 3
    routers = [t.addr(t.link(2).a6), t.addr(t.link(4).b6), t.addr(t.link(5).b6),
               t.addr(t.link(6).b6)]  # fmt: skip
    assert hops == [*routers, t.CORE_OK6], hops


def test_trace_passes_a_silent_hop(full_run: ScanRun) -> None:
    record = get(full_run, sc.OPERATOR_NAME, t.CORE_QUIET6, "net.trace")
    hops = _hops(record)
    assert hops[2] is None and hops[-1] == t.CORE_QUIET6, hops
    assert all(hop is not None for i, hop in enumerate(hops) if i != 2), hops


def test_trace_to_the_echo_dropping_host_stops_short(full_run: ScanRun) -> None:
    record = get(full_run, sc.OPERATOR_NAME, t.CORE_DROP6, "net.trace")
    assert t.CORE_DROP6 not in [h for h in _hops(record) if h]
    assert t.addr(t.link(6).b6) in _hops(record)  # the routers on the way still answer


def test_ipv4_only_client_never_blames_the_target(ipv4_only_run: ScanRun) -> None:
    for record in ipv4_only_run.records:
        if record["check"] in sc.IPV6_PATH_CHECKS:
            assert record["status"] in ("error", "skip"), record
