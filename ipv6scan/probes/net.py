"""Observations of net.ping and net.trace: ICMPv6 echoes and hop-limited echoes.

Scope safety: only addresses the run's AddressPolicy calls global (which includes
--allow-prefix ranges) are ever sent to; the others are recorded as not probed.
Nothing is sent when the scanner has no IPv6 path: the checks then say so.
"""

from __future__ import annotations

import asyncio
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace

from ipv6scan.addresses import AddressPolicy
from ipv6scan.context import ScanContext
from ipv6scan.model import Subject
from ipv6scan.observations.net import (
    REPLY,
    SCANNER_SIDE,
    TIME_EXCEEDED,
    TIMEOUT,
    UNREACHABLE,
    EchoOutcome,
    NetTarget,
    PingObservation,
    PingResult,
    TraceHop,
    TraceObservation,
    TraceResult,
)
from ipv6scan.observations.reasons import (
    NO_ECHO_REPLY,
    STOPPED_AT,
    TIME_EXCEEDED_FROM,
    UNREACHABLE_FROM,
    unreachable_code,
)
from ipv6scan.probes.dns import addresses
from ipv6scan.probes.icmp_socket import IcmpProber, RawSocketDenied
from ipv6scan.probes.tries import Tried, run_tries

MAX_NET_ADDRESSES = 8  # of one host's AAAA set: enough for any real host, bounded for odd ones
TRACE_PROBES_PER_HOP = 3
TRACE_WINDOW = 8  # hops probed at once: fast, yet a near destination gets few echoes
TRACE_MAX_WINDOWS = 4  # so a trace waits at most four timeouts, whatever trace_max_hops is
_PROBER_KEY = ("icmp-prober",)


class OutOfScope(Exception):
    """A probe was about to go to an address the policy does not call global."""


async def prober_for(ctx: ScanContext) -> IcmpProber | RawSocketDenied:
    """The scan's one ICMP prober, opened on first use; the denial when raw sockets are
    not permitted, found once per scan. A context that carries its own prober (an
    `icmp` field) wins, so the run can open and close it around the scan."""
    own = ctx.icmp
    if own is not None:
        return own  # type: ignore[no-any-return]

    async def open_once() -> IcmpProber | RawSocketDenied:
        try:
            return IcmpProber.open(rate=ctx.options.ping_rate)
        except RawSocketDenied as denied:
            return denied

    return await ctx.memo.get(_PROBER_KEY, open_once)  # type: ignore[no-any-return]


class _Cleared(str):
    """The text of an address that `policy` classified global in net_target, moments
    before the send. _guard takes that classification (policies are frozen) instead of
    repeating it: a second classification was a sixth of a bulk net.ping scan's CPU."""

    policy: AddressPolicy


def _cleared(address: str, policy: AddressPolicy) -> str:
    text = _Cleared(address)
    text.policy = policy
    return text


def _guard(ctx: ScanContext, address: str) -> str:
    """`address` as a plain string, if the policy calls it global; else OutOfScope."""
    # checked again right before sending, so no future path around net_target can leak
    if type(address) is _Cleared and address.policy is ctx.policy:
        return str(address)  # classified under this very policy by net_target
    if not ctx.policy.is_global(address):
        raise OutOfScope(f"{address} is not a global address; refusing to probe it")
    return str(address)


def address_target(ctx: ScanContext, address: str) -> NetTarget:
    """What a net check may send to for an address subject: no look-up, so no await."""
    found = ctx.policy.classify(address)
    if found.version != 6:
        return NetTarget(address, "address", ipv4_only=True)
    if not found.is_global:
        return NetTarget(address, "address", not_probed=(found,))
    return NetTarget(address, "address", addresses=(_cleared(found.address, ctx.policy),))


async def net_target(ctx: ScanContext, subject: Subject) -> NetTarget:
    if subject.kind == "address":
        return address_target(ctx, subject.name)
    aaaa = await addresses(ctx, subject.name, "AAAA")
    good = aaaa.global_
    return NetTarget(
        subject.name,
        "host",
        good[:MAX_NET_ADDRESSES],
        aaaa.non_global,
        aaaa,
        capped=max(0, len(good) - MAX_NET_ADDRESSES),
    )


