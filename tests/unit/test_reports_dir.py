"""Without --out a scan goes to reports/<list>/<date-time>/, with a `latest` link and the
list's history beside it; --out works as before."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

import ipv6scan.cli as cli
from ipv6scan import outdir
from ipv6scan.observations.dns import Connectivity
from tests.unit.test_history import GOOD, TARGETS, record


@pytest.fixture
def fake_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "use_fast_loop", lambda: None)

    async def scan(config: Any, _targets: Any, _total: Any) -> Any:
        config.out.mkdir(parents=True, exist_ok=True)
        lines = [json.dumps(record(*row)) for row in GOOD]
        (config.out / "results.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        return None, Connectivity(True, True, (), ())

    monkeypatch.setattr(cli, "scan", scan)


def test_a_scan_without_out_goes_to_a_dated_directory_under_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_scan: None
) -> None:
    # Given a target list in the working directory, scanned twice without --out
    monkeypatch.chdir(tmp_path)
    (tmp_path / "gov.yaml").write_text(TARGETS, encoding="utf-8")
    times = iter([dt.datetime(2026, 12, 6, 2, 0, 0), dt.datetime(2026, 12, 7, 2, 0, 0)])
    made = outdir.default_out
    monkeypatch.setattr(outdir, "default_out", lambda targets: made(targets, next(times)))
    for _ in range(2):
        assert cli.main(["scan", "gov.yaml", "--quiet", "--lang", "en"]) == 0
    # Then each run has its directory, `latest` is the newer, and both share one history
    home = tmp_path / "reports" / "gov"
    assert sorted(p.name for p in home.iterdir()) == [
        "2026-12-06T020000", "2026-12-07T020000", "ipv6scan.db", "latest"]  # fmt: skip
    assert (home / "latest").resolve() == (home / "2026-12-07T020000").resolve()
    summary = json.loads((home / "latest" / "summary.json").read_text(encoding="utf-8"))
    assert summary["run"]["previous"] == 1


def test_default_out_names_are_safe_and_joined() -> None:
    moment = dt.datetime(2026, 1, 2, 3, 4, 5)
    got = outdir.default_out(["lists/a b.txt", "../x/top-1m.csv", "a b.yaml"], moment)
    assert got == Path("reports/a_b+top-1m/2026-01-02T030405")
