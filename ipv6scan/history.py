"""The run history: every scan recorded in one SQLite file (`--db`), for trends, milestones,
regression gates and re-rendering a report without scanning again.

Runs are compared with runs of the same target files (as written on the command line) and
the same shard: their `run_key`. An interrupted scan is recorded but marked incomplete, and
never serves as the run to compare with.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ipv6scan.model import CheckResult, json_loads, json_text

SCHEMA_VERSION = 1
TREND_RUNS = 30  # runs in summary.json's trends, the current one included
TREND_TARGETS = 2000  # more targets than this: per-target trends are left out (size)

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started TEXT NOT NULL,          -- ISO 8601 with offset; its date is the scan date
    finished TEXT NOT NULL,
    out_dir TEXT NOT NULL,
    target_files TEXT NOT NULL,     -- JSON list, as given on the command line
    run_key TEXT NOT NULL,          -- which runs compare: sorted target files and shard
    complete INTEGER NOT NULL,      -- 0: interrupted
    overall_score REAL,
    profile TEXT,
    summary TEXT NOT NULL           -- summary.json without target rows (see target_scores)
);
CREATE INDEX IF NOT EXISTS runs_by_key ON runs (run_key, id);
CREATE TABLE IF NOT EXISTS results (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    target TEXT NOT NULL,
    sector TEXT NOT NULL,
    tier TEXT NOT NULL,
    subject TEXT NOT NULL,
    check_id TEXT NOT NULL,
    status TEXT NOT NULL,
    detail TEXT NOT NULL,
    evidence TEXT NOT NULL,         -- JSON
    duration_ms REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS results_by_run ON results (run_id);
CREATE TABLE IF NOT EXISTS target_scores (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    target TEXT NOT NULL,
    sector TEXT NOT NULL,
    score REAL,
    stage TEXT NOT NULL,
    row TEXT NOT NULL,              -- the target's summary.json row, JSON
    PRIMARY KEY (run_id, target)
);
CREATE TABLE IF NOT EXISTS sector_scores (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    sector TEXT NOT NULL,
    score REAL,
    targets INTEGER NOT NULL,
    PRIMARY KEY (run_id, sector)
);
"""


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

    @property
    def date(self) -> dt.date:
        return dt.date.fromisoformat(self.started[:10])


def run_key(target_files: Sequence[str], shard: tuple[int, int] | None) -> str:
    files = sorted(str(Path(f)) for f in target_files)  # normalised, order-free
    return json.dumps({"files": files, "shard": f"{shard[0]}/{shard[1]}" if shard else None})


