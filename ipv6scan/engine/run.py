"""Wires one scan: preflight, context, engine, and the files in --out."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import os
import signal
import sys
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ipv6scan.addresses import AddressPolicy
from ipv6scan.checks.net import NO_RAW_SOCKET
from ipv6scan.checks.options import CheckOptions
from ipv6scan.checks.registry import Check
from ipv6scan.collector import tuned_collector
from ipv6scan.context import Limits, ScanContext
from ipv6scan.dnsclient.fast import recursive_transport
from ipv6scan.dnsclient.resolution import Resolver
from ipv6scan.dnsclient.transport import DnspythonTransport, DnsServer
from ipv6scan.engine.dns_only import QUERIES_PER_DOMAIN, DnsOnlyScan, bulk_capable
from ipv6scan.engine.ping_only import PingOnlyScan, ping_bulk_capable
from ipv6scan.engine.scheduler import Engine, ScanStats
from ipv6scan.engine.workers import PROGRESS, WorkerSpec, fan_out, worker_count
from ipv6scan.finish import FinishOptions, Outputs, finish
from ipv6scan.interrupts import forwarded
from ipv6scan.model import Target
from ipv6scan.observations.dns import Connectivity
from ipv6scan.preflight import (
    check_connectivity,
    discover_dns64,
    resolver_warning,
    system_resolvers,
    usable_servers,
)
from ipv6scan.probes import latency
from ipv6scan.probes.tries import deadline_extra
from ipv6scan.progress import Progress
from ipv6scan.report.jsonl_batch import BatchedResultWriter
from ipv6scan.scoring import DEFAULT_PROFILE, Profile
from ipv6scan.targets import TargetSource, iter_targets


class NoResolverConfigured(Exception):
    """Bad input, not a finding: neither --resolver nor /etc/resolv.conf names a resolver."""


@dataclass(frozen=True)
class ScanConfig:
    out: Path
    checks: tuple[Check, ...]
    resolvers: tuple[DnsServer, ...] = ()  # empty: the system's
    concurrency: int = 256
    per_destination: int = 8
    timeout: float = 5.0
    allow_prefixes: tuple[str, ...] = ()
    lang: str = "en"
    shard: tuple[int, int] | None = None  # (k, n), 1-based k
    named_checks: tuple[str, ...] | None = None  # as --checks gave them; None: the default set
    quiet: bool = False
    ping_rate: float | None = None  # IPV6SCAN_PING_RATE; None: CheckOptions' default
    attempts: int = 3  # --attempts: tries per probe (probes/tries.py)
    # (total, per_destination) -> the scan's Limits; None: context.Limits. A distributed
    # worker's adds a per-destination budget shared by every worker (distributed/budget.py)
    limits_factory: Callable[[int, int], Limits] | None = None

    @property
    def check_deadline(self) -> float:
        # a check may chain several look-ups (zone-cut walk, NS addresses, direct queries),
        # and a probe's further tries add their backoffs and, one after the other, timeouts
        return self.timeout * 8 + 2 + 2 * deadline_extra(self.attempts, self.timeout)


def in_shard(name: str, shard: tuple[int, int] | None) -> bool:
    """Deterministic: the same name lands in the same shard whatever the list order."""
    if shard is None:
        return True
    k, n = shard
    return shard_index(name, n) == k - 1


def shard_index(name: str, n: int) -> int:
    """The 0-based shard of N that `name` belongs to (in_shard's one rule)."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % n


def share_of(name: str, n: int) -> int:
    """Which of n bulk workers scans `name` (0-based), by a CRC of the name as written.
    Every worker reads the whole list, so this runs on every line and must cost little
    (a tenth of the shard hash); it has nothing in common with the shard hash, so a
    shard's names spread evenly over its workers too."""
    return zlib.crc32(name.encode("utf-8", "surrogatepass")) % n


def sharded(targets: Iterable[Target], shard: tuple[int, int] | None) -> Iterator[Target]:
    return (t for t in targets if in_shard(t.name, shard))


async def prepare_context(config: ScanConfig, known: Connectivity | None = None) -> ScanContext:
    """`known`: the preflight's findings, already made (a bulk worker gets its parent's)."""
    servers = config.resolvers or tuple(system_resolvers())
    if not servers:
        raise NoResolverConfigured(
            "no recursive resolver: none in /etc/resolv.conf; use --resolver"
        )
    transport = DnspythonTransport()  # direct questions to many servers (NS SOA, resolvers)
    probes = asyncio.Semaphore(config.concurrency)
    found = known
    if found is None:
        found = await check_connectivity(transport, servers, config.timeout, config.allow_prefixes)
        warning = resolver_warning(found)
        if warning is not None:
            print(f"ipv6scan: {warning}", file=sys.stderr, flush=True)
    # look-ups through the usable resolvers only: one multiplexed socket each
    resolver = Resolver(
        recursive_transport(),
        usable_servers(servers, found) or servers,
        timeout=config.timeout,
        limit=probes,
        unusable=found.no_resolver_detail,
    )
    if known is None:
        known = dataclasses.replace(found, dns64_prefixes=await discover_dns64(resolver))
    policy = AddressPolicy.from_strings(config.allow_prefixes).with_dns64(known.dns64_prefixes)
    connectivity = known
    make_limits = config.limits_factory or Limits
    limits = make_limits(config.concurrency, config.per_destination)
    options = CheckOptions(attempts=config.attempts)
    if not any(c.id == "web.resources" for c in config.checks):
        options = dataclasses.replace(options, resources_cap=0)  # pages' resources not read
    if config.ping_rate is not None:
        options = dataclasses.replace(options, ping_rate=config.ping_rate)
    return ScanContext(
        resolver=resolver,
        transport=transport,
        policy=policy,
        connectivity=connectivity,
        limits=limits,
        timeout=config.timeout,
        options=options,
    )


def _stop_on_sigterm() -> None:
    """SIGTERM (a CI timeout, systemd stop) ends the scan like Ctrl-C: finished results are
    kept and summarised, instead of the process dying before the report is written.
    Under the command line, whose handler already makes SIGTERM a Ctrl-C for the whole
    command (interrupts.py), the loop leaves it alone: a loop's handler goes when the loop
    closes, and SIGTERM would then kill the process while it writes the report."""
    task = asyncio.current_task()
    if task is None or forwarded(signal.getsignal(signal.SIGTERM)):
        return
    # ValueError: uvloop's word for a loop outside the main thread (a distributed worker's)
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)


