"""A history database's contents as its readers see them, whatever chunks and blocks hold
them (history_chunks, history_columns): for tests that compare two databases."""

from __future__ import annotations

import sqlite3
import zlib
from pathlib import Path
from typing import Any

from ipv6scan.history_chunks import KINDS, stored
from ipv6scan.history_columns import load_blocks


def contents(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Each kind's entries with the columns its key table holds besides the chunk, by key;
    each run's arrays as values; each run's own details."""
    conn = sqlite3.connect(db)
    try:
        found: dict[str, list[tuple[Any, ...]]] = {}
        for table in KINDS:
            entries = stored(conn, table)
            keyed = conn.execute(f"SELECT * FROM {table} ORDER BY key").fetchall()
            found[table] = [(*entries[row[0]], *row[2:]) for row in keyed]
        found["run_results"] = [
            (run_id, count, *(load_blocks(conn, blob, code).tolist()
                              for blob, code in zip(blobs, "qqd", strict=True)))
            for run_id, count, *blobs in conn.execute(
                "SELECT * FROM run_results ORDER BY run_id").fetchall()
        ]  # fmt: skip
        found["run_targets"] = [
            (run_id, count, load_blocks(conn, blob, "q").tolist())
            for run_id, count, blob in conn.execute(
                "SELECT * FROM run_targets ORDER BY run_id").fetchall()
        ]  # fmt: skip
        found["run_details"] = [
            (run_id, zlib.decompress(blob))
            for run_id, blob in conn.execute("SELECT * FROM run_details ORDER BY run_id")
        ]
        return found
    finally:
        conn.close()
