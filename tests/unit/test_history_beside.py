"""The history's records of each result made by the finish's second process
(finish.history_beside): the database ends as when the pass made them, on a first run and
on a re-run; should the process fail or its frames stop short, the pass's process makes
them all again."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from array import array
from pathlib import Path

import pytest

from ipv6scan import audit, history, history_chunks, history_store
from ipv6scan.checks.net import ANSWERED_ONE, MEDIAN
from ipv6scan.finish import history_beside, tables_beside
from ipv6scan.finish.history_beside import Frame, FrameReader, HistoryFrames
from ipv6scan.history_stage import Stage
from ipv6scan.history_store import text_key, verdict_record, verdict_row
from ipv6scan.model import CheckResult, Status
from ipv6scan.report.jsonl import read_results
from ipv6scan.report.tables import evidence_text
from tests.unit.sample_results import write_sample
from tests.unit.stored_history import contents

STARTED = "2026-12-07T00:00:00+00:00"


def _record(results: Path, out: Path, db: Path, *, started: str = STARTED) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.jsonl").write_bytes(results.read_bytes())
    conn = history.open_db(db)
    try:
        rec = audit.Recording(db=db, target_files=("names.txt",), history_key="k")
        done = audit.finish_scan(conn, rec, out, "en", None, started)
    finally:
        conn.close()
    assert not done.notes, done.notes


def _stored(db: Path) -> dict[str, str]:
    """Each kind's entries, and each run's arrays, as digests."""
    return {
        table: hashlib.sha256(repr(rows).encode()).hexdigest()
        for table, rows in contents(db).items()
    }


@pytest.fixture()
def sample(tmp_path: Path) -> Path:
    return write_sample(tmp_path / "sample.jsonl", targets=1200)


@pytest.fixture()
def spied(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """How the history got the results' records: "frame" for each batch from the second
    process, "here" for each result given in the pass's process."""
    seen: list[str] = []
    take, add = history_store.RunWriter.take_results, history_store.RunWriter.result

    def took(self: history_store.RunWriter, frame: Frame) -> None:
        seen.append("frame")
        take(self, frame)

    def added(self: history_store.RunWriter, r: CheckResult, evidence: str | None = None) -> None:
        seen.append("here")
        add(self, r, evidence)

    monkeypatch.setattr(history_store.RunWriter, "take_results", took)
    monkeypatch.setattr(history_store.RunWriter, "result", added)
    return seen


def _in_pass(monkeypatch: pytest.MonkeyPatch, sample: Path, tmp_path: Path) -> dict[str, str]:
    """The reference: the second process writes results.csv and junit.xml, the pass makes
    the evidence; a first run and an unchanged re-run (its texts looked up)."""
    with monkeypatch.context() as m:
        m.setattr(tables_beside, "BESIDE_BYTES", 0)
        m.setattr(history_beside, "available", lambda: False)
        db = tmp_path / "in-pass.db"
        _record(sample, tmp_path / "in-pass", db)
        _record(sample, tmp_path / "in-pass-2", db, started="2026-12-08T00:00:00+00:00")
    return _stored(db)


def _reference(
    monkeypatch: pytest.MonkeyPatch, sample: Path, tmp_path: Path, spied: list[str]
) -> dict[str, str]:
    """The reference stored, then the second process on for the test's own runs."""
    want = _in_pass(monkeypatch, sample, tmp_path)
    spied.clear()
    monkeypatch.setattr(tables_beside, "BESIDE_BYTES", 0)
    return want


def _rerun(sample: Path, tmp_path: Path, db: Path) -> dict[str, str]:
    """An unchanged re-run into `db` (its texts looked up), and what `db` then stores."""
    _record(sample, tmp_path / f"{db.stem}-2", db, started="2026-12-08T00:00:00+00:00")
    return _stored(db)


