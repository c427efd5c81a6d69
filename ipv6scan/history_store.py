"""How the history stores a run compactly (schema 3): what changed, not every result again.

A result's verdict (target, sector, tier, subject, check, status, detail), its evidence and
a target's score row are each stored once, under a 64-bit key made of their text: a run
that repeats an earlier verdict stores only its key. A run itself is a few arrays (zlib):
the keys of its verdicts and evidence and its durations, in results.jsonl's order, and the
keys of its target rows. A re-run in which nothing changed thus adds about 24 bytes a
result and 8 a target, against some 600 and 700 for the first run (INTERFACE.md
"History": at most a tenth). Two different texts with one key (about one chance in 10^7
at a few million distinct verdicts) would share a stored text.

Runs of other histories share the stored texts too; `prune` removes runs and then every
text no remaining run refers to.
"""

from __future__ import annotations

import hashlib
import sqlite3
import zlib
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from ipv6scan.model import CheckResult, json_loads
from ipv6scan.report.tables import evidence_text

BATCH = 4096  # texts inserted at once
CACHE_KIB = 32 * 1024  # SQLite's page cache while a run is recorded
LOOKUP = 500  # keys a query looks up at once (SQLite allows 999 parameters at least)
NO_EVIDENCE = 0  # an evidence key dropped by retention (see prune_evidence)

TABLES = """
CREATE TABLE IF NOT EXISTS verdicts (
    key INTEGER PRIMARY KEY,        -- of the text below (text_key)
    target TEXT NOT NULL, sector TEXT NOT NULL, tier TEXT NOT NULL, subject TEXT NOT NULL,
    check_id TEXT NOT NULL, status TEXT NOT NULL, detail TEXT NOT NULL,
    vantage TEXT                    -- the vantage point (distributed/), NULL for a local scan
);
CREATE TABLE IF NOT EXISTS evidence (key INTEGER PRIMARY KEY, text TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS target_rows (
    key INTEGER PRIMARY KEY,        -- of `row`
    target TEXT NOT NULL, sector TEXT NOT NULL, score REAL, stage TEXT NOT NULL,
    row TEXT NOT NULL               -- the target's summary.json row, JSON
);
CREATE INDEX IF NOT EXISTS target_rows_by_name ON target_rows (target);
CREATE TABLE IF NOT EXISTS run_results (
    run_id INTEGER PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    count INTEGER NOT NULL,
    verdicts BLOB NOT NULL,         -- zlib of int64 keys, in results.jsonl order
    evidence BLOB NOT NULL,         -- zlib of int64 keys, 0 when dropped (retention)
    durations BLOB NOT NULL         -- zlib of float64 milliseconds
);
CREATE TABLE IF NOT EXISTS run_targets (
    run_id INTEGER PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    count INTEGER NOT NULL,
    rows BLOB NOT NULL              -- zlib of int64 target_rows keys, in summary.json order
);
CREATE TABLE IF NOT EXISTS tier_scores (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    sector TEXT NOT NULL,           -- '': the whole run
    tier TEXT NOT NULL,
    score REAL,
    targets INTEGER NOT NULL,
    PRIMARY KEY (run_id, sector, tier)
);
"""


def text_key(text: str) -> int:
    """A signed 64-bit key of `text` (SQLite's INTEGER PRIMARY KEY; never 0)."""
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True) or 1


def pack(values: array[Any]) -> bytes:
    return zlib.compress(values.tobytes(), 1)


def unpack(blob: bytes, typecode: str) -> array[Any]:
    values = array(typecode)
    values.frombytes(zlib.decompress(blob))
    return values


def _verdict(r: CheckResult) -> tuple[int, str, str, str, str, str, str, str, str | None]:
    fields = (r.target, r.sector, r.tier, r.subject, r.check, str(r.status), r.detail)
    # each field with its length before it: no two tuples give one text, and no JSON made;
    # a vantage point only when there is one, so a local scan's keys do not change
    text = "".join(f"{len(f)}:{f}" for f in fields)
    if r.vantage is not None:
        text += f"v{len(r.vantage)}:{r.vantage}"
    return (text_key(text), *fields, r.vantage)


