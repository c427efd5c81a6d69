"""The fast finish (issue 17) against what it replaced: junit.xml and results.csv byte for
byte with the earlier writers (tests/unit/finish_reference.py), target rows scored once
per shape equal to rows scored whole, the summary's sums by shape equal to sums by row,
and the history's inserts on their own thread storing what they stored in place."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from ipv6scan import history, history_chunks, history_columns
from ipv6scan.model import CheckResult, Status, json_loads
from ipv6scan.report.jsonl import read_results
from ipv6scan.report.tables import CsvWriter, JunitWriter
from ipv6scan.scoring import shapes
from ipv6scan.scoring import summary as sums
from ipv6scan.scoring.profile import DEFAULT_PROFILE
from ipv6scan.scoring.shapes import ShapeScorer
from ipv6scan.scoring.stream import score_target
from ipv6scan.scoring.summary import SummaryBuilder
from ipv6scan.scoring.vantage import combine
from tests.unit.finish_reference import old_csv, old_junit
from tests.unit.sample_results import sample_lines

HOSTILE = ['a"b', "a'b", "a&b<c>", "x\ny", "tab\there", "\x00nul", "=cmd", "-1",
           "+x", "@x", "\rret", "中文", "", "\ufffe", "q\"u'o"]  # fmt: skip


def _results() -> list[CheckResult]:
    """The sample's results, and some with hostile names, subjects and details."""
    out = [CheckResult.from_json(json_loads(line)) for line in sample_lines(600, seed=3)]
    rng = random.Random(4)
    for i in range(300):
        target = rng.choice(HOSTILE) + f"{i}"
        for check in ("dns.aaaa", "dns.ns_ipv6", "dns.ns_reachable", "web.http"):
            data = {"target": target, "sector": rng.choice(HOSTILE), "tier": "services",
                    "subject": rng.choice(HOSTILE) + target, "check": check,
                    "status": rng.choice(["pass", "warn", "fail", "error", "skip"]),
                    "detail": rng.choice(HOSTILE) + " detail " + rng.choice(HOSTILE),
                    "evidence": {"k": rng.choice(HOSTILE), "n": i},
                    "duration_ms": round(rng.uniform(-1, 900), 3)}  # fmt: skip
            out.append(CheckResult.from_json(data))
    return out


def _groups(results: list[CheckResult]) -> list[list[CheckResult]]:
    by: dict[str, list[CheckResult]] = {}
    for r in results:
        by.setdefault(r.target, []).append(r)
    return list(by.values())


def test_junit_is_what_the_earlier_writer_wrote(tmp_path: Path) -> None:
    groups = _groups(_results())
    with JunitWriter(tmp_path / "new.xml") as junit:
        for group in groups:
            junit.add(group)
    old_junit(groups, tmp_path / "old.xml")
    assert (tmp_path / "new.xml").read_bytes() == (tmp_path / "old.xml").read_bytes()


def test_csv_is_what_the_earlier_writer_wrote(tmp_path: Path) -> None:
    results = _results()
    with CsvWriter(tmp_path / "new.csv") as writer:
        for r in results:
            writer.write(r)
    old_csv(results, tmp_path / "old.csv")
    new, old = (tmp_path / "new.csv").read_bytes(), (tmp_path / "old.csv").read_bytes()
    assert new == old
    assert b"'=cmd" in new and b"'-1" in new  # the formula guard did work


def test_rows_scored_by_shape_are_the_rows_scored_whole() -> None:
    groups = _groups(_results())
    # a target that checks one subject twice, and one seen from two vantage points
    twice = [r for r in _results() if r.target == "t1.example"]
    groups.append(twice + twice)
    scorer = ShapeScorer(DEFAULT_PROFILE)
    reused = 0
    for group in groups * 2:  # the second time round, every shape is known
        combined = combine(group, DEFAULT_PROFILE.vantage_share)
        got = scorer.row(combined)
        reused += scorer.shape is not None
        want = score_target(group, DEFAULT_PROFILE)
        assert json.dumps(got, ensure_ascii=False) == json.dumps(want, ensure_ascii=False)
    assert reused > len(groups)  # shapes did serve, most of them twice


