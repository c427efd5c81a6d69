"""The run history: every scan recorded in one SQLite file (`--db`), for trends, milestones,
regression gates and re-rendering a report without scanning again.

Runs are compared with earlier runs of the same history: their `history_key`
(history_key.py: the target lists' identity, the plain lists' sector, the checks, the shard;
or --history-key). Runs recorded before that key existed (schema 1) have none; they are
found by `run_key`, the target files as written on the command line and the shard, as they
were then, and join the new run's history once it continues theirs (record_run). An
interrupted scan is recorded but marked incomplete, and never serves as the run to compare
with.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ipv6scan import history_store as store
from ipv6scan.model import CheckResult, json_loads, json_text

if TYPE_CHECKING:  # (the finish imports this module's users)
    from ipv6scan.finish.history_beside import Frame

SCHEMA_VERSION = 4
TREND_RUNS = 30  # runs in summary.json's trends, the current one included
TREND_TARGETS = 2000  # more targets than this: per-target trends are left out (size)

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started TEXT NOT NULL,          -- ISO 8601 with offset; its date is the scan date
    finished TEXT NOT NULL,
    out_dir TEXT NOT NULL,
    target_files TEXT NOT NULL,     -- JSON list, as given on the command line
    run_key TEXT NOT NULL,          -- schema 1's key: sorted target files and shard
    complete INTEGER NOT NULL,      -- 0: interrupted
    overall_score REAL,
    profile TEXT,
    summary TEXT NOT NULL,          -- summary.json without target rows (history_store)
    history_key TEXT                -- which runs compare (history_key.py); NULL: schema 1's
);
CREATE INDEX IF NOT EXISTS runs_by_key ON runs (run_key, id);
CREATE INDEX IF NOT EXISTS runs_by_history ON runs (history_key, id);
CREATE TABLE IF NOT EXISTS sector_scores (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    sector TEXT NOT NULL,
    score REAL,
    targets INTEGER NOT NULL,
    PRIMARY KEY (run_id, sector)
);
"""

# schema 1 -> 2, in place: the runs recorded before keep their run_key and are still found by
# it (previous_runs); ADD COLUMN rewrites no row, however big the database is.
MIGRATE_1_TO_2 = """
ALTER TABLE runs ADD COLUMN history_key TEXT;
CREATE INDEX IF NOT EXISTS runs_by_history ON runs (history_key, id);
"""


# schema 2 -> 3, in place: each run's results and target rows are stored again as
# history_store keeps them (what changed), and the full tables go (history_store.py);
# 3 -> 4: its texts in chunks (history_chunks.py)


class HistoryError(Exception):
    """The database cannot be opened, is not ours, or lacks the run asked for."""


@dataclass(frozen=True)
class Run:
    id: int
    started: str
    finished: str
    out_dir: str
    target_files: tuple[str, ...]
    run_key: str
    complete: bool
    overall_score: float | None
    summary: dict[str, Any]
    history_key: str | None = None  # None: recorded by schema 1, found by run_key

    @property
    def lineage(self) -> Lineage:
        return Lineage(self.history_key, self.run_key)

    @property
    def date(self) -> dt.date:
        return dt.date.fromisoformat(self.started[:10])


@dataclass(frozen=True)
class Lineage:
    """Which runs are the same history: those with `key`, and the schema-1 runs (no key)
    whose `legacy` run_key matches, recorded before keys existed."""

    key: str | None
    legacy: str


def run_key(target_files: Sequence[str], shard: tuple[int, int] | None) -> str:
    files = sorted(str(Path(f)) for f in target_files)  # normalised, order-free
    return json.dumps({"files": files, "shard": f"{shard[0]}/{shard[1]}" if shard else None})


