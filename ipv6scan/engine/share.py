"""A bulk worker's scan (python -m ipv6scan.engine.worker, started by engine/workers.py):
its share of the targets through the DNS-only bulk path, its lines to stdout. The parent's
single-process bulk scan (engine/run.py) goes through `dns_only_bulk` too. Nothing here
imports engine/run.py: a worker loads the scan, not scoring and the reports."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable

from ipv6scan.collector import tuned_collector
from ipv6scan.context import ScanContext
from ipv6scan.engine.config import ScanConfig, sharded, share_of
from ipv6scan.engine.dns_only import QUERIES_PER_DOMAIN, DnsOnlyScan
from ipv6scan.engine.prepare import prepare_context, stop_on_sigterm
from ipv6scan.engine.scheduler import Engine, ScanStats
from ipv6scan.engine.workers import PROGRESS, WorkerSpec
from ipv6scan.model import Target
from ipv6scan.probes import latency
from ipv6scan.report.jsonl_batch import BatchedResultWriter
from ipv6scan.targets import iter_targets


async def dns_only_bulk(
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


async def run_share(spec: WorkerSpec) -> None:
    """A bulk worker's scan (python -m ipv6scan.engine.worker): its share of the targets,
    its lines and `#progress` lines to stdout."""
    stop_on_sigterm()
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

    with tuned_collector(), BatchedResultWriter.on_stdout() as writer:
        engine = Engine(ctx, config.checks, writer.write, check_deadline=config.check_deadline,
                        targets_in_flight=max(8, config.concurrency // 4), on_progress=progress,
                        named=config.named_checks)  # fmt: skip
        try:
            await dns_only_bulk(config, ctx, targets, engine, writer)
        finally:
            progress(engine.stats, final=True)
            latency.shutdown()
