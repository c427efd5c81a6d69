"""A scan's settings, and which targets are this scan's (--shard) or this worker's share."""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ipv6scan.context import Limits
from ipv6scan.dnsclient.server import DnsServer
from ipv6scan.model import Target
from ipv6scan.probes.tries import deadline_extra

if TYPE_CHECKING:  # the registry loads every probe: the settings and the sharding need none
    from ipv6scan.checks.registry import Check


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
