"""The pipes between the finish's two processes (finish.tables_beside): a buffer that a
block of results.jsonl fits in whole, where the system lets it be set."""

from __future__ import annotations

import contextlib

PIPE_BYTES = 1 << 20  # a block the pass reads (finish.lines.BLOCK) fits whole
F_SETPIPE_SZ = 1031  # fcntl's, Linux only (elsewhere the default buffer)


def widen(fd: int) -> None:
    """The pipe of `fd` given PIPE_BYTES of buffer, or left as it is: not Linux, or a
    smaller /proc/sys/fs/pipe-max-size."""
    with contextlib.suppress(OSError, ImportError):
        import fcntl  # POSIX only

        fcntl.fcntl(fd, F_SETPIPE_SZ, PIPE_BYTES)
