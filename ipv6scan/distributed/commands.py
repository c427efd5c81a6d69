"""The command line's side of distributed scans: `scan --broker` and `worker`.

Imported only when one is asked for: Celery and redis are the `distributed` extra.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from ipv6scan.context import ping_rate_from
from ipv6scan.distributed import coordinator
from ipv6scan.distributed.budget import Budget
from ipv6scan.distributed.payload import ShardOptions
from ipv6scan.distributed.plan import shard_size
from ipv6scan.distributed.settings import check_vantage, shown_url
from ipv6scan.distributed.shard_scan import WorkerSettings
from ipv6scan.distributed.worker import run_worker, worker_name
from ipv6scan.engine.config import ScanConfig, sharded
from ipv6scan.targets import TargetSource

DNS_FAMILY = "dns"


def vantages(names: list[str]) -> tuple[str, ...]:
    """--vantage values, checked and without repeats, in the order given."""
    seen: dict[str, None] = {}
    for name in names:
        seen[check_vantage(name)] = None
    return tuple(seen)


def check_request(args: argparse.Namespace) -> None:
    """Raises ValueError (a bad --vantage or shard size) or coordinator.BrokerError (the
    broker out of reach) before the scan writes anything."""
    vantages(args.vantage or [])
    shard_size(False, os.environ)
    coordinator.check_broker(args.broker)


def scan_through_broker(
    args: argparse.Namespace, config: ScanConfig, source: TargetSource
) -> dict[str, Any]:
    """Run the scan on the workers; results.jsonl in config.out, as a local scan leaves
    it. Returns summary.json's `scanner`. Raises ValueError (bad --vantage),
    coordinator.BrokerError and KeyboardInterrupt."""
    options = ShardOptions(
        checks=config.named_checks,
        timeout=config.timeout,
        attempts=config.attempts,
        allow_prefixes=config.allow_prefixes,
        sector=args.sector,
        profile=str(args.profile) if args.profile is not None else None,
    )
    size = shard_size(all(c.family == DNS_FAMILY for c in config.checks), os.environ)
    req = coordinator.Request(args.broker, config.out, vantages(args.vantage or []), options,
                              size, quiet=config.quiet)  # fmt: skip
    return coordinator.run(req, sharded(source, config.shard))


def cmd_worker(args: argparse.Namespace) -> int:
    """Serve shards until SIGTERM (a warm shutdown: the shard in hand is finished)."""
    vantage = check_vantage(args.vantage) if args.vantage else None
    settings = WorkerSettings(
        name=worker_name(vantage),
        vantage=vantage,
        concurrency=args.concurrency,
        resolvers=tuple(args.resolver),
        ping_rate=ping_rate_from(os.environ),
        broker=args.broker,
        budget=Budget(args.destination_rate) if args.destination_rate > 0 else None,
        echo_rate=args.echo_rate,
    )
    print(
        f"ipv6scan worker {settings.name}: serving {shown_url(args.broker)}",
        file=sys.stderr,
        flush=True,
    )
    return run_worker(args.broker, settings, loglevel=args.loglevel)
