"""Honest errors about the scanner itself (issue 14, items 2 and 3), with real servers.

- A resolver that answers NXDOMAIN for every name (a second Unbound in the dns
  namespace, `local-zone: "." always_nxdomain`): alone, every DNS check is `error`
  naming it, stderr says so in one line, the score is null and the report's banner says
  so; beside the good Unbound it is not used, and the results are those of the good one.
- A scan without CAP_NET_RAW (setpriv drops it from the bounding and inheritable sets):
  net.ping and net.trace are `error` naming the permission, on the engine path and on
  the net.ping bulk path, with one stderr line.
- Resolver entries naming ::1, 127.0.0.1, fe80::1 and a documentation address outside
  --allow-prefix: `skip` "not probed", and not one packet (the client's loopback canary
  listens on UDP and TCP 53; an nft counter in the client namespace counts the others).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from ipv6scan.lab import Lab
from ipv6scan.lab import topology as t
from ipv6scan.lab.availability import binary

pytestmark = pytest.mark.lab

BAD = t.NXDOMAIN_RESOLVER6
GOOD = t.RESOLVER6
ROOT = Path(__file__).resolve().parents[2]


def _targets(path: Path, targets: list[dict[str, Any]]) -> Path:
    path.write_text(yaml.safe_dump({"version": 1, "name": path.stem, "targets": targets}))
    return path


ORGS: list[dict[str, Any]] = [
    {"name": "Good Org", "sector": "government", "domains": ["good.example"]},
    {"name": "V4 Org", "sector": "enterprise", "domains": ["v4only.example"]},
    {"name": "Backbone", "sector": "operator",
     "systems": {"backbone": [t.CORE_OK6], "metro": ["www.good.example"]}},
]  # fmt: skip


class Run:
    def __init__(self, proc: subprocess.CompletedProcess[str], out: Path, started: float) -> None:
        self.started = started  # time.time() before the scan: the canary's window
        self.returncode = proc.returncode
        self.stderr = proc.stderr
        self.out = out
        lines = (out / "results.jsonl").read_text(encoding="utf-8").splitlines()
        self.records = [json.loads(line) for line in lines if line.strip()]
        self.summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))

    def rows(self) -> set[tuple[str, str, str, str, str]]:
        return {(r["target"], r["subject"], r["check"], r["status"], r["detail"])
                for r in self.records}  # fmt: skip


def _scan(
    lab: Lab,
    targets: Path,
    out: Path,
    checks: str,
    *,
    resolvers: tuple[str, ...] = (),
    allow: tuple[str, ...] | None = None,
    wrap: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
) -> Run:
    argv = lab.scan_argv(targets, out, checks=checks, timeout=2.0)
    if allow is not None:  # the lab's prefixes replaced by these
        argv = [a for a in argv if a not in lab.allow_prefixes and a != "--allow-prefix"]
        argv += [arg for prefix in allow for arg in ("--allow-prefix", prefix)]
    argv += [arg for r in resolvers for arg in ("--resolver", r)]
    path = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    started = time.time()
    proc = lab.run(lab.client_ns, [*wrap, *argv], capture_output=True, text=True, timeout=600,
                   cwd=ROOT, env={**os.environ, "PYTHONPATH": path, **(env or {})})  # fmt: skip
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    return Run(proc, out, started)


# ------------------------------------------------------------------ untrusted resolver


@pytest.fixture(scope="module")
def orgs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _targets(tmp_path_factory.mktemp("orgs") / "orgs.yaml", ORGS)


def test_the_nxdomain_resolver_denies_the_well_known_names(lab: Lab) -> None:
    # the server is real and does what the test needs: NXDOMAIN for the root and RFC 7050
    for name, rdtype in (("ipv4only.arpa", "A"), (".", "NS"), ("good.example", "AAAA")):
        assert lab.query(lab.client_ns, BAD, name, rdtype)["rcode"] == "NXDOMAIN"
    assert lab.query(lab.client_ns, GOOD, "ipv4only.arpa", "A")["rcode"] == "NOERROR"


@pytest.mark.parametrize("checks", ["dns,web,mail", "dns.aaaa"])  # engine, DNS bulk path
def test_with_only_the_nxdomain_resolver_every_dns_check_is_an_error(
    lab: Lab, orgs: Path, tmp_path: Path, checks: str
) -> None:
    run = _scan(lab, orgs, tmp_path / "out", checks, resolvers=(BAD,))
    # The scan finished
    assert run.returncode == 0
    # Every result is an error naming the resolver and what it answered; none is "fail"
    assert run.records, "no results"
    wrong = [(r["subject"], r["check"], r["status"]) for r in run.records if r["status"] != "error"]
    assert wrong == []
    for record in run.records:
        assert BAD in record["detail"] and "NXDOMAIN" in record["detail"], record
    # stderr says so in one line (the scan is --quiet: nothing else is printed)
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("ipv6scan: error: no usable resolver") and BAD in lines[0]
    # The score is null, and the scanner facts and the report's banner say why
    assert run.summary["overall"]["score"] is None
    assert run.summary["scanner"]["resolvers_usable"] is False
    assert run.summary["scanner"]["unusable_resolvers"][0]["resolver"] == BAD
    html = (run.out / "report.html").read_text(encoding="utf-8")
    assert 'id="no-resolver"' in html and "No usable resolver" in html


def test_beside_a_good_resolver_the_nxdomain_one_changes_nothing(
    lab: Lab, orgs: Path, tmp_path: Path
) -> None:
    checks = "dns,resolver"
    good = _scan(lab, orgs, tmp_path / "good", checks, resolvers=(GOOD,))
    both = _scan(lab, orgs, tmp_path / "both", checks, resolvers=(BAD, GOOD))
    # asked first, an unfiltered BAD would make every name NXDOMAIN
    assert any(r["status"] == "pass" for r in good.records)
    assert both.rows() == good.rows()
    assert both.summary["overall"]["score"] == good.summary["overall"]["score"] is not None
    assert both.summary["scanner"]["resolvers_usable"] is True
    assert [u["resolver"] for u in both.summary["scanner"]["unusable_resolvers"]] == [BAD]
    assert 'id="no-resolver"' not in (both.out / "report.html").read_text(encoding="utf-8")


# ------------------------------------------------------------------ no CAP_NET_RAW

NO_RAW = ("setpriv", "--bounding-set=-net_raw", "--inh-caps=-net_raw", "--")


@pytest.fixture(scope="module")
def backbone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # addresses only: `--checks net.ping` on them is the net.ping bulk path when permitted
    org = {"name": "Backbone", "sector": "operator",
           "systems": {"backbone": [t.CORE_OK6, t.CORE_QUIET6]}}  # fmt: skip
    return _targets(tmp_path_factory.mktemp("bb") / "backbone.yaml", [org])


@pytest.mark.parametrize("checks", ["net", "net.ping"])  # engine path, net.ping bulk path
def test_without_cap_net_raw_ping_and_trace_are_errors(
    lab: Lab, backbone: Path, tmp_path: Path, checks: str
) -> None:
    # Given the same scan with the permission, as a control: the addresses answer
    allowed = _scan(lab, backbone, tmp_path / "allowed", checks)
    assert {r["status"] for r in allowed.records} == {"pass"}
    # When the scanner runs without CAP_NET_RAW (unprivileged ICMP sockets would not help:
    # the prober opens SOCK_RAW only)
    run = _scan(lab, backbone, tmp_path / "denied", checks, wrap=NO_RAW)
    assert run.returncode == 0
    # Then every net check is an error naming the missing permission, never a skip
    assert {r["check"] for r in run.records} == {r["check"] for r in allowed.records}
    assert len(run.records) == len(allowed.records)
    for record in run.records:
        assert record["status"] == "error", record
        assert "may not send ICMPv6" in record["detail"] and "CAP_NET_RAW" in record["detail"]
    # And stderr says so once
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "CAP_NET_RAW" in lines[0], run.stderr


def test_setpriv_really_drops_the_permission(lab: Lab) -> None:
    probe = [sys.executable, "-c", "import socket; socket.socket(socket.AF_INET6, "
             "socket.SOCK_RAW, socket.IPPROTO_ICMPV6)"]  # fmt: skip
    denied = lab.run(lab.client_ns, [*NO_RAW, *probe], capture_output=True, text=True)
    assert denied.returncode != 0 and "PermissionError" in denied.stderr
    assert lab.run(lab.client_ns, probe, capture_output=True).returncode == 0


# ------------------------------------------------------------------ resolver scope

OUT_OF_SCOPE = {
    "::1": "loopback",
    "127.0.0.1": "loopback",
    "fe80::1": "link-local",
    "2001:db8:99::53": "documentation",  # outside the --allow-prefix list below
}
# the lab's prefixes, but for the DNS /64 only of 2001:db8::/32
SCOPE_ALLOW = (t.DNS_NET6, *t.LAB_ROUTES4)
COUNTER_TABLE = "ipv6scan_h2_count"


def _nft(lab: Lab, *args: str) -> str:
    proc = lab.run(lab.client_ns, [binary("nft"), *args], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_resolver_entries_out_of_scope_are_skipped_without_a_packet(
    lab: Lab, tmp_path: Path
) -> None:
    entries = [{"resolver": a} for a in OUT_OF_SCOPE] + [{"resolver": GOOD}]
    org = {"name": "Resolver Scope", "sector": "operator", "domains": ["good.example"],
           "systems": {"metro": entries}}  # fmt: skip
    targets = _targets(tmp_path / "scope.yaml", [org])
    others = ", ".join(a for a in OUT_OF_SCOPE if a not in t.CANARY_ADDRESSES)
    # Given a counter of every packet the client namespace sends to the other addresses
    _nft(lab, "add", "table", "inet", COUNTER_TABLE)
    try:
        _nft(lab, "add", "chain", "inet", COUNTER_TABLE, "out",
             "{ type filter hook output priority 0 ; }")  # fmt: skip
        _nft(lab, "add", "rule", "inet", COUNTER_TABLE, "out", "ip6", "daddr", f"{{ {others} }}",
             "counter")  # fmt: skip
        # When the resolver entries are scanned
        run = _scan(lab, targets, tmp_path / "out", "resolver", allow=SCOPE_ALLOW)
        counted = _nft(lab, "list", "table", "inet", COUNTER_TABLE)
    finally:
        _nft(lab, "delete", "table", "inet", COUNTER_TABLE)
    # Then each out-of-scope entry is skipped, "not probed" with its class
    by_subject = {r["subject"]: r for r in run.records if r["check"] == "resolver.ipv6"}
    for address, category in OUT_OF_SCOPE.items():
        record = by_subject[address]
        assert record["status"] == "skip", record
        assert record["detail"].startswith(f"Not probed: {address} is {category}"), record
    # while the lab's resolver, in scope, is probed and passes (the test can see a probe)
    assert by_subject[GOOD]["status"] == "pass", by_subject[GOOD]
    # And not one packet went to them: the loopback canary (UDP and TCP 53) saw nothing,
    # and the counter of the others stayed at zero
    hits = lab.canary_hits(run.started - 1, None)
    assert [h for h in hits if h["local"][1] == 53] == []
    assert "packets 0 bytes 0" in counted, counted