async def scan(
    config: ScanConfig, targets: Iterable[Target], total: int | None
) -> tuple[ScanStats, Connectivity]:
    with tuned_collector():
        return await _scan(config, targets, total)


async def _scan(
    config: ScanConfig, targets: Iterable[Target], total: int | None
) -> tuple[ScanStats, Connectivity]:
    config.out.mkdir(parents=True, exist_ok=True)
    _stop_on_sigterm()
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
                stats = await _bulk(config, ctx, chosen, engine, writer)
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


async def _bulk(
    config: ScanConfig,
    ctx: ScanContext,
    targets: Iterable[Target],
    engine: Engine,
    writer: BatchedResultWriter,
) -> ScanStats:
    bulk = DnsOnlyScan(
        ctx,
        engine.sink,
        engine.stats,
        in_flight=max(1, config.concurrency // QUERIES_PER_DOMAIN),
        run_whole=engine.run_target,  # a target with systems entries
        on_progress=engine.on_progress,
        write_lines=writer.write_lines,
    )
    return await bulk.run(targets)


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


async def run_share(spec: WorkerSpec) -> None:
    """A bulk worker's scan (python -m ipv6scan.engine.worker): its share of the targets,
    its lines and `#progress` lines to stdout."""
    _stop_on_sigterm()
    config: ScanConfig = spec.config
    ctx = await prepare_context(config, known=spec.connectivity)
    k, n = spec.share
    # The parent validated the lists (so no name is there twice); a line of another
    # worker's share is skipped before it is checked.
    mine = iter_targets(spec.paths, spec.sector, validated=True,
                        keep=lambda name: share_of(name, n) == k)  # fmt: skip
    targets = sharded(mine, config.shard)
    shown = [0.0]

    def progress(stats: ScanStats, final: bool = False) -> None:
        now = time.monotonic()
        if final or now - shown[0] >= 0.2:
            shown[0] = now
            writer.flush()  # the results counted go out before the count does
            os.write(1, PROGRESS + f"{stats.targets_done} {stats.results}\n".encode())

    with tuned_collector(), BatchedResultWriter(Path("/dev/stdout")) as writer:
        engine = Engine(ctx, config.checks, writer.write, check_deadline=config.check_deadline,
                        targets_in_flight=max(8, config.concurrency // 4), on_progress=progress,
                        named=config.named_checks)  # fmt: skip
        try:
            await _bulk(config, ctx, targets, engine, writer)
        finally:
            progress(engine.stats, final=True)
            latency.shutdown()


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


def use_fast_loop() -> None:
    """uvloop when installed: several times faster for many small datagrams."""
    if sys.platform == "win32":
        return
    try:
        import uvloop
    except ImportError:
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
