"""A one-line progress display on stderr: an observer of the engine, not part of it."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from ipv6scan.engine.scheduler import ScanStats


class Progress:
    def __init__(
        self, total_targets: int | None, stream: TextIO = sys.stderr, interval: float = 0.2
    ) -> None:
        self.total = total_targets
        self.stream = stream
        self.interval = interval
        self._last = 0.0

    @staticmethod
    def wanted(quiet: bool, stream: TextIO = sys.stderr) -> bool:
        return not quiet and stream.isatty()

    def update(self, stats: ScanStats, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self._last < self.interval:
            return
        self._last = now
        elapsed = now - stats.started
        rate = stats.results / elapsed if elapsed > 0 else 0.0
        total = f"/{self.total}" if self.total is not None else ""
        mins, secs = divmod(int(elapsed), 60)
        line = (
            f"\rtargets {stats.targets_done}{total}  results {stats.results}  "
            f"{rate:,.1f}/s  elapsed {mins:02d}:{secs:02d}"
        )
        self.stream.write(line + ("\n" if final else ""))
        self.stream.flush()


class Steps:
    """The work after the scan, a line a step as it starts, with the time since the first:
    at a million results it takes minutes, and a terminal silent after the progress line
    would look hung."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self._first: float | None = None

    def __call__(self, what: str) -> None:
        now = time.monotonic()
        if self._first is None:
            self._first = now
        self.stream.write(f"after the scan, {now - self._first:.1f} s: {what} ...\n")
        self.stream.flush()
