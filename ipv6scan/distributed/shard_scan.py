"""A worker's scan of one shard: the local scan's own run.scan, into a scratch directory.

The scan runs in a thread of its own with a plain asyncio loop. The worker's main thread
belongs to Celery, whose SIGTERM handler makes a warm shutdown (the shard in hand is
finished and acknowledged first); a loop in the main thread would put its own SIGTERM
handler in place (run._stop_on_sigterm) and, once closed, leave the default one, which
kills the worker outright.
"""

from __future__ import annotations

import asyncio
import dataclasses
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ipv6scan.checks import registry
from ipv6scan.distributed.alive import echo_share
from ipv6scan.distributed.budget import Budget, BudgetedLimits
from ipv6scan.distributed.payload import ShardJob, ShardResult, with_vantage
from ipv6scan.dnsclient.transport import DnsServer
from ipv6scan.engine.config import ScanConfig
from ipv6scan.engine.run import scan
from ipv6scan.observations.dns import Connectivity
from ipv6scan.scanjob import scanner_facts


@dataclass(frozen=True)
class WorkerSettings:
    """A worker's own resources (INTERFACE.md): they do not travel with the shards."""

    name: str
    vantage: str | None = None
    concurrency: int = 256
    resolvers: tuple[DnsServer, ...] = ()  # empty: the system's
    ping_rate: float | None = None
    broker: str = ""  # where the destination budget's buckets are (budget.py)
    budget: Budget | None = None  # None: each worker's own limits only
    echo_rate: float | None = None  # echo requests a second from all workers together


def scan_shard(job: ShardJob, settings: WorkerSettings) -> ShardResult:
    """Scan `job`'s targets and return their lines. Raises what the scan raises (a shard
    that cannot be scanned is the coordinator's to count and queue again)."""
    if job.vantage != settings.vantage:  # a queue shared by mistake: refuse, not mislabel
        raise ValueError(f"shard for vantage {job.vantage!r} at a worker of {settings.vantage!r}")
    opts = job.options
    with tempfile.TemporaryDirectory(prefix="ipv6scan-shard-") as scratch:
        out = Path(scratch)
        config = ScanConfig(
            out=out,
            checks=registry.select(opts.checks),
            resolvers=settings.resolvers,
            concurrency=settings.concurrency,
            timeout=opts.timeout,
            allow_prefixes=opts.allow_prefixes,
            named_checks=opts.checks,
            quiet=True,
            ping_rate=_ping_rate(settings),
            attempts=opts.attempts,
        )
        connectivity = _in_thread(config, job, settings)
        raw = (out / "results.jsonl").read_bytes()
    lines = raw.splitlines(keepends=True)
    whole = [line for line in lines if line.endswith(b"\n")]
    body = with_vantage(whole, job.vantage) if job.vantage else b"".join(whole)
    return ShardResult(job.key, settings.name, job.vantage, body, len(whole), connectivity)


def _ping_rate(settings: WorkerSettings) -> float | None:
    """With a global echo rate, this worker's share of it for this shard (the workers
    alive when it starts); else the worker's own rate."""
    if settings.echo_rate is None or not settings.broker:
        return settings.ping_rate
    return echo_share(settings.broker, settings.echo_rate)


def _in_thread(config: ScanConfig, job: ShardJob, settings: WorkerSettings) -> dict[str, Any]:
    found: list[dict[str, Any]] = []
    failed: list[BaseException] = []

    async def budgeted() -> Connectivity:
        limits: BudgetedLimits | None = None
        chosen = config
        if settings.budget is not None and settings.broker:
            made = limits = BudgetedLimits(config.concurrency, config.per_destination,
                                           settings.budget, settings.broker)  # fmt: skip
            chosen = dataclasses.replace(config, limits_factory=lambda _total, _per: made)
        try:
            return (await scan(chosen, job.targets, None))[1]
        finally:
            if limits is not None:
                await limits.close()

    def run() -> None:
        try:
            loop = _new_loop()
            try:
                connectivity = loop.run_until_complete(budgeted())
            finally:
                loop.close()
            found.append(scanner_facts(connectivity))
        except BaseException as exc:  # handed to the calling thread
            failed.append(exc)

    thread = threading.Thread(target=run, name=f"shard-{job.key}", daemon=True)
    thread.start()
    while thread.is_alive():  # joined in slices: the main thread keeps taking signals
        thread.join(0.5)
    if failed:
        raise failed[0]
    return found[0]


def _new_loop() -> asyncio.AbstractEventLoop:
    """uvloop when installed, as a local scan has it (run.use_fast_loop)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()
