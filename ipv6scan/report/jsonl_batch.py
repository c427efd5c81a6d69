"""results.jsonl written in batches: the lines finished in one event-loop turn, one os.write.

One os.write a line costs a system call per result, a noticeable share of a
DNS-only scan of a million names; at that rate many checks finish in the same
turn of the loop. Their lines go out together at the end of that turn (call_soon),
before the loop waits for any more I/O, so a finished result is on disk as soon
as it would have been one line at a time: a SIGKILL loses nothing already written.
A kill during the write itself can cut the batch short at a page boundary (Linux
checks for SIGKILL between pages), which leaves one torn line at the end of the file;
every reader skips it (read_results).
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from ipv6scan.model import CheckResult
from ipv6scan.safetext import safe_line

MAX_BYTES = 256 * 1024


class BatchedResultWriter:
    """The interface of report.jsonl.ResultWriter; call within a running event loop."""

    def __init__(self, path: Path, max_bytes: int = MAX_BYTES, fd: int | None = None) -> None:
        self.path = path
        self.max_bytes = max_bytes
        if fd is None:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)
        self._fd = fd
        self._lines: list[str] = []
        self._size = 0
        self._pending: asyncio.Handle | None = None

    @classmethod
    def on_stdout(cls) -> BatchedResultWriter:
        """A writer to this process's standard output (a bulk worker's pipe to its parent),
        by its descriptor: opening "/dev/stdout" would, where that is missing or was
        replaced by a file, create a file and lose every line."""
        return cls(Path("<stdout>"), fd=os.dup(1))

    def write(self, result: CheckResult) -> None:
        self.write_line(result.to_line())

    def write_line(self, line: str) -> None:
        """One line already encoded as CheckResult.to_line writes it, without its newline."""
        self._lines.append(line)
        self._size += len(line) + 1
        if self._size >= self.max_bytes:
            self.flush()
        elif self._pending is None:
            # runs after the callbacks already queued for this turn, before the next poll
            self._pending = asyncio.get_running_loop().call_soon(self.flush)

    def write_lines(self, data: bytes) -> None:
        """Whole lines already encoded (the fast lane's), each ending in a newline: out at
        once, after the lines before them."""
        self.flush()
        if self._fd >= 0:
            _write_all(self._fd, data)

    def flush(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
        if not self._lines or self._fd < 0:
            return
        lines, self._lines, self._size = self._lines, [], 0  # cleared whatever happens next
        _write_all(self._fd, encode_lines(lines))

    def close(self) -> None:
        if self._fd >= 0:
            try:
                self.flush()
            finally:
                os.close(self._fd)
                self._fd = -1

    def __enter__(self) -> BatchedResultWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def encode_lines(lines: list[str]) -> bytes:
    """The lines as UTF-8, each with its newline. A line that cannot be encoded (a lone
    surrogate that got past safe_text) is written with it replaced: one bad record
    never costs the others their lines."""
    text = "\n".join(lines) + "\n"
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return safe_line(text).encode("utf-8")


def _write_all(fd: int, data: bytes) -> None:
    # a regular file takes it whole; the loop is for a pipe's or the exotic partial write
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
