"""DNS-only scans on the bulk path: targets in, dns.aaaa results out, no task per name.

For each domain D the engine would ask AAAA D, then AAAA and A of www.D (is www.D a
subject?), and judge the AAAA of each host subject. Here AAAA D and AAAA www.D go out
at once through BulkLookups, and each answer's callback does the rest with the
engine's own pieces: classify() and judge_aaaa() for the verdict, www_settled() and
www_exists() for the subject rule, emit() for the line and the counts. A www.D is
asked for its A only when its AAAA answer leaves the rule open (no data, no
NXDOMAIN): on a typical list that spares a quarter of the questions. A target with
`systems` entries is handed to the engine whole.

At most `in_flight` domains are in progress (three questions each at most), so memory
stays flat whatever the list's length.

Given `write_lines`, plain domains go to the fast lane first (engine/lane.py, in C), which
writes the lines of the answers it reads completely (by the same judge_aaaa, www rule and
line writer: lane.ShapeCompiler) and hands each other part (D, or www.D) back to this
path, started again from scratch.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine, Iterable, Iterator

from ipv6scan.checks.dns import judge_aaaa
from ipv6scan.context import ScanContext
from ipv6scan.dnsclient.fast import FastUdpTransport
from ipv6scan.dnsclient.resolution import Lookup
from ipv6scan.engine.bulk_window import WindowedScan
from ipv6scan.engine.lane import FastLane, Taken, target_fields
from ipv6scan.engine.lookups import BulkLookups
from ipv6scan.engine.scheduler import ScanStats, Sink, emit, internal_error, www_exists, www_settled
from ipv6scan.model import Subject, Target
from ipv6scan.names import www_name
from ipv6scan.probes.dns import classify

CHECK = "dns.aaaa"
QUERIES_PER_DOMAIN = 3  # at most: AAAA D, AAAA www.D, then A www.D if it must decide
BARE, WWW = 1, 2  # a domain's parts: D's verdict; www.D's (is it a subject, and its verdict)
BOTH = BARE | WWW


def bulk_capable(check_ids: Iterable[str], ctx: ScanContext) -> bool:
    """The bulk path serves exactly --checks dns.aaaa over the fast transport, through a
    usable resolver (with none, the Resolver itself answers each look-up with the error)."""
    return (
        set(check_ids) == {CHECK}
        and isinstance(ctx.resolver.transport, FastUdpTransport)
        and ctx.resolver.unusable is None
    )


class DnsOnlyScan(WindowedScan):
    def __init__(
        self,
        ctx: ScanContext,
        sink: Sink,
        stats: ScanStats,
        *,
        in_flight: int,
        run_whole: Callable[[Target], Coroutine[object, object, None]],
        on_progress: Callable[[ScanStats], None] | None = None,
        write_lines: Callable[[bytes], None] | None = None,
    ) -> None:
        super().__init__(stats, run_whole, on_progress)
        resolver = ctx.resolver
        self.ctx = ctx
        transport = resolver.transport
        assert isinstance(transport, FastUdpTransport)  # bulk_capable() made sure
        self.lookups = BulkLookups(
            transport, resolver.servers, timeout=resolver.timeout, attempts=resolver.attempts
        )
        self.sink = sink
        self.in_flight = max(1, in_flight)
        self.write_lines = write_lines  # the sink for whole lines: the fast lane writes those
        self.lane: FastLane | None = None
        self.lane_open = True  # False once the lane is failing: new domains skip it
        self._targets: Iterator[Target] = iter(())

    async def run(self, targets: Iterable[Target]) -> ScanStats:
        self._targets = iter(targets)
        self._finished = asyncio.get_running_loop().create_future()
        if self.write_lines is not None:
            resolver = self.ctx.resolver
            self.lane = FastLane.open(resolver.servers[0], self.ctx, resolver.timeout,
                                      self._taken, self.lookups.transport.rcvbuf)  # fmt: skip
        self._fill()
        try:
            await self._finished
        finally:
            self._stopped = True  # cancelled (SIGINT, SIGTERM): start nothing more
            if self.lane is not None:
                self.lane.close()
        return self.stats

    def _fill(self) -> None:
        """Start targets until `in_flight` domains are in progress or the list ends."""
        try:
            while self._busy < self.in_flight and not self._stopped:
                target = next(self._targets, None)
                if target is None:
                    self._stopped = True
                    break
                if target.systems:
                    self._start_whole(target)
                    continue
                state = _TargetState(self, target, len(target.domains))
                if not target.domains:
                    self._target_done()
                lane = self.lane if self.lane_open else None
                fields = target_fields(target) if lane is not None else None
                for domain in target.domains:
                    self._busy += 1
                    www = www_name(domain)
                    if (
                        fields is None
                        or lane is None
                        or not lane.add((state, domain), domain, www, *fields)
                    ):
                        _Domain(self, state, domain).start()
            if self.lane is not None:
                self.lane.flush()
        except Exception as exc:  # the list itself failed (read error): end the scan with it
            self.fail(exc)
            return
        self._done_if_idle()

    def _domain_done(self, state: _TargetState, refill: bool = True) -> None:
        self._busy -= 1
        state.left -= 1
        if state.left == 0:
            self._target_done()
        if refill:
            self._fill()

    def _taken(self, taken: Taken) -> None:
        """What the fast lane finished: its lines out, its counts up, its domains done or
        their parts it handed back started here."""
        lines, done, punted, counts = taken
        try:
            if lines:
                assert self.write_lines is not None
                self.write_lines(lines)
        except Exception as exc:  # the sink failed (disk full): the scan cannot go on
            self.fail(exc)
            return
        self.stats.results += sum(counts)  # the lane counts its lines by status (ST_*)
        for token in done:
            self._domain_done(token[0], refill=False)
        for token, parts, started in punted:
            _Domain(self, token[0], token[1], parts, started).start()
        if punted and self.lane_open and self.lane is not None and self.lane.failing():
            self.lane_open = False  # a silent first resolver: the general path tries the next
        if done:
            self._fill()

    def judge(self, subject: Subject, lookup: Lookup, started: float) -> None:
        try:
            verdict = judge_aaaa(classify(self.ctx, lookup), self.ctx.options)
        except Exception as exc:  # a bug is a result, as in the engine
            verdict = internal_error(exc)
        emit(self.sink, self.stats, subject, CHECK, verdict, started)


class _TargetState:
    __slots__ = ("left", "scan", "target")

    def __init__(self, scan: DnsOnlyScan, target: Target, left: int) -> None:
        self.scan = scan
        self.target = target
        self.left = left


class _Domain:
    """One domain's questions (`parts` of them: the fast lane may have settled the
    others); done when D and www.D are both settled."""

    __slots__ = ("bare", "domain", "left", "scan", "started", "state", "www", "www_aaaa")

    def __init__(
        self,
        scan: DnsOnlyScan,
        state: _TargetState,
        domain: str,
        parts: int = BOTH,
        started: float | None = None,
    ) -> None:
        self.scan = scan
        self.state = state
        self.domain = domain
        self.bare = bool(parts & BARE)
        # None: too long to exist (so no subject), or settled already
        self.www = www_name(domain) if parts & WWW else None
        self.started = time.monotonic() if started is None else started
        self.left = int(self.bare) + int(self.www is not None)
        self.www_aaaa: Lookup | None = None

    def start(self) -> None:
        # the names passed the target list's validation: the codec can encode them
        if self.left == 0:  # nothing left to ask (never from the lane, but never a hang)
            self.scan._domain_done(self.state)
            return
        lookups = self.scan.lookups
        if self.bare:
            lookups.lookup(self.domain, "AAAA", self._bare)
        if self.www is not None:
            lookups.lookup(self.www, "AAAA", self._www_aaaa)

    def _bare(self, lookup: Lookup) -> None:
        try:
            subject = Subject("host", self.domain, self.state.target)
            self.scan.judge(subject, lookup, self.started)
            self._one_done()
        except Exception as exc:  # the sink failed (disk full): the scan cannot go on
            self.scan.fail(exc)

    def _www_aaaa(self, lookup: Lookup) -> None:
        try:
            exists = www_settled(lookup)
            if exists is None:
                assert self.www is not None  # asked only for a www that can exist
                self.www_aaaa = lookup  # the A decides
                self.scan.lookups.lookup(self.www, "A", self._www_a)
                return
            self._www(lookup, exists)
        except Exception as exc:
            self.scan.fail(exc)

    def _www_a(self, lookup: Lookup) -> None:
        aaaa = self.www_aaaa
        assert aaaa is not None
        try:
            self._www(aaaa, www_exists(aaaa, lookup))
        except Exception as exc:
            self.scan.fail(exc)

    def _www(self, aaaa: Lookup, exists: bool) -> None:
        if exists:
            assert self.www is not None
            subject = Subject("host", self.www, self.state.target)
            self.scan.judge(subject, aaaa, self.started)
        self._one_done()

    def _one_done(self) -> None:
        self.left -= 1
        if self.left == 0:
            self.scan._domain_done(self.state)
