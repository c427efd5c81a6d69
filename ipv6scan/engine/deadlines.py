"""The checks' deadlines (engine/scheduler.py, engine/ping_only.py): what an asyncio.timeout
per check does, with one timer and one FIFO for a whole scan. They run on the watched
clock (stall_clock): a check does not run out of time while the scanner itself stalls."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from ipv6scan import stall_clock
from ipv6scan.stall_clock import TIMER_SLACK


class Deadline:
    """One check's deadline: what it cancels (the task the check runs in, or the future of
    a check that runs in none), and whether the deadline cancelled it."""

    __slots__ = ("at", "cancelling", "done", "expired", "settled", "task")

    def __init__(self, at: float, task: asyncio.Future[Any]) -> None:
        self.at = at
        self.task = task
        # cancellations asked before this check began (a plain future counts none)
        self.cancelling = task.cancelling() if isinstance(task, asyncio.Task) else 0
        self.done = False
        self.expired = False  # it cancelled the task
        self.settled = False  # and that cancellation was taken back


class Deadlines:
    """The checks' deadlines, at a fraction of what an asyncio.timeout each costs (a timer
    set and cancelled per check: 8% of a 10,000-address ping scan's CPU). Every check
    of a scan gets the same time, so deadlines fall due in the order checks start: one
    FIFO and one timer serve them all. As asyncio.timeout does, a deadline cancels the
    check's task; `settle` then tells that cancellation from anybody else's."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._queue: deque[Deadline] = deque()
        self._timer: stall_clock.WatchedTimer | None = None
        self._clock: stall_clock.StallClock | None = None  # the scan's loop's, on first use

    def start(self, future: asyncio.Future[Any] | None = None) -> Deadline:
        """The deadline of the check running in the current task; or, given `future` (a
        check that no task awaits, as on the ping bulk path), the deadline cancels that."""
        task = asyncio.current_task() if future is None else future
        if task is None:
            raise RuntimeError("a check's deadline needs a task")
        watched = self._clock
        if watched is None or watched.loop is not task.get_loop():
            # task.get_loop(), not get_running_loop(): a getpid() call each (3.11)
            watched = self._clock = stall_clock.clock(task.get_loop())
        deadline = Deadline(watched.now() + self.seconds, task)
        self._queue.append(deadline)
        if self._timer is None:
            self._timer = watched.call_at(deadline.at, self._expire)
        return deadline

    @staticmethod
    def settle(deadline: Deadline) -> bool:
        """True when the deadline cancelled the task and nobody else did meanwhile: the
        cancellation is the deadline's to turn into a TimeoutError (asyncio.timeout's rule)."""
        if not deadline.expired or deadline.settled:
            return False
        deadline.settled = True
        task = deadline.task
        if not isinstance(task, asyncio.Task):
            return True  # a future's cancellation is not counted: nothing to take back
        return task.uncancel() <= deadline.cancelling

    def finish(self, deadline: Deadline) -> None:
        self.settle(deadline)  # a check that swallowed the cancellation: take it back
        deadline.done = True
        queue = self._queue
        while queue and queue[0].done:  # finished checks leave from the front
            queue.popleft()
        if not queue and self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expire(self) -> None:
        self._timer = None
        watched = self._clock
        assert watched is not None
        now = watched.now() + TIMER_SLACK
        queue = self._queue
        while queue and (queue[0].done or queue[0].at <= now):
            deadline = queue.popleft()
            if not deadline.done:
                deadline.expired = True
                deadline.task.cancel()
        if queue:
            self._timer = watched.call_at(queue[0].at, self._expire)

    def cancel_all(self) -> None:
        """The scan is over (cancelled, failed): cancel every check still running, and
        the timer."""
        for deadline in self._queue:
            if not deadline.done:
                deadline.task.cancel()
        self._queue.clear()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
