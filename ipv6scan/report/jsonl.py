"""results.jsonl: one line per result, each written whole the moment it exists.

Lines go out with a single os.write on an O_APPEND descriptor, so a scan killed
at any instant (even SIGKILL) leaves every finished line whole. Only the line being
written at that instant can be cut short (Linux stops a write to a file at a page
boundary when SIGKILL arrives), at the very end of the file; read_results skips it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from ipv6scan.model import CheckResult, json_loads
from ipv6scan.report.jsonl_batch import encode_lines


class ResultWriter:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)

    def write(self, result: CheckResult) -> None:
        data = encode_lines([result.to_line()])
        while data:  # a regular file takes it whole; loop only for the exotic partial write
            written = os.write(self._fd, data)
            data = data[written:]

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> ResultWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_results(path: Path) -> Iterator[CheckResult]:
    """Stream results back; a torn last line (a crash mid-write elsewhere) is skipped."""
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                yield CheckResult.from_json(json_loads(line))
            except (ValueError, KeyError, TypeError):
                continue
