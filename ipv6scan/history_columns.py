"""A run's arrays (its verdict and evidence keys, durations and row keys, history_store),
held in memory a part at a time: the rest waits in a scratch file until the run is stored.

A million-name run's four arrays hold 47 MB, plus what an array's growth copies, through
the whole finish, when its memory is at its peak; spilled a part at a time they hold half
a megabyte each. At the end each is compressed into a scratch file of its own and written
into its row a block at a time (SQLite's incremental blob I/O): as bytes, with SQLite's
copies of them, they made the finish's peak at a million names (236 MB, 221 without).
"""

from __future__ import annotations

import sqlite3
import tempfile
import zlib
from array import array
from collections.abc import Mapping
from typing import IO, Any

SPILL = 1 << 16  # values kept in memory before they go to the scratch file (512 KB)
READ = 1 << 20  # bytes read back at a time


class Column:
    """Values appended to `values` (an array: appended to as it is, in the hot loop) and
    spilled, SPILL at a time, when spill() is called."""

    def __init__(self, typecode: str) -> None:
        self.values: array[Any] = array(typecode)
        self.spilled = 0  # values in the scratch file
        self._file: IO[bytes] | None = None

    def __len__(self) -> int:
        return self.spilled + len(self.values)

    def spill(self) -> None:
        if len(self.values) < SPILL:
            return
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="ipv6scan-run-")  # noqa: SIM115 (closed by close)
        self.values.tofile(self._file)
        self.spilled += len(self.values)
        del self.values[:]  # the same array: callers may hold it

    def packed(self, level: int) -> IO[bytes]:
        """All the values, in order, as zlib at `level` (history_store.unpack reads it), in
        a scratch file read from its start (the caller closes it)."""
        z = zlib.compressobj(level)
        out = tempfile.TemporaryFile(prefix="ipv6scan-packed-")  # noqa: SIM115 (the caller's)
        if self._file is not None:
            self._file.seek(0)
            while block := self._file.read(READ):
                out.write(z.compress(block))
        out.write(z.compress(self.values.tobytes()))
        out.write(z.flush())
        out.seek(0)
        return out

    def close(self) -> None:
        if self._file is not None:
            self._file.close()  # a TemporaryFile: gone with it
            self._file = None


def store(
    conn: sqlite3.Connection, insert: str, params: tuple[Any, ...], table: str,
    blobs: Mapping[str, IO[bytes]],
) -> None:  # fmt: skip
    """Run `insert` (a row of `table` whose `blobs` columns are given as zeroblob(?), their
    sizes last in its parameters), then write each file into its column, READ at a time;
    the files are closed. The row is found by its rowid: `params[0]` (its INTEGER PRIMARY
    KEY)."""
    try:
        sizes = tuple(f.seek(0, 2) for f in blobs.values())
        conn.execute(insert, (*params, *sizes))
        for column, f in blobs.items():
            f.seek(0)
            with conn.blobopen(table, column, params[0]) as blob:
                while block := f.read(READ):
                    blob.write(block)
    finally:
        for f in blobs.values():
            f.close()