def open_db(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) a history database; HistoryError if it cannot be used."""
    try:
        conn = sqlite3.connect(path, timeout=60)  # shards on one host may write at once
        conn.execute("PRAGMA foreign_keys = ON")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version == 0:
            with conn:
                conn.executescript(SCHEMA)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        elif version != SCHEMA_VERSION:
            conn.close()
            raise HistoryError(f"{path}: history schema {version}; this ipv6scan reads 1")
        conn.execute("SELECT 1 FROM runs LIMIT 1").fetchall()
    except sqlite3.Error as exc:
        raise HistoryError(f"{path}: cannot use as history database: {exc}") from None
    return conn


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
) -> int:
    """Store one run in one transaction; results and target rows (a list or a spool) are
    streamed, never held in memory."""
    rows = summary.get("targets") or []
    stored = {k: v for k, v in summary.items() if k not in ("targets", "trends")}
    with conn:
        cur = conn.execute(
            "INSERT INTO runs (started, finished, out_dir, target_files, run_key, complete,"
            " overall_score, profile, summary) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                started,
                finished,
                str(out_dir),
                json.dumps(list(target_files), ensure_ascii=False),
                key,
                int(complete),
                summary.get("overall", {}).get("score"),
                json.dumps(summary.get("profile"), ensure_ascii=False),
                json.dumps(stored, ensure_ascii=False),
            ),
        )
        run_id = int(cur.lastrowid or 0)
        conn.executemany(
            "INSERT INTO results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                (
                    run_id,
                    r.target,
                    r.sector,
                    r.tier,
                    r.subject,
                    r.check,
                    str(r.status),
                    r.detail,
                    json_text(dict(r.evidence)),
                    r.duration_ms,
                )
                for r in results
            ),
        )
        conn.executemany(
            "INSERT OR REPLACE INTO target_scores VALUES (?, ?, ?, ?, ?, ?)",
            (
                (run_id, t["name"], t["sector"], t["score"], t["stage"], text)
                for t, text in _with_texts(rows)
            ),
        )
        conn.executemany(
            "INSERT INTO sector_scores VALUES (?, ?, ?, ?)",
            (
                (run_id, name, s.get("score"), s.get("targets", 0))
                for name, s in (summary.get("sectors") or {}).items()
            ),
        )
    return run_id


def _with_texts(rows: Iterable[Mapping[str, Any]]) -> Iterator[tuple[Mapping[str, Any], str]]:
    """Each row with its JSON: a spool of rows (scoring.rows) has it already."""
    with_texts = getattr(rows, "with_texts", None)
    if with_texts is not None:
        return with_texts()  # type: ignore[no-any-return]
    return ((row, json_text(row)) for row in rows)


_RUN_COLUMNS = (
    "id, started, finished, out_dir, target_files, run_key, complete, overall_score, summary"
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
    conn: sqlite3.Connection, key: str, before: int | None = None, limit: int = 1
) -> list[Run]:
    """The last `limit` complete runs with `key` (before run id `before`), oldest first."""
    rows = conn.execute(
        f"SELECT {_RUN_COLUMNS} FROM runs WHERE run_key = ? AND complete = 1 AND id < ?"
        " ORDER BY id DESC LIMIT ?",
        (key, before if before is not None else 2**62, limit),
    ).fetchall()
    return [_run(r) for r in reversed(rows)]


def load_results(conn: sqlite3.Connection, run_id: int) -> Iterator[CheckResult]:
    cur = conn.execute(
        "SELECT target, sector, tier, subject, check_id, status, detail, evidence, duration_ms"
        " FROM results WHERE run_id = ? ORDER BY rowid",
        (run_id,),
    )
    for row in cur:
        yield CheckResult.from_json(
            {
                "target": row[0],
                "sector": row[1],
                "tier": row[2],
                "subject": row[3],
                "check": row[4],
                "status": row[5],
                "detail": row[6],
                "evidence": json_loads(row[7]),
                "duration_ms": row[8],
            }
        )


def target_rows(
    conn: sqlite3.Connection, run_id: int, names: Iterable[str]
) -> list[dict[str, Any]]:
    rows = []
    for name in names:
        found = conn.execute(
            "SELECT row FROM target_scores WHERE run_id = ? AND target = ?", (run_id, name)
        ).fetchone()
        if found:
            rows.append(json_loads(found[0]))
    return rows


def all_target_rows(conn: sqlite3.Connection, run_id: int) -> Iterator[dict[str, Any]]:
    """The run's summary.json target rows, in the order they were written."""
    for text in target_row_texts(conn, run_id):
        yield json_loads(text)


def target_row_texts(conn: sqlite3.Connection, run_id: int) -> Iterator[str]:
    """The same rows as stored: one line of JSON each, for a spool of rows."""
    cur = conn.execute("SELECT row FROM target_scores WHERE run_id = ? ORDER BY rowid", (run_id,))
    for (row,) in cur:
        yield str(row)


def summaries(
    conn: sqlite3.Connection, runs: Iterable[Run], targets: Iterable[str] = ()
) -> list[tuple[dt.date, dict[str, Any]]]:
    """(scan date, summary) of earlier runs for milestones; only the named target rows."""
    names = list(dict.fromkeys(targets))
    return [(r.date, {**r.summary, "targets": target_rows(conn, r.id, names)}) for r in runs]


def trends(conn: sqlite3.Connection, run: Run, limit: int = TREND_RUNS) -> dict[str, Any]:
    """Scores over the last `limit` complete runs with the run's key, ending with the run."""
    runs = [*previous_runs(conn, run.run_key, run.id, limit - 1), run]
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
    out: dict[str, Any] = {
        "runs": [{"id": r.id, "started": r.started} for r in runs],
        "overall": [[r.started, r.overall_score] for r in runs],
        "sectors": sectors,
        "targets": {},
    }
    (count,) = conn.execute(
        "SELECT COUNT(*) FROM target_scores WHERE run_id = ?", (run.id,)
    ).fetchone()
    if count > TREND_TARGETS:
        out["targets_omitted"] = count
        return out
    current = {
        name
        for (name,) in conn.execute("SELECT target FROM target_scores WHERE run_id = ?", (run.id,))
    }
    for run_id, name, score in conn.execute(
        f"SELECT run_id, target, score FROM target_scores WHERE run_id IN ({marks})"
        " ORDER BY run_id, target",
        ids,
    ):
        if name in current:
            out["targets"].setdefault(name, []).append([when[run_id], score])
    return out
