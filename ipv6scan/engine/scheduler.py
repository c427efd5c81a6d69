"""asyncio scheduling: targets stream in, results stream out as each check finishes.

A bounded number of targets is in flight at once, so a million-line list costs
no more memory than a short one. A check that raises or overruns its deadline
becomes an `error` result; nothing escapes to stop the scan.
"""

from __future__ import annotations

import asyncio
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from ipv6scan.checks.engine_details import DEADLINE, INTERNAL_ERROR
from ipv6scan.checks.registry import Check
from ipv6scan.context import ScanContext
from ipv6scan.dnsclient.resolution import Lookup
from ipv6scan.engine.deadlines import Deadlines
from ipv6scan.engine.window import TICKET, Ticket, Window
from ipv6scan.model import CheckResult, Status, Subject, Target, Verdict
from ipv6scan.names import www_name
from ipv6scan.tiers import DOMAIN_OPT_IN_FAMILIES, default_checks

Sink = Callable[[CheckResult], None]
# www.D look-ups of one target in flight at once: all of a usual target's, a bounded
# number of a target listing thousands of domains (the resolver's cache holds them)
WWW_BATCH = 128


@dataclass
class ScanStats:
    targets_done: int = 0
    results: int = 0
    started: float = field(default_factory=time.monotonic)


class Engine:
    def __init__(
        self,
        ctx: ScanContext,
        checks: Sequence[Check],
        sink: Sink,
        *,
        check_deadline: float,
        targets_in_flight: int = 64,
        on_progress: Callable[[ScanStats], None] | None = None,
        named: Sequence[str] | None = None,
    ) -> None:
        self.ctx = ctx
        self.checks = tuple(checks)
        # what --checks named (None: the default set); opt-in families need naming
        self.named = tuple(named) if named is not None else None
        self.sink = sink
        self.check_deadline = check_deadline
        self.deadlines = Deadlines(check_deadline)
        self.targets_in_flight = targets_in_flight
        self.on_progress = on_progress
        self.stats = ScanStats()

    async def run(self, targets: Iterable[Target]) -> ScanStats:
        # a target whose probes retry steps out of the window meanwhile (engine/window.py)
        window = Window(self.targets_in_flight)
        running: set[asyncio.Task[None]] = set()
        for target in targets:
            ticket = await window.enter()
            task = asyncio.create_task(self._run_in_window(target, ticket))
            running.add(task)
            task.add_done_callback(running.discard)
            if not window.full:
                # Room for more: acquire() will not yield, so yield here. Each target's
                # first probes go out while the next targets start (the ICMP pacing's
                # bucket would otherwise sit full while the window of targets fills).
                await asyncio.sleep(0)
        if running:
            await asyncio.gather(*running)
        return self.stats

    async def _run_in_window(self, target: Target, ticket: Ticket) -> None:
        TICKET.set(ticket)  # this task's context: its checks' tries find their ticket
        try:
            await self.run_target(target)
        finally:
            ticket.leave()

    async def run_target(self, target: Target) -> None:
        subjects = await self.subjects(target)
        jobs = [
            self._run_check(subject, check)
            for subject in subjects
            for check in self.checks_for(subject)
        ]
        if len(jobs) == 1:
            await jobs[0]  # no task and no gather for the common one-check target
        else:
            await asyncio.gather(*jobs)
        self.stats.targets_done += 1
        if self.on_progress:
            self.on_progress(self.stats)

    async def subjects(self, target: Target) -> list[Subject]:
        """D and www.D per domain (www only when it has A, AAAA or CNAME), then systems."""
        out: list[Subject] = []
        domains = target.domains
        for start in range(0, len(domains), WWW_BATCH):
            batch = domains[start : start + WWW_BATCH]
            if len(batch) > 1:
                self._prefetch_www(batch)
            for domain in batch:
                out.append(Subject("domain", domain, target))
                out.append(Subject("host", domain, target))
                www = www_name(domain)
                if www is not None and await self._exists(www):
                    out.append(Subject("host", www, target))
        out.extend(system_subjects(target))
        return out

    def _prefetch_www(self, domains: Sequence[str]) -> None:
        """Ask for every www.D of a batch at once: awaited one after the other, a target
        of 300 domains waited 300 round trips before its first check."""
        prefetch = getattr(self.ctx.resolver, "prefetch", None)
        if prefetch is not None:
            for www in filter(None, map(www_name, domains)):
                prefetch(www, "AAAA")
                prefetch(www, "A")

    async def _exists(self, host: str) -> bool:
        resolver = self.ctx.resolver
        prefetch = getattr(resolver, "prefetch", None)
        if prefetch is None:  # a resolver without it (a test's stub): both at once, gathered
            aaaa, a = await asyncio.gather(
                resolver.lookup(host, "AAAA"), resolver.lookup(host, "A")
            )
            return www_exists(aaaa, a)
        prefetch(host, "A")  # both questions in flight at once, without a task each
        aaaa = await resolver.lookup(host, "AAAA")
        a = await resolver.lookup(host, "A")
        return www_exists(aaaa, a)

    def checks_for(self, subject: Subject) -> list[Check]:
        chosen = [c for c in self.checks if subject.kind in c.subject_kinds]
        if subject.tier == "services":
            if self.named is None:
                chosen = [c for c in chosen if c.family not in DOMAIN_OPT_IN_FAMILIES]
            return chosen
        # a systems entry: its own list (or the tier default), by id or family
        wanted = subject.checks or ()
        return [c for c in chosen if c.id in wanted or c.family in wanted]

    async def _run_check(self, subject: Subject, check: Check) -> None:
        started = time.monotonic()
        try:
            observation = await self._observe(subject, check)
            verdict = check.judge(observation, self.ctx.options)
        except TimeoutError:
            verdict = deadline_verdict(self.check_deadline)
        except Exception as exc:  # a bug or a surprise in a probe is a result, not a crash
            verdict = internal_error(exc)
        emit(self.sink, self.stats, subject, check.id, verdict, started)

    async def _observe(self, subject: Subject, check: Check) -> object:
        """The check's observation within its deadline; TimeoutError past it."""
        deadline = self.deadlines.start()
        try:
            return await check.observe(self.ctx, subject)
        except asyncio.CancelledError:
            if self.deadlines.settle(deadline):
                raise TimeoutError from None
            raise
        finally:
            self.deadlines.finish(deadline)


