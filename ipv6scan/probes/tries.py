"""Tries: a probe that gets no answer, a refusal or a reset is tried again, up to
`attempts` tries in all, after a jittered backoff of at least BACKOFF_MIN seconds.

One rule for every probe family (TCP, SMTP, HTTP, direct DNS queries, echo series):
`run_tries` takes a coroutine factory (one try; it takes its own concurrency slot, so
no slot is held while a backoff sleeps) and a predicate saying which outcomes are
worth another try. It awaits a `TryRun`, the rule itself, driven by callbacks, which
the net.ping bulk path (no task per address) drives directly: both paths try alike.

Scheduling, so that tries cost the scan far less wall time than their number:
- a refusal or a reset comes back at once: the next try starts a backoff after it;
- a silent destination would cost a whole timeout per try if tries ran one after
  the other. Instead the next try starts a backoff after the previous one STARTED
  while that one still waits; each try keeps its own full timeout. A silent
  destination then costs (attempts - 1) backoffs plus one timeout, not `attempts`
  timeouts plus the backoffs.
While a probe retries, its target steps out of the engine's window of targets in
flight (engine/window.py), so that waiting targets do not hold back the others.
The first try that succeeds wins and the later ones are cancelled. The result counts
the tries up to the winner: `attempts` = the winner's place in start order, and
`failed_attempts` = the tries started before it (refused, reset, or with no answer
by then). When every try fails, the last failure is the outcome.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, Generic, NamedTuple, Protocol, TypeVar

from ipv6scan import stall_clock
from ipv6scan.engine.window import stepped_aside

T = TypeVar("T")

DEFAULT_ATTEMPTS = 3
BACKOFF_MIN = 1.0  # seconds; the contract's floor
BACKOFF_MAX = 2.0


def backoff() -> float:
    """A jittered pause: tries of many probes that failed together do not come back together."""
    return BACKOFF_MIN + random.random() * (BACKOFF_MAX - BACKOFF_MIN)  # uniform's, in C


def deadline_extra(attempts: int, timeout: float) -> float:
    """What tries may add to a check's time: each further try's backoff, and (after a
    quick refusal, when the tries run one after the other) its timeout."""
    return max(0, attempts - 1) * (timeout + BACKOFF_MAX)


HEDGE_TICK = 0.05  # s: further tries start on these ticks (rounded up: the floor holds)


class _Ticks:
    """When the further tries of a loop's TryRuns start. Those due in the same tick share
    one timer: a timer per probe, set and nearly always cancelled (a reply comes long
    before a backoff), was a tenth of a net.ping bulk scan's CPU. A tick lists numbers,
    not runs: a run that ends (or sets another time) leaves `armed` at once, and nothing
    it held waits for its tick (objects that live on cost the garbage collector).
    A tick's timer runs on the watched clock (stall_clock.call_at): after a stall, a
    try whose answer waited in a buffer is not raced by a further try."""

    __slots__ = ("armed", "clock", "due", "serial")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.clock = stall_clock.clock(loop)  # which holds the loop weakly: see StallClock
        self.armed: dict[int, TryRun[Any]] = {}
        self.due: dict[int, list[int]] = {}
        self.serial = 0

    def add(self, run: TryRun[Any], delay: float) -> int:
        """`run._tick()` in `delay` seconds, give or take a tick's rounding up."""
        self.serial += 1
        key = self.serial
        self.armed[key] = run
        clock = self.clock
        loop_now = clock.loop.time()
        tick = math.ceil((loop_now + delay) / HEDGE_TICK)
        keys = self.due.get(tick)
        if keys is None:
            keys = self.due[tick] = []
            # the tick's time on the watched clock
            clock.call_at(clock.now() + tick * HEDGE_TICK - loop_now, self._fire, tick)
        keys.append(key)
        return key

    def _fire(self, tick: int) -> None:
        armed = self.armed
        for key in self.due.pop(tick, ()):
            run = armed.pop(key, None)
            if run is not None:
                run._tick()


_TICKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Ticks] = weakref.WeakKeyDictionary()


def _ticks(loop: asyncio.AbstractEventLoop) -> _Ticks:
    ticks = _TICKS.get(loop)
    if ticks is None:
        ticks = _TICKS[loop] = _Ticks(loop)
    return ticks


class Tried(NamedTuple, Generic[T]):
    """The outcome that decides (the first success, else the last failure) and the tries.
    (A tuple: one is made per probe, and a frozen dataclass costs more to make.)"""

    outcome: T
    attempts: int = 1
    failed_attempts: int = 0


class Prober(Protocol[T]):
    """What a TryRun tries: an object, not closures, so that a probe in flight holds as
    few objects as can be (the bulk path has thousands in flight; each object that lives
    on costs the garbage collector)."""

    def start_try(self) -> asyncio.Future[T]:
        """Start one try; its future holds the outcome."""
        ...

    def retrying(self) -> None:
        """Called once, when a try first fails or a further try starts while one waits."""
        ...


class Calls(Generic[T]):
    """A Prober made of functions."""

    __slots__ = ("on_retrying", "start_one")

    def __init__(
        self,
        start_one: Callable[[], asyncio.Future[T]],
        on_retrying: Callable[[], object] | None = None,
    ) -> None:
        self.start_one = start_one
        self.on_retrying = on_retrying

    def start_try(self) -> asyncio.Future[T]:
        return self.start_one()

    def retrying(self) -> None:
        if self.on_retrying is not None:
            self.on_retrying()