# ------------------------------------------------------------------ net.ping


def answered(outcomes: Sequence[EchoOutcome]) -> list[float] | None:
    """The round-trip times when every echo was answered, else None."""
    rtts: list[float] = []
    for outcome in outcomes:
        if outcome.kind != REPLY or outcome.rtt_ms is None:
            return None
        rtts.append(outcome.rtt_ms)
    return rtts


def ping_result(address: str, outcomes: Sequence[EchoOutcome]) -> PingResult:
    """What `outcomes` (one per echo sent, in order) say of `address`."""
    every = answered(outcomes)
    if every is not None:  # the common case, nothing to list
        return PingResult(address, sent=len(every), received=len(every), rtts_ms=tuple(every))
    rtts = tuple(o.rtt_ms for o in outcomes if o.kind == REPLY and o.rtt_ms is not None)
    errors = tuple(dict.fromkeys(_describe(o) for o in outcomes if o.kind != REPLY))
    scanner = next((o for o in outcomes if o.kind in SCANNER_SIDE), None)
    return PingResult(
        address,
        sent=len(outcomes),
        received=len(rtts),
        rtts_ms=rtts,
        errors=errors,
        scanner_error=(scanner.error or scanner.kind) if scanner and not rtts else None,
    )


def unanswered(outcomes: Sequence[EchoOutcome]) -> bool:
    """No echo of the series was answered (silence, or unreachable from a router), and our
    side sent it: the series is sent again after a backoff (probes/tries.py). What
    ping_result() then reads as received == 0 without a scanner_error."""
    for outcome in outcomes:
        if (outcome.kind == REPLY and outcome.rtt_ms is not None) or outcome.kind in SCANNER_SIDE:
            return False
    return True


def tried_result(address: str, tried: Tried[tuple[EchoOutcome, ...]]) -> PingResult:
    """ping_result() of the series that decided, with the series' tries."""
    result = ping_result(address, tried.outcome)
    if tried.attempts == 1:
        return result
    return replace(result, attempts=tried.attempts, failed_attempts=tried.failed_attempts)


def _describe(outcome: EchoOutcome) -> str:
    """What came back instead of an echo reply: one of our reasons (observations/reasons.py),
    or the kind and the OS's error as they are."""
    if outcome.kind == UNREACHABLE:
        code = unreachable_code(outcome.code)
        return UNREACHABLE_FROM(code=code, responder=str(outcome.responder))
    if outcome.kind in SCANNER_SIDE:
        return f"{outcome.kind}: {outcome.error}"
    if outcome.kind == TIME_EXCEEDED and outcome.responder:
        return TIME_EXCEEDED_FROM(responder=outcome.responder)
    if outcome.responder:
        return f"{outcome.kind} from {outcome.responder}"
    return NO_ECHO_REPLY if outcome.kind == TIMEOUT else outcome.kind


def start_ping(
    ctx: ScanContext, prober: IcmpProber, address: str
) -> asyncio.Future[tuple[EchoOutcome, ...]]:
    """net.ping's echoes to one address, under the scan's options; the prober's future
    holds their outcomes (ping_result() reads them). OutOfScope for a non-global one."""
    address = _guard(ctx, address)
    options = ctx.options
    if prober.rate != options.ping_rate:
        prober.set_rate(options.ping_rate)
    # No Limits slot: holding one of --concurrency's slots across the 0.2 s of a ping's
    # spacing capped a scan at ~1,300 addresses/s. The prober's rate bounds the whole
    # scan's echoes instead, and the per-destination bound still holds, in the prober.
    return prober.ping(
        address,
        count=options.ping_count,
        interval=options.ping_interval,
        timeout=ctx.timeout,
        per_destination=ctx.limits.per_destination,
    )


async def _ping_one(ctx: ScanContext, prober: IcmpProber, address: str) -> PingResult:
    # each series is one try: an address with no echo answered gets its series again
    # (the bulk path, engine/ping_only.py, drives the same TryRun with unanswered())
    tried = await run_tries(
        lambda: start_ping(ctx, prober, address), unanswered, ctx.options.attempts
    )
    return tried_result(str(address), tried)


