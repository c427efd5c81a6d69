"""A one-line progress display on stderr: an observer of the engine, not part of it."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from ipv6scan.engine import ScanStats


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