def test_a_full_memo_is_cleared_and_rows_stay_right(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shapes, "MEMO_LIMIT", 3)
    scorer = ShapeScorer(DEFAULT_PROFILE)
    for group in _groups(_results())[:200]:
        assert scorer.row(group) == score_target(group, DEFAULT_PROFILE)


@pytest.mark.parametrize("pending", [sums.PENDING_LIMIT, 2])
def test_sums_by_shape_are_sums_by_row(monkeypatch: pytest.MonkeyPatch, pending: int) -> None:
    monkeypatch.setattr(sums, "PENDING_LIMIT", pending)
    scorer = ShapeScorer(DEFAULT_PROFILE)
    by_shape, by_row = SummaryBuilder(), SummaryBuilder()
    for group in _groups(_results()):
        row = scorer.row(group)
        by_shape.add(row, scorer.shape)
        by_row.add(row)
    got, want = by_shape.summary([]), by_row.summary([])
    # the same numbers, and the same keys in the same order
    assert json.dumps(got, ensure_ascii=False) == json.dumps(want, ensure_ascii=False)


@pytest.mark.parametrize("batch", [history.store.BATCH, 97])
def test_texts_written_in_chunks_read_back_as_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    # one chunk a kind, or many small ones (beside the pass: history.open_db's connection
    # allows the staging thread)
    monkeypatch.setattr(history.store, "BATCH", batch)
    monkeypatch.setattr(history_columns, "SPILL", 150)  # the run's arrays spilled too
    results = _results()
    conn = history.open_db(tmp_path / "h.db")
    for run in (1, 2):  # the second run repeats every text: ignored, still read back
        recorder = history.Recorder(conn, started="2026-01-01T00:00:00+00:00", out_dir=tmp_path,
                                    target_files=("a.txt",), key="k", complete=True)  # fmt: skip
        for r in results:
            recorder.result(r)
        assert recorder.finish({"overall": {"score": 1.0}}, "2026-01-01T00:00:01+00:00") == run
        got = list(history.load_results(conn, run))
        assert [r.to_json() for r in got] == [r.to_json() for r in results]
    for table in history_chunks.KINDS:  # each key's entry is in the chunk it points to
        count = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        assert len(history_chunks.stored(conn, table)) == count
        assert count > 0 or table == "target_rows"  # (no rows recorded here)
    conn.close()


def test_a_migrated_database_gives_its_space_back(tmp_path: Path) -> None:
    from tests.unit.sample_results import write_sample
    from tests.unit.test_history_compact import _old_db

    # Given a schema-2 database with the full results of a few runs
    results = list(read_results(write_sample(tmp_path / "s.jsonl", targets=300)))
    db = tmp_path / "h.db"
    _old_db(db, 2, results, runs=4)
    before = db.stat().st_size
    # When this version opens it (and migrates it to schema 4)
    history.open_db(db).close()
    # Then the file shrank: the dropped tables' pages went back, not to a free list
    after = db.stat().st_size
    assert after < before / 2, (before, after)


def _ping_results(path: Path, count: int, ms: float) -> Path:
    """net.ping results whose details name a measured round-trip time (`ms`)."""
    from ipv6scan.checks.net import ANSWERED_ONE, MEDIAN

    with path.open("w", encoding="utf-8") as fh:
        for i in range(count):
            address = f"2001:db8::{i:x}"
            detail = ANSWERED_ONE(medians=[MEDIAN(address=address, ms=round(ms + i % 5, 1))])
            r = CheckResult(f"h{i}.example", "operator", "backbone", address, "net.ping",
                            Status.PASS, detail, {"address": address, "answered": True},
                            1.5)  # fmt: skip
            fh.write(r.to_line() + "\n")
    return path