def system_subjects(target: Target) -> list[Subject]:
    """The subjects of a target's systems entries, in list order."""
    out: list[Subject] = []
    for entry in target.systems:
        name, port = entry.value, None
        if entry.kind == "resolver" and "#" in name:
            name, port_text = name.rsplit("#", 1)
            port = int(port_text)
        checks = entry.checks or default_checks(entry.tier, entry.kind)
        out.append(Subject(entry.kind, name, target, entry.tier, port, checks))
    return out


def www_exists(aaaa: Lookup, a: Lookup) -> bool:
    """www.D is a subject of its own when it has an A, an AAAA or a CNAME."""
    settled = www_settled(aaaa)
    return a.has_data if settled is None else settled


def www_settled(aaaa: Lookup) -> bool | None:
    """www_exists() when the AAAA answer alone decides it, else None (the A must):
    AAAA records or a CNAME say yes; NXDOMAIN says no, since a name that does not exist
    has no A either (RFC 8020). The bulk path asks for the A only on None."""
    if aaaa.has_data:
        return True
    if aaaa.rcode == "NXDOMAIN" and aaaa.error is None:
        return False
    return None


def deadline_verdict(seconds: float) -> Verdict:
    return Verdict(Status.ERROR, DEADLINE(seconds=f"{seconds:g}"), {"deadline_s": seconds})


def internal_error(exc: Exception) -> Verdict:
    return Verdict(
        Status.ERROR,
        INTERNAL_ERROR(error=f"{type(exc).__name__}: {exc}"),
        {"traceback": traceback.format_exc(limit=6)[-2000:]},
    )


def result_of(subject: Subject, check_id: str, verdict: Verdict, duration_ms: float) -> CheckResult:
    """A check's verdict on a subject as its results line (the fast lane's lines too:
    engine/lane.py renders each shape's through this)."""
    return CheckResult(
        target=subject.target.name,
        sector=subject.target.sector,
        tier=subject.tier,
        subject=subject.name,
        check=check_id,
        status=verdict.status,
        detail=verdict.detail,
        evidence=verdict.evidence,
        duration_ms=duration_ms,
    )


def emit(
    sink: Sink, stats: ScanStats, subject: Subject, check_id: str, verdict: Verdict, started: float
) -> None:
    """One finished check: its line out, the counts up."""
    sink(result_of(subject, check_id, verdict, (time.monotonic() - started) * 1000))
    stats.results += 1
