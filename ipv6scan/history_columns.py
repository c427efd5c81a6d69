"""A run's arrays (its verdict and evidence keys, durations and row keys, history_store),
held in memory a part at a time: the rest waits in a scratch file until the run is stored.

A million-name run's four arrays hold 47 MB, plus what an array's growth copies, through
the whole finish, when its memory is at its peak; spilled a part at a time they hold half
a megabyte each, and what the end reads back lives only while it is compressed.
"""

from __future__ import annotations

import tempfile
import zlib
from array import array
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

    def packed(self, level: int) -> bytes:
        """All the values, in order, as zlib at `level` (history_store.unpack reads it)."""
        z = zlib.compressobj(level)
        parts = []
        if self._file is not None:
            self._file.seek(0)
            while block := self._file.read(READ):
                parts.append(z.compress(block))
        parts.append(z.compress(self.values.tobytes()))
        parts.append(z.flush())
        return b"".join(parts)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()  # a TemporaryFile: gone with it
            self._file = None
