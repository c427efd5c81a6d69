"""Where a run's new texts go: a batch at a time into a chunk of the history
(history_chunks), in the caller's thread or in a thread of its own beside the pass.

Beside the pass, `Stage` hands each batch to its thread as one JSON text (made by the
caller, orjson's): the thread compresses it and writes its chunk, and one statement
spreads its keys into a scratch table (json_each), so that the thread holds the
interpreter's lock only between statements (zlib and SQLite let it go). executemany would
take the lock back for every row, and wait for it each time; it binds only a batch that
SQL cannot read from JSON (history_chunks.payload_of), which is rare. The keys are merged
into their tables a large part at a time, in key order: inserted as they come, random
keys would touch a page each. The connection must allow other threads (history.open_db's
does); one that does not is written in the caller's thread. Either way the database ends
the same.
"""

from __future__ import annotations

import queue
import sqlite3
import threading
from array import array
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from ipv6scan import history_chunks
from ipv6scan.history_chunks import needs_rows, payload_of
from ipv6scan.model import fast_dumps as dumps  # None: every batch written in the caller
from ipv6scan.model import json_loads

WAITING = 4  # batches queued for the thread at most (a few MB)
MERGE = 1 << 22  # keys staged before a merge: a million-name run merges once (temp file)
# Beside the pass a merge costs the pass nothing, and the one left for the end is what the
# caller waits for: parts merged as they fill, each at least half of what is merged already
MERGE_BESIDE = 1 << 16

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
    """One run's texts as they come; `beside`: written by a thread of its own while the
    caller goes on."""

    def __init__(self, conn: sqlite3.Connection, *, beside: bool = False) -> None:
        self.conn = conn
        self.staged = 0  # keys staged since the last merge (history_chunks.merge_keys)
        self._merged = 0
        history_chunks.stage_tables(conn)
        # when there is one, the thread alone runs SQL on the connection until stopped
        self._thread = _Thread.start(conn) if beside and dumps is not None else None
        self._merge_at = MERGE if self._thread is None else MERGE_BESIDE

    def add(self, table: str, rows: list[tuple[Any, ...]]) -> None:
        """A batch of `table`'s entries (key first), as one chunk."""
        if not rows:
            return
        payload, bound = payload_of(table, rows)  # JSON here (under the lock); zlib, SQL there
        keys = [row[0] for row in rows]
        self._run(lambda: self._write(table, payload, bound, len(rows), keys))

    def add_unstored(
        self, table: str, batch: list[_Keyed], make: Callable[[_Keyed], tuple[Any, ...]]
    ) -> None:
        """Write, each as make(entry) gives its row, the entries of `batch` (its key first)
        whose key `table` does not hold yet: a re-run's look-ups run beside the pass too."""

        def job() -> None:
            rows = [make(entry) for entry in unstored(self.conn, table, batch)]
            if rows:
                self._write(table, *payload_of(table, rows), len(rows), [r[0] for r in rows])

        if batch:
            self._run(job)

    @property
    def threaded(self) -> bool:
        """Whether the SQL runs in the thread: then batches may come from other threads."""
        return self._thread is not None

    def add_json(
        self, table: str, payload: bytes, count: int, keys: bytes, *, look_up: bool = False
    ) -> None:
        """`count` entries made elsewhere (finish.history_beside), as the JSON array that
        payload_of would make of them (orjson's), from any thread: the work is the
        thread's (see `threaded`). `keys`: their keys, int64 each, in order. `look_up`:
        only those whose key `table` does not hold (add_unstored)."""
        if not look_up and not needs_rows(table, payload):
            self._on_thread(lambda: self._write(table, payload, None, count, array("q", keys)))
            return

        def job() -> None:
            entries = [tuple(entry) for entry in json_loads(payload)]
            if look_up:
                entries = unstored(self.conn, table, entries)
            if entries:
                self._write(table, *payload_of(table, entries), len(entries),
                            [entry[0] for entry in entries])  # fmt: skip

        self._on_thread(job)

    def merge(self) -> None:
        """The keys staged so far into their tables (at the end of a run)."""
        self._run(self._merge)

    def settle(self) -> None:
        """Wait for what was handed to the thread; its first failure is raised here."""
        if self._thread is not None:
            self._thread.settle()

    def stop(self, *, abandon: bool = False) -> None:
        """End the thread once it has done what it was given; `abandon`: the run is
        being given up (an interrupt, a failure): what waits is skipped and a statement
        under way interrupted, so the rollback comes in moments."""
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
        self._thread.put(job)

    def _write(
        self, table: str, payload: bytes, rows: list[Any] | None, count: int,
        keys: Sequence[int],
    ) -> None:  # fmt: skip
        """In the thread (or in place): the chunk, its keys staged, merged when enough wait."""
        history_chunks.write(self.conn, table, payload, rows, count=count, staged=True,
                             keys=keys)  # fmt: skip
        self.staged += count
        if self.staged >= max(self._merge_at, self._merged // 2):
            self._merge()

    def _merge(self) -> None:
        self._merged += self.staged
        self.staged = 0
        history_chunks.merge_keys(self.conn)


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
