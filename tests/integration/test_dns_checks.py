"""The real CLI against the namespace lab: DNS and resolver checks, end to end.

One scan per run (module-scoped): the default run from the dual-stack client,
a run through the DNS64 resolver, and a run from the IPv4-only client. The
expected outcomes come from ipv6scan.lab.scenarios, next to the zone data.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import ipv6scan
from ipv6scan.lab import Lab
from ipv6scan.lab import scenarios as sc

pytestmark = pytest.mark.lab

REPO = Path(ipv6scan.__file__).resolve().parent.parent
FIELDS = ("target", "sector", "tier", "subject", "check", "status", "detail", "evidence",
          "duration_ms")  # fmt: skip
STATUSES = {"pass", "warn", "fail", "error", "skip"}
Key = tuple[str, str, str]  # (target, subject, check)


@dataclass
class Run:
    records: list[dict[str, Any]]
    argv: list[str]

    def by_key(self) -> dict[Key, dict[str, Any]]:
        return {(r["target"], r["subject"], r["check"]): r for r in self.records}

    def get(self, target: str, subject: str, check: str) -> dict[str, Any]:
        found = self.by_key().get((target, subject, check))
        if found is None:
            seen = sorted(k for k in self.by_key() if k[0] == target)
            pytest.fail(f"no result for {(target, subject, check)}; {target} has {seen}")
        return found


def _scan(lab: Lab, ns: str, targets: Path, out: Path, extra: Sequence[str] = ()) -> Run:
    argv = lab.scan_argv(targets, out, checks="dns,resolver", timeout=3, extra=extra)
    path = [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
    proc = lab.run(ns, argv, capture_output=True, text=True, timeout=600, cwd=REPO, env=env)
    assert proc.returncode == 0, (
        f"scan in {ns} exited {proc.returncode}\n{' '.join(argv)}\n"
        f"stdout: {proc.stdout[-3000:]}\nstderr: {proc.stderr[-3000:]}"
    )
    lines = (out / "results.jsonl").read_text(encoding="utf-8").splitlines()
    return Run([json.loads(line) for line in lines if line.strip()], argv)


@pytest.fixture(scope="module")
def default_run(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Run:
    return _scan(lab, lab.client_ns, lab.targets_file, tmp_path_factory.mktemp("scan-default"))


@pytest.fixture(scope="module")
def dns64_run(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Run:
    out = tmp_path_factory.mktemp("scan-dns64")
    targets = lab.write_targets(out.parent / "dns64-targets.yaml", sc.DNS64_TARGETS)
    return _scan(lab, lab.client_ns, targets, out, ["--resolver", lab.dns64_resolver6])


@pytest.fixture(scope="module")
def ipv4_only_run(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Run:
    out = tmp_path_factory.mktemp("scan-ipv4only")
    targets = lab.write_targets(out.parent / "ipv4only-targets.yaml", sc.IPV4_ONLY_TARGETS)
    return _scan(lab, lab.client4_ns, targets, out)


def _assert_row(run: Run, row: sc.Row) -> None:
    target, subject, check, status = row
    record = run.get(target, subject, check)
    assert record["status"] == status, (
        f"{check} for {subject} ({target}): expected {status}, got {record['status']}: "
        f"{record['detail']!r}; evidence {json.dumps(record['evidence'], ensure_ascii=False)}"
    )


def _ids(row: sc.Row) -> str:
    return f"{row[1]}:{row[2]}"


@pytest.mark.parametrize("row", sc.EXPECTED, ids=_ids)
def test_default_run(default_run: Run, row: sc.Row) -> None:
    _assert_row(default_run, row)


@pytest.mark.parametrize("row", sc.DNS64_EXPECTED, ids=_ids)
def test_dns64_run(dns64_run: Run, row: sc.Row) -> None:
    _assert_row(dns64_run, row)


@pytest.mark.parametrize("row", sc.IPV4_ONLY_EXPECTED, ids=_ids)
def test_ipv4_only_run(ipv4_only_run: Run, row: sc.Row) -> None:
    _assert_row(ipv4_only_run, row)


def test_records_are_well_formed(default_run: Run) -> None:
    assert default_run.records
    keys = [(r["target"], r["subject"], r["check"]) for r in default_run.records]
    assert len(keys) == len(set(keys)), "one line per (target, subject, check)"
    for record in default_run.records:
        assert set(FIELDS) <= set(record), record
        assert record["status"] in STATUSES
        assert isinstance(record["evidence"], dict)
        assert isinstance(record["duration_ms"], int | float)
        assert record["check"].split(".")[0] in ("dns", "resolver"), "--checks dns,resolver"


def test_tiers_and_sectors(default_run: Run) -> None:
    sectors = {s.target_name: s.sector for s in sc.SCENARIOS}
    for record in default_run.records:
        assert record["sector"] == sectors[record["target"]]
        expected_tier = "metro" if record["check"] == "resolver.ipv6" else "services"
        assert record["tier"] == expected_tier, record


def test_subjects_are_exactly_the_domains_and_existing_www(default_run: Run) -> None:
    # www.D is a subject only when it exists. lame.example is left out: whether
    # its www exists cannot be decided.
    decidable = [s for s in sc.SCENARIOS if s.served]
    expected = {(s.target_name, s.subject(subj)) for s in decidable for subj, _, _ in s.expected}
    names = {s.target_name for s in decidable}
    seen = {
        (r["target"], r["subject"])
        for r in default_run.records
        if r["target"] in names and r["check"].startswith("dns.")
    }
    assert seen == expected


def test_cname_chain_is_in_evidence(default_run: Run) -> None:
    record = default_run.get("cname.example", "www.cname.example", "dns.aaaa")
    evidence = json.dumps(record["evidence"])
    assert "a.cname.example" in evidence and "b.cname.example" in evidence, evidence


def test_ipv4_only_client_never_blames_the_target(ipv4_only_run: Run) -> None:
    # No IPv6 path is the scanner's problem: reachability checks say error, never fail/warn.
    for record in ipv4_only_run.records:
        if record["check"] in ("dns.ns_reachable", "resolver.ipv6"):
            assert record["status"] == "error", record
