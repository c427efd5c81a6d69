"""net.ping-only scans on the bulk path: address entries in, net.ping results out, no task
per address.

`--checks net.ping` over an operator's address plan. The engine gives each address a
coroutine, a task (its target's gather), a deadline entry and an await of the prober's
future: as much CPU as the echoes themselves. Here each address's series goes to the
prober at once, and the prober's future calls back to judge it (judge_ping) and write
its line (emit), as the engine would: the rule and the line are the engine's own, written
once. A target that is not addresses only (domains, host names, URLs: they need
look-ups first) goes to the engine whole.

At most `window` addresses are in progress, so memory stays flat whatever the list's
length, and a few hundred start per turn of the loop, so the first echoes go out (and
their replies are read) while the list is still being read.

An address whose series got no echo answered gets its series again after a backoff, up
to --attempts series, by the engine's own rule: the same TryRun (probes/tries.py, no
task either) with probes/net.py's unanswered(), each _Series its Prober. While it waits for
a further series it steps out of the window, as a retrying target leaves the engine's
(engine/window.py): silent addresses do not hold back the others; a hard cap still bounds
those alive.

Every address gets the engine's check deadline from its start. They all last as long,
so they fall due in the order they started: one FIFO and one timer serve the scan, and
a series past its deadline is cancelled and reported as the engine reports it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine, Iterable, Iterator
from typing import Any

from ipv6scan.checks.net import judge_ping
from ipv6scan.checks.options import CheckOptions
from ipv6scan.context import ScanContext
from ipv6scan.engine.bulk_window import WindowedScan
from ipv6scan.engine.deadlines import Deadline, Deadlines
from ipv6scan.engine.ping_lines import ShapeCache
from ipv6scan.engine.scheduler import (
    ScanStats,
    Sink,
    deadline_verdict,
    emit,
    internal_error,
    system_subjects,
)
from ipv6scan.engine.window import HARD_FACTOR
from ipv6scan.model import Subject, Target, Verdict
from ipv6scan.observations.net import EchoOutcome, NetTarget, PingObservation
from ipv6scan.probes.icmp_socket import IcmpProber
from ipv6scan.probes.net import (
    address_target,
    answered,
    ping_result,
    start_ping,
    tried_result,
    unanswered,
)
from ipv6scan.probes.tries import TryRun

CHECK = "net.ping"
STARTS_PER_TURN = 256  # then the loop sends, reads replies, and comes back for more
MAX_WINDOW = 16_384


def ping_bulk_capable(check_ids: Iterable[str], ctx: ScanContext) -> bool:
    """The ping bulk path serves exactly --checks net.ping, once the raw socket is open
    and the scanner has IPv6 (else the engine's verdicts come without sending anything)."""
    return set(check_ids) == {CHECK} and isinstance(ctx.icmp, IcmpProber) and ctx.connectivity.ipv6


def window_for(options: CheckOptions, timeout: float) -> int:
    """Addresses in progress at once: what the echo rate starts while a series lasts at
    most (its spacing, then `timeout` for the last answer). The rate, not the window, is
    then the bound, and a series waits for the rate no longer than a series lasts: well
    within the check deadline (8 timeouts), however low an operator sets the rate."""
    starts_per_second = options.ping_rate / options.ping_count
    lasts = (options.ping_count - 1) * options.ping_interval + timeout
    return int(min(MAX_WINDOW, max(1.0, starts_per_second * lasts)))


def addresses_only(target: Target) -> bool:
    return not target.domains and all(entry.kind == "address" for entry in target.systems)


class PingOnlyScan(WindowedScan):
    def __init__(
        self,
        ctx: ScanContext,
        sink: Sink,
        stats: ScanStats,
        *,
        check_deadline: float,
        wanted: Callable[[Subject], bool],
        run_whole: Callable[[Target], Coroutine[object, object, None]],
        on_progress: Callable[[ScanStats], None] | None = None,
        window: int | None = None,
        write_line: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(stats, run_whole, on_progress)
        assert isinstance(ctx.icmp, IcmpProber)  # ping_bulk_capable() made sure
        self.ctx = ctx
        self.prober: IcmpProber = ctx.icmp
        self.sink = sink
        # given: an answered address's line is filled in from its shape (ping_lines.py)
        self.write_line = write_line
        self.shapes = ShapeCache(ctx.options)
        self.check_deadline = check_deadline
        self.deadlines = Deadlines(check_deadline)  # the engine's: one FIFO, one timer
        self.wanted = wanted  # does net.ping apply to this subject (the entry's own checks)
        self.window = window_for(ctx.options, ctx.timeout) if window is None else max(1, window)
        self._work: Iterator[Target | tuple[_TargetState, Subject]] = iter(())
        self._loop: asyncio.AbstractEventLoop | None = None
        self._abandoned = False  # the scan was cancelled or failed: write nothing more
        self._fill_soon = False  # a _fill is due on the next turn of the loop
        self.retries = ctx.options.attempts > 1  # each address's series go through a TryRun
        self._aside = 0  # addresses in progress that only wait for a further series
        self._hard = self.window * HARD_FACTOR  # in progress at once, waiting ones included

    async def run(self, targets: Iterable[Target]) -> ScanStats:
        self._loop = asyncio.get_running_loop()
        self._finished = self._loop.create_future()
        self._work = self._items(targets)
        self._fill()
        try:
            await self._finished
        finally:  # finished: every series is done; else (cancelled, failed) stop the rest
            self._stopped = True
            self._abandoned = True  # unfinished series stop unwritten, as the engine's would
            self.deadlines.cancel_all()
        return self.stats

    def _items(self, targets: Iterable[Target]) -> Iterator[Target | tuple[_TargetState, Subject]]:
        """Each target served here as its addresses, one by one; any other target whole."""
        for target in targets:
            if not addresses_only(target):
                yield target
                continue
            subjects = [s for s in system_subjects(target) if self.wanted(s)]
            state = _TargetState(target, len(subjects))
            if not subjects:
                self._target_done()
            for subject in subjects:
                yield state, subject

    def _fill(self) -> None:
        """Start addresses until `window` are in progress or the list ends; a few hundred
        a turn, then again on the next turn of the loop."""
        assert self._loop is not None
        try:
            for _ in range(STARTS_PER_TURN):
                if self._busy - self._aside >= self.window or self._stopped:
                    break
                if self._busy >= self._hard:
                    break
                item = next(self._work, None)
                if item is None:
                    self._stopped = True
                    break
                if isinstance(item, Target):
                    self._start_whole(item)
                else:
                    self._start(*item)
            else:  # a turn's worth started: more on the next turn, once
                if not self._fill_soon:
                    self._fill_soon = True
                    self._loop.call_soon(self._fill_next_turn)
                return
        except Exception as exc:  # the list itself failed (read error): end the scan with it
            self.fail(exc)
            return
        self._done_if_idle()

    def _fill_next_turn(self) -> None:
        self._fill_soon = False
        self._fill()

    def _start(self, state: _TargetState, subject: Subject) -> None:
        started = time.monotonic()
        target = address_target(self.ctx, subject.name)
        if not target.addresses:  # IPv4, or not global: the verdict needs no echo
            try:
                verdict = judge_ping(PingObservation(target, True), self.ctx.options)
            except Exception as exc:
                verdict = internal_error(exc)
            self._emit(state, subject, verdict, started)
            return
        series = _Series(self, state, subject, target, started)
        future: asyncio.Future[Any]
        try:
            if self.retries:
                future = TryRun(series, unanswered, self.ctx.options.attempts, loop=self._loop)
            else:
                future = series.start_try()
        except Exception as exc:  # a bug is a result, as in the engine
            self._emit(state, subject, internal_error(exc), started)
            return
        self._busy += 1
        series.deadline = self.deadlines.start(future)
        future.add_done_callback(series.done)

    def _emit(
        self, state: _TargetState, subject: Subject, verdict: Verdict, started: float
    ) -> None:
        try:
            emit(self.sink, self.stats, subject, CHECK, verdict, started)
        except Exception as exc:  # the sink failed (disk full): the scan cannot go on
            self.fail(exc)
            return
        state.left -= 1
        if state.left == 0:
            self._target_done()

    def _write_shaped(self, series: _Series, address: str, got: Any) -> bool:
        """`got` (a series' outcomes, or their Tried) as judge_ping's passing line, filled
        in from its shape: True when written so, False when judge_ping is to decide."""
        if self.write_line is None:
            return False
        if self.retries:  # a later series' answer is intermittent: judge_ping's to write
            got = got.outcome if got.attempts == 1 else None
        rtts = answered(got) if got is not None else None
        shape = self.shapes.get(len(rtts)) if rtts is not None else None
        if rtts is None or shape is None:
            return False
        duration_ms = (time.monotonic() - series.started) * 1000
        try:
            self.write_line(shape.line(series.subject, address, rtts, duration_ms))
        except Exception as exc:  # the sink failed (disk full): the scan cannot go on
            self.fail(exc)
            return True
        self.stats.results += 1
        state = series.state
        state.left -= 1
        if state.left == 0:
            self._target_done()
        return True

    def _series_done(self, aside: bool) -> None:
        self._busy -= 1
        if aside:
            self._aside -= 1
        if not self._fill_soon:
            self._fill()

    def _stepped_aside(self) -> None:
        """An address now waits for a further series: its place goes to the next one."""
        self._aside += 1
        if not self._fill_soon and not self._stopped and self._loop is not None:
            self._fill_soon = True
            self._loop.call_soon(self._fill_next_turn)


class _TargetState:
    __slots__ = ("left", "target")

    def __init__(self, target: Target, left: int) -> None:
        self.target = target
        self.left = left  # addresses not yet written


class _Series:
    """One address's echoes in the prober; `done` is its future's callback."""

    __slots__ = ("aside", "deadline", "scan", "started", "state", "subject", "target")

    def __init__(
        self,
        scan: PingOnlyScan,
        state: _TargetState,
        subject: Subject,
        target: NetTarget,
        started: float,
    ) -> None:
        self.scan = scan
        self.state = state
        self.subject = subject
        self.target = target
        self.started = started
        self.deadline: Deadline | None = None  # set once the series has started
        self.aside = False  # waits for a further series, out of the window

    def start_try(self) -> asyncio.Future[tuple[EchoOutcome, ...]]:
        """One series of echoes (tries.Prober)."""
        scan = self.scan
        return start_ping(scan.ctx, scan.prober, self.target.addresses[0])

    def retrying(self) -> None:
        """The address now waits for a further series (tries.Prober): out of the window."""
        if not self.aside:
            self.aside = True
            self.scan._stepped_aside()

    def done(self, future: asyncio.Future[Any]) -> None:
        """`future` holds the echoes' outcomes, or with tries (scan.retries) their Tried."""
        scan = self.scan
        if self.deadline is not None:
            scan.deadlines.finish(self.deadline)
        if scan._abandoned:
            return
        try:
            if future.cancelled():  # by its deadline: nothing else cancels a running scan's
                verdict = deadline_verdict(scan.check_deadline)
            else:
                address = str(self.target.addresses[0])
                if scan._write_shaped(self, address, future.result()):
                    scan._series_done(self.aside)
                    return
                if scan.retries:
                    result = tried_result(address, future.result())
                else:
                    result = ping_result(address, future.result())
                verdict = judge_ping(
                    PingObservation(self.target, True, None, (result,)), scan.ctx.options
                )
        except Exception as exc:  # a bug is a result, as in the engine
            verdict = internal_error(exc)
        scan._emit(self.state, self.subject, verdict, self.started)
        scan._series_done(self.aside)