def open_db(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) a history database; HistoryError if it cannot be used."""
    try:
        # shards on one host may write at once (timeout); the recorder stages a run's texts
        # in a thread beside the finish (history_stage): SQLite's serialized mode allows it
        conn = sqlite3.connect(path, timeout=60, check_same_thread=False)
        conn.execute("PRAGMA foreign_keys = ON")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version == 0:
            with conn:
                conn.executescript(SCHEMA + store.TABLES)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        elif version in (1, 2, 3):
            try:
                _migrate(conn)
            except sqlite3.OperationalError as exc:  # a read-only file, a full disk
                conn.close()
                raise HistoryError(
                    f"{path}: history schema {version} is rewritten as schema"
                    f" {SCHEMA_VERSION} when this ipv6scan first opens it, which writes to"
                    f" the file: {exc} (open it once where it can be written)"
                ) from None
        elif version != SCHEMA_VERSION:
            conn.close()
            raise HistoryError(
                f"{path}: history schema {version}; this ipv6scan reads 1 to {SCHEMA_VERSION}"
            )
        conn.execute("SELECT 1 FROM runs LIMIT 1").fetchall()
    except sqlite3.Error as exc:
        raise HistoryError(f"{path}: cannot use as history database: {exc}") from None
    return conn


def _migrate(conn: sqlite3.Connection) -> None:
    """Schema 1, 2 or 3 to 4 in one transaction (executescript would commit on its own), so
    that two scans opening the same old database at once migrate it once: the second
    waits, then sees the new version. A failure leaves the database as it was."""
    previous = conn.isolation_level
    conn.isolation_level = None  # transactions by hand: BEGIN IMMEDIATE takes the write lock
    try:
        conn.execute("BEGIN IMMEDIATE")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version == 1:
            for statement in MIGRATE_1_TO_2.split(";"):
                if statement.strip():
                    conn.execute(statement)
        if version in (1, 2):
            store.migrate_results(conn)  # written as schema 4 stores a run
        elif version == 3:
            store.migrate_chunks(conn)
        if version in (1, 2, 3):
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
        if version in (1, 2, 3):
            _vacuum(conn)
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    finally:
        conn.isolation_level = previous


def _vacuum(conn: sqlite3.Connection) -> None:
    """Give the dropped tables' pages back to the file system: without it the file keeps
    its old size, however little the new schema keeps. Space only: a database that another
    scan holds open just stays large until the next migration-free VACUUM."""
    with contextlib.suppress(sqlite3.OperationalError):  # locked: the data is migrated
        conn.execute("VACUUM")


class Recorder:
    """One run recorded as the finish stage makes it (finish.RunSink): the run's row first,
    its results and target rows as they come, its summary at the end; all in one
    transaction, so that a run is recorded whole or not at all."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        *,
        started: str,
        out_dir: Path,
        target_files: Sequence[str],
        key: str,
        complete: bool,
        history_key: str | None = None,
    ) -> None:
        self.conn = conn
        self.key = key
        self.history_key = history_key
        if conn.in_transaction:
            conn.commit()
        # texts go in under random keys: a page cache of their own (store.CACHE_KIB)
        conn.execute(f"PRAGMA cache_size = -{store.CACHE_KIB}")
        conn.execute("BEGIN IMMEDIATE")  # the write lock now, not halfway through
        try:
            # a re-run of a history finds most of its texts stored already (RunWriter)
            rerun = conn.execute(
                "SELECT 1 FROM runs WHERE history_key = ? OR (history_key IS NULL AND run_key = ?)"
                " LIMIT 1",
                (history_key, key),
            ).fetchone()
            cur = conn.execute(
                "INSERT INTO runs (started, finished, out_dir, target_files, run_key, complete,"
                " overall_score, profile, summary, history_key)"
                " VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, '{}', ?)",
                (started, started, str(out_dir),
                 json.dumps(list(target_files), ensure_ascii=False), key, int(complete),
                 history_key),
            )  # fmt: skip
        except BaseException:
            conn.rollback()
            raise
        self.run_id = int(cur.lastrowid or 0)
        self._writer = store.RunWriter(conn, self.run_id, look_up=rerun is not None, beside=True)
        self.error: sqlite3.Error | None = None  # the first failure; the rest is skipped

    def result(self, r: CheckResult, evidence: str | None = None) -> None:
        if self.error is None:
            try:
                self._writer.result(r, evidence)
            except sqlite3.Error as exc:
                self.error = exc

    def row(self, row: Mapping[str, Any], text: str) -> None:
        if self.error is None:
            try:
                self._writer.row(row, text)
            except sqlite3.Error as exc:
                self.error = exc

    def drop_rows(self) -> None:
        if self.error is None:
            self._writer.drop_rows()

    # The records made by the finish's second process (finish.history_beside): see
    # RunWriter. take_results runs in the thread that reads them, and fails there.
    def results_beside(self) -> bool:
        return self._writer.results_beside() if self.error is None else False

    def take_results(self, frame: Frame) -> None:
        self._writer.take_results(frame)

    def restart_results(self) -> None:
        if self.error is None:
            try:
                self._writer.restart_results()
            except sqlite3.Error as exc:
                self.error = exc

    def finish(self, summary: Mapping[str, Any], finished: str) -> int:
        """Store the summary (without rows and trends) and commit; the run's id."""
        try:
            if self.error is not None:
                raise self.error
            self._writer.close()
            stored = {k: v for k, v in summary.items() if k not in ("targets", "trends")}
            self.conn.execute(
                "UPDATE runs SET finished = ?, overall_score = ?, profile = ?, summary = ?"
                " WHERE id = ?",
                (finished, (summary.get("overall") or {}).get("score"),
                 json.dumps(summary.get("profile"), ensure_ascii=False),
                 json.dumps(stored, ensure_ascii=False), self.run_id),
            )  # fmt: skip
            store.write_aggregates(self.conn, self.run_id, summary)
            if self.history_key is not None:
                # schema-1 runs this run continues (same run_key) join its history for good:
                # from now on the lists may move and still find them
                self.conn.execute(
                    "UPDATE runs SET history_key = ? WHERE history_key IS NULL AND run_key = ?",
                    (self.history_key, self.key),
                )
            self.conn.commit()
        except BaseException:
            self.abort()
            raise
        return self.run_id

    def abort(self) -> None:
        self._writer.stop()  # before the rollback: nothing may write under it
        if self.conn.in_transaction:
            self.conn.rollback()


