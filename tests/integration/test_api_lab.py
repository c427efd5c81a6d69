"""The Python API against the namespace lab, and the shipped JSON Schemas against real outputs.

One full scan of the lab's full target list by the real CLI, and the same scan through
`ipv6scan.scan(...)` (the sync API) run by a small `python -c` script inside the same
client namespace (the scanner may only run there). Both directories' results.jsonl and
summary.json must validate against ipv6scan/schemas, and the API must give the CLI's records.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

import ipv6scan
from ipv6scan.lab import Lab

pytestmark = pytest.mark.lab

CHECKS = "dns,web,mail,net,resolver"
TIMEOUT = 2.0
REPO = Path(__file__).resolve().parents[2]
# What the API script prints: the ScanResult's headline numbers, for the test to compare.
SCRIPT = """\
import json, sys
import ipv6scan
targets, out, db, checks, timeout, *allow = sys.argv[1:]
result = ipv6scan.scan([targets], out, checks=checks, timeout=float(timeout),
                       allow_prefixes=allow, db=db)
print(json.dumps({"out": str(result.out), "overall_score": result.overall_score,
                  "results": sum(1 for _ in result.results())}))
"""
Key = tuple[str, str, str, str, str]  # (target, sector, tier, subject, check)
# Verdicts on measured times (IPv6 against IPv4 medians of a few connects): two scans of
# the same lab may land either side of a threshold, whichever code runs them.
MEASURED = {"web.latency"}


def _validator(name: str) -> Draft202012Validator:
    schema = ipv6scan.schema(name)  # type: ignore[arg-type]
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _records(out: Path) -> list[dict[str, Any]]:
    lines = (out / "results.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _by_key(records: list[dict[str, Any]]) -> dict[Key, dict[str, Any]]:
    return {(r["target"], r["sector"], r["tier"], r["subject"], r["check"]): r for r in records}


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # each run's history database in here: not the one other lab tests' scans share
    return tmp_path_factory.mktemp("api-lab")


@pytest.fixture(scope="module")
def cli_out(lab: Lab, base: Path) -> Path:
    out = base / "cli"
    extra = ["--db", str(base / "cli.db")]
    run = lab.scan(lab.client_ns, lab.full_targets_file, out, checks=CHECKS, timeout=TIMEOUT,
                   extra=extra)  # fmt: skip
    assert run.returncode == 0, run.argv
    return out


@pytest.fixture(scope="module")
def api_run(lab: Lab, base: Path) -> tuple[Path, dict[str, Any]]:
    out = base / "api"
    argv = [sys.executable, "-c", SCRIPT, str(lab.full_targets_file), str(out),
            str(base / "api.db"), CHECKS, str(TIMEOUT), *lab.allow_prefixes]  # fmt: skip
    proc = lab.run(lab.client_ns, argv, capture_output=True, text=True, cwd=REPO, timeout=600,
                   check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out, json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("which", ["cli", "api"])
def test_results_jsonl_validates(cli_out: Path, api_run: tuple[Path, Any], which: str) -> None:
    out = cli_out if which == "cli" else api_run[0]
    check = _validator("result")
    records = _records(out)
    assert len(records) > 50  # the full lab: every scenario, every family
    bad = [(r["subject"], r["check"], e.message) for r in records for e in check.iter_errors(r)]
    assert not bad, bad[:20]
    assert {r["check"].split(".")[0] for r in records} == {"dns", "web", "mail", "net", "resolver"}


@pytest.mark.parametrize("which", ["cli", "api"])
def test_summary_json_validates(cli_out: Path, api_run: tuple[Path, Any], which: str) -> None:
    out = cli_out if which == "cli" else api_run[0]
    summary = ipv6scan.read_summary(out)
    errors = [f"{e.json_path}: {e.message}" for e in _validator("summary").iter_errors(summary)]
    assert not errors, errors[:20]
    assert {"scanner", "run", "trends", "milestones"} <= set(summary)
    assert summary["targets"], "no target rows"


def test_the_api_gives_the_clis_records(cli_out: Path, api_run: tuple[Path, Any]) -> None:
    cli, api = _by_key(_records(cli_out)), _by_key(_records(api_run[0]))
    # the same (target, subject, check) results, each with the same verdict
    assert sorted(api) == sorted(cli)
    differ = {
        key: (cli[key]["status"], api[key]["status"])
        for key in cli
        if cli[key]["status"] != api[key]["status"] and key[4] not in MEASURED
    }
    assert not differ, differ


def test_the_api_gives_the_clis_summary(cli_out: Path, api_run: tuple[Path, Any]) -> None:
    out, printed = api_run
    cli, api = ipv6scan.read_summary(cli_out), ipv6scan.read_summary(out)
    # the ScanResult says what its files say
    assert printed["out"] == str(out)
    assert printed["overall_score"] == api["overall"]["score"]
    assert printed["results"] == len(_records(out))
    # and the scan is described and scored as the command line's is
    assert api["scanner"] == cli["scanner"]
    assert api["run"]["history"] == cli["run"]["history"]
    assert api["profile"] == cli["profile"]
    assert sorted(t["name"] for t in api["targets"]) == sorted(t["name"] for t in cli["targets"])
    statuses = [{k: r["status"] for k, r in _by_key(_records(d)).items()} for d in (cli_out, out)]
    if statuses[0] == statuses[1]:  # else a measured verdict (MEASURED) moved the scores
        assert api["overall"] == cli["overall"]
        assert api["sectors"] == cli["sectors"]