def test_a_rerun_that_only_measured_other_times_adds_at_most_a_tenth(tmp_path: Path) -> None:
    from tests.unit.test_history_compact import two_runs_growth

    # Given an empty history, and two runs of 3,000 pings that differ only in the times
    db = tmp_path / "h.db"
    history.open_db(db).close()
    first_run = _ping_results(tmp_path / "a.jsonl", 3000, ms=12.0)
    second_run = _ping_results(tmp_path / "b.jsonl", 3000, ms=47.0)
    # When both are recorded
    first, second = two_runs_growth(db, tmp_path, first_run, second_run)
    # Then the second added at most a tenth of the first: its verdicts were repeats
    assert second <= first / 10, (first, second)
    # and each run reads back with its own times, as its results.jsonl has them
    conn = history.open_db(db)
    for run_id, source in ((1, first_run), (2, second_run)):
        got = [r.detail for r in history.load_results(conn, run_id)]
        assert got == [r.detail for r in read_results(source)]
    assert "47.0 ms" in got[0]
    conn.close()


def _changed_run(lines: list[str], seed: int) -> list[str]:
    """Another run of the same list: some statuses, evidence and details changed, some
    results gone, a target added."""
    rng = random.Random(seed)
    out = []
    for line in lines:
        data = json.loads(line)
        roll = rng.random()
        if roll < 0.03:
            continue  # disappeared
        if roll < 0.10:
            data["status"] = rng.choice(["pass", "warn", "fail", "error", "skip"])
        elif roll < 0.15:
            data["evidence"] = {**data["evidence"], "rcode": "SERVFAIL"}
        elif roll < 0.18:
            data["detail"] = data["detail"] + " (again)"
        out.append(json.dumps(data, ensure_ascii=False))
    extra = json.loads(lines[0]) | {"target": "new.example", "subject": "new.example"}
    return [*out, json.dumps(extra, ensure_ascii=False)]


def test_the_stored_runs_compare_as_diff_compares_them(tmp_path: Path) -> None:
    from ipv6scan.diff import compare
    from ipv6scan.diff_stored import compare_runs
    from tests.unit.test_history_compact import STARTS, scan_into

    lines = sample_lines(400, seed=8)
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text("\n".join(lines) + "\n", encoding="utf-8")
    b.write_text("\n".join(_changed_run(lines, 9)) + "\n", encoding="utf-8")
    db = tmp_path / "h.db"
    scan_into(db, tmp_path / "ra", a, STARTS[0])
    scan_into(db, tmp_path / "rb", b, STARTS[1])
    conn = history.open_db(db)
    fast = compare_runs(conn, 1, 2, DEFAULT_PROFILE)
    whole = compare(lambda: history.load_results(conn, 1), b, DEFAULT_PROFILE)
    assert fast is not None
    assert fast.regressed and fast.improved and fast.disappeared and fast.scores
    assert fast.to_json() == whole.to_json()
    assert fast.gate() == whole.gate()
    assert fast.overall == whole.overall
    # the shortcut does not apply with another profile: the caller compares whole
    from dataclasses import replace

    assert compare_runs(conn, 1, 2, replace(DEFAULT_PROFILE, name="other")) is None
    conn.close()


def test_an_intermittent_result_makes_the_runs_compare_whole(tmp_path: Path) -> None:
    from ipv6scan.diff_stored import compare_runs
    from tests.unit.test_history_compact import STARTS, scan_into

    lines = sample_lines(50, seed=8)
    data = json.loads(lines[3]) | {"status": "warn"}
    data["evidence"] = {**data["evidence"], "intermittent": True}
    b = [*lines[:3], json.dumps(data), *lines[4:]]
    (tmp_path / "a.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "b.jsonl").write_text("\n".join(b) + "\n", encoding="utf-8")
    db = tmp_path / "h.db"
    scan_into(db, tmp_path / "ra", tmp_path / "a.jsonl", STARTS[0])
    scan_into(db, tmp_path / "rb", tmp_path / "b.jsonl", STARTS[1])
    conn = history.open_db(db)
    assert compare_runs(conn, 1, 2, DEFAULT_PROFILE) is None
    conn.close()
