"""The shards of a distributed scan: many more than workers, by the local --shard hash."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

from ipv6scan.distributed.payload import ShardJob, ShardOptions
from ipv6scan.engine.config import shard_index
from ipv6scan.model import Target

# Targets a shard. A shard costs a worker a few milliseconds besides its targets (the
# task's round trip, the worker's preflight and loop: bench/DISTRIBUTED.md), so DNS-only
# shards are big: 500 to 5,000 names, aiming at SPREAD shards, which a worker scans in a
# second or two. A shard of web, mail or net checks waits on timeouts and tries, so it is
# kept small enough to end well inside the visibility timeout (settings.VISIBILITY).
# Either way there are more shards than workers, so the work spreads as workers come and go.
DNS_ONLY_SHARD = (500, 5_000)
SPREAD = 32
FULL_SHARD = 10
MAX_SHARDS = 20_000
SIZE_ENV = "IPV6SCAN_SHARD_TARGETS"  # targets a shard, overriding the sizes above


def shard_size(dns_only: bool, env: Mapping[str, str]) -> int | None:
    """Targets a shard; None: DNS-only shards sized by the list (dns_only_size). Raises
    ValueError for a setting that is not a whole number of at least 1."""
    text = env.get(SIZE_ENV, "").strip()
    if not text:
        return None if dns_only else FULL_SHARD
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{SIZE_ENV} takes a whole number of at least 1: {text!r}")
    return int(text)


def dns_only_size(total: int) -> int:
    low, high = DNS_ONLY_SHARD
    return min(high, max(low, math.ceil(total / SPREAD)))


def shard_count(total: int, size: int) -> int:
    return max(1, min(MAX_SHARDS, math.ceil(total / size)))


def plan_shards(
    targets: Iterable[Target],
    options: ShardOptions,
    vantages: Sequence[str | None],
    scan_id: str,
    size: int | None,
) -> list[ShardJob]:
    """One job per non-empty shard and vantage point, in shard order. The targets are
    held in memory, grouped by shard: the shard hash needs every name before the first
    shard is whole."""
    chosen = list(targets)
    n = shard_count(len(chosen), size or dns_only_size(len(chosen)))
    groups: list[list[Target]] = [[] for _ in range(n)]
    for target in chosen:
        groups[shard_index(target.name, n)].append(target)
    return [
        ShardJob(scan_id, (k + 1, n), vantage, options, tuple(group))
        for k, group in enumerate(groups)
        if group
        for vantage in vantages
    ]