class TryRun(asyncio.Future[Tried[T]]):
    """The tries of one probe, driven by callbacks: no task of its own. It is the future
    of their Tried; cancelling it stops the tries (the running ones are cancelled).
    run_tries awaits one; the net.ping bulk path (engine/ping_only.py), with no task per
    address, drives one: one object per probe."""

    __slots__ = (
        "_armed", "_attempts", "_failed", "_pause", "_prober", "_retryable", "_retrying",
        "_ticks", "_tries",
    )  # fmt: skip

    def __init__(
        self,
        prober: Prober[T],
        retryable: Callable[[T], bool],
        attempts: int,
        pause: Callable[[], float] | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        # `loop`: the running one, given by a caller that starts thousands a second
        # (get_running_loop() makes a getpid() call each, in Python 3.11)
        loop = loop or asyncio.get_running_loop()
        super().__init__(loop=loop)
        self._ticks = _ticks(loop)
        self._prober = prober
        self._retryable = retryable
        self._attempts = max(1, attempts)
        self._pause = pause or backoff  # looked up per run: tests shorten the module's backoff
        self._tries: list[asyncio.Future[T]] = []  # in start order
        self._failed = 0  # tries that came back retryable
        self._armed = 0  # the next try's key in _Ticks; 0: none
        self._retrying = False
        self._start()  # the first try: an error starting it is the caller's

    def _start(self) -> None:
        future = self._prober.start_try()
        self._tries.append(future)
        future.add_done_callback(self._landed)
        if len(self._tries) < self._attempts:
            # hedged: the next try starts a backoff after this one STARTED, if it still waits
            self._arm()

    def _arm(self) -> None:
        """The next try starts a backoff from now, instead of any time set before."""
        self._disarm()
        self._armed = self._ticks.add(self, self._pause())

    def _disarm(self) -> None:
        if self._armed:
            self._ticks.armed.pop(self._armed, None)
            self._armed = 0

    def _tick(self) -> None:
        self._armed = 0
        if self.done():
            return
        try:
            self._retrying_now()
            self._start()
        except Exception as exc:  # a bug in a try surfaces in the result
            self.set_exception(exc)
            self.stop()

    def _landed(self, future: asyncio.Future[T]) -> None:
        if self.done():  # a loser, or the run was cancelled
            _retrieved(future)
            return
        try:
            self._judge(future)
        except BaseException as exc:  # a bug in a try (or in `retryable`) surfaces here
            if not isinstance(exc, asyncio.CancelledError):
                self.set_exception(exc)
            self.stop()  # and a try cancelled by another (the prober closing) ends the run

    def _judge(self, future: asyncio.Future[T]) -> None:
        outcome = future.result()
        index = self._tries.index(future)
        if not self._retryable(outcome):
            # the tries started before the winner count as failed (or unanswered by then)
            self._end(Tried(outcome, index + 1, index))
            return
        self._failed += 1
        if self._failed == self._attempts:  # every try failed: the last failure decides
            self._end(Tried(outcome, self._attempts, self._attempts))
            return
        self._retrying_now()
        if index == len(self._tries) - 1 and self._armed:
            self._arm()  # the latest try failed: the backoff runs from the failure

    def _retrying_now(self) -> None:
        if not self._retrying:
            self._retrying = True
            self._prober.retrying()

    def _end(self, tried: Tried[T]) -> None:
        self.set_result(tried)
        if len(self._tries) > 1:
            self._stop_tries()
        else:
            self._disarm()  # the common case: one try, done; nothing else to stop

    def cancel(self, msg: Any | None = None) -> bool:
        """No further try; the ones still running are cancelled (a deadline, or the task
        awaiting this one cancelled)."""
        self._stop_tries()
        return super().cancel(msg)

    def stop(self) -> None:
        """Cancel the tries unless they are over."""
        self._stop_tries()
        if not self.done():
            super().cancel()

    def _stop_tries(self) -> None:
        self._disarm()  # its tick, when it comes, finds nothing to start
        for future in self._tries:  # the losers: each closes its own socket as it unwinds
            if not future.done():
                future.cancel()


async def run_tries(
    one_try: Callable[[], Awaitable[T]],
    retryable: Callable[[T], bool],
    attempts: int,
    pause: Callable[[], float] | None = None,
) -> Tried[T]:
    """Up to `attempts` tries of `one_try` while their outcomes are `retryable`, each next
    one `pause()` seconds (default: `backoff`) after the previous start or failure."""
    if attempts <= 1:
        return Tried(await one_try())
    aside = contextlib.ExitStack()  # out of the engine's window while retrying (engine/window.py)
    calls = Calls(
        lambda: asyncio.ensure_future(one_try()),
        lambda: aside.enter_context(stepped_aside()),
    )
    run = TryRun(calls, retryable, attempts, pause)
    try:
        return await run
    finally:
        aside.close()
        run.stop()  # done already, or this task was cancelled: stop the tries


def _retrieved(task: asyncio.Future[Any]) -> None:
    """A try that lost the race may end in an error nobody reads: read it, quietly."""
    if not task.cancelled():
        task.exception()
