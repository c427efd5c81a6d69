"""How the history stores a run compactly (schema 4): what changed, not every result again.

A result's verdict (target, sector, tier, subject, check, status, detail), its evidence and
a target's score row are each stored once, under a 64-bit key made of their text: a run
that repeats an earlier verdict stores only its key. A run itself is a few arrays (zlib):
the keys of its verdicts and evidence and its durations, in results.jsonl's order, and the
keys of its target rows, each a block at a time, a block stored once (history_columns).
The texts are kept a batch to a compressed chunk (history_chunks). A re-run in which
nothing changed thus adds the blocks of its durations, a few bytes a result, against some
150 for the first run, its target rows included (INTERFACE.md "History": at most a tenth).
Two different texts with one key (about one chance in 10^7 at a few million distinct
verdicts) would share a stored text.

Runs of other histories share the stored texts too; `prune` removes runs and then every
text no remaining run refers to.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import zlib
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import TYPE_CHECKING, Any, NoReturn

from ipv6scan import history_chunks
from ipv6scan.checks import catalogue
from ipv6scan.history_chunks import LOOKUP, ChunkReader, in_key_order, select_in
from ipv6scan.history_columns import BLOCKS, Column, block_keys, load_blocks, split, store_blocks
from ipv6scan.history_stage import Stage
from ipv6scan.messages import MESSAGES, identity
from ipv6scan.model import CheckResult, json_loads
from ipv6scan.model import fast_dumps as _dumps
from ipv6scan.report.tables import evidence_text

if TYPE_CHECKING:  # (it imports this module)
    from ipv6scan.finish.history_beside import Frame

BATCH = 4096  # texts staged at once
# SQLite's page cache while a run is recorded: merges run beside the pass (history_stage),
# where a larger cache saves the pass nothing and costs memory (32 MB: +20 MB peak)
CACHE_KIB = 8 * 1024
NO_EVIDENCE = 0  # an evidence key dropped by retention (see prune_evidence)
ROW_TEXT = 5  # a target_rows entry: key, target, sector, score, stage, the row (JSON)

# a run's arrays: each the zlib of the int64 keys of its blocks in run_blocks, in order
TABLES = (
    history_chunks.TABLES
    + BLOCKS
    + """;
CREATE TABLE IF NOT EXISTS run_results (
    run_id INTEGER PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    count INTEGER NOT NULL,
    verdicts BLOB NOT NULL,         -- of int64 keys, in results.jsonl order
    evidence BLOB NOT NULL,         -- of int64 keys, 0 when dropped (retention)
    durations BLOB NOT NULL         -- of float64 milliseconds
);
CREATE TABLE IF NOT EXISTS run_targets (
    run_id INTEGER PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    count INTEGER NOT NULL,
    rows BLOB NOT NULL              -- of int64 target_rows keys, in summary.json order
);
CREATE TABLE IF NOT EXISTS run_details (
    run_id INTEGER PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    details BLOB NOT NULL           -- zlib of JSON [[index, detail], ...]: see _compared
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
)


_blake2b, _from_bytes = hashlib.blake2b, int.from_bytes  # a lookup less: 400,000 calls a run


def text_key(text: str) -> int:
    """A signed 64-bit key of `text` (SQLite's INTEGER PRIMARY KEY; never 0)."""
    digest = _blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return _from_bytes(digest, "big", signed=True) or 1


# added to schema 3 in place (history.open_db): a database without it has no such details
RUN_DETAILS = TABLES[TABLES.index("CREATE TABLE IF NOT EXISTS run_details") :].split(";")[0]


def migrate_chunks(conn: sqlite3.Connection) -> None:
    """Schema 3 to 4, inside the caller's transaction: what schema 3 gained in place first
    (run_details; verdicts.detail_data, the detail's message key and parameters), then its
    texts rewritten as chunks (history_chunks)."""
    conn.execute(RUN_DETAILS)
    has = {row[1] for row in conn.execute("PRAGMA table_info(verdicts)")}
    if "detail_data" not in has:
        conn.execute("ALTER TABLE verdicts ADD COLUMN detail_data TEXT")
    history_chunks.migrate(conn, BATCH)
    conn.execute(BLOCKS)
    for table, columns in (("run_results", ("verdicts", "evidence", "durations")),
                           ("run_targets", ("rows",))):  # fmt: skip
        for run_id, *blobs in conn.execute(f"SELECT run_id, {', '.join(columns)} FROM {table}"
                                           ).fetchall():  # fmt: skip
            blocks = [store_blocks(conn, split(zlib.decompress(blob), 8), 0 if i == 0 else 1)
                      for i, blob in enumerate(blobs)]  # fmt: skip
            sets = ", ".join(f"{column} = ?" for column in columns)
            conn.execute(f"UPDATE {table} SET {sets} WHERE run_id = ?", (*blocks, run_id))