def test_the_records_from_the_second_process_are_stored_as_the_pass_stores_them(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spied: list[str]
) -> None:
    want = _in_pass(monkeypatch, sample, tmp_path)
    assert set(spied) == {"here"}
    spied.clear()
    monkeypatch.setattr(tables_beside, "BESIDE_BYTES", 0)
    db = tmp_path / "beside.db"
    _record(sample, tmp_path / "beside", db)
    assert spied and set(spied) == {"frame"}  # every text from the second process
    assert _rerun(sample, tmp_path, db) == want
    for name in ("results.csv", "junit.xml"):
        assert (tmp_path / "beside" / name).read_bytes() == (
            tmp_path / "in-pass" / name
        ).read_bytes()


def test_when_the_second_process_fails_the_pass_makes_the_records_again(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spied: list[str]
) -> None:
    want = _reference(monkeypatch, sample, tmp_path, spied)
    # a process that reads nothing, writes nothing and fails: its files are written by
    # the pass's process (tables_beside), and so is every evidence text
    monkeypatch.setattr(tables_beside, "CHILD", "import sys; sys.exit(3)")
    db = tmp_path / "failed.db"
    _record(sample, tmp_path / "failed", db)
    assert "frame" not in spied and spied.count("here") > 1000
    assert _rerun(sample, tmp_path, db) == want


def test_a_run_whose_frames_stop_short_has_all_its_records_made_again(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spied: list[str]
) -> None:
    want = _reference(monkeypatch, sample, tmp_path, spied)
    # the second process sends its first frame only, then gives up (as after EPIPE)
    monkeypatch.setattr(
        tables_beside,
        "CHILD",
        "import sys; from ipv6scan.finish import history_beside as e; e.BATCH = 256;"
        " flush = e.HistoryFrames._flush;"
        " e.HistoryFrames._flush = lambda self: (flush(self), self._give_up());"
        " from ipv6scan.finish.tables_beside import main; sys.exit(main())",
    )
    db = tmp_path / "short.db"
    _record(sample, tmp_path / "short", db)
    assert spied.count("frame") == 1 and spied.count("here") > 1000
    assert _rerun(sample, tmp_path, db) == want


def test_the_reader_takes_whole_frames_in_order_and_reads_to_the_end() -> None:
    taken: list[Frame] = []

    def take(frame: Frame) -> None:
        taken.append(frame)
        if len(taken) == 2:
            raise sqlite3.OperationalError("disk full")  # the history failed: read on

    read_end, write_end = history_beside.pipe()
    reader = FrameReader(read_end, take)
    frames = HistoryFrames(write_end)
    results = [
        CheckResult(f"t{i}.example", "enterprise", "backbone", f"2001:db8::{i:x}", "net.ping",
                    Status.PASS, ANSWERED_ONE(medians=[MEDIAN(address="2001:db8::1", ms=1.5)])
                    if i == 1 else "plain", {"n": i, "nul": "\x00"}, 0.25 * i)
        for i in range(5)
    ]  # fmt: skip
    texts = [evidence_text(r.evidence) for r in results]
    for r, text in zip(results, texts, strict=True):
        frames.add(r, text)
        frames._flush()  # a frame a result
    frames.close()
    assert reader.join() == 1  # the second frame's take failed: not counted
    assert isinstance(reader.error, sqlite3.OperationalError)
    assert len(taken) == 2  # no take after the failure, yet the pipe was read to its end
    first, second = taken
    key, pending, _own = verdict_record(results[0])
    assert first.count == 1 and array("q", first.verdict_keys).tolist() == [key]
    assert json.loads(first.verdicts) == [list(verdict_row(pending))]
    assert array("q", first.evidence_keys).tolist() == [text_key(texts[0])]
    assert json.loads(first.evidence) == [[text_key(texts[0]), texts[0]]]
    assert array("d", first.durations).tolist() == [0.0] and json.loads(first.details) == []
    # a detail compared without its measured figures: the run's own text, at its index
    assert json.loads(second.details) == [[0, str(results[1].detail),
                                           json.loads(json.dumps(results[1].detail.params))]]  # type: ignore[union-attr]  # fmt: skip
    assert array("d", second.durations).tolist() == [0.25]

    # a frame cut short: the whole frames before it only
    read_end, write_end = os.pipe()
    seen: list[int] = []
    reader = FrameReader(read_end, lambda frame: seen.append(frame.count))
    parts = [b"[]", b"[]", b"[]"]
    frame = history_beside.HEADER.pack(1, *map(len, parts)) + bytes(24) + b"".join(parts)
    os.write(write_end, frame + frame[:-3])
    os.close(write_end)
    assert reader.join() == 1 and seen == [1]


