"""web.pmtu through the real CLI in the namespace lab: a path-MTU black hole and its control.

The pmtu router's link toward the rest of the lab has MTU 1,280 and the servers' links
1,500; nft on the router drops the Packet Too Big it sends toward the pmtuhole namespace
(ipv6scan/lab/topology.py, pmtulab.py). Every outcome of the check is asserted here:
pass (pmtuok, the control), fail (pmtuhole: nothing arrives; pmtusplit: the head
arrives, the body hangs while web.http passes), skip (pmtusmall: a page that fits 1,280
bytes; and a host with no AAAA), error (a stall the clamp does not cure: the trickle
server; and no IPv6 path: the IPv4-only client).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ipv6scan.lab import Lab
from ipv6scan.lab import topology as t
from ipv6scan.lab.scanrun import ScanRun
from ipv6scan.observations.pmtu import CLAMPED_MSS, LARGE_BYTES

pytestmark = pytest.mark.lab

CHECKS = "web.http,web.pmtu"
TIMEOUT = 2.0
TARGETS = (
    "pmtuhole.example",
    "pmtusplit.example",
    "pmtusmall.example",
    "pmtutls.example",
    "pmtuok.example",
    "trickle.example",
    "v4only.example",
)
EXPECTED = {
    "pmtuok.example": "pass",
    "pmtuhole.example": "fail",
    "pmtusplit.example": "fail",
    "pmtutls.example": "fail",
    "pmtusmall.example": "skip",
    "v4only.example": "skip",
    "trickle.example": "error",
}


def _scan(lab: Lab, ns: str, out: Path, targets: tuple[str, ...]) -> ScanRun:
    file = lab.write_targets(out.parent / f"{out.name}-targets.yaml", targets)
    run = lab.scan(ns, file, out, checks=CHECKS, timeout=TIMEOUT)
    assert run.returncode == 0, run.argv
    return run


@pytest.fixture(scope="module")
def pmtu_run(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> ScanRun:
    return _scan(lab, lab.client_ns, tmp_path_factory.mktemp("scan-pmtu"), TARGETS)


@pytest.fixture(scope="module")
def ipv4_only_run(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> ScanRun:
    out = tmp_path_factory.mktemp("scan-pmtu-ipv4only")
    return _scan(lab, lab.client4_ns, out, ("pmtuok.example",))


def _pmtu(run: ScanRun, host: str) -> dict[str, Any]:
    return run.get(host, host, "web.pmtu")


# ------------------------------------------------------------------ the lab is what it claims


def _mtu(lab: Lab, role: str, ifname: str) -> int:
    proc = lab.run(lab.ns(role), ["cat", f"/sys/class/net/{ifname}/mtu"],
                   capture_output=True, text=True, check=True)  # fmt: skip
    return int(proc.stdout)


def test_the_narrow_link_is_1280_and_everything_else_1500(lab: Lab) -> None:
    narrow = t.link(10)
    assert _mtu(lab, narrow.a, narrow.a_if) == _mtu(lab, narrow.b, narrow.b_if) == 1280
    # the scanner's own link: its SYN advertises a 1,440-byte MSS, so a server sends
    # full-size segments unless clamped
    assert _mtu(lab, "client", t.UPLINK) == 1500
    for server in t.PMTU_SERVERS:
        assert _mtu(lab, server, t.UPLINK) == 1500


# ------------------------------------------------------------------ every outcome, via the CLI


@pytest.mark.parametrize("host", sorted(EXPECTED))
def test_outcome(pmtu_run: ScanRun, host: str) -> None:
    record = _pmtu(pmtu_run, host)
    assert record["status"] == EXPECTED[host], record


def test_the_control_passes_with_a_large_response(pmtu_run: ScanRun) -> None:
    ev = _pmtu(pmtu_run, "pmtuok.example")["evidence"]
    assert ev["size"] > LARGE_BYTES and ev["stalled"] is False
    assert ev["address"] == "2001:db8:1280:2::10" and ev["port"] == 80
    assert "clamped_ok" not in ev  # no clamped request when nothing stalled


def test_the_black_hole_stalls_and_the_clamp_gets_through(pmtu_run: ScanRun) -> None:
    record = _pmtu(pmtu_run, "pmtuhole.example")
    ev = record["evidence"]
    assert "black hole" in record["detail"]
    assert ev["stalled"] is True and ev["clamped_ok"] is True
    assert ev["clamped_mss"] == CLAMPED_MSS and ev["clamped_size"] > 20_000
    assert ev["size"] == 0  # not one byte of the full-size response arrived
    assert ev["attempts"] >= 2  # the stall was tried again before it counted
    assert pmtu_run.get("pmtuhole.example", "pmtuhole.example", "web.http")["status"] == "fail"


def test_the_black_hole_over_https(pmtu_run: ScanRun) -> None:
    ev = _pmtu(pmtu_run, "pmtutls.example")["evidence"]
    assert ev["port"] == 443 and ev["url"] == "https://pmtutls.example/"
    assert ev["stalled"] is True and ev["clamped_ok"] is True and ev["clamped_size"] > 20_000


def test_a_head_that_arrives_alone_hides_the_black_hole_from_web_http(pmtu_run: ScanRun) -> None:
    ev = _pmtu(pmtu_run, "pmtusplit.example")["evidence"]
    assert ev["stalled"] is True and ev["clamped_ok"] is True
    assert 0 < ev["size"] < LARGE_BYTES  # the head, and nothing after it
    assert ev["web_http"]["status"] == 200 and "in time" in ev["web_http"]["body_error"]
    http = pmtu_run.get("pmtusplit.example", "pmtusplit.example", "web.http")
    assert http["status"] == "pass"  # a status came: web.http alone would not see it


def test_a_small_page_behind_the_black_hole_is_skipped(pmtu_run: ScanRun) -> None:
    record = _pmtu(pmtu_run, "pmtusmall.example")
    assert record["evidence"]["size"] <= LARGE_BYTES and "1280" in record["detail"]


def test_a_stall_the_clamp_does_not_cure_is_not_a_black_hole(pmtu_run: ScanRun) -> None:
    record = _pmtu(pmtu_run, "trickle.example")
    assert "with and without" in record["detail"]
    assert record["evidence"]["clamped_ok"] is False


def test_no_ipv6_path_is_an_error(ipv4_only_run: ScanRun) -> None:
    record = _pmtu(ipv4_only_run, "pmtuok.example")
    assert record["status"] == "error" and "IPv6 path" in record["detail"]


def test_the_black_hole_is_the_router_dropping_packet_too_big(lab: Lab, pmtu_run: ScanRun) -> None:
    proc = lab.run(lab.ns("pmtu"), ["nft", "list", "table", "inet", "lab_pmtu"],
                   capture_output=True, text=True, check=True)  # fmt: skip
    packets = int(proc.stdout.split("counter packets ", 1)[1].split()[0])
    assert packets > 0  # the scans above made the router send (and drop) Packet Too Big