def _refuse(value: object) -> NoReturn:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _compact_encoder() -> Callable[[Any], str]:
    """`json.dumps(value, ensure_ascii=False, separators=(",", ":"))`, the same text, with
    its C encoder built once and not once a call: a third of the cost, paid by each new
    verdict (model.json_encoder does the same for the spaced form)."""
    if c_make_encoder is None:  # no C accelerator (not CPython): the plain path
        return json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    encode = c_make_encoder(None, _refuse, encode_basestring, None, ":", ",", False, False, True)
    return lambda value: "".join(encode(value, 0))


_compact = _compact_encoder()


def _detail_data(detail: str) -> str | None:
    """[key, params] as _compact writes it, through orjson (a fifth of the cost, paid by
    every new verdict) where the two write the same: not where orjson writes null (for
    NaN and the infinities too, which json writes NaN, Infinity), an exponent (1e-7 for
    json's 1e-07) or a number under 1e-4 without one (0.00001 for json's 1e-05)."""
    key = getattr(detail, "key", None)
    if key is None:
        return None
    params = getattr(detail, "params", {})
    if _dumps is not None:
        try:
            text = _dumps([key, params])
        except TypeError:  # a lone surrogate, a key not a string, an int past 64 bits
            pass
        else:
            if (
                b"null" not in text
                and b"e-" not in text
                and b"e+" not in text
                and b"0.0000" not in text
            ):
                return text.decode("utf-8")  # (a word holding them only costs the slow way)
    return _compact([key, params])


def _keyed(text: str, data: str | None, own: list[Any] | None) -> dict[str, Any]:
    """A stored detail's results.jsonl fields, its key and parameters again; `own`: the
    run's own [text, params] of a detail compared by identity."""
    if own is not None:
        text = str(own[0])
    fields: dict[str, Any] = {"detail": text}
    if data is None:
        return fields
    try:
        key, params = json_loads(data)
    except (ValueError, TypeError):
        return fields
    fields["detail_key"] = key
    fields["detail_params"] = own[1] if own is not None and len(own) > 1 else params
    return fields


def _compared(detail: str) -> str | None:
    """What the history compares of a detail whose message holds measured figures (a
    time, a count of tries): messages.identity, the figures left out, so that a re-run
    that measured other figures repeats the verdict. None for any other detail, whose
    text is compared as it always was. The run keeps such a detail's own text (RunWriter)."""
    key = getattr(detail, "key", None)
    if key is None:
        return None
    # every measured figure declared, whichever judges this process imported (a second
    # process, a merge): else a figure of an undeclared message would be compared
    catalogue.load_measured()
    known = MESSAGES.get(key)
    if known is None or not known.measured:
        for value in getattr(detail, "params", {}).values():
            # (a loop, not any() over a generator: this runs for every result)
            if isinstance(value, dict) or (
                isinstance(value, list) and any(isinstance(x, dict) for x in value)
            ):
                break
        else:
            return None  # no measured figure in it, nor a nested detail that may hold one
    return identity(detail)


Verdict = tuple[int, str, str, str, str, str, str, str, str | None, str | None]


def _verdict_key(r: CheckResult) -> tuple[int, bool]:
    """The verdict's key, and whether its detail was compared by identity."""
    compared = _compared(r.detail)
    key = verdict_key(r.target, r.sector, r.tier, r.subject, r.check, str(r.status), r.detail,
                      compared, r.vantage)  # fmt: skip
    return key, compared is not None


