"""Tries and intermittent results (INTERFACE "Tries and intermittent results"), the real
CLI in the client namespace against the lab's real nginx:

- good.example's IPv6 address refuses every other new connection on each port (nft
  `numgen inc mod 2` with a TCP reset, in the web namespace): the first connect to each
  port is refused, the second accepted. web.reachable is `warn` "intermittent", with
  attempts and failed_attempts in evidence; never `fail`.
- www.cname.example's IPv6 address is down (nft drop): `fail` after 3 tries.
- `ipv6scan diff` of a run without the refusals against the one with them lists the
  intermittent results apart from regressions and exits 0.

The nft table lives in the web namespace only while a test needs it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ipv6scan.lab import Lab
from ipv6scan.lab import topology as t
from ipv6scan.lab.availability import binary
from ipv6scan.lab.scanrun import ScanRun
from tests.integration.test_dns_checks import REPO

pytestmark = pytest.mark.lab

FLAKY_TARGET, FLAKY6 = "good.example", "2001:db8:80:1::10"
DOWN_TARGET, DOWN_HOST, DOWN6 = "cname.example", "www.cname.example", "2001:db8:80:2::10"
TABLE = "ipv6scan_tries"
TIMEOUT = 1.0
# one timeout and two backoffs of at most 2 s for the silent address (the tries
# overlap), a backoff for each refusal, and the scanner's start: far below 3 timeouts
# plus backoffs per probe one after another only if the tries overlap
WALL_SECONDS = 25.0


def _rules(flaky: bool, down: bool) -> str:
    # a SYN without ACK: a new connection; each rule's numgen keeps its own count
    syn = "tcp flags & (syn | ack) == syn"
    lines = []
    if flaky:
        lines += [
            f"ip6 daddr {FLAKY6} tcp dport {port} {syn} numgen inc mod 2 == 0 "
            "counter reject with tcp reset"
            for port in (80, 443)
        ]
    if down:
        lines.append(f"ip6 daddr {DOWN6} counter drop")
    body = "\n    ".join(lines)
    return (
        f"table inet {TABLE} {{\n  chain input {{\n"
        f"    type filter hook input priority -10; policy accept;\n    {body}\n  }}\n}}\n"
    )


def _nft(lab: Lab, *args: str, script: str | None = None) -> None:
    lab.run(lab.web_ns, [binary("nft"), *args], input=script, text=True, check=True,
            capture_output=True)  # fmt: skip


@pytest.fixture
def faults(lab: Lab) -> Iterator[None]:
    """good.example refuses every other connection; www.cname.example is down."""
    _nft(lab, "-f", "-", script=_rules(flaky=True, down=True))
    try:
        yield
    finally:
        _nft(lab, "delete", "table", "inet", TABLE)


@pytest.fixture
def flaky_only(lab: Lab) -> Iterator[None]:
    _nft(lab, "-f", "-", script=_rules(flaky=True, down=False))
    try:
        yield
    finally:
        _nft(lab, "delete", "table", "inet", TABLE)


def _scan(lab: Lab, out: Path, *extra: str) -> ScanRun:
    targets = lab.write_targets(
        out.parent / f"{out.name}-targets.yaml", (FLAKY_TARGET, DOWN_TARGET)
    )
    run = lab.scan(lab.client_ns, targets, out, checks="web.reachable", timeout=TIMEOUT,
                   extra=extra)  # fmt: skip
    assert run.returncode == 0, run.argv
    return run


@pytest.fixture(scope="module")
def steady_run(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> ScanRun:
    """The same targets with no fault: the baseline for diff."""
    return _scan(lab, tmp_path_factory.mktemp("tries") / "steady")


def test_a_server_refusing_every_other_connection_is_intermittent_never_fail(
    lab: Lab, faults: None, tmp_path: Path
) -> None:
    run = _scan(lab, tmp_path / "flaky")
    for subject in ("good.example", "www.good.example"):
        record = run.get(FLAKY_TARGET, subject, "web.reachable")
        evidence = record["evidence"]
        assert record["status"] == "warn", record
        assert "intermittent" in record["detail"]
        assert f"1 of 2 tries failed on [{FLAKY6}]" in record["detail"]
        assert evidence["intermittent"] is True
        assert evidence["attempts"] == 2 and evidence["failed_attempts"] == 1
        tries = {t["probe"]: t for t in evidence["tries"]}
        assert tries[f"[{FLAKY6}]:443"]["failed_attempts"] == 1


def test_a_server_that_is_down_fails_after_three_tries(
    lab: Lab, faults: None, tmp_path: Path
) -> None:
    run = _scan(lab, tmp_path / "down")
    record = run.get(DOWN_TARGET, DOWN_HOST, "web.reachable")
    assert record["status"] == "fail", record
    assert "intermittent" not in record["detail"]
    evidence = record["evidence"]
    assert evidence["attempts"] == 3 and evidence["failed_attempts"] == 3
    assert {t["probe"] for t in evidence["tries"]} >= {f"[{DOWN6}]:80", f"[{DOWN6}]:443"}
    # the silent tries overlap: one timeout and the backoffs, not 3 timeouts and backoffs
    assert run.seconds < WALL_SECONDS


def test_one_attempt_keeps_the_old_behaviour(lab: Lab, faults: None, tmp_path: Path) -> None:
    run = _scan(lab, tmp_path / "once", "--attempts", "1")
    record = run.get(FLAKY_TARGET, "good.example", "web.reachable")
    assert record["status"] in ("warn", "fail")  # the refused port is final at once
    assert "attempts" not in record["evidence"] and "intermittent" not in record["detail"]


def test_diff_lists_intermittent_results_apart_and_exits_0(
    lab: Lab, steady_run: ScanRun, flaky_only: None, tmp_path: Path
) -> None:
    out = tmp_path / "flaky"
    _scan(lab, out)
    steady = steady_run.get(FLAKY_TARGET, "good.example", "web.reachable")
    assert steady["status"] == "pass", steady
    steady_dir = Path(steady_run.argv[steady_run.argv.index("--out") + 1])
    proc = subprocess.run(
        [sys.executable, "-m", "ipv6scan", "diff", str(steady_dir), str(out), "--json"],
        capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    listed = {(c["subject"], c["check"]) for c in report["intermittent"]}
    assert listed == {("good.example", "web.reachable"), ("www.good.example", "web.reachable")}
    assert report["regressed"] == [] and report["regression"] is False


# ------------------------------------------------------------------ dns.ns_reachable, net.ping
#
# - ns1.dns.example's IPv6 address (good.example's first name server) drops every other
#   query that comes from outside the dns namespace (nft `numgen inc mod 2`, on UDP and
#   on TCP SYNs to port 53; the lab's own resolvers ask it over lo and are not counted):
#   dns.ns_reachable is `warn` "intermittent", never `fail`.
# - CORE_OK6 loses its first series of echo requests (an nft quota drops the first
#   PING_COUNT echo requests' bytes, then lets every one through) and answers the
#   second: net.ping `warn` intermittent, attempts 2, failed 1, on the bulk path and on
#   the engine alike. CORE_DROP6 drops every echo request (the lab's own nft): `fail`
#   after 3 series.

PING_COUNT = 3  # CheckOptions().ping_count: echoes per series
ECHO_BYTES = 40 + 8 + 16  # an echo request at the input hook: IPv6 header, ICMPv6, payload


def _dns_rules() -> str:
    ns1 = t.NS1_6
    drop = "numgen inc mod 2 == 0 counter drop"
    return (
        f"table inet {TABLE} {{\n  chain input {{\n"
        "    type filter hook input priority -10; policy accept;\n"
        f'    iifname != "lo" ip6 daddr {ns1} udp dport 53 {drop}\n'
        f'    iifname != "lo" ip6 daddr {ns1} tcp dport 53 tcp flags & (syn | ack) == syn {drop}\n'
        "  }\n}\n"
    )


def _ping_rules() -> str:
    # `quota until`: matches while the bytes counted stay below the quota, so the first
    # PING_COUNT echo requests are dropped and every later one goes through
    quota = PING_COUNT * ECHO_BYTES + ECHO_BYTES // 2
    return (
        f"table inet {TABLE} {{\n  chain input {{\n"
        "    type filter hook input priority -10; policy accept;\n"
        f"    ip6 daddr {t.CORE_OK6} icmpv6 type echo-request quota until {quota} bytes "
        "counter drop\n  }\n}\n"
    )


def _load(lab: Lab, ns: str, script: str) -> None:
    lab.run(ns, [binary("nft"), "-f", "-"], input=script, text=True, check=True,
            capture_output=True)  # fmt: skip


def _unload(lab: Lab, ns: str) -> None:
    lab.run(ns, [binary("nft"), "delete", "table", "inet", TABLE], check=True,
            capture_output=True)  # fmt: skip


@pytest.fixture
def flaky_name_server(lab: Lab) -> Iterator[None]:
    _load(lab, lab.dns_ns, _dns_rules())
    try:
        yield
    finally:
        _unload(lab, lab.dns_ns)


def test_a_name_server_answering_every_other_query_is_intermittent_never_fail(
    lab: Lab, flaky_name_server: None, tmp_path: Path
) -> None:
    targets = lab.write_targets(tmp_path / "targets.yaml", (FLAKY_TARGET,))
    run = lab.scan(lab.client_ns, targets, tmp_path / "out", checks="dns.ns_reachable",
                   timeout=TIMEOUT)  # fmt: skip
    assert run.returncode == 0, run.argv
    record = run.get(FLAKY_TARGET, FLAKY_TARGET, "dns.ns_reachable")
    evidence = record["evidence"]
    assert record["status"] == "warn", record
    assert evidence["intermittent"] is True
    assert f"ns1.dns.example [{t.NS1_6}]" in record["detail"]
    tries = {row["probe"]: row for row in evidence["tries"]}
    ns1 = tries[f"ns1.dns.example [{t.NS1_6}]"]
    assert ns1["failed_attempts"] >= 1 and ns1["attempts"] == ns1["failed_attempts"] + 1
    assert f"ns2.dns.example [{t.NS2_6}]" not in tries  # answered its first query
    answers = {a["address"]: a for a in evidence["answers"]}
    assert answers[t.NS1_6]["rcode"] == "NOERROR" and answers[t.NS1_6]["authoritative"]


PING_LIST = {
    "version": 1,
    "name": "tries of net.ping",
    "targets": [{"name": "Backbone", "sector": "operator",
                 "systems": {"backbone": [t.CORE_OK6, t.CORE_DROP6]}}],
}  # fmt: skip


def _ping_scan(lab: Lab, tmp_path: Path, name: str, engine: str | None) -> dict[str, Any]:
    targets = tmp_path / "ping.yaml"
    targets.write_text(json.dumps(PING_LIST))  # YAML's flow style: JSON is YAML
    out = tmp_path / name
    argv = lab.scan_argv(targets, out, checks="net.ping", timeout=TIMEOUT)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("IPV6SCAN_ENGINE", None)
    if engine is not None:
        env["IPV6SCAN_ENGINE"] = engine
    _load(lab, lab.core_ns, _ping_rules())
    try:
        proc = lab.run(lab.client_ns, argv, capture_output=True, text=True, timeout=120,
                       cwd=REPO, env=env)  # fmt: skip
    finally:
        _unload(lab, lab.core_ns)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = (out / "results.jsonl").read_text().splitlines()
    return {r["subject"]: r for r in map(json.loads, lines)}


@pytest.mark.parametrize("engine", [None, "general"], ids=["bulk-path", "engine"])
def test_an_address_answering_only_its_second_series_is_intermittent_a_silent_one_fails(
    lab: Lab, tmp_path: Path, engine: str | None
) -> None:
    records = _ping_scan(lab, tmp_path, "ping", engine)
    late = records[t.CORE_OK6]
    assert late["status"] == "warn", late
    assert late["evidence"]["intermittent"] is True
    assert (late["evidence"]["attempts"], late["evidence"]["failed_attempts"]) == (2, 1)
    assert f"1 of 2 tries failed on {t.CORE_OK6}" in late["detail"]
    assert late["evidence"]["pings"][0]["received"] == PING_COUNT  # the second series
    silent = records[t.CORE_DROP6]
    assert silent["status"] == "fail", silent
    assert (silent["evidence"]["attempts"], silent["evidence"]["failed_attempts"]) == (3, 3)
    assert "intermittent" not in silent["detail"]