def record_run(
    conn: sqlite3.Connection,
    *,
    started: str,
    finished: str,
    out_dir: Path,
    target_files: Sequence[str],
    key: str,
    complete: bool,
    summary: Mapping[str, Any],
    results: Iterable[CheckResult],
    history_key: str | None = None,
) -> int:
    """Store one run whose results and summary are already made (tests, merges); results
    and target rows (a list or a spool) are streamed, never held in memory."""
    recorder = Recorder(conn, started=started, out_dir=out_dir, target_files=target_files,
                        key=key, complete=complete, history_key=history_key)  # fmt: skip
    try:
        for r in results:
            recorder.result(r)
        for row, text in _with_texts(summary.get("targets") or []):
            recorder.row(row, text)
    except BaseException:
        recorder.abort()
        raise
    return recorder.finish(summary, finished)


def _with_texts(rows: Iterable[Mapping[str, Any]]) -> Iterator[tuple[Mapping[str, Any], str]]:
    """Each row with its JSON: a spool of rows (scoring.rows) has it already."""
    with_texts = getattr(rows, "with_texts", None)
    if with_texts is not None:
        return with_texts()  # type: ignore[no-any-return]
    return ((row, json_text(row)) for row in rows)


_RUN_COLUMNS = (
    "id, started, finished, out_dir, target_files, run_key, complete, overall_score, summary,"
    " history_key"
)


def _run(row: Sequence[Any]) -> Run:
    return Run(
        id=int(row[0]),
        started=str(row[1]),
        finished=str(row[2]),
        out_dir=str(row[3]),
        target_files=tuple(json.loads(row[4])),
        run_key=str(row[5]),
        complete=bool(row[6]),
        overall_score=row[7],
        summary=json.loads(row[8]),
        history_key=row[9],
    )


def get_run(conn: sqlite3.Connection, which: str | int) -> Run:
    """A run by id, or `latest` (the highest id)."""
    if str(which) == "latest":
        row = conn.execute(f"SELECT {_RUN_COLUMNS} FROM runs ORDER BY id DESC LIMIT 1").fetchone()
    else:
        try:
            run_id = int(which)
        except ValueError:
            raise HistoryError(f"--run takes a run id or 'latest', got {which!r}") from None
        row = conn.execute(f"SELECT {_RUN_COLUMNS} FROM runs WHERE id = ?", (run_id,)).fetchone()
    if row is None:
        raise HistoryError(f"no run {which} in the history database")
    return _run(row)


def previous_runs(
    conn: sqlite3.Connection, lineage: Lineage, before: int | None = None, limit: int = 1
) -> list[Run]:
    """The last `limit` complete runs of `lineage` (before run id `before`), oldest first."""
    rows = conn.execute(
        f"SELECT {_RUN_COLUMNS} FROM runs"
        " WHERE (history_key = ? OR (history_key IS NULL AND run_key = ?))"
        " AND complete = 1 AND id < ? ORDER BY id DESC LIMIT ?",
        (lineage.key, lineage.legacy, before if before is not None else 2**62, limit),
    ).fetchall()
    return [_run(r) for r in reversed(rows)]


def load_results(conn: sqlite3.Connection, run_id: int) -> Iterator[CheckResult]:
    return store.load_results(conn, run_id)


