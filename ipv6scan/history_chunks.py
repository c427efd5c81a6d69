"""How the history keeps its texts (schema 4): a batch at a time, compressed together.

A verdict, an evidence text and a target's score row are each stored once under the key
of its text (history_store). Stored a row each, with SQLite's B-tree around every text,
a first run at 100,000 names took 118 MB, and merging its texts into those trees took
some 2.3 s of the finish's CPU. The texts are alike (the same checks, details and
evidence, other names and addresses), so they are stored as the run makes them: a batch
(a few thousand) in one chunk, zlib'd JSON, and a narrow table per kind from each key to
its chunk. That table is what a re-run looks its keys up in (and what SQL reads of a
target row: its name and score). The same run takes 23 MB so (bench/RESULTS.md).

    chunks:      id, tbl (which kind), entries (as written), body (zlib of JSON)
    <kind>:      key -> chunk (target_rows: and the target's name and score)

A chunk's body is the JSON array of its entries, each a list, its key first, as
history_store makes them. The keys wait in scratch tables and join their tables in key
order, a large part at a time (merge_keys). A key written in two chunks (a text a run
repeats) points to one of them, the one stored first if a run stored it before; the other
copy is dead weight until `compact` rewrites its chunk. Reading a run's texts reads its
chunks in order, each decompressed once (`ChunkReader`).
"""

from __future__ import annotations

import json
import sqlite3
import zlib
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from ipv6scan.model import fast_dumps

_fast_loads: Callable[[bytes], Any] | None
try:
    from orjson import loads as _fast_loads
except ImportError:  # pragma: no cover - the plain install: json's
    _fast_loads = None

LEVEL = 1  # zlib's fastest: 5.8x at 100,000 names, where 6 gives 6.6x for 3x the time
LOOKUP = 500  # keys a query looks up at once (SQLite allows 999 parameters at least)
CACHED = 8  # chunks a reader keeps decompressed (a run's results read in order)

KINDS = ("verdicts", "evidence", "target_rows")
# the key table's columns after the key and the chunk (TABLES): the entry's fields that
# fill them, by position
EXTRA: dict[str, tuple[int, ...]] = {
    "verdicts": (),
    "evidence": (),
    "target_rows": (1, 3),  # target, score
}

TABLES = """
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY,
    tbl TEXT NOT NULL,              -- verdicts, evidence or target_rows
    entries INTEGER NOT NULL,       -- entries in body, repeats included
    body BLOB NOT NULL              -- zlib of the JSON array of entries (history_chunks)
);
CREATE TABLE IF NOT EXISTS verdicts (key INTEGER PRIMARY KEY, chunk INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS evidence (key INTEGER PRIMARY KEY, chunk INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS target_rows (
    key INTEGER PRIMARY KEY, chunk INTEGER NOT NULL,
    target TEXT NOT NULL, score REAL  -- for trends and diff without a chunk read
);
"""
# No index by target: its random inserts were half the cost of merging a million-name
# run's keys, and only milestones look rows up by name, once a finish (named_rows).

Entry = list[Any]  # key first, then the kind's fields (history_store)


def dump(entries: list[Any]) -> bytes:
    """A chunk's JSON: orjson's where it can, else json's (a lone surrogate kept as is)."""
    return payload_of("evidence", entries)[0]


def payload_of(table: str, entries: list[Any]) -> tuple[bytes, list[Any] | None]:
    """The chunk's JSON, and the entries again where SQL cannot read the key table's
    columns from it (write's `rows`): JSON that orjson could not write (a lone surrogate:
    json's, not UTF-8), or a NUL character where the key table takes a text (needs_rows)."""
    if fast_dumps is not None:
        try:
            payload = fast_dumps(entries)
        except TypeError:  # orjson.JSONEncodeError: a lone surrogate, an int past 64 bits
            pass
        else:
            return payload, entries if needs_rows(table, payload) else None
    text = json.dumps(entries, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8", "surrogatepass"), entries


def load(body: bytes) -> list[Entry]:
    raw = zlib.decompress(body)
    if _fast_loads is not None:
        try:
            return list(_fast_loads(raw))
        except ValueError:  # json's own: a lone surrogate, NaN
            pass
    return list(json.loads(raw.decode("utf-8", "surrogatepass")))


def needs_rows(table: str, payload: bytes) -> bool:
    """Whether SQLite's ->> cannot take the key table's columns from `payload` as they are:
    it ends a text at a NUL character, and only target_rows takes a text (the name)."""
    return bool(EXTRA[table]) and b"\\u0000" in payload


def stage_tables(conn: sqlite3.Connection) -> None:
    """Where a run's keys wait (`write(..., staged=True)`) until merge_keys: the key
    tables' columns, no constraint, temp (gone with the connection)."""
    for table in KINDS:
        conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS keys_{table}"
                     f" AS SELECT * FROM main.{table} WHERE 0")  # fmt: skip
        conn.execute(f"DELETE FROM temp.keys_{table}")


