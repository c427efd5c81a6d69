"""Where a run's new texts wait before they join the history's tables (history_store).

A run's texts go in under random 64-bit keys: inserted one by one into the tables' trees
that is a page touched for each, some five times the cost of appending. So they are
appended to scratch tables first and merged a large part at a time, in key order, each
part by one statement that SQLite runs on its own (no Python per row).

That SQLite work, about a fifth of a finish's CPU, can run beside the pass: `Stage` then
hands each batch to a thread of its own as one JSON text, which one statement spreads into
the scratch table (json_each), so that the thread holds the interpreter's lock only
between statements. executemany would take the lock back for every row, and wait for it
each time. The connection must allow other threads (history.open_db's does); one that
does not, or a batch that JSON cannot carry (a lone surrogate) or ->> cannot give back
(a NUL character), is staged in the caller's thread as before. Either way the database
ends the same.
"""

from __future__ import annotations

import queue
import sqlite3
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from ipv6scan.model import fast_dumps as dumps  # None: every batch staged in the caller
from ipv6scan.model import json_loads

STAGES = {  # table -> its columns
    "verdicts": 10,
    "evidence": 2,
    "target_rows": 6,
}
MERGE = 1 << 22  # texts staged before a merge: a million-name run merges once (temp file)
# Beside the pass a merge costs the pass nothing, and the one left for the end is what the
# caller waits for: parts merged as they fill, each at least half of what is merged already
# (a merge into a filled table splits pages: 118 MB at 100,000 names against 112 merged
# once, 123 MB in parts of 65,536 alone; the finish 8.2 s against 10.2 s)
MERGE_BESIDE = 1 << 16
WAITING = 4  # batches queued for the thread at most (a few MB)

Job = Callable[[], None]
_Keyed = TypeVar("_Keyed", bound=tuple[Any, ...])  # a batch's entry: its text's key first


def unstored(conn: sqlite3.Connection, table: str, batch: list[_Keyed]) -> list[_Keyed]:
    """The entries of `batch` (key first) whose key `table` does not hold yet. One
    statement, the keys in as one text and the found ones out as one: a row at a time,
    the thread would wait for the interpreter's lock at each (see above)."""
    keys = ",".join([str(entry[0]) for entry in batch])
    found = conn.execute(
        f"SELECT group_concat(key) FROM main.{table}"
        " WHERE key IN (SELECT value FROM json_each('[' || ? || ']'))",
        (keys,),
    ).fetchone()[0]
    if not found:
        return batch
    stored = set(map(int, found.split(",")))
    return [entry for entry in batch if entry[0] not in stored]