def verdict_key(
    target: str, sector: str, tier: str, subject: str, check: str, status: str, detail: str,
    compared: str | None = None, vantage: str | None = None,
) -> int:  # fmt: skip
    """The key of a verdict's fields; `compared`: the detail as compared (_compared), when
    it is compared by identity."""
    # each field with its length before it: no two tuples give one text, and no JSON made;
    # a detail compared by identity is marked `i` (a text's field starts with a digit);
    # a vantage point only when there is one, so a local scan's keys do not change
    said = f"{len(detail)}:{detail}" if compared is None else f"i{len(compared)}:{compared}"
    text = (f"{len(target)}:{target}{len(sector)}:{sector}{len(tier)}:{tier}"
            f"{len(subject)}:{subject}{len(check)}:{check}{len(status)}:{status}"
            f"{said}")  # fmt: skip
    if vantage is not None:
        text += f"v{len(vantage)}:{vantage}"
    return text_key(text)


Pending = tuple[int, str, str, str, str, str, str, str, str | None]  # a Verdict but its data


def verdict_record(r: CheckResult) -> tuple[int, Pending, list[Any] | None]:
    """The verdict's key; its row but its detail's data (verdict_row makes that, only for a
    verdict the database may not hold yet: r itself is not kept, its evidence, its size);
    and the run's own [text, params] of a detail compared by identity, whose stored
    verdict may hold other figures (else None)."""
    key, by_identity = _verdict_key(r)
    own = [str(r.detail), getattr(r.detail, "params", {})] if by_identity else None
    return key, _pending(key, r), own


def _pending(key: int, r: CheckResult) -> Pending:
    return (key, r.target, r.sector, r.tier, r.subject, r.check, str(r.status), r.detail,
            r.vantage)  # fmt: skip


def verdict_row(pending: Pending) -> Verdict:
    return (*pending, _detail_data(pending[7]))


def _same(entry: tuple[Any, ...]) -> tuple[Any, ...]:
    return entry


