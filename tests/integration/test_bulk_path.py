"""The bulk path (ipv6scan/bulk) against the engine, on the real lab: same results.

`--checks dns.aaaa` takes the bulk path; IPV6SCAN_ENGINE=general forces the engine.
Both scan the whole lab list (CNAME chains, lame delegation, SERVFAIL, NXDOMAIN,
non-global and IPv4-mapped addresses, IDN) from the dual-stack client and through
the DNS64 resolver, and must write the same lines, timings aside.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from ipv6scan.lab import Lab
from ipv6scan.lab import scenarios as sc
from tests.integration.test_dns_checks import REPO

pytestmark = pytest.mark.lab

Row = tuple[str, str, str, str, str, str]


def _rows(
    lab: Lab, targets: Path, out: Path, extra: list[str], env_extra: dict[str, str]
) -> set[Row]:
    argv = lab.scan_argv(targets, out, checks="dns.aaaa", timeout=3, extra=extra)
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
        (r["target"], r["tier"], r["subject"], r["status"], r["detail"],
         json.dumps(r["evidence"], sort_keys=True))
        for r in records
    }  # fmt: skip


@pytest.mark.parametrize(
    ("resolver", "workers"), [("default", "1"), ("dns64", "1"), ("default", "3")]
)
def test_bulk_path_writes_what_the_engine_writes(
    lab: Lab, tmp_path: Path, resolver: str, workers: str
) -> None:
    """workers "3": the list fanned out over three worker processes (bulk/workers.py)."""
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
