"""Wires one scan: preflight, context, engine, and the files in --out."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ipv6scan.checks.net import NO_RAW_SOCKET
from ipv6scan.collector import tuned_collector
from ipv6scan.context import ScanContext
from ipv6scan.engine import loop_faults

# The settings, the sharding and the set-up live in modules of their own, which a bulk
# worker imports without this one; their names are imported from here too.
from ipv6scan.engine.config import (  # noqa: F401
    NoResolverConfigured,
    ScanConfig,
    in_shard,
    shard_index,
    sharded,
    share_of,
)
from ipv6scan.engine.dns_only import bulk_capable
from ipv6scan.engine.ping_only import PingOnlyScan, ping_bulk_capable
from ipv6scan.engine.prepare import prepare_context, stop_on_sigterm, use_fast_loop  # noqa: F401
from ipv6scan.engine.scheduler import Engine, ScanStats
from ipv6scan.engine.share import dns_only_bulk
from ipv6scan.engine.workers import WorkerSpec, fan_out, worker_count
from ipv6scan.finish import FinishOptions, Outputs, finish
from ipv6scan.model import Target
from ipv6scan.observations.dns import Connectivity
from ipv6scan.probes import latency
from ipv6scan.progress import Progress
from ipv6scan.report.jsonl_batch import BatchedResultWriter
from ipv6scan.scoring import DEFAULT_PROFILE, Profile
from ipv6scan.targets import TargetSource


async def scan(
    config: ScanConfig, targets: Iterable[Target], total: int | None
) -> tuple[ScanStats, Connectivity]:
    loop_faults.install(asyncio.get_running_loop())
    with tuned_collector():
        return await _scan(config, targets, total)


async def _scan(
    config: ScanConfig, targets: Iterable[Target], total: int | None
) -> tuple[ScanStats, Connectivity]:
    config.out.mkdir(parents=True, exist_ok=True)
    stop_on_sigterm()
    ctx = await prepare_context(config)
    if any(c.family == "net" for c in config.checks):
        ctx = dataclasses.replace(ctx, icmp=open_icmp(ctx.options.ping_rate))
        denied = raw_socket_warning(ctx.icmp)
        if denied is not None:
            print(f"ipv6scan: {denied}", file=sys.stderr, flush=True)
    progress = Progress(total) if Progress.wanted(config.quiet) else None
    with BatchedResultWriter(config.out / "results.jsonl") as writer:
        engine = Engine(
            ctx,
            config.checks,
            writer.write,
            check_deadline=config.check_deadline,
            targets_in_flight=max(8, config.concurrency // 4),
            on_progress=progress.update if progress else None,
            named=config.named_checks,
        )
        try:
            chosen = sharded(targets, config.shard)
            path = bulk_path(config, ctx)
            workers = 1
            if path == DNS_PATH and isinstance(targets, TargetSource):
                workers = worker_count(targets.paths)
            if workers > 1:
                assert isinstance(targets, TargetSource)
                stats = await _fan_out(config, ctx, targets, workers, writer, engine)
            elif path == DNS_PATH:
                stats = await dns_only_bulk(config, ctx, chosen, engine, writer)
            elif path == PING_PATH:
                stats = await _ping_bulk(ctx, chosen, engine, writer)
            else:
                stats = await engine.run(chosen)
        finally:
            if progress:
                progress.update(engine.stats, final=True)
            if hasattr(ctx.icmp, "close"):
                ctx.icmp.close()
            latency.shutdown()
    return stats, ctx.connectivity


async def _ping_bulk(
    ctx: ScanContext, targets: Iterable[Target], engine: Engine, writer: BatchedResultWriter
) -> ScanStats:
    bulk = PingOnlyScan(
        ctx,
        engine.sink,
        engine.stats,
        check_deadline=engine.check_deadline,
        wanted=lambda subject: bool(engine.checks_for(subject)),
        run_whole=engine.run_target,  # a target with domains, host names or URLs
        on_progress=engine.on_progress,
        write_line=writer.write_line,
    )
    return await bulk.run(targets)


async def _fan_out(
    config: ScanConfig,
    ctx: ScanContext,
    source: TargetSource,
    workers: int,
    writer: BatchedResultWriter,
    engine: Engine,
) -> ScanStats:
    """The bulk path over `workers` processes (engine/workers.py); their whole lines go to
    the end of results.jsonl as they come (the writer's descriptor is O_APPEND)."""
    share = dataclasses.replace(config, concurrency=max(16, config.concurrency // workers))
    specs = [
        WorkerSpec(share, ctx.connectivity, list(source.paths), source.sector, (k, workers))
        for k in range(workers)
    ]
    return await fan_out(specs, writer.write_lines, engine.stats, engine.on_progress)


ENGINE_ENV = "IPV6SCAN_ENGINE"  # "general": never the bulk path, for A/B tests and benchmarks
DNS_PATH, PING_PATH = "dns", "ping"


def bulk_path(config: ScanConfig, ctx: ScanContext) -> str | None:
    """Which bulk path serves this scan (engine/), or None for the engine."""
    if os.environ.get(ENGINE_ENV, "").lower() == "general":
        return None
    check_ids = [c.id for c in config.checks]
    if bulk_capable(check_ids, ctx):
        return DNS_PATH
    if ping_bulk_capable(check_ids, ctx):
        return PING_PATH
    return None


def open_icmp(rate: float) -> object:
    """The scan's raw ICMPv6 socket, sending at most `rate` echo requests a second, or
    the reason it is not permitted (net.ping and net.trace are then `error`). scapy is
    imported here, only when a net check runs."""
    from ipv6scan.probes.icmp_socket import IcmpProber, RawSocketDenied

    try:
        return IcmpProber.open(rate=rate)
    except RawSocketDenied as denied:
        return denied


def raw_socket_warning(icmp: object) -> str | None:
    """The one stderr line when the scanner may not send ICMPv6, else None."""
    from ipv6scan.probes.icmp_socket import RawSocketDenied

    if not isinstance(icmp, RawSocketDenied):
        return None
    return f"error: {NO_RAW_SOCKET} ({icmp}); net.ping and net.trace are reported as error."


def write_outputs(
    out: Path,
    lang: str,
    scanner: dict[str, Any] | None = None,
    *,
    profile: Profile = DEFAULT_PROFILE,
    outputs: Outputs | None = None,
) -> dict[str, Any]:
    """summary.json, report.html, results.csv and junit.xml (or the `outputs` chosen), all
    from one pass over results.jsonl (finish.stage), with no history. The summary keeps
    its headline numbers, not its target rows."""
    options = FinishOptions(profile, lang, outputs or Outputs(), scanner)
    return finish(out / "results.jsonl", out, options).summary
