"""Real servers with hostile response heads, scanned by the real CLI with other lab sites
(issue 14, item 6).

badbyte.example sends `Server: Apache\\xff` (a byte that is not UTF-8) and
idnacharset.example `Content-Type: text/html; charset=idna` (a codec that raises on any
decode), each over IPv4 and IPv6, from ipv6scan/lab/servers/rawhttp.py. Before the fix
the first cost every later line of results.jsonl, the second turned web.http, web.parity
and web.links into "Internal error". Now every line of the scan is there and valid, the
two sites are judged on their merits, and `report` re-renders the results.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from ipv6scan.lab import Lab
from ipv6scan.lab.scanrun import ScanRun

pytestmark = pytest.mark.lab

HOSTILE = ("badbyte.example", "idnacharset.example")
# Other lab sites with no www (so every target has the same subjects), scanned alongside.
OTHERS = ("v6no443.example", "slow6.example", "trickle.example")
CHECKS = "dns,web"
WEB_MERITS = ("web.reachable", "web.http", "web.parity", "web.links")
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def hostile_run(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> tuple[ScanRun, Path]:
    out = tmp_path_factory.mktemp("scan-hostile")
    targets = lab.write_targets(out.parent / "hostile-targets.yaml", HOSTILE + OTHERS)
    run = lab.scan(lab.client_ns, targets, out, checks=CHECKS, timeout=2.0)
    assert run.returncode == 0, run.argv
    return run, out


def record(run: ScanRun, domain: str, check: str) -> dict[str, Any]:
    try:
        return run.get(domain, domain, check)
    except KeyError as exc:
        pytest.fail(str(exc))


def test_every_line_of_the_scan_is_there_and_valid(hostile_run: tuple[ScanRun, Path]) -> None:
    _, out = hostile_run
    raw = (out / "results.jsonl").read_bytes()
    lines = raw.decode("utf-8").splitlines()  # strict: every byte is UTF-8
    records = [json.loads(line) for line in lines]  # every line whole
    checks_of = {t: {r["check"] for r in records if r["target"] == t} for t in HOSTILE + OTHERS}
    # every target has the same checks (one subject each, no www), each once
    expected = checks_of[OTHERS[0]]
    assert {"dns.aaaa", "dns.ns_ipv6", *WEB_MERITS} <= expected, expected
    assert all(found == expected for found in checks_of.values()), checks_of
    keys = Counter((r["target"], r["subject"], r["check"]) for r in records)
    assert max(keys.values()) == 1
    assert len(records) == len(HOSTILE + OTHERS) * len(expected)
    internal = [r for r in records if "Internal error" in r["detail"]]
    assert not internal, internal


@pytest.mark.parametrize("domain", HOSTILE)
@pytest.mark.parametrize("check", WEB_MERITS)
def test_the_hostile_sites_are_judged_on_their_merits(
    hostile_run: tuple[ScanRun, Path], domain: str, check: str
) -> None:
    run, _ = hostile_run
    got = record(run, domain, check)
    assert got["status"] == "pass", (got["detail"], got["evidence"])


def test_the_byte_that_is_not_utf8_is_shown_as_an_escape(
    hostile_run: tuple[ScanRun, Path],
) -> None:
    run, _ = hostile_run
    evidence = json.dumps(record(run, "badbyte.example", "web.http")["evidence"])
    assert '"server": "Apache\\\\xff"' in evidence, evidence
    charset = json.dumps(record(run, "idnacharset.example", "web.http")["evidence"])
    assert "charset=idna" in charset, charset


def test_report_re_renders_the_results(hostile_run: tuple[ScanRun, Path], tmp_path: Path) -> None:
    _, out = hostile_run
    html = tmp_path / "again.html"
    proc = subprocess.run(
        [sys.executable, "-m", "ipv6scan", "report", str(out), "--out", str(html)],
        capture_output=True, text=True, timeout=120, cwd=REPO, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "badbyte.example" in html.read_text(encoding="utf-8")
