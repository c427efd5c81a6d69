"""A run's arrays (its verdict and evidence keys, durations and row keys, history_store),
held in memory a part at a time, and stored a block at a time, each block once.

A million-name run's four arrays hold 47 MB, plus what an array's growth copies, through
the whole finish, when its memory is at its peak; spilled a part at a time to a scratch
file they hold half a megabyte each. At the end each is stored a BLOCK of values at a
time: a block is kept once (run_blocks), under the key of its bytes, and the run keeps
the list of its blocks' keys. A re-run that repeats its verdicts in the same order thus
repeats their blocks and stores none again: with the texts in compressed chunks
(history_chunks) a first run is some 150 bytes a result, and 24 bytes of keys a result
stored again would be a sixth of that, not the tenth INTERFACE.md allows.
"""

from __future__ import annotations

import hashlib
import sqlite3
import tempfile
import zlib
from array import array
from collections.abc import Iterable, Iterator
from typing import IO, Any

SPILL = 1 << 16  # values kept in memory before they go to the scratch file (512 KB)
BLOCK = 1 << 12  # values a stored block holds (32 KB)
BLOCKS = """
CREATE TABLE IF NOT EXISTS run_blocks (
    key INTEGER PRIMARY KEY,        -- of the block's bytes (block_key)
    body BLOB NOT NULL              -- zlib of up to BLOCK values of a run's array
)"""


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

    def blocks(self) -> Iterator[bytes]:
        """All the values, in order, as bytes, BLOCK at a time (the last may be shorter)."""
        size = BLOCK * self.values.itemsize
        rest = b""
        if self._file is not None:
            self._file.seek(0)
            while data := self._file.read(size):  # whole blocks, but the file's last
                if len(data) < size:
                    rest = data
                    break
                yield data
        yield from split(rest + self.values.tobytes(), self.values.itemsize)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()  # a TemporaryFile: gone with it
            self._file = None


def split(data: bytes, itemsize: int) -> Iterator[bytes]:
    """`data`, values of `itemsize` bytes, BLOCK values at a time."""
    size = BLOCK * itemsize
    for start in range(0, len(data), size):
        yield data[start : start + size]


def block_key(data: bytes) -> int:
    """A signed 64-bit key of a block's bytes (never 0)."""
    digest = hashlib.blake2b(data, digest_size=8, person=b"ipv6scan-block").digest()
    return int.from_bytes(digest, "big", signed=True) or 1


def store_blocks(conn: sqlite3.Connection, blocks: Iterable[bytes], level: int) -> bytes:
    """Each block kept once in run_blocks (zlib at `level`); the zlib of their keys, in
    order, which `load_blocks` reads the values back from."""
    keys = array("q")
    for data in blocks:
        key = block_key(data)
        keys.append(key)
        if conn.execute("SELECT 1 FROM run_blocks WHERE key = ?", (key,)).fetchone() is None:
            conn.execute("INSERT INTO run_blocks VALUES (?, ?)", (key, zlib.compress(data, level)))
    return zlib.compress(keys.tobytes(), 0)  # random numbers: nothing to gain


def load_blocks(conn: sqlite3.Connection, packed: bytes, typecode: str) -> array[Any]:
    """The values that store_blocks stored: an empty array where a block is missing."""
    values = array(typecode)
    for key in block_keys(packed):
        found = conn.execute("SELECT body FROM run_blocks WHERE key = ?", (key,)).fetchone()
        if found is None:
            return array(typecode)
        values.frombytes(zlib.decompress(found[0]))
    return values


def block_keys(packed: bytes) -> array[int]:
    keys = array("q")
    keys.frombytes(zlib.decompress(packed))
    return keys