class RunWriter:
    """One run's records as they come (finish.RunSink), inside the caller's transaction.

    `look_up`: whether most texts are likely stored already (a re-run of a history): each
    batch's keys are then looked up first (with the staging, beside the pass when it can
    be: history_stage), and only the texts not found are made and staged. A lookup costs
    a fifth of staging and merging a verdict that is there; a first run (nothing to find)
    skips it. Either way the database ends the same."""

    def __init__(
        self, conn: sqlite3.Connection, run_id: int, *, look_up: bool = False, beside: bool = False
    ) -> None:
        self.conn = conn
        self.run_id = run_id
        self.look_up = look_up
        # the run's arrays, in results.jsonl's and summary.json's order (spilled to scratch
        # files a part at a time: history_columns)
        self.verdicts, self.evidence = Column("q"), Column("q")
        self.durations, self.rows = Column("d"), Column("q")
        # [index, text, params] of the details compared by identity: this run's figures
        self.details: list[list[Any]] = []
        self._verdict_batch: list[Pending] = []
        self._evidence_batch: list[tuple[Any, ...]] = []
        self._row_batch: list[tuple[Any, ...]] = []
        self._stage = Stage(conn, beside=beside)  # beside: SQLite's part in a thread

    def result(self, r: CheckResult, evidence: str | None = None) -> None:
        """`evidence`: r's evidence as evidence_text writes it (keys sorted), when known."""
        key, pending, own = verdict_record(r)
        if own is not None:
            self.details.append([len(self.verdicts), *own])
        self.verdicts.values.append(key)
        self._verdict_batch.append(pending)
        # Not remembered across batches, though a run repeats a few texts many times: a
        # memory of texts seen kept pymalloc's arenas alive (+13 MB at 100,000 names, for
        # a tenth of a second saved).
        text = evidence_text(r.evidence) if evidence is None else evidence
        evidence_key = text_key(text)
        self.evidence.values.append(evidence_key)
        self._evidence_batch.append((evidence_key, text))  # a repeat: ignored by the insert
        self.durations.values.append(r.duration_ms)
        if len(self._verdict_batch) >= BATCH:
            self._flush_results()

    def results_beside(self) -> bool:
        """Whether the results' records may come by take_results, from another thread,
        rather than by result() (finish.history_beside): only before the first result, and
        only where the chunks are written by a thread of their own, whoever calls."""
        return self._stage.threaded and not len(self.verdicts)

    def take_results(self, frame: Frame) -> None:
        """The next results' records, from the thread that reads them (the only one to
        touch the results' columns and details until the finish has joined it)."""
        base = len(self.verdicts)
        for column, values in ((self.verdicts, frame.verdict_keys),
                               (self.evidence, frame.evidence_keys),
                               (self.durations, frame.durations)):  # fmt: skip
            column.values.frombytes(values)
            column.spill()
        for index, text, params in json.loads(frame.details):  # json's: as close() writes
            self.details.append([base + index, text, params])
        self._stage.add_json("verdicts", frame.verdicts, frame.count, frame.verdict_keys,
                             look_up=self.look_up)  # fmt: skip
        self._stage.add_json("evidence", frame.evidence, frame.count, frame.evidence_keys,
                             look_up=self.look_up)  # fmt: skip

    def restart_results(self) -> None:
        """Forget the results' records given so far (the texts written stay: a repeat is
        ignored); the finish gives every result again with result()."""
        self._flush_results()
        for column in (self.verdicts, self.evidence, self.durations):
            column.close()
        self.verdicts, self.evidence, self.durations = Column("q"), Column("q"), Column("d")
        self.details = []

    def row(self, row: Mapping[str, Any], text: str) -> None:
        key = text_key(text)
        self.rows.values.append(key)
        self._row_batch.append(
            (key, row["name"], row["sector"], row.get("score"), row["stage"], text)
        )
        if len(self._row_batch) >= BATCH:
            self._flush_rows()

    def drop_rows(self) -> None:
        """Forget the rows given so far (the finish stage scores the run again)."""
        self._flush_rows()
        self.rows.close()
        self.rows = Column("q")

    def stop(self) -> None:
        """Give up: the thread staging texts (if any) stops, what it had not done undone
        with the caller's transaction."""
        self._stage.stop(abandon=True)
        for column in self._columns():
            column.close()

    def _columns(self) -> tuple[Column, ...]:
        return self.verdicts, self.evidence, self.durations, self.rows

    def _flush_results(self) -> None:
        self._flush_evidence()
        if self._verdict_batch:
            self._stage_batch("verdicts", self._verdict_batch, verdict_row)
            self._verdict_batch = []
            self.verdicts.spill()
            self.durations.spill()

    def _flush_evidence(self) -> None:
        if self._evidence_batch:
            self._stage_batch("evidence", self._evidence_batch, _same)
            self._evidence_batch = []
            self.evidence.spill()

    def _flush_rows(self) -> None:
        if self._row_batch:
            self._stage_batch("target_rows", self._row_batch, _same)
            self._row_batch = []
            self.rows.spill()

    def _stage_batch(
        self, table: str, batch: list[Any], make: Callable[[Any], tuple[Any, ...]]
    ) -> None:
        """Each entry's row as `make` gives it; on a re-run, only where the key is new."""
        if self.look_up:  # most are stored: looked up first, beside the pass
            self._stage.add_unstored(table, batch, make)
        else:
            self._stage.add(table, batch if make is _same else [make(entry) for entry in batch])

    def close(self) -> None:
        """Store the run's texts and arrays."""
        self._flush_results()
        self._flush_rows()
        if not len(self.evidence) == len(self.durations) == len(self.verdicts):
            raise sqlite3.IntegrityError(  # never, unless a bug: not stored so
                f"the run's evidence keys ({len(self.evidence)}) and durations"
                f" ({len(self.durations)}) are not one a result ({len(self.verdicts)})"
            )
        self._stage.merge()
        self._stage.settle()
        self._stage.stop()
        # level 0 for keys of distinct texts: random 64-bit numbers do not compress, and
        # level 1 spends 20 ms a million on finding that out; a run repeats some evidence
        blocks = [store_blocks(self.conn, column.blocks(), 0 if column is self.verdicts else 1)
                  for column in (self.verdicts, self.evidence, self.durations)]  # fmt: skip
        self.conn.execute("INSERT OR REPLACE INTO run_results VALUES (?, ?, ?, ?, ?)",
                          (self.run_id, len(self.verdicts), *blocks))  # fmt: skip
        self.conn.execute("INSERT OR REPLACE INTO run_targets VALUES (?, ?, ?)",
                          (self.run_id, len(self.rows),
                           store_blocks(self.conn, self.rows.blocks(), 0)))  # fmt: skip
        for column in self._columns():
            column.close()
        if self.details:
            text = json.dumps(self.details, ensure_ascii=False, separators=(",", ":"))
            self.conn.execute(
                "INSERT OR REPLACE INTO run_details VALUES (?, ?)",
                (self.run_id, zlib.compress(text.encode("utf-8", "surrogatepass"), 6)),
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


def run_keys(conn: sqlite3.Connection, run_id: int) -> tuple[array[int], array[int]] | None:
    """A run's verdict and evidence keys, in results.jsonl's order; None: no such run."""
    found = conn.execute(
        "SELECT verdicts, evidence FROM run_results WHERE run_id = ?", (run_id,)
    ).fetchone()
    if found is None:
        return None
    return load_blocks(conn, found[0], "q"), load_blocks(conn, found[1], "q")


def any_intermittent(conn: sqlite3.Connection, evidence: Iterable[int]) -> bool:
    """Whether any of these evidence texts marks an intermittent result (checks/
    intermittent.py: `"intermittent": true`, as evidence_text writes it)."""
    reader = ChunkReader(conn)
    mark = '"intermittent": true'
    for chunk, keys in reader.chunks_of("evidence", evidence):
        if b'intermittent\\": true' not in reader.raw(chunk):  # as JSON holds the text
            continue
        entries = reader.entries(chunk)
        if any(key in entries and mark in entries[key][1] for key in keys):
            return True
    return False


def load_results(
    conn: sqlite3.Connection, run_id: int, only: Sequence[int] | None = None
) -> Iterator[CheckResult]:
    """The run's results, in the order they were recorded (`only`: those at these
    positions, in order); the texts are looked up a chunk of keys at a time (one query per
    chunk, not per result)."""
    found = conn.execute(
        "SELECT verdicts, evidence, durations FROM run_results WHERE run_id = ?", (run_id,)
    ).fetchone()
    if found is None:
        return
    verdicts, evidence = load_blocks(conn, found[0], "q"), load_blocks(conn, found[1], "q")
    durations = load_blocks(conn, found[2], "d")
    own = _own_details(conn, run_id)
    reader = ChunkReader(conn)
    positions: Sequence[int] = range(len(verdicts)) if only is None else only
    for start in range(0, len(positions), LOOKUP):
        chunk = positions[start : start + LOOKUP]
        vkeys, ekeys = [verdicts[i] for i in chunk], [evidence[i] for i in chunk]
        v_found = reader.find("verdicts", vkeys)
        e_found = reader.find("evidence", ekeys)
        for i, vkey, ekey in zip(chunk, vkeys, ekeys, strict=True):
            found = v_found.get(vkey)
            if found is None:
                continue  # not ours to lose, but never a crash
            v = found[1:]  # target, sector, tier, subject, check, status, detail, vantage, data
            e = e_found.get(ekey)
            yield CheckResult.from_json(
                {"target": v[0], "sector": v[1], "tier": v[2], "subject": v[3], "check": v[4],
                 "status": v[5], **_keyed(v[6], v[8], own.get(i)),
                 "evidence": json_loads(e[1]) if e else {},
                 "duration_ms": durations[i]}
                | ({"vantage": v[7]} if v[7] is not None else {})
            )  # fmt: skip


def _own_details(conn: sqlite3.Connection, run_id: int) -> dict[int, list[Any]]:
    """index -> the run's own [text, params] of each detail compared by identity."""
    try:
        found = conn.execute(
            "SELECT details FROM run_details WHERE run_id = ?", (run_id,)
        ).fetchone()
    except sqlite3.OperationalError:  # a database opened read-only, from before the table
        return {}
    if found is None:
        return {}
    pairs = json_loads(zlib.decompress(found[0]))
    return {int(entry[0]): list(entry[1:]) for entry in pairs}


def row_keys(conn: sqlite3.Connection, run_id: int) -> array[int]:
    found = conn.execute("SELECT rows FROM run_targets WHERE run_id = ?", (run_id,)).fetchone()
    return load_blocks(conn, found[0], "q") if found else array("q")


def row_texts(conn: sqlite3.Connection, run_id: int) -> Iterator[str]:
    """The run's summary.json target rows as stored, in order."""
    keys = row_keys(conn, run_id)
    reader = ChunkReader(conn)
    for start in range(0, len(keys), LOOKUP):
        part = keys[start : start + LOOKUP]
        found = reader.find("target_rows", part)
        for key in part:
            if key in found:
                yield str(found[key][ROW_TEXT])


def named_rows(
    conn: sqlite3.Connection, run_ids: Sequence[int], names: Iterable[str]
) -> dict[int, list[dict[str, Any]]]:
    """The rows of the named targets in each of these runs (milestones), in the names'
    order: the rows of those names found in one read of the table (it has no index by
    name), then each run's among them."""
    wanted = list(dict.fromkeys(names))
    found: dict[str, list[int]] = {}
    for key, target in select_in(conn, "SELECT key, target FROM target_rows WHERE", "target",
                                 wanted):  # fmt: skip
        found.setdefault(target, []).append(key)
    reader = ChunkReader(conn)
    rows: dict[int, list[dict[str, Any]]] = {}
    for run_id in run_ids:
        rows[run_id] = []
        if not found:
            continue
        keys = set(row_keys(conn, run_id))
        for name in wanted:
            key = next((k for k in found.get(name, ()) if k in keys), None)
            entry = reader.find("target_rows", [key]).get(key) if key is not None else None
            if entry is not None:
                rows[run_id].append(json_loads(entry[ROW_TEXT]))
    return rows


def row_scores(conn: sqlite3.Connection, keys: Iterable[int]) -> dict[int, tuple[str, Any]]:
    """key -> (target, score) of these target rows (diff_stored)."""
    found = in_key_order(conn, "SELECT key, target, score FROM target_rows", keys)
    return {key: (str(target), score) for key, target, score in found}


def target_names(conn: sqlite3.Connection, run_id: int) -> Iterator[str]:
    """The target of each of the run's rows, in no particular order (a row twice: once)."""
    found = in_key_order(conn, "SELECT key, target FROM target_rows", row_keys(conn, run_id))
    return (str(target) for _key, target in found)


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
    """Remove the texts and blocks no run refers to any more (after runs were deleted)."""
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS kept (key INTEGER PRIMARY KEY)")
    for table, column, blob in (("verdicts", "verdicts", "run_results"),
                                ("evidence", "evidence", "run_results"),
                                ("target_rows", "rows", "run_targets")):  # fmt: skip
        conn.execute("DELETE FROM temp.kept")
        for (packed,) in conn.execute(f"SELECT {column} FROM {blob}").fetchall():
            conn.executemany("INSERT OR IGNORE INTO temp.kept VALUES (?)",
                             ((k,) for k in load_blocks(conn, packed, "q")))  # fmt: skip
        conn.execute(f"DELETE FROM {table} WHERE key NOT IN (SELECT key FROM temp.kept)")
        history_chunks.compact(conn, table)
    conn.execute("DELETE FROM temp.kept")
    for table, columns in (("run_results", "verdicts, evidence, durations"),
                           ("run_targets", "rows")):  # fmt: skip
        for packed in conn.execute(f"SELECT {columns} FROM {table}").fetchall():
            for blocks in packed:
                conn.executemany("INSERT OR IGNORE INTO temp.kept VALUES (?)",
                                 ((k,) for k in block_keys(blocks)))  # fmt: skip
    conn.execute("DELETE FROM run_blocks WHERE key NOT IN (SELECT key FROM temp.kept)")
    conn.execute("DROP TABLE temp.kept")


def migrate_results(conn: sqlite3.Connection) -> None:
    """Schema 1 and 2 kept every result and target row of every run in full (tables
    `results` and `target_scores`): each run is rewritten as schema 4 stores it, one run at
    a time, and the old tables are dropped. Inside the caller's transaction."""
    for statement in TABLES.split(";"):
        if statement.strip():
            conn.execute(statement)
    run_ids = [run_id for (run_id,) in conn.execute("SELECT id FROM runs ORDER BY id")]
    for run_id in run_ids:
        writer = RunWriter(conn, run_id, look_up=run_id != run_ids[0])  # runs repeat runs
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