class Stage:
    """The scratch tables of one run being written (temp: gone with the connection);
    `beside`: stage and merge in a thread of its own while the caller goes on."""

    def __init__(self, conn: sqlite3.Connection, *, beside: bool = False) -> None:
        self.conn = conn
        self.staged = 0
        self._merged = 0
        for table in STAGES:  # the table's columns, no key, no constraint
            conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS stage_{table}"
                         f" AS SELECT * FROM main.{table} WHERE 0")  # fmt: skip
            conn.execute(f"DELETE FROM temp.stage_{table}")
        self._thread = _Thread.start(conn) if beside and dumps is not None else None
        # whoever runs SQL on the connection: the thread, a job at a time, or the caller
        # (add's slow way), while batches may come from two threads (add_json)
        self._sql = threading.Lock()
        self._merge_at = MERGE if self._thread is None else MERGE_BESIDE

    def add(self, table: str, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        payload = self._payload(rows)
        if payload is None and self._thread is not None:
            # here: in the thread, executemany would wait for the lock at every row
            self.settle()
            with self._sql:  # not between a merge's insert and its delete (add_json's too)
                self._put(table, rows, None)
        else:
            self._run(lambda: self._put(table, rows, payload))

    def add_unstored(
        self, table: str, batch: list[_Keyed], make: Callable[[_Keyed], tuple[Any, ...]]
    ) -> None:
        """Stage, each as make(entry) gives its row, the entries of `batch` (its key first)
        whose key `table` does not hold yet: a re-run's look-ups run beside the pass too."""

        def job() -> None:
            rows = [make(entry) for entry in unstored(self.conn, table, batch)]
            if rows:
                self._put(table, rows, self._payload(rows))

        if batch:
            self._run(job)

    @property
    def threaded(self) -> bool:
        """Whether the SQL runs in the thread: then batches may come from other threads."""
        return self._thread is not None

    def add_json(self, table: str, payload: bytes, count: int, *, look_up: bool = False) -> None:
        """Stage `count` entries made elsewhere (finish.evidence_beside), as the JSON array
        that _payload would make of them, from any thread: the work is the thread's (see
        `threaded`). `look_up`: only those whose key `table` does not hold (add_unstored).
        A NUL character, or a look-up, has the entries read back first."""
        if not look_up and b"\\u0000" not in payload:
            self._on_thread(lambda: self._put_json(table, payload, count))
            return

        def job() -> None:
            entries = [tuple(entry) for entry in json_loads(payload)]
            if look_up:
                entries = unstored(self.conn, table, entries)
            # only a text with a NUL of its own is bound as it is (a row at a time, waiting
            # for the interpreter's lock each: a few rows); "\\u0000" written out, as JSON
            # evidence holds it, is no NUL
            nul = [entry for entry in entries if _has_nul(entry)]
            plain = [entry for entry in entries if not _has_nul(entry)] if nul else entries
            if plain:
                assert dumps is not None  # the thread runs only with orjson (Stage)
                self._put_json(table, dumps(plain), len(plain))
            if nul:
                self._put(table, nul, None)

        self._on_thread(job)

    def merge(self) -> None:
        self._run(self._merge)

    def settle(self) -> None:
        """Wait for what was handed to the thread; its first failure is raised here."""
        if self._thread is not None:
            self._thread.settle()

    def stop(self, *, abandon: bool = False) -> None:
        """End the thread once it has done what it was given; `abandon`: the run is
        being given up (an interrupt, a failure): what waits is skipped and a statement
        under way interrupted, so the rollback comes in moments, not after a merge."""
        if self._thread is not None:
            if abandon:
                self._thread.abandon()
                self.conn.interrupt()  # thread-safe; nothing when no statement runs
            self._thread.stop()
            self._thread = None

    def _run(self, job: Job) -> None:
        if self._thread is None:
            job()
        else:
            self._on_thread(job)

    def _on_thread(self, job: Job) -> None:
        assert self._thread is not None, "only with the staging thread"

        def locked() -> None:
            with self._sql:
                job()

        self._thread.put(locked)

    def _payload(self, rows: list[tuple[Any, ...]]) -> bytes | None:
        if self._thread is None or dumps is None:
            return None
        try:
            payload = dumps(rows)
        except TypeError:  # orjson.JSONEncodeError: a lone surrogate; bound as it is instead
            return None
        # SQLite's ->> ends a text at a NUL character: such a batch is bound as it is
        return None if b"\\u0000" in payload else payload

    def _insert(self, table: str, rows: list[tuple[Any, ...]]) -> None:
        marks = ", ".join("?" * STAGES[table])
        self.conn.executemany(f"INSERT INTO temp.stage_{table} VALUES ({marks})", rows)

    def _spread(self, table: str, payload: bytes) -> None:
        # `value ->> i`: the i-th field as SQL text, integer (64-bit, exact), real or NULL
        columns = ", ".join(f"value ->> {i}" for i in range(STAGES[table]))
        self.conn.execute(  # CAST: the bytes read as the UTF-8 text they are, not decoded
            f"INSERT INTO temp.stage_{table} SELECT {columns} FROM json_each(CAST(? AS TEXT))",
            (payload,),
        )

    def _put(self, table: str, rows: list[tuple[Any, ...]], payload: bytes | None) -> None:
        """In the thread (or in place): the rows staged, and merged when enough wait."""
        if payload is not None:
            self._put_json(table, payload, len(rows))
            return
        # a lone surrogate or a NUL; in the thread only among a re-run's few new texts, or
        # a batch of another process's (add_json)
        self._insert(table, rows)
        self._staged(len(rows))

    def _put_json(self, table: str, payload: bytes, count: int) -> None:
        self._spread(table, payload)
        self._staged(count)

    def _staged(self, count: int) -> None:
        self.staged += count
        if self.staged >= max(self._merge_at, self._merged // 2):
            self._merge()

    def _merge(self) -> None:
        self._merged += self.staged
        self.staged = 0
        for table in STAGES:
            self.conn.execute(
                f"INSERT OR IGNORE INTO main.{table} SELECT * FROM temp.stage_{table} ORDER BY key"
            )
            self.conn.execute(f"DELETE FROM temp.stage_{table}")


def _has_nul(entry: tuple[Any, ...]) -> bool:
    return any(isinstance(field, str) and "\x00" in field for field in entry)


class _Thread:
    """Runs the jobs it is given in order, on the caller's connection, one at a time."""

    def __init__(self) -> None:
        self._jobs: queue.Queue[Job | None] = queue.Queue(WAITING)
        self._error: BaseException | None = None
        self._abandoned = False  # the rest is skipped, failures dropped
        self._worker: threading.Thread | None = None

    @classmethod
    def start(cls, conn: sqlite3.Connection) -> _Thread | None:
        """The thread, or None when `conn` may not be used from another thread."""
        self = cls()
        usable = threading.Event()

        def probe() -> None:
            try:
                conn.execute("SELECT 1").fetchall()
            except sqlite3.ProgrammingError:  # check_same_thread: staged in the caller
                return
            usable.set()

        self._jobs.put(probe)
        self._worker = threading.Thread(target=self._loop, name="history-stage", daemon=True)
        self._worker.start()
        self._jobs.join()
        if not usable.is_set():
            self.stop()
            return None
        return self

    def put(self, job: Job) -> None:
        self._raise()
        if self._worker is None:  # stopped: nothing would take it (and a full queue, wait)
            raise RuntimeError("the history's staging thread has stopped")
        self._jobs.put(job)

    def settle(self) -> None:
        self._jobs.join()
        self._raise()

    def abandon(self) -> None:
        self._abandoned = True

    def stop(self) -> None:
        if self._worker is not None:
            self._jobs.put(None)
            self._worker.join()
            self._worker = None

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def _loop(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                if job is None:
                    return
                if self._error is None and not self._abandoned:  # else skipped
                    job()
            except BaseException as exc:  # handed to the caller (settle, put)
                self._error = exc
            finally:
                self._jobs.task_done()
