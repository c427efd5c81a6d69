"""`ipv6scan merge DIR [DIR ...] --out DIR`: shards' result directories made one.

results.jsonl files are read line by line and written out as they come, so a
merge of a million results holds no result in memory. A 128-bit digest of each
(target, tier, subject, check) already written goes to a SQLite table in a work
directory in --out (a set of them in memory would grow with the run), so that a
result that two overlapping shards both hold is kept once (the first
directory's). The other files (summary.json, report.html, results.csv,
junit.xml) are then made from the merged results.jsonl exactly as a scan makes
them.

Why the tier is part of the key: one host listed under two tiers of a target is
two results with the same (target, subject, check); only an exact repeat, which
is what overlapping shards produce, is a duplicate.
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ipv6scan.model import json_loads
from ipv6scan.report.jsonl_batch import MAX_BYTES
from ipv6scan.report.summary_json import read_fields
from ipv6scan.report.workspace import Workspace

RESULTS = "results.jsonl"
KEY_FIELDS = ("target", "tier", "subject", "check")


class MergeError(Exception):
    """A directory that cannot be merged (bad usage or input: exit 2)."""


@dataclass
class MergeStats:
    read: int = 0
    written: int = 0
    duplicates: int = 0
    unreadable: int = 0  # torn or foreign lines, skipped as read_results skips them
    per_dir: dict[str, int] = field(default_factory=dict)


def check_dirs(dirs: Sequence[Path], out: Path) -> None:
    if not dirs:
        raise MergeError("nothing to merge: give at least one result directory")
    seen: set[str] = set()
    for d in dirs:
        if not d.is_dir():
            raise MergeError(f"{d}: not a directory")
        if not (d / RESULTS).is_file():
            raise MergeError(f"{d}: no {RESULTS} in it (not a scan's result directory)")
        real = os.path.realpath(d)
        if real in seen:
            raise MergeError(f"{d}: given more than once")
        seen.add(real)
    if os.path.realpath(out) in seen:
        raise MergeError(f"--out {out} is one of the directories to merge; choose a new one")


def _records(path: Path, stats: MergeStats) -> Iterator[tuple[bytes, str]]:
    """(digest of the key, the line) for every well-formed result line of one file."""
    with path.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            text = line.strip()
            if not text:
                continue
            stats.read += 1
            try:
                row = json_loads(text)
                key = (
                    "\x00".join(str(row[k]) for k in KEY_FIELDS) if isinstance(row, dict) else None
                )
                if key is not None and row.get("vantage") is not None:  # one per vantage point
                    key += "\x00" + str(row["vantage"])
            except (ValueError, KeyError):
                key = None
            if key is None or "status" not in row:
                stats.unreadable += 1
                continue
            yield hashlib.blake2b(key.encode("utf-8"), digest_size=16).digest(), text


class _Written:
    """The digests of the results written so far, on disk."""

    def __init__(self, work: Workspace) -> None:
        self._conn = sqlite3.connect(work.path / "merged.sqlite", isolation_level=None)
        for pragma in ("journal_mode = OFF", "synchronous = OFF", "locking_mode = EXCLUSIVE"):
            self._conn.execute(f"PRAGMA {pragma}")
        self._conn.execute("CREATE TABLE written (key BLOB PRIMARY KEY) WITHOUT ROWID")
        self._conn.execute("BEGIN")

    def add(self, digest: bytes) -> bool:
        """False when the digest was there already."""
        cur = self._conn.execute("INSERT OR IGNORE INTO written VALUES (?)", (digest,))
        return cur.rowcount == 1

    def close(self) -> None:
        self._conn.close()


def merge_results(dirs: Sequence[Path], out: Path, *, partial: bool = False) -> MergeStats:
    """Write out/results.jsonl from the directories' files, each result once. Unless
    `partial`, a set of `--shard` directories must hold each shard of one K/N once."""
    check_dirs(dirs, out)
    if not partial:
        check_shards(dirs)
    out.mkdir(parents=True, exist_ok=True)
    with Workspace(out) as work:
        written = _Written(work)
        try:
            return _merge(dirs, out, written)
        finally:
            written.close()


def _merge(dirs: Sequence[Path], out: Path, written: _Written) -> MergeStats:
    stats = MergeStats()
    batch: list[str] = []
    size = 0
    with (out / RESULTS).open("w", encoding="utf-8") as sink:
        for d in dirs:
            kept = 0
            for digest, text in _records(d / RESULTS, stats):
                if not written.add(digest):
                    stats.duplicates += 1
                    continue
                batch.append(text)
                size += len(text) + 1
                kept += 1
                if size >= MAX_BYTES:
                    sink.write("\n".join(batch) + "\n")
                    batch, size = [], 0
            stats.per_dir[str(d)] = kept
            stats.written += kept
        if batch:
            sink.write("\n".join(batch) + "\n")
    return stats


# history_key.for_scan ends a sharded scan's key (summary.json's run.history) so
_SHARD_SUFFIX = re.compile(r" \[shard (\d+)/(\d+)\]$")


def shard_of(d: Path) -> tuple[int, int] | None:
    """The --shard K/N a result directory was scanned with, or None when it says none."""
    run = read_fields(d / "summary.json", ["run"]).get("run")
    history = run.get("history") if isinstance(run, dict) else None
    found = _SHARD_SUFFIX.search(history) if isinstance(history, str) else None
    return (int(found.group(1)), int(found.group(2))) if found else None


def check_shards(dirs: Sequence[Path]) -> None:
    """A merge of shards is whole: one N, each K of 1..N once. Raises MergeError naming
    the missing or doubled shard; directories with no shard are not checked."""
    shards = {d: shard_of(d) for d in dirs}
    sharded = {d: s for d, s in shards.items() if s is not None}
    if not sharded:
        return
    if len(sharded) != len(shards):
        plain = ", ".join(str(d) for d, s in shards.items() if s is None)
        raise MergeError(f"{plain}: not a shard, beside shards (use --partial to merge anyway)")
    counts = {n for _k, n in sharded.values()}
    if len(counts) > 1:
        raise MergeError(f"shards of different N: {sorted(counts)} (use --partial to merge anyway)")
    n = counts.pop()
    seen: dict[int, Path] = {}
    for d, (k, _n) in sharded.items():
        if k in seen:
            raise MergeError(f"shard {k}/{n} twice: {seen[k]} and {d} (use --partial to merge "
                             "anyway)")  # fmt: skip
        seen[k] = d
    missing = [f"{k}/{n}" for k in range(1, n + 1) if k not in seen]
    if missing:
        raise MergeError(f"shard {', '.join(missing)} missing (use --partial to merge anyway)")


def scanner_info(dirs: Sequence[Path]) -> dict[str, Any]:
    """What the shards' summaries say about the scanner, and where the merge came from."""
    info: dict[str, Any] = {}
    for d in dirs:
        # the one field, not the target rows: a shard of 100,000 targets loaded whole took
        # 700 MB, for a merge whose every other step stays under 80 MB
        scanner = read_fields(d / "summary.json", ["scanner"]).get("scanner")
        if isinstance(scanner, dict):
            info = dict(scanner)
            break
    info["merged_from"] = [str(d) for d in dirs]
    return info
