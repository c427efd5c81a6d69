"""TCP connects: does (address, port) accept, and how fast. I/O only.

`connect` is the scan's entry point: scope-checked, bounded by the per-destination
limits, once per scan per (address, port) so that web.reachable, web.http and
web.latency share one probe, tried again on no answer, a refusal or a reset
(probes/tries.py). `connect_once` is the bare probe, used for latency
samples and by tests against loopback servers.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

from ipv6scan import stall_clock
from ipv6scan.context import ScanContext
from ipv6scan.nopath import NO_PATH_ERRNOS
from ipv6scan.observations.reasons import (
    NO_ANSWER_WITHIN,
    NO_PATH_OF_FAMILY,
    NO_ROUTE,
    REFUSED,
    RESET,
    os_words,
    seconds,
)
from ipv6scan.observations.web import ConnectOutcome, TcpProbe, family_of
from ipv6scan.probes.tries import run_tries


async def connect_once(address: str, port: int, timeout: float) -> TcpProbe:
    """One connect to exactly `address` (a literal: no name resolution), closed at once."""
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    try:
        async with stall_clock.timeout(timeout):
            transport, _ = await loop.create_connection(asyncio.Protocol, address, port)
    except TimeoutError:
        waited = NO_ANSWER_WITHIN(seconds=seconds(timeout))
        return TcpProbe(address, port, ConnectOutcome.TIMEOUT, error=waited)
    except ConnectionRefusedError:
        return TcpProbe(address, port, ConnectOutcome.REFUSED, error=REFUSED)
    except ConnectionResetError:
        return TcpProbe(address, port, ConnectOutcome.RESET, error=RESET)
    except OSError as exc:
        if exc.errno in NO_PATH_ERRNOS:
            why = os_words(exc.errno, exc.strerror) if exc.strerror else str(exc)
            return TcpProbe(address, port, ConnectOutcome.NO_PATH, error=NO_ROUTE(reason=why))
        return TcpProbe(
            address, port, ConnectOutcome.ERROR, error=f"{type(exc).__name__}: {exc}"[:300]
        )
    elapsed = (time.perf_counter() - started) * 1000
    transport.abort()  # nothing to send or flush: close at once
    return TcpProbe(address, port, ConnectOutcome.OPEN, ms=elapsed)


def refusal(ctx: ScanContext, address: str, port: int) -> TcpProbe | None:
    """A probe result without connecting, when `address` must not or cannot be probed."""
    out_of_scope = ctx.policy.not_probed(address)
    if out_of_scope is not None:
        return TcpProbe(address, port, ConnectOutcome.NOT_PROBED, error=out_of_scope)
    has_path = ctx.connectivity.ipv6 if family_of(address) == 6 else ctx.connectivity.ipv4
    if not has_path:
        return TcpProbe(address, port, ConnectOutcome.NO_PATH, error=NO_PATH_OF_FAMILY)
    return None


async def sample(ctx: ScanContext, address: str, port: int) -> TcpProbe:
    """A fresh connect (not shared): one latency sample."""
    refused = refusal(ctx, address, port)
    if refused is not None:
        return refused
    async with ctx.limits.slot(address):
        return await connect_once(address, port, ctx.timeout)


# no answer, a refusal, a reset: worth another try (a fetch's too, probes/http.py)
RETRYABLE = frozenset({ConnectOutcome.TIMEOUT, ConnectOutcome.REFUSED, ConnectOutcome.RESET})


def retryable(probe: TcpProbe) -> bool:
    return probe.outcome in RETRYABLE


async def tried(ctx: ScanContext, address: str, port: int) -> TcpProbe:
    """Up to --attempts connects (probes/tries.py), each in its own slot."""
    got = await run_tries(lambda: sample(ctx, address, port), retryable, ctx.options.attempts)
    if got.attempts == 1:
        return got.outcome
    return replace(got.outcome, attempts=got.attempts, failed_attempts=got.failed_attempts)


async def connect(ctx: ScanContext, address: str, port: int) -> TcpProbe:
    """The scan's one (tried) connect to (address, port)."""
    return await ctx.memo.get(("tcp", address, port), lambda: tried(ctx, address, port))
