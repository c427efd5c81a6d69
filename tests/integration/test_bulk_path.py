"""The bulk paths (ipv6scan/bulk) against the engine, on the real lab: same results.

`--checks dns.aaaa` takes the DNS bulk path; IPV6SCAN_ENGINE=general forces the engine.
Both scan the whole lab list (CNAME chains, lame delegation, SERVFAIL, NXDOMAIN,
non-global and IPv4-mapped addresses, IDN) from the dual-stack client and through
the DNS64 resolver, and must write the same lines, timings aside.

`--checks net.ping` takes the ping bulk path: the operator's backbone addresses
(answering, dropping echoes, unassigned, IPv4, loopback) and a target with a host name
(the engine's, whole) must give the engine's lines, round-trip times aside.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from ipv6scan.lab import Lab
from ipv6scan.lab import scenarios as sc
from ipv6scan.lab import topology as t
from tests.integration.test_dns_checks import REPO

pytestmark = pytest.mark.lab

Row = tuple[str, str, str, str, str, str]


def _rows(
    lab: Lab,
    targets: Path,
    out: Path,
    extra: list[str],
    env_extra: dict[str, str],
    checks: str = "dns.aaaa",
) -> set[Row]:
    argv = lab.scan_argv(targets, out, checks=checks, timeout=3, extra=extra)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for name in ("IPV6SCAN_ENGINE", "IPV6SCAN_WORKERS"):
        env.pop(name, None)
    env.update(env_extra)
    proc = lab.run(lab.client_ns, argv, capture_output=True, text=True, timeout=300, cwd=REPO,
                   env=env)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    records: list[dict[str, Any]] = [
        json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()
    ]
    return {
        (r["target"], r["tier"], r["subject"], r["status"], _timeless(r["detail"]),
         _timeless(json.dumps(r["evidence"], sort_keys=True)))
        for r in records
    }  # fmt: skip


def _timeless(text: str) -> str:
    """Round-trip times out of a net.ping line: each run measures its own."""
    text = re.sub(r"\(\d+\.\d ms\)", "(ms)", text)
    text = re.sub(r'"rtt_ms": \[[^]]*\]', '"rtt_ms": []', text)
    return re.sub(r'"median_ms": [\d.]+', '"median_ms": 0', text)


@pytest.mark.parametrize(
    ("resolver", "workers"), [("default", "1"), ("dns64", "1"), ("default", "3")]
)
def test_bulk_path_writes_what_the_engine_writes(
    lab: Lab, tmp_path: Path, resolver: str, workers: str
) -> None:
    """workers "3": the list fanned out over three worker processes (engine/workers.py)."""
    if resolver == "dns64":
        targets = lab.write_targets(tmp_path / "dns64.yaml", sc.DNS64_TARGETS)
        extra = ["--resolver", lab.dns64_resolver6]
    else:
        targets, extra = lab.full_targets_file, []  # with a systems target: the engine serves it
    bulk = _rows(lab, targets, tmp_path / "bulk", extra, {"IPV6SCAN_WORKERS": workers})
    general = _rows(lab, targets, tmp_path / "general", extra, {"IPV6SCAN_ENGINE": "general"})
    assert bulk == general
    statuses = {row[3] for row in bulk}
    assert {"pass", "fail"} <= statuses, "the lab list should give varied outcomes"


PING_TARGETS = {
    "version": 1,
    "name": "net.ping on both paths",
    "targets": [
        {"name": "Backbone", "sector": "operator", "systems": {
            "backbone": [t.CORE_OK6, t.CORE_DROP6, t.CORE_QUIET6, "2001:db8:bb:1::99",
                         t.CORE_OK4, sc.HOSTILE_ADDRESS,
                         {"address": "2001:db8:bb:1::98", "checks": ["net.trace"]}],
            "access": [t.CORE_OK6]}},
        {"name": "Backbone with a host", "sector": "operator", "systems": {
            "backbone": [t.CORE_QUIET6, "core1.operator.example"]}},
    ],
}  # fmt: skip


def test_ping_bulk_path_writes_what_the_engine_writes(lab: Lab, tmp_path: Path) -> None:
    targets = tmp_path / "ping.yaml"
    targets.write_text(json.dumps(PING_TARGETS))  # YAML's flow style: JSON is YAML
    bulk = _rows(lab, targets, tmp_path / "bulk", [], {}, checks="net.ping")
    general = _rows(lab, targets, tmp_path / "general", [], {"IPV6SCAN_ENGINE": "general"},
                    checks="net.ping")  # fmt: skip
    assert bulk == general
    statuses = {(row[2], row[3]) for row in bulk}
    assert statuses >= {
        (t.CORE_OK6, "pass"), (t.CORE_DROP6, "fail"), (t.CORE_QUIET6, "pass"),
        ("2001:db8:bb:1::99", "fail"), (t.CORE_OK4, "fail"), (sc.HOSTILE_ADDRESS, "skip"),
        ("core1.operator.example", "pass"),
    }  # fmt: skip
    assert len(bulk) == 9  # the net.trace-only entry has no net.ping line
