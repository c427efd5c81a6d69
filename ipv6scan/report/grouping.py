"""results.jsonl grouped by target, in bounded memory.

A concurrent scan interleaves the results of the targets in flight, and a slow target's
last result may come long after its first. Scoring and junit.xml need each target's
results together: targets in the order they first appear, each one's results in file
order, as grouping them in a dict does; but a dict of a million targets does not fit.

So one pass gives each target name an id in order of first appearance (a compact table
of the names' hashes: 16 bytes a target) and writes per line (target id, line number,
offset, length) to a SQLite file in a work directory. That primary key is the order
wanted, so reading the index back needs no sort and no temporary file elsewhere; the
lines are then read from results.jsonl by offset, nearly in file order. Memory: the hash
table, SQLite's page cache and one target's results.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from array import array
from collections.abc import Iterable, Iterator
from pathlib import Path

from ipv6scan.model import CheckResult, json_loads

CACHE_KIB = 16 * 1024  # SQLite's page cache
BATCH = 4096  # lines a SQLite insert takes at once
READ_BUFFER = 1 << 20

SCHEMA = """
CREATE TABLE lines (
    tid INTEGER NOT NULL, seq INTEGER NOT NULL, pos INTEGER NOT NULL, size INTEGER NOT NULL,
    PRIMARY KEY (tid, seq)
) WITHOUT ROWID;
"""
_PREFIX = b'{"target": '  # how CheckResult.to_line starts every line
_decode = json.JSONDecoder().raw_decode


def target_of(line: bytes) -> str | None:
    """The target a line belongs to; None for a line read_results would skip anyway.

    The name is read from the start of the line alone: the whole line is parsed (and a
    torn one dropped) when the groups are read. So a torn line that comes before its
    target's first whole one places that target there: only a crash mid-line does that."""
    try:
        if line.startswith(_PREFIX):
            value, _ = _decode(line.decode("utf-8"), len(_PREFIX))
            return str(value)
        data = json_loads(line)
    except ValueError:  # not JSON, not UTF-8, a blank line
        return None
    return str(data["target"]) if isinstance(data, dict) and "target" in data else None


class _Ids:
    """Target name -> id, ids in order of first appearance, 16 bytes a target and no name
    kept: an open-addressing table of the names' hashes. Two names with the same 64-bit
    hash (about one chance in 10^8 at a million targets) share an id; reading the groups
    back splits them again (see TargetIndex.groups)."""

    def __init__(self, size: int = 1 << 12) -> None:
        self._keys = array("q", bytes(8 * size))  # 0: an empty slot
        self._vals = array("q", bytes(8 * size))
        self._mask = size - 1
        self.count = 0

    def get(self, name: str) -> int:
        h = hash(name) or 1
        keys, mask = self._keys, self._mask
        i = h & mask
        while True:
            k = keys[i]
            if k == h:
                return self._vals[i]
            if k == 0:
                break
            i = (i + 1) & mask
        tid = self.count
        self.count += 1
        keys[i] = h
        self._vals[i] = tid
        if self.count * 2 > mask:
            self._grow()
        return tid

    def _grow(self) -> None:
        old_keys, old_vals = self._keys, self._vals
        size = 2 * (self._mask + 1)
        self._keys = keys = array("q", bytes(8 * size))
        self._vals = vals = array("q", bytes(8 * size))
        self._mask = mask = size - 1
        for h, tid in zip(old_keys, old_vals, strict=True):
            if h:
                i = h & mask
                while keys[i]:
                    i = (i + 1) & mask
                keys[i] = h
                vals[i] = tid


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in (
        "journal_mode = OFF",  # a scratch file: nothing to recover
        "synchronous = OFF",
        "locking_mode = EXCLUSIVE",
        f"cache_size = -{CACHE_KIB}",
    ):
        conn.execute(f"PRAGMA {pragma}")
    return conn


class TargetIndex:
    """A results.jsonl and its index; a context manager that removes the index."""

    def __init__(self, results: Path, db: Path, conn: sqlite3.Connection, owned: bool) -> None:
        self.results = results
        self.db = db
        self._conn = conn
        self._owned = owned  # a spooled copy of the results, removed with the index

    @classmethod
    def build(cls, results: Path, workdir: Path, *, owned: bool = False) -> TargetIndex:
        fd, name = tempfile.mkstemp(prefix="groups-", suffix=".sqlite", dir=workdir)
        os.close(fd)
        db = Path(name)
        conn = _connect(db)
        try:
            conn.executescript(SCHEMA)
            conn.execute("BEGIN")
            _index(conn, results)
            conn.execute("COMMIT")
        except BaseException:
            conn.close()
            db.unlink(missing_ok=True)
            raise
        return cls(results, db, conn, owned)

    @classmethod
    def spool(cls, results: Iterable[CheckResult], workdir: Path) -> TargetIndex:
        """Results from elsewhere (the history database): written to `workdir` first."""
        fd, name = tempfile.mkstemp(prefix="results-", suffix=".jsonl", dir=workdir)
        path = Path(name)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                for r in results:
                    fh.write(r.to_line() + "\n")
            return cls.build(path, workdir, owned=True)
        except BaseException:
            path.unlink(missing_ok=True)
            raise

    def groups(self) -> Iterator[list[CheckResult]]:
        """Each target's results, targets in order of first appearance."""
        rows = self._conn.execute("SELECT tid, pos, size FROM lines ORDER BY tid, seq")
        group: list[CheckResult] = []
        current = None
        with self.results.open("rb", buffering=READ_BUFFER) as fh:
            for tid, pos, size in rows:
                if tid != current:
                    yield from _split(group)
                    group, current = [], tid
                fh.seek(pos)
                try:
                    group.append(CheckResult.from_json(json_loads(fh.read(size))))
                except (ValueError, KeyError, TypeError):
                    continue  # torn or foreign, as read_results skips it
        yield from _split(group)

    def close(self) -> None:
        self._conn.close()
        self.db.unlink(missing_ok=True)
        if self._owned:
            self.results.unlink(missing_ok=True)

    def __enter__(self) -> TargetIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _split(group: list[CheckResult]) -> Iterator[list[CheckResult]]:
    """A group as it is, or, for two names that share a hash, one group per name."""
    if not group:
        return
    first = group[0].target
    if all(r.target == first for r in group):
        yield group
        return
    by_name: dict[str, list[CheckResult]] = {}
    for r in group:
        by_name.setdefault(r.target, []).append(r)
    yield from by_name.values()


def _index(conn: sqlite3.Connection, results: Path) -> None:
    ids = _Ids()
    batch: list[tuple[int, int, int, int]] = []
    insert = "INSERT INTO lines VALUES (?, ?, ?, ?)"
    pos = seq = 0
    with results.open("rb", buffering=READ_BUFFER) as fh:
        for line in fh:
            target = target_of(line)
            if target is not None:
                batch.append((ids.get(target), seq, pos, len(line)))
                seq += 1
                if len(batch) >= BATCH:
                    conn.executemany(insert, batch)
                    batch.clear()
            pos += len(line)
    if batch:
        conn.executemany(insert, batch)
