"""The history's texts written in a thread beside the finish (history_stage) end in the
database exactly as written in the caller: the same entries, hostile texts and all, in
chunks (history_chunks); a failure in the thread reaches the caller; a connection that
forbids threads is written in place."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from ipv6scan import history, history_chunks
from ipv6scan.history_stage import Stage

HOSTILE = ["plain", "", "引号\"'\\", "\x00nul", "\u2028line", "😀", "a" * 5000]


def _rows(n: int) -> dict[str, list[tuple[Any, ...]]]:
    keys = [(-1) ** i * (2**63 - 1 - i * 7919) for i in range(n)]
    texts = [HOSTILE[i % len(HOSTILE)] + str(i) for i in range(n)]
    scores = [None, 0.0, 66.7, 1 / 3, 2.5e-300, 100.0, 12.345678901234567]
    return {
        "verdicts": [
            (k, t, "s", "t", t, "dns.aaaa", "pass", t, None if i % 2 else t, None)
            for i, (k, t) in enumerate(zip(keys, texts, strict=True))
        ],
        "evidence": [(k, t) for k, t in zip(keys, texts, strict=True)],
        "target_rows": [
            (k, t, "s", scores[i % len(scores)], "stage", t)
            for i, (k, t) in enumerate(zip(keys, texts, strict=True))
        ],
    }


def _stored(conn: sqlite3.Connection) -> dict[str, list[tuple[Any, ...]]]:
    found = {table: history_chunks.stored(conn, table) for table in history_chunks.KINDS}
    keys = {table: conn.execute(f"SELECT * FROM {table} ORDER BY key").fetchall()
            for table in history_chunks.KINDS}  # fmt: skip
    return {
        table: [
            (*found[table][row[0]], *keys[table][i][2:])
            for i, row in enumerate(sorted(rows, key=lambda row: row[0]))
        ]
        for table, rows in _rows(300).items()
    }  # each entry, with what its key table holds besides its chunk


def _stage_into(path: Path, beside: bool, **connect: Any) -> dict[str, list[tuple[Any, ...]]]:
    conn = history.open_db(path)
    conn.close()
    conn = sqlite3.connect(path, **connect)
    stage = Stage(conn, beside=beside)
    for table, rows in _rows(300).items():
        for start in range(0, len(rows), 64):
            stage.add(table, rows[start : start + 64])
    stage.merge()
    stage.settle()
    stage.stop()
    conn.commit()
    stored = _stored(conn)
    conn.close()
    return stored


def test_texts_staged_beside_are_stored_as_staged_in_place(tmp_path: Path) -> None:
    # Given the same rows, hostile texts, 64-bit keys and scores among them
    in_place = _stage_into(tmp_path / "a.db", beside=False)
    # When they are staged by the thread
    beside = _stage_into(tmp_path / "b.db", beside=True, check_same_thread=False)
    # Then the database holds the same values, of the same types, bit for bit
    assert beside == in_place
    assert beside == {
        table: [(*row, *(row[i] for i in history_chunks.EXTRA[table]))
                for row in sorted(rows, key=lambda row: row[0])]
        for table, rows in _rows(300).items()
    }  # fmt: skip
    assert repr(beside) == repr(in_place)


def test_the_thread_is_used_when_the_connection_allows_it(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "h.db", check_same_thread=False)
    conn.executescript(history_chunks.TABLES)
    seen: list[str] = []
    stage = Stage(conn, beside=True)
    stage.add("evidence", [(1, "x")])
    stage._run(lambda: seen.append(threading.current_thread().name))
    stage.settle()
    assert seen == ["history-stage"]
    stage.stop()
    conn.close()


def test_a_connection_that_forbids_threads_is_staged_in_place(tmp_path: Path) -> None:
    # sqlite3.connect's default, check_same_thread=True: the thread cannot use it
    assert _stage_into(tmp_path / "a.db", beside=True) == _stage_into(
        tmp_path / "b.db", beside=False
    )


def test_a_failure_in_the_thread_reaches_the_caller(tmp_path: Path) -> None:
    conn = history.open_db(tmp_path / "h.db")
    stage = Stage(conn, beside=True)
    conn.execute("DROP TABLE main.chunks")  # the thread's insert will fail
    stage.add("evidence", [(1, "x")])
    with pytest.raises(sqlite3.OperationalError, match="chunks"):
        stage.settle()
    with pytest.raises(sqlite3.OperationalError):  # and stays failed: nothing more is staged
        stage.add("evidence", [(2, "y")])
    stage.stop()
    conn.close()


def test_a_recorder_given_up_mid_run_leaves_no_trace(tmp_path: Path) -> None:
    # Given a run recorded beside the pass, its texts written chunk by chunk
    conn = history.open_db(tmp_path / "h.db")
    recorder = history.Recorder(conn, started="2026-01-01T00:00:00+00:00", out_dir=tmp_path,
                                target_files=("a.txt",), key="k", complete=True)  # fmt: skip
    for table, rows in _rows(50).items():
        for start in range(0, len(rows), 10):
            recorder._writer._stage.add(table, rows[start : start + 10])
    recorder._writer._stage.settle()
    assert conn.execute("SELECT count(*) FROM chunks").fetchone()[0] == 15
    # When it is given up (an interrupt, a failed pass)
    recorder.abort()
    # Then nothing it wrote is in the database
    for table in ("verdicts", "evidence", "target_rows", "chunks", "runs"):
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table
    conn.close()


def test_an_abandoned_stage_skips_what_waits(tmp_path: Path) -> None:
    # Given a thread busy with one job and more waiting behind it
    conn = history.open_db(tmp_path / "h.db")
    stage = Stage(conn, beside=True)
    busy, ran = threading.Event(), []
    stage._run(busy.wait)
    for i in range(3):
        stage._run(lambda i=i: ran.append(i))
    # When the run is given up while the first still runs
    worker = stage._thread
    stopper = threading.Thread(target=stage.stop, kwargs={"abandon": True})
    stopper.start()
    while worker is not None and not worker._abandoned:  # abandoned before it goes on
        time.sleep(0.001)
    busy.set()
    stopper.join(timeout=10)
    # Then the thread ended without running what waited
    assert not stopper.is_alive() and ran == []
    conn.close()


def test_without_orjson_the_chunks_hold_and_give_back_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the texts written and read with orjson (the default install)
    want = _stage_into(tmp_path / "a.db", beside=False)
    # When a plain install writes and reads them: json's text, every batch bound as it is
    monkeypatch.setattr(history_chunks, "fast_dumps", None)
    monkeypatch.setattr(history_chunks, "_fast_loads", None)
    bound: list[bool] = []
    write = history_chunks.write

    def spied(conn: sqlite3.Connection, table: str, payload: bytes, rows: Any, **kw: Any) -> None:
        bound.append(rows is not None)
        write(conn, table, payload, rows, **kw)

    monkeypatch.setattr(history_chunks, "write", spied)
    got = _stage_into(tmp_path / "b.db", beside=False)
    # Then the same entries, of the same types, come back
    assert bound and all(bound)
    assert repr(got) == repr(want)