class RunWriter:
    """One run's records as they come (finish.RunSink), inside the caller's transaction."""

    def __init__(self, conn: sqlite3.Connection, run_id: int) -> None:
        self.conn = conn
        self.run_id = run_id
        self.verdicts: array[int] = array("q")
        self.evidence: array[int] = array("q")
        self.durations: array[float] = array("d")
        self.rows: array[int] = array("q")
        self._verdict_batch: list[tuple[Any, ...]] = []
        self._evidence_batch: list[tuple[int, str]] = []
        self._row_batch: list[tuple[Any, ...]] = []

    def result(self, r: CheckResult, evidence: str | None = None) -> None:
        """`evidence`: r's evidence as evidence_text writes it (keys sorted), when known."""
        verdict = _verdict(r)
        self.verdicts.append(verdict[0])
        self._verdict_batch.append(verdict)
        text = evidence_text(r.evidence) if evidence is None else evidence
        key = text_key(text)
        self.evidence.append(key)
        self._evidence_batch.append((key, text))  # a repeat is ignored by the insert
        self.durations.append(r.duration_ms)
        if len(self._verdict_batch) >= BATCH:
            self._flush_results()

    def row(self, row: Mapping[str, Any], text: str) -> None:
        key = text_key(text)
        self.rows.append(key)
        self._row_batch.append(
            (key, row["name"], row["sector"], row.get("score"), row["stage"], text)
        )
        if len(self._row_batch) >= BATCH:
            self._flush_rows()

    def drop_rows(self) -> None:
        """Forget the rows given so far (the finish stage scores the run again)."""
        self._flush_rows()
        self.rows = array("q")

    def _flush_results(self) -> None:
        self.conn.executemany(
            "INSERT OR IGNORE INTO verdicts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", self._verdict_batch
        )
        self.conn.executemany("INSERT OR IGNORE INTO evidence VALUES (?, ?)", self._evidence_batch)
        self._verdict_batch.clear()
        self._evidence_batch.clear()

    def _flush_rows(self) -> None:
        self.conn.executemany(
            "INSERT OR IGNORE INTO target_rows VALUES (?, ?, ?, ?, ?, ?)", self._row_batch
        )
        self._row_batch.clear()

    def close(self) -> None:
        """Store the run's arrays."""
        self._flush_results()
        self._flush_rows()
        self.conn.execute(
            "INSERT OR REPLACE INTO run_results VALUES (?, ?, ?, ?, ?)",
            (self.run_id, len(self.verdicts), pack(self.verdicts), pack(self.evidence),
             pack(self.durations)),
        )  # fmt: skip
        self.conn.execute(
            "INSERT OR REPLACE INTO run_targets VALUES (?, ?, ?)",
            (self.run_id, len(self.rows), pack(self.rows)),
        )


def write_aggregates(conn: sqlite3.Connection, run_id: int, summary: Mapping[str, Any]) -> None:
    """Sector and tier scores, for trends without reading a summary."""
    sectors = summary.get("sectors") or {}
    conn.executemany(
        "INSERT OR REPLACE INTO sector_scores VALUES (?, ?, ?, ?)",
        ((run_id, name, s.get("score"), s.get("targets", 0)) for name, s in sectors.items()),
    )
    groups = [("", summary.get("overall") or {}), *sectors.items()]
    conn.executemany(
        "INSERT OR REPLACE INTO tier_scores VALUES (?, ?, ?, ?, ?)",
        (
            (run_id, sector, tier, info.get("score"), info.get("targets", 0))
            for sector, group in groups
            for tier, info in (group.get("tiers") or {}).items()
        ),
    )


def load_results(conn: sqlite3.Connection, run_id: int) -> Iterator[CheckResult]:
    """The run's results, in the order they were recorded; the texts are looked up a
    chunk of keys at a time (one query per chunk, not per result)."""
    found = conn.execute(
        "SELECT verdicts, evidence, durations FROM run_results WHERE run_id = ?", (run_id,)
    ).fetchone()
    if found is None:
        return
    verdicts, evidence = unpack(found[0], "q"), unpack(found[1], "q")
    durations = unpack(found[2], "d")
    for start in range(0, len(verdicts), LOOKUP):
        vkeys, ekeys = verdicts[start : start + LOOKUP], evidence[start : start + LOOKUP]
        v_found = _lookup(conn, "SELECT key, target, sector, tier, subject, check_id, status,"
                          " detail, vantage FROM verdicts", vkeys)  # fmt: skip
        e_found = _lookup(conn, "SELECT key, text FROM evidence", ekeys)
        for i, vkey in enumerate(vkeys):
            v = v_found.get(vkey)
            if v is None:
                continue  # not ours to lose, but never a crash
            e = e_found.get(ekeys[i])
            yield CheckResult.from_json(
                {"target": v[0], "sector": v[1], "tier": v[2], "subject": v[3], "check": v[4],
                 "status": v[5], "detail": v[6], "evidence": json_loads(e[0]) if e else {},
                 "duration_ms": durations[start + i]}
                | ({"vantage": v[7]} if v[7] is not None else {})
            )  # fmt: skip