def merge_keys(conn: sqlite3.Connection) -> None:
    """The staged keys into their tables, in key order (a key held already keeps its
    chunk): inserted as they come, random 64-bit keys touch a page of the table each, which
    at a million names cost 2.6 times as much."""
    for table in KINDS:
        conn.execute(f"INSERT OR IGNORE INTO main.{table}"
                     f" SELECT * FROM temp.keys_{table} ORDER BY key")  # fmt: skip
        conn.execute(f"DELETE FROM temp.keys_{table}")


def write(
    conn: sqlite3.Connection, table: str, payload: bytes, rows: list[Any] | None = None,
    *, count: int, staged: bool = False, keys: Sequence[int] | None = None,
) -> None:  # fmt: skip
    """One chunk of `count` entries, `payload` their JSON, and each key to it (a key held
    already keeps its chunk), or, `staged`, to the stage_tables' until merge_keys. `rows`:
    the entries themselves, when SQL cannot read the key table's columns from the JSON
    (needs_rows): they are then bound as they are. `keys`: the entries' keys in order, when
    the caller has them (a frame carries them): a table that takes nothing else from an
    entry stages them from a JSON of their own, which SQLite reads in a seventh of the
    time it takes to walk the whole payload (bench/RESULTS.md)."""
    target = f"temp.keys_{table}" if staged else f"main.{table}"
    cur = conn.execute(
        "INSERT INTO main.chunks (tbl, entries, body) VALUES (?, ?, ?)",
        (table, count, zlib.compress(payload, LEVEL)),
    )
    chunk = cur.lastrowid
    extra = EXTRA[table]
    marks = ", ?" * len(extra)
    if rows is not None:
        conn.executemany(
            f"INSERT OR IGNORE INTO {target} VALUES (?, ?{marks})",
            [(row[0], chunk, *(row[i] for i in extra)) for row in rows],
        )
        return
    if keys is not None and not extra:
        conn.execute(
            f"INSERT OR IGNORE INTO {target} SELECT value, ? FROM json_each(?)",
            (chunk, _key_list(keys)),
        )
        return
    # `value ->> i`: the i-th field as SQL integer (64-bit, exact), text, real or NULL
    columns = "".join(f", value ->> {i}" for i in extra)
    conn.execute(  # CAST: the bytes read as the UTF-8 text they are, not decoded
        f"INSERT OR IGNORE INTO {target} SELECT value ->> 0, ?{columns}"
        " FROM json_each(CAST(? AS TEXT))",
        (chunk, payload),
    )


def _key_list(keys: Sequence[int]) -> str:
    """The keys as a JSON array (integers: the same text from orjson and json)."""
    values = keys.tolist() if isinstance(keys, array) else list(keys)
    if fast_dumps is not None:
        return fast_dumps(values).decode("ascii")
    return json.dumps(values)


class ChunkReader:
    """Entries found by key, each chunk decompressed once while it is among the last
    CACHED read."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._cache: OrderedDict[int, dict[int, Entry]] = OrderedDict()

    def find(self, table: str, keys: Iterable[int]) -> dict[int, Entry]:
        """key -> entry of the keys `table` holds."""
        found: dict[int, Entry] = {}
        for chunk, wanted in self.chunks_of(table, keys):
            entries = self.entries(chunk)
            for key in wanted:
                entry = entries.get(key)
                if entry is not None:
                    found[key] = entry
        return found

    def chunks_of(self, table: str, keys: Iterable[int]) -> Iterator[tuple[int, list[int]]]:
        """(chunk, its keys among these), chunks in order."""
        by_chunk: dict[int, list[int]] = {}
        for key, chunk in in_key_order(self.conn, f"SELECT key, chunk FROM {table}", keys):
            by_chunk.setdefault(chunk, []).append(key)
        return iter(sorted(by_chunk.items()))

    def raw(self, chunk: int) -> bytes:
        """The chunk's JSON, not parsed (to look for a word first)."""
        return zlib.decompress(self._body(chunk))

    def _body(self, chunk: int) -> bytes:
        found = self.conn.execute("SELECT body FROM chunks WHERE id = ?", (chunk,)).fetchone()
        return bytes(found[0]) if found else zlib.compress(b"[]")

    def entries(self, chunk: int) -> dict[int, Entry]:
        """The chunk's entries by key."""
        entries = self._cache.get(chunk)
        if entries is not None:
            self._cache.move_to_end(chunk)
            return entries
        entries = {}
        for entry in load(self._body(chunk)):
            entries.setdefault(int(entry[0]), entry)
        self._cache[chunk] = entries
        if len(self._cache) > CACHED:
            self._cache.popitem(last=False)
        return entries


