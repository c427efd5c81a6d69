"""The finish stage (one pass over results.jsonl) holds to the earlier in-memory code over
the lab's real results: a full scan of every scenario, then summary.json, junit.xml,
results.csv and report.html made both ways from its results.jsonl."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from ipv6scan.finish import FinishOptions, finish
from ipv6scan.finish import groups as window
from ipv6scan.lab import Lab
from ipv6scan.model import CheckResult
from ipv6scan.report import html, view
from ipv6scan.report.jsonl import read_results
from ipv6scan.scoring import summarize
from ipv6scan.scoring.summary import with_scanner
from tests.unit.finish_reference import old_csv, old_junit

pytestmark = pytest.mark.lab

NOW = dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def lab_results(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("finish-lab")
    run = lab.scan(lab.client_ns, lab.full_targets_file, out, checks="dns,web,mail,net,resolver",
                   timeout=2.0)  # fmt: skip
    assert run.returncode == 0, run.argv
    return out


@pytest.mark.parametrize("open_targets", [window.WINDOW, 2])
def test_the_finish_stage_makes_what_the_in_memory_code_made_of_the_lab_results(
    lab_results: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, open_targets: int
) -> None:
    made = view.build_from

    def at_now(*args: Any, **kwargs: Any) -> view.Report:
        kwargs["now"] = NOW
        return made(*args, **kwargs)

    monkeypatch.setattr(view, "build_from", at_now)
    monkeypatch.setattr(window, "WINDOW", open_targets)
    scanned = json.loads((lab_results / "summary.json").read_text(encoding="utf-8"))
    scanner = scanned["scanner"]
    results = list(read_results(lab_results / "results.jsonl"))
    assert len({r.target for r in results}) > 5  # the lab's many targets, several checks each
    # the new way, over a copy of the scan's results.jsonl
    new = tmp_path / "new"
    new.mkdir()
    (new / "results.jsonl").write_bytes((lab_results / "results.jsonl").read_bytes())
    finish(new / "results.jsonl", new, FinishOptions(scanner=scanner))
    # the earlier way, everything in memory
    old = tmp_path / "old"
    old.mkdir()
    summary = summarize(results)
    with_scanner(summary, scanner)
    # junit.xml and results.csv as the writers before the fast finish wrote them
    by_target: dict[str, list[CheckResult]] = {}
    for r in results:
        by_target.setdefault(r.target, []).append(r)
    old_junit(by_target.values(), old / "junit.xml")
    old_csv(results, old / "results.csv")
    (old / "report.html").write_text(html.render_html(results, summary, "en"), encoding="utf-8")
    assert json.loads((new / "summary.json").read_text(encoding="utf-8")) == summary
    for name in ("junit.xml", "results.csv", "report.html"):
        assert (new / name).read_bytes() == (old / name).read_bytes(), name
    # and the scan's own files (written by the command line's finish) agree with them
    assert (lab_results / "junit.xml").read_bytes() == (old / "junit.xml").read_bytes()
    assert (lab_results / "results.csv").read_bytes() == (old / "results.csv").read_bytes()
    assert {k: scanned[k] for k in summary} == summary