def _lookup(
    conn: sqlite3.Connection, select: str, keys: Iterable[int]
) -> dict[int, tuple[Any, ...]]:
    wanted = list(set(keys))
    marks = ",".join("?" * len(wanted))
    return {row[0]: row[1:] for row in conn.execute(f"{select} WHERE key IN ({marks})", wanted)}


def row_keys(conn: sqlite3.Connection, run_id: int) -> array[int]:
    found = conn.execute("SELECT rows FROM run_targets WHERE run_id = ?", (run_id,)).fetchone()
    return unpack(found[0], "q") if found else array("q")


def row_texts(conn: sqlite3.Connection, run_id: int) -> Iterator[str]:
    """The run's summary.json target rows as stored, in order."""
    keys = row_keys(conn, run_id)
    for start in range(0, len(keys), LOOKUP):
        chunk = keys[start : start + LOOKUP]
        found = _lookup(conn, "SELECT key, row FROM target_rows", chunk)
        for key in chunk:
            if key in found:
                yield str(found[key][0])


def named_rows(conn: sqlite3.Connection, run_id: int, names: Iterable[str]) -> list[dict[str, Any]]:
    """The rows of the named targets in a run (milestones), found by name."""
    wanted = list(dict.fromkeys(names))
    if not wanted:
        return []
    keys = set(row_keys(conn, run_id))
    rows = []
    for name in wanted:
        for key, text in conn.execute("SELECT key, row FROM target_rows WHERE target = ?", (name,)):
            if key in keys:
                rows.append(json_loads(text))
                break
    return rows


def target_scores(
    conn: sqlite3.Connection, run_ids: Sequence[int]
) -> Iterator[tuple[int, str, float | None]]:
    """(run id, target, score) of each run's targets, for trends."""
    for run_id in run_ids:
        keys = row_keys(conn, run_id)
        for start in range(0, len(keys), 500):
            chunk = list(keys[start : start + 500])
            marks = ",".join("?" * len(chunk))
            for target, score in conn.execute(
                f"SELECT target, score FROM target_rows WHERE key IN ({marks})", chunk
            ):
                yield run_id, str(target), score


def sweep(conn: sqlite3.Connection) -> None:
    """Remove the texts no run refers to any more (after runs were deleted)."""
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS kept (key INTEGER PRIMARY KEY)")
    for table, column, blob in (("verdicts", "verdicts", "run_results"),
                                ("evidence", "evidence", "run_results"),
                                ("target_rows", "rows", "run_targets")):  # fmt: skip
        conn.execute("DELETE FROM temp.kept")
        for (packed,) in conn.execute(f"SELECT {column} FROM {blob}").fetchall():
            conn.executemany(
                "INSERT OR IGNORE INTO temp.kept VALUES (?)", ((k,) for k in unpack(packed, "q"))
            )
        conn.execute(f"DELETE FROM {table} WHERE key NOT IN (SELECT key FROM temp.kept)")
    conn.execute("DROP TABLE temp.kept")


def migrate_results(conn: sqlite3.Connection) -> None:
    """Schema 1 and 2 kept every result and target row of every run in full (tables
    `results` and `target_scores`): each run is rewritten as schema 3 stores it, one run at
    a time, and the old tables are dropped. Inside the caller's transaction."""
    for statement in TABLES.split(";"):
        if statement.strip():
            conn.execute(statement)
    run_ids = [run_id for (run_id,) in conn.execute("SELECT id FROM runs ORDER BY id")]
    for run_id in run_ids:
        writer = RunWriter(conn, run_id)
        cur = conn.execute(
            "SELECT target, sector, tier, subject, check_id, status, detail, evidence,"
            " duration_ms FROM results WHERE run_id = ? ORDER BY rowid",
            (run_id,),
        )
        for row in cur:  # one run's results at a time, never all of them
            writer.result(CheckResult.from_json(
                {"target": row[0], "sector": row[1], "tier": row[2], "subject": row[3],
                 "check": row[4], "status": row[5], "detail": row[6],
                 "evidence": json_loads(row[7]), "duration_ms": row[8]}
            ))  # fmt: skip
        rows = conn.execute(
            "SELECT row FROM target_scores WHERE run_id = ? ORDER BY rowid", (run_id,)
        )
        for (text,) in rows:
            writer.row(json_loads(text), str(text))
        writer.close()
        summary = conn.execute("SELECT summary FROM runs WHERE id = ?", (run_id,)).fetchone()[0]
        write_aggregates(conn, run_id, json_loads(summary))
    conn.execute("DROP TABLE results")
    conn.execute("DROP TABLE target_scores")