def compact(conn: sqlite3.Connection, table: str) -> None:
    """After keys were deleted from `table` (retention): each chunk of it that lost
    entries is written again with only the entries whose key still points to it, and a
    chunk left with none is deleted."""
    live = dict(conn.execute(f"SELECT chunk, count(*) FROM {table} GROUP BY chunk").fetchall())
    stale = [
        (chunk, entries)
        for chunk, entries in conn.execute("SELECT id, entries FROM chunks WHERE tbl = ?", (table,))
        if live.get(chunk, 0) < entries
    ]
    for chunk, _entries in stale:
        if not live.get(chunk):
            conn.execute("DELETE FROM chunks WHERE id = ?", (chunk,))
            continue
        (body,) = conn.execute("SELECT body FROM chunks WHERE id = ?", (chunk,)).fetchone()
        entries = {int(entry[0]): entry for entry in reversed(load(body))}  # the first kept
        kept = _pointing(conn, table, chunk, list(entries))
        rows = [entries[key] for key in sorted(kept)]
        conn.execute(
            "UPDATE chunks SET entries = ?, body = ? WHERE id = ?",
            (len(rows), zlib.compress(dump(rows), LEVEL), chunk),
        )


def _pointing(conn: sqlite3.Connection, table: str, chunk: int, keys: list[int]) -> set[int]:
    """Which of `keys` point to `chunk` in `table`."""
    select = f"SELECT key FROM {table} WHERE chunk = ? AND"
    return {key for (key,) in select_in(conn, select, "key", keys, chunk)}


def select_in(
    conn: sqlite3.Connection, select: str, column: str, values: Sequence[Any], *before: Any
) -> Iterator[tuple[Any, ...]]:
    """The rows of `select` (ending in WHERE or AND) with `column IN (values)`, LOOKUP
    values a statement; `before`: the parameters of `select`'s own placeholders."""
    for start in range(0, len(values), LOOKUP):
        part = values[start : start + LOOKUP]
        marks = ",".join("?" * len(part))
        yield from conn.execute(f"{select} {column} IN ({marks})", (*before, *part))


def in_key_order(
    conn: sqlite3.Connection, select: str, keys: Iterable[int]
) -> Iterator[tuple[Any, ...]]:
    """The rows `select` finds (key first) for these keys, each once, in key order: keys
    looked up in order read each page of a table once, where the same keys in a run's
    order (random) read a page for each; a third of the cost."""
    return select_in(conn, f"{select} WHERE", "key", sorted(set(keys)))


def migrate(conn: sqlite3.Connection, batch: int) -> None:
    """Schema 3's tables (a row and its text each) rewritten as chunks of `batch` entries,
    in key order, inside the caller's transaction; the old tables are dropped."""
    conn.execute("DROP INDEX IF EXISTS target_rows_by_name")
    for table in KINDS:
        conn.execute(f"ALTER TABLE {table} RENAME TO old_{table}")
    for statement in TABLES.split(";"):
        if statement.strip():
            conn.execute(statement)
    columns = {
        "verdicts": "key, target, sector, tier, subject, check_id, status, detail, vantage,"
        " detail_data",
        "evidence": "key, text",
        "target_rows": "key, target, sector, score, stage, row",
    }
    for table in KINDS:
        cur = conn.execute(f"SELECT {columns[table]} FROM old_{table} ORDER BY key")
        while rows := cur.fetchmany(batch):
            entries = [list(row) for row in rows]
            write(conn, table, *payload_of(table, entries), count=len(entries))
        conn.execute(f"DROP TABLE old_{table}")


def stored(conn: sqlite3.Connection, table: str) -> dict[int, Entry]:
    """Every entry `table` holds, by key (each from the chunk its key points to)."""
    keys = [key for (key,) in conn.execute(f"SELECT key FROM {table}")]
    return ChunkReader(conn).find(table, keys)