def test_the_run_s_own_measured_details_come_back_in_their_places(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spied: list[str]
) -> None:
    from tests.unit.test_finish_fast import _ping_results

    # Given pings whose details name their times (kept by the run, not the verdict)
    pings = _ping_results(tmp_path / "pings.jsonl", 3000, ms=12.0)
    want = _reference(monkeypatch, pings, tmp_path, spied)
    # When the second process sends them in frames of 256
    monkeypatch.setattr(
        tables_beside,
        "CHILD",
        "import sys; from ipv6scan.finish import history_beside as e; e.BATCH = 256;"
        " from ipv6scan.finish.tables_beside import main; sys.exit(main())",
    )
    db = tmp_path / "beside.db"
    _record(pings, tmp_path / "beside", db)
    # Then the history holds what the pass would have stored, each run's times in place
    assert spied.count("frame") == 12 and "here" not in spied
    assert _rerun(pings, tmp_path, db) == want
    conn = history.open_db(db)
    got = [r.detail for r in history.load_results(conn, 1)]
    conn.close()
    assert got == [r.detail for r in read_results(pings)]
    assert len(contents(db)["run_details"]) == 2


def test_a_nul_in_the_evidence_is_stored_as_the_pass_stores_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spied: list[str]
) -> None:
    sample = write_sample(tmp_path / "base.jsonl", targets=300)
    lines = sample.read_text(encoding="utf-8").splitlines()[:-1]  # not the torn last line
    records = [json.loads(line) for line in lines if line]
    # a banner with a NUL: its JSON text holds the escape, which history_stage's batches
    # send the slow way (SQLite's ->> would end a text at the NUL it decodes)
    records[7]["evidence"] = {"banner": "220 mail\x00 ready"}
    with_nul = tmp_path / "nul.jsonl"
    with_nul.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    want = _reference(monkeypatch, with_nul, tmp_path, spied)
    db = tmp_path / "beside.db"
    _record(with_nul, tmp_path / "beside", db)
    assert set(spied) == {"frame"}
    assert _rerun(with_nul, tmp_path, db) == want
    found = [entry[1] for entry in contents(db)["evidence"] if "\\u0000" in entry[1]]
    assert found == ['{"banner": "220 mail\\u0000 ready"}']


def test_a_text_with_a_nul_of_its_own_is_stored_whole(tmp_path: Path) -> None:
    """A batch made elsewhere (history_stage.Stage.add_json) is stored as its JSON says:
    a NUL of its own, and the escape written out, both whole."""
    conn = history.open_db(tmp_path / "h.db")
    conn.execute("BEGIN")
    stage = Stage(conn, beside=True)
    assert stage.threaded
    entries = [[1, "a\x00b"], [2, "plain"], [3, "written out: \\u0000"]]
    payload = json.dumps(entries).encode()
    stage.add_json("evidence", payload, len(entries), array("q", [1, 2, 3]).tobytes())
    stage.merge()
    stage.settle()
    stage.stop()
    stored = sorted(tuple(entry) for entry in history_chunks.stored(conn, "evidence").values())
    conn.rollback()
    conn.close()
    assert stored == [tuple(entry) for entry in entries]


def test_without_a_pipe_to_be_had_the_pass_makes_the_records(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spied: list[str]
) -> None:
    want = _reference(monkeypatch, sample, tmp_path, spied)

    def no_pipe() -> tuple[int, int]:
        raise OSError(24, "Too many open files")

    monkeypatch.setattr(history_beside, "pipe", no_pipe)
    db = tmp_path / "no-pipe.db"
    _record(sample, tmp_path / "no-pipe", db)
    assert "frame" not in spied and spied.count("here") > 1000
    assert (tmp_path / "no-pipe" / "results.csv").read_bytes() == (
        tmp_path / "in-pass" / "results.csv"
    ).read_bytes()  # the tables as ever
    assert _rerun(sample, tmp_path, db) == want
