"""Everything a probe needs during one scan, built once by the CLI."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from ipv6scan.addresses import AddressPolicy
from ipv6scan.checks.options import CheckOptions
from ipv6scan.dnsclient.resolution import Resolver
from ipv6scan.dnsclient.transport import DnsTransport
from ipv6scan.memo import Memo
from ipv6scan.observations.dns import Connectivity


class Limits:
    """A global bound on probes in flight and a bound per destination address,
    so that no single server is hammered however many targets share it."""

    def __init__(self, total: int, per_destination: int) -> None:
        self.total = asyncio.Semaphore(total)
        self.per_destination = per_destination
        self._dest: dict[str, tuple[asyncio.Semaphore, int]] = {}

    @asynccontextmanager
    async def slot(self, destination: str) -> AsyncIterator[None]:
        sem, users = self._dest.get(destination, (None, 0))
        if sem is None:
            sem = asyncio.Semaphore(self.per_destination)
        self._dest[destination] = (sem, users + 1)
        try:
            async with sem, self.total:
                yield
        finally:
            sem, users = self._dest[destination]
            if users <= 1:
                del self._dest[destination]  # keep the table as small as the work in flight
            else:
                self._dest[destination] = (sem, users - 1)


PING_RATE_ENV = "IPV6SCAN_PING_RATE"  # echo requests a second, instead of ping_rate's default
MAX_PING_RATE = 1_000_000.0  # beyond any link a scan runs over; bursts are 20 ms of it


def ping_rate_from(environ: Mapping[str, str]) -> float | None:
    """IPV6SCAN_PING_RATE as echo requests a second; None when unset. ValueError says
    what is wrong with a value that is not a number in (0, MAX_PING_RATE]."""
    text = environ.get(PING_RATE_ENV, "").strip()
    if not text:
        return None
    try:
        rate = float(text)
    except ValueError:
        rate = math.nan
    if not (0 < rate <= MAX_PING_RATE):
        raise ValueError(
            f"{PING_RATE_ENV}={text!r}: not a number of echo requests a second "
            f"above 0 and at most {MAX_PING_RATE:,.0f}"
        )
    return rate


@dataclass(frozen=True)
class ScanContext:
    resolver: Resolver
    transport: DnsTransport  # for questions sent straight to a server (NS, resolvers)
    policy: AddressPolicy
    connectivity: Connectivity
    limits: Limits
    timeout: float
    resolver_probe_name: str = "www.ietf.org"  # asked of resolvers when a target has no domain
    options: CheckOptions = field(default_factory=CheckOptions)
    memo: Memo = field(default_factory=Memo)  # shared observations (HTTP fetches, TCP probes)
    # the scan's one raw ICMPv6 socket (IcmpProber), or why it could not be opened
    # (RawSocketDenied); None when no net check runs. Opened and closed by run.scan.
    icmp: Any = None
