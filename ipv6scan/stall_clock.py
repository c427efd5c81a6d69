"""The scan's watched clock: a probe's timeout counts only the time the scanner was
running, so that a pause of the scanner itself is never blamed on the network.

A timeout says "the server did not answer in time". That is true only if the scanner
was there to read the answer. When the scanner stops running for a while (the machine
is busy, the VM is descheduled, the process is stopped, one step holds the loop), the
answers still arrive and wait in the kernel's buffers. When the loop runs again, uvloop
fires due timers before it reads the sockets. So without this clock, those answers
would be read after their deadlines had fired, and a server that answered at once would
get a timeout: a false `fail`, a false intermittent `warn`, or an undecided `error`.
(asyncio's own loop does the same after a stop: its wait for the sockets is interrupted,
and it goes on to its timers.) A CI run with a two-second timeout on a busy machine
showed exactly this. In a lab run where the scanner was stopped for 3 s at a time,
with 2 s of running between the stops, 13 of 597 verdicts changed.

How it works: a heartbeat runs on the loop every BEAT seconds. When a beat comes more
than LATE seconds late, the extra time is a stall. The watched clock is time.monotonic()
less all stalls so far, and less the stall still going on (a beat that is already late).
So it is continuous and never goes back. One kind of timer serves every deadline on it
(`call_at`: `timeout`, `timeout_at`, engine/deadlines.py, the backoff before a further
try in probes/tries.py): when the loop's timer fires, the watched clock is read again,
and if stalls pushed the deadline back, the timer is set again for what is left. So no
further try races an answer that waited in a buffer. `wait` reads it the same way.

Datagram paths need less than this. There, a query is sent at once, and its answer
needs nothing more from the scanner. Their sweepers read what has arrived before they
expire anything (dnsclient/fast.py, engine/lane.py, probes/icmp_socket.py).

Measured times (connect, TTFB, round trips) stay on the plain clock: they are
measurements, not deadlines.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any, TypeVar

BEAT = 0.05  # s between heartbeats
LATE = 0.05  # s a beat may come late before the delay counts as a stall (ordinary jitter)
TIMER_SLACK = 0.001  # the loop's timers are millisecond ones: one may fire a little early

T = TypeVar("T")


def _excess(gap: float) -> float:
    """How much of a gap between two beats was a stall."""
    return max(0.0, gap - BEAT - LATE)


class StallClock:
    """One loop's watched clock and its heartbeat. It holds its loop weakly, and not its
    heartbeat's timer (which holds the loop): the loop holds the heartbeat, and a closed
    loop must not be kept alive by its clock."""

    __slots__ = ("_last", "_loop", "_stalled")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = weakref.ref(loop)
        self._stalled = 0.0
        self._last = time.monotonic()
        loop.call_later(BEAT, self._on_beat)

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        loop = self._loop()
        if loop is None:
            raise RuntimeError("the event loop of this clock is gone")
        return loop

    def _on_beat(self) -> None:
        now = time.monotonic()
        self._stalled += _excess(now - self._last)
        self._last = now
        loop = self._loop()
        if loop is not None:
            loop.call_later(BEAT, self._on_beat)

    def stalled(self) -> float:
        """Seconds the scanner has been stalled so far on this loop."""
        return self._stalled + _excess(time.monotonic() - self._last)

    def now(self) -> float:
        """The watched time: time.monotonic() less the stalls so far."""
        t = time.monotonic()
        return t - self._stalled - _excess(t - self._last)

    def call_at(self, when: float, callback: Callable[..., object], *args: Any) -> WatchedTimer:
        """`callback(*args)` once this clock reaches `when` (loop.call_at's, watched)."""
        return WatchedTimer(self, when, callback, args)


class WatchedTimer:
    """A callback run once the watched clock reaches `when`. The loop's timer is set for
    the time left, and when it fires and stalls have pushed `when` back, it is set again
    for what is left then."""

    __slots__ = ("_args", "_callback", "_clock", "_handle", "when")

    def __init__(
        self, clock: StallClock, when: float, callback: Callable[..., object], args: tuple[Any, ...]
    ) -> None:
        self._clock = clock
        self.when = when
        self._callback = callback
        self._args = args
        self._handle: asyncio.TimerHandle | None = None
        self._arm(when - clock.now())

    def _arm(self, left: float) -> None:
        self._handle = self._clock.loop.call_later(max(0.0, left), self._fire)

    def _fire(self) -> None:
        left = self.when - self._clock.now()
        if left > TIMER_SLACK:
            self._arm(left)
            return
        self._handle = None
        self._callback(*self._args)

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


_CLOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, StallClock] = (
    weakref.WeakKeyDictionary()
)


def clock(loop: asyncio.AbstractEventLoop | None = None) -> StallClock:
    """The watched clock of `loop` (default: the running loop), started on first use."""
    loop = loop or asyncio.get_running_loop()
    found = _CLOCKS.get(loop)
    if found is None:
        found = _CLOCKS[loop] = StallClock(loop)
    return found


def now() -> float:
    """The running loop's watched time."""
    return clock().now()


class Timeout:
    """asyncio.timeout on the watched clock: it cancels the block, which then raises
    TimeoutError, once the watched clock reaches `when`. It is an asyncio.Timeout whose
    own timer is never set, so that the cancellation is asyncio's and behaves as asyncio's
    does. This object's timer checks the watched clock."""

    __slots__ = ("_inner", "_timer", "when")

    def __init__(self, when: float | None) -> None:
        self.when = when
        self._inner = asyncio.timeout(None)
        self._timer: WatchedTimer | None = None

    async def __aenter__(self) -> Timeout:
        await self._inner.__aenter__()
        if self.when is not None:
            self._timer = clock().call_at(self.when, self._due)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        await self._inner.__aexit__(exc_type, exc, tb)  # raises TimeoutError when it fired

    def _due(self) -> None:
        self._timer = None
        # asyncio's own timeout fires now, in this turn of the loop
        self._inner.reschedule(asyncio.get_running_loop().time())


def timeout(seconds: float | None) -> Timeout:
    """Like asyncio.timeout(seconds), on the watched clock. Must be called in a task."""
    return Timeout(None if seconds is None else now() + seconds)


def timeout_at(when: float | None) -> Timeout:
    """Like asyncio.timeout_at, with `when` on the watched clock (stall_clock.now())."""
    return Timeout(when)


async def wait(futures: Iterable[asyncio.Future[T]], until: float) -> None:
    """Wait until all `futures` are done, or the watched clock reaches `until`; what is
    not done by then is left as it is (asyncio.wait's rule)."""
    pending: set[asyncio.Future[Any]] = set(futures)
    watched = clock()
    while pending:
        left = until - watched.now()
        if left <= 0:
            return
        _, pending = await asyncio.wait(pending, timeout=left)
