"""The engine's window of targets in flight, which a target leaves while it only waits
for further tries (probes/tries.py).

A refused port is tried again after a backoff of 1-2 s. Were the waiting target to keep
its place in the window, a list where every host has one closed port would move at
`window / backoff` targets a second instead of at the network's pace. So a target steps
aside while one of its probes retries, and new targets start in its place. A hard cap
(HARD_FACTOR times the window) still bounds the targets alive at once, so memory stays
flat however many targets wait.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

HARD_FACTOR = 16  # targets alive at once, waiting ones included: this many windows


class Window:
    def __init__(self, size: int, hard: int | None = None) -> None:
        self.size = size
        self.hard = hard if hard is not None else size * HARD_FACTOR
        self.active = 0  # targets in the window
        self.alive = 0  # targets started and not finished, waiting ones included
        self._room = asyncio.Event()

    @property
    def full(self) -> bool:
        return self.active >= self.size or self.alive >= self.hard

    async def enter(self) -> Ticket:
        while self.full:
            self._room.clear()
            await self._room.wait()
        self.active += 1
        self.alive += 1
        return Ticket(self)

    def _changed(self) -> None:
        if not self.full:
            self._room.set()


class Ticket:
    """One target's place in the window; `aside` counts its probes that are retrying."""

    __slots__ = ("aside", "window")

    def __init__(self, window: Window) -> None:
        self.window = window
        self.aside = 0

    def step_aside(self) -> None:
        self.aside += 1
        if self.aside == 1:
            self.window.active -= 1
            self.window._changed()

    def step_back(self) -> None:
        # back without waiting: a retry never waits for a place it gave up (the window may
        # run over its size for a moment; the hard cap holds)
        self.aside -= 1
        if self.aside == 0:
            self.window.active += 1

    def leave(self) -> None:
        if self.aside == 0:
            self.window.active -= 1
        self.window.alive -= 1
        self.window._changed()


TICKET: ContextVar[Ticket | None] = ContextVar("ipv6scan_window_ticket", default=None)


@contextmanager
def stepped_aside() -> Iterator[None]:
    """While the current target only waits for further tries: out of the window."""
    ticket = TICKET.get()
    if ticket is None:
        yield
        return
    ticket.step_aside()
    try:
        yield
    finally:
        ticket.step_back()