def target_rows(
    conn: sqlite3.Connection, run_id: int, names: Iterable[str]
) -> list[dict[str, Any]]:
    return store.named_rows(conn, [run_id], names)[run_id]


def all_target_rows(conn: sqlite3.Connection, run_id: int) -> Iterator[dict[str, Any]]:
    """The run's summary.json target rows, in the order they were written."""
    for text in target_row_texts(conn, run_id):
        yield json_loads(text)


def run_target_names(conn: sqlite3.Connection, run_id: int) -> Iterator[str]:
    """The names of a run's targets (the report's targets added and removed), in no
    particular order."""
    return store.target_names(conn, run_id)


def target_row_texts(conn: sqlite3.Connection, run_id: int) -> Iterator[str]:
    """The same rows as stored: one line of JSON each, for a spool of rows."""
    return store.row_texts(conn, run_id)


def prune(conn: sqlite3.Connection, lineage: Lineage, keep: int) -> int:
    """Keep the last `keep` runs of a history (complete or not), delete its older ones and
    whatever only they referred to; the number of runs deleted. One transaction: a nightly
    job may run it while scans record theirs (they wait for the lock)."""
    if keep < 1:
        raise HistoryError(f"--keep-runs takes at least 1, got {keep}")
    if conn.in_transaction:
        conn.commit()
    conn.execute("BEGIN IMMEDIATE")
    try:
        ids = [
            run_id
            for (run_id,) in conn.execute(
                "SELECT id FROM runs WHERE (history_key = ? OR"
                " (history_key IS NULL AND run_key = ?)) ORDER BY id DESC",
                (lineage.key, lineage.legacy),
            )
        ][keep:]
        for run_id in ids:
            for table in (
                "run_results",
                "run_details",
                "run_targets",
                "sector_scores",
                "tier_scores",
            ):
                conn.execute(f"DELETE FROM {table} WHERE run_id = ?", (run_id,))
            conn.execute("DELETE FROM runs WHERE id = ?", (run_id,))
        if ids:
            store.sweep(conn)
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    return len(ids)


def summaries(
    conn: sqlite3.Connection, runs: Iterable[Run], targets: Iterable[str] = ()
) -> list[tuple[dt.date, dict[str, Any]]]:
    """(scan date, summary) of earlier runs for milestones; only the named target rows."""
    runs = list(runs)
    rows = store.named_rows(conn, [r.id for r in runs], targets)
    return [(r.date, {**r.summary, "targets": rows[r.id]}) for r in runs]


def trends(conn: sqlite3.Connection, run: Run, limit: int = TREND_RUNS) -> dict[str, Any]:
    """Scores over the last `limit` complete runs of the run's history, ending with it."""
    runs = [*previous_runs(conn, run.lineage, run.id, limit - 1), run]
    ids = [r.id for r in runs]
    marks = ",".join("?" * len(ids))
    when = {r.id: r.started for r in runs}
    sectors: dict[str, list[list[Any]]] = {}
    for run_id, sector, score in conn.execute(
        f"SELECT run_id, sector, score FROM sector_scores WHERE run_id IN ({marks})"
        " ORDER BY run_id, sector",
        ids,
    ):
        sectors.setdefault(sector, []).append([when[run_id], score])
    tiers: dict[str, list[list[Any]]] = {}  # the whole run's tier scores (sector '')
    for run_id, tier, score in conn.execute(
        f"SELECT run_id, tier, score FROM tier_scores WHERE sector = '' AND run_id IN ({marks})"
        " ORDER BY run_id, tier",
        ids,
    ):
        tiers.setdefault(tier, []).append([when[run_id], score])
    out: dict[str, Any] = {
        "runs": [{"id": r.id, "started": r.started} for r in runs],
        "overall": [[r.started, r.overall_score] for r in runs],
        "sectors": sectors,
        "tiers": tiers,
        "targets": {},
    }
    found = conn.execute("SELECT count FROM run_targets WHERE run_id = ?", (run.id,)).fetchone()
    count = found[0] if found else 0
    if count > TREND_TARGETS:
        out["targets_omitted"] = count
        return out
    scores = sorted(store.target_scores(conn, ids), key=lambda s: (s[0], s[1]))
    current = {name for run_id, name, _score in scores if run_id == run.id}
    for run_id, name, score in scores:
        if name in current:
            out["targets"].setdefault(name, []).append([when[run_id], score])
    return out