async def observe_ping(ctx: ScanContext, subject: Subject) -> PingObservation:
    target = await net_target(ctx, subject)
    if not target.addresses or not ctx.connectivity.ipv6:
        return PingObservation(target, ctx.connectivity.ipv6)
    prober = await prober_for(ctx)
    if isinstance(prober, RawSocketDenied):
        return PingObservation(target, True, str(prober))
    if len(target.addresses) == 1:  # the common case (an address entry): no gather
        return PingObservation(
            target, True, None, (await _ping_one(ctx, prober, target.addresses[0]),)
        )
    jobs = [_ping_one(ctx, prober, address) for address in target.addresses]
    return PingObservation(target, True, None, tuple(await asyncio.gather(*jobs)))


# ------------------------------------------------------------------ net.trace


async def trace(
    prober: IcmpProber,
    destination: str,
    *,
    max_hops: int,
    timeout: float,
    probes_per_hop: int = TRACE_PROBES_PER_HOP,
) -> TraceResult:
    """Echo requests with hop limits 1..max_hops, a window of hops at a time, each hop's
    probes in parallel; stops at the first hop the destination answers from, or at a
    Destination Unreachable. A silent hop is recorded as such and the trace goes on."""
    window = max(TRACE_WINDOW, -(-max_hops // TRACE_MAX_WINDOWS))
    hops: list[TraceHop] = []
    first = 1
    while first <= max_hops:
        ttls = range(first, min(first + window, max_hops + 1))
        sent = [
            [
                prober.send(destination, timeout=timeout, hop_limit=ttl)
                for _ in range(probes_per_hop)
            ]
            for ttl in ttls
        ]
        answers = await asyncio.gather(*(asyncio.gather(*futures) for futures in sent))
        for ttl, outcomes in zip(ttls, answers, strict=True):
            scanner = next((o for o in outcomes if o.kind in SCANNER_SIDE), None)
            if scanner is not None:
                error = scanner.error or scanner.kind
                return TraceResult(destination, False, tuple(hops), max_hops, None, error)
            hop = summarize_hop(ttl, outcomes)
            hops.append(hop)
            if any(o.kind == REPLY for o in outcomes):
                return TraceResult(destination, True, tuple(hops), max_hops)
            if hop.unreachable is not None:
                code = hop.unreachable
                stopped = STOPPED_AT(ttl=ttl, address=str(hop.address), code=code)
                return TraceResult(destination, False, tuple(hops), max_hops, stopped)
        first = ttls[-1] + 1
    return TraceResult(destination, False, tuple(hops), max_hops)


def summarize_hop(ttl: int, outcomes: Sequence[EchoOutcome]) -> TraceHop:
    answered = [o for o in outcomes if o.responder is not None]
    if not answered:
        return TraceHop(ttl, None, None, 0, len(outcomes))
    by_count = Counter(o.responder for o in answered if o.responder is not None)
    address = by_count.most_common(1)[0][0]
    rtts = [o.rtt_ms for o in answered if o.responder == address and o.rtt_ms is not None]
    codes = [o.code for o in answered if o.kind == UNREACHABLE]
    return TraceHop(
        ttl,
        address,
        round(statistics.median(rtts), 3) if rtts else None,
        len(answered),
        len(outcomes),
        tuple(a for a in by_count if a != address),
        unreachable_code(codes[0]) if codes else None,
    )


async def observe_trace(ctx: ScanContext, subject: Subject) -> TraceObservation:
    target = await net_target(ctx, subject)
    if not target.addresses or not ctx.connectivity.ipv6:
        return TraceObservation(target, ctx.connectivity.ipv6)
    prober = await prober_for(ctx)
    if isinstance(prober, RawSocketDenied):
        return TraceObservation(target, True, str(prober))
    # one path per subject: the first global AAAA. Not tried again (probes/tries.py) when
    # it does not reach: a trace is up to 30 hops of probes, each hop already asked
    # TRACE_PROBES_PER_HOP times, so a second trace would double the check's cost for
    # what net.ping's tried series already says (whether the address answers at all)
    destination = _guard(ctx, target.addresses[0])
    async with ctx.limits.slot(destination):
        result = await trace(
            prober, destination, max_hops=ctx.options.trace_max_hops, timeout=ctx.timeout
        )
    return TraceObservation(target, True, None, result)
