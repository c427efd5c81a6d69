"""What the bulk paths share: a bounded number of items in progress, the engine for the
targets a path does not serve, and one future that ends the scan.

A subclass fills the window (`_fill`) from its targets and calls `_done_if_idle` when
it may have run out; an error of the list or the sink ends the scan through `fail`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine

from ipv6scan.engine.scheduler import ScanStats
from ipv6scan.model import Target


class WindowedScan:
    def __init__(
        self,
        stats: ScanStats,
        run_whole: Callable[[Target], Coroutine[object, object, None]],
        on_progress: Callable[[ScanStats], None] | None,
    ) -> None:
        self.stats = stats
        self.run_whole = run_whole  # the engine, for a target this path does not serve
        self.on_progress = on_progress
        self._busy = 0  # items (and whole targets) in progress
        self._finished: asyncio.Future[None] | None = None
        self._stopped = False  # the list has ended, or the scan failed: start nothing more

    def _fill(self) -> None:
        raise NotImplementedError

    def _start_whole(self, target: Target) -> None:
        self._busy += 1
        task = asyncio.ensure_future(self.run_whole(target))
        task.add_done_callback(self._whole_done)

    def _whole_done(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and (exc := task.exception()) is not None:
            self.fail(exc)
            return
        self._busy -= 1
        self._fill()

    def _done_if_idle(self) -> None:
        finished = self._finished
        if self._stopped and self._busy == 0 and finished is not None and not finished.done():
            finished.set_result(None)

    def fail(self, exc: BaseException) -> None:
        self._stopped = True
        if self._finished is not None and not self._finished.done():
            self._finished.set_exception(exc)

    def _target_done(self) -> None:
        self.stats.targets_done += 1
        if self.on_progress:
            self.on_progress(self.stats)
