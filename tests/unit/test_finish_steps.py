"""The work after a scan tells the terminal what it is doing (progress.Steps): at a million
results it takes minutes."""

from __future__ import annotations

import io
import re
from pathlib import Path

from ipv6scan import audit, history
from ipv6scan.progress import Steps
from tests.unit.sample_results import write_sample


def test_each_step_after_the_scan_is_announced_as_it_starts(tmp_path: Path) -> None:
    # Given two runs of a sample, the second compared with the first (--fail-on-regression)
    db = tmp_path / "h.db"
    heard: list[list[str]] = []
    for i in range(2):
        out = tmp_path / f"r{i}"
        out.mkdir()
        write_sample(out / "results.jsonl", targets=50, seed=3 + i)
        conn = history.open_db(db)
        rec = audit.Recording(db=db, target_files=("t.yaml",), fail_on_regression=True)
        steps: list[str] = []
        audit.finish_scan(
            conn, rec, out, "en", None, f"2026-03-0{i + 1}T10:00:00+00:00", on_step=steps.append
        )
        conn.close()
        heard.append(steps)
    # Then each run heard the steps in the order they ran, the comparison only with a run before
    common = [
        f"reading the results once: scores, files, and the run recorded in {db}",
        "writing summary.json and report.html",
    ]
    assert heard == [common, [*common, "comparing with the previous run"]]


def test_a_step_line_says_how_long_the_work_after_the_scan_has_run() -> None:
    stream = io.StringIO()
    steps = Steps(stream)
    steps("scoring the results")
    steps("recording the run")
    first, second = stream.getvalue().splitlines()
    assert first == "after the scan, 0.0 s: scoring the results ..."
    assert re.fullmatch(r"after the scan, \d+\.\d s: recording the run \.\.\.", second)
