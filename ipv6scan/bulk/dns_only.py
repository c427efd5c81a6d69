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
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine, Iterable, Iterator

from ipv6scan.bulk.lookups import BulkLookups
from ipv6scan.checks.dns import judge_aaaa
from ipv6scan.context import ScanContext
from ipv6scan.engine import ScanStats, Sink, emit, internal_error, www_exists, www_settled
from ipv6scan.model import Subject, Target
from ipv6scan.names import www_name
from ipv6scan.probes.dns_observe import classify
from ipv6scan.probes.fastdns import FastUdpTransport
from ipv6scan.probes.resolution import Lookup

CHECK = "dns.aaaa"
QUERIES_PER_DOMAIN = 3  # at most: AAAA D, AAAA www.D, then A www.D if it must decide
SUBJECT_RULES = 2  # answers a domain waits for: D's AAAA, and whether www.D is a subject


def bulk_capable(check_ids: Iterable[str], ctx: ScanContext) -> bool:
    """The bulk path serves exactly --checks dns.aaaa over the fast transport."""
    return set(check_ids) == {CHECK} and isinstance(ctx.resolver.transport, FastUdpTransport)


class DnsOnlyScan:
    def __init__(
        self,
        ctx: ScanContext,
        sink: Sink,
        stats: ScanStats,
        *,
        in_flight: int,
        run_whole: Callable[[Target], Coroutine[object, object, None]],
        on_progress: Callable[[ScanStats], None] | None = None,
    ) -> None:
        resolver = ctx.resolver
        self.ctx = ctx
        transport = resolver.transport
        assert isinstance(transport, FastUdpTransport)  # bulk_capable() made sure
        self.lookups = BulkLookups(
            transport, resolver.servers, timeout=resolver.timeout, attempts=resolver.attempts
        )
        self.sink = sink
        self.stats = stats
        self.in_flight = max(1, in_flight)
        self.run_whole = run_whole  # the engine, for a target this path does not serve
        self.on_progress = on_progress
        self._busy = 0  # domains (and whole targets) in progress
        self._targets: Iterator[Target] = iter(())
        self._finished: asyncio.Future[None] | None = None
        self._stopped = False

    async def run(self, targets: Iterable[Target]) -> ScanStats:
        self._targets = iter(targets)
        self._finished = asyncio.get_running_loop().create_future()
        self._fill()
        try:
            await self._finished
        finally:
            self._stopped = True  # cancelled (SIGINT, SIGTERM): start nothing more
        return self.stats

    def _fill(self) -> None:
        """Start targets until `in_flight` domains are in progress or the list ends."""
        finished = self._finished
        assert finished is not None
        try:
            while self._busy < self.in_flight and not self._stopped:
                target = next(self._targets, None)
                if target is None:
                    self._stopped = True
                    break
                if target.systems:
                    self._busy += 1
                    task = asyncio.ensure_future(self.run_whole(target))
                    task.add_done_callback(self._whole_done)
                    continue
                state = _TargetState(self, target, len(target.domains))
                if not target.domains:
                    self._target_done()
                for domain in target.domains:
                    self._busy += 1
                    _Domain(self, state, domain).start()
        except Exception as exc:  # the list itself failed (read error): end the scan with it
            self.fail(exc)
            return
        if self._stopped and self._busy == 0 and not finished.done():
            finished.set_result(None)

    def fail(self, exc: BaseException) -> None:
        self._stopped = True
        if self._finished is not None and not self._finished.done():
            self._finished.set_exception(exc)

    def _whole_done(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and (exc := task.exception()) is not None:
            self.fail(exc)
            return
        self._busy -= 1
        self._fill()

    def _domain_done(self, state: _TargetState) -> None:
        self._busy -= 1
        state.left -= 1
        if state.left == 0:
            self._target_done()
        self._fill()

    def _target_done(self) -> None:
        self.stats.targets_done += 1
        if self.on_progress:
            self.on_progress(self.stats)

    def judge(self, subject: Subject, lookup: Lookup, started: float) -> None:
        try:
            verdict = judge_aaaa(classify(self.ctx, lookup))
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
    """One domain's questions; done when D and www.D are both settled."""

    __slots__ = ("domain", "left", "scan", "started", "state", "www", "www_aaaa")

    def __init__(self, scan: DnsOnlyScan, state: _TargetState, domain: str) -> None:
        self.scan = scan
        self.state = state
        self.domain = domain
        self.www = www_name(domain)  # None: too long to exist, so no subject
        self.started = time.monotonic()
        self.left = SUBJECT_RULES if self.www is not None else SUBJECT_RULES - 1
        self.www_aaaa: Lookup | None = None

    def start(self) -> None:
        # the names passed the target list's validation: the codec can encode them
        lookups = self.scan.lookups
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
