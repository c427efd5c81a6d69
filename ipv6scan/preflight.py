"""Before probing: which resolvers to use, whether the scanner itself has IPv6 and
IPv4 paths, and whether its resolver synthesizes AAAA (DNS64, RFC 7050)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from pathlib import Path

from ipv6scan.addresses import dns64_prefixes_from_ipv4only
from ipv6scan.observations import Connectivity
from ipv6scan.probes.dns import DnsServer, DnsTransport
from ipv6scan.probes.resolution import Resolver

# Route look-ups only: connect() on a UDP socket sends nothing, it asks the kernel for a route.
ROUTE_PROBES = {socket.AF_INET6: "2001:4860:4860::8888", socket.AF_INET: "8.8.8.8"}


def system_resolvers(path: str = "/etc/resolv.conf") -> list[DnsServer]:
    servers = []
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] == "nameserver" and "%" not in parts[1]:
            servers.append(DnsServer(parts[1]))
    return servers


def route_candidates(family: int, allow_prefixes: Sequence[str] = ()) -> list[str]:
    """A public address, plus the first address of each allowed prefix: a private test
    network given with --allow-prefix is routed there, not to the Internet."""
    out = [ROUTE_PROBES[family]]
    for text in allow_prefixes:
        net = ipaddress.ip_network(text, strict=False)
        if net.version == (6 if family == socket.AF_INET6 else 4):
            out.append(str(net.network_address + (1 if net.num_addresses > 1 else 0)))
    return out


def has_route(family: int, candidates: Sequence[str]) -> bool:
    for address in candidates:
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            try:
                sock.connect((address, 53))
            except OSError:
                continue
            return True
    return False


async def _answers_over(
    transport: DnsTransport, servers: Sequence[DnsServer], family: int, timeout: float
) -> bool | None:
    """True when a resolver of that family answers, False when none does, None when none is
    configured for that family."""
    candidates = [s for s in servers if s.family == family]
    if not candidates:
        return None
    replies = await asyncio.gather(
        *(transport.query(s, ".", "NS", recursion=True, timeout=timeout) for s in candidates)
    )
    return any(r.answered for r in replies)


async def check_connectivity(
    transport: DnsTransport,
    servers: Sequence[DnsServer],
    timeout: float,
    allow_prefixes: Sequence[str] = (),
) -> Connectivity:
    notes = []
    paths = {}
    any_answered = False
    for family, label, fam in ((6, "IPv6", socket.AF_INET6), (4, "IPv4", socket.AF_INET)):
        answered = await _answers_over(transport, servers, family, timeout)
        any_answered = any_answered or bool(answered)
        if answered:
            paths[family] = True
            notes.append(f"a resolver answered over {label}")
        else:
            paths[family] = has_route(fam, route_candidates(fam, allow_prefixes))
            why = (
                "no resolver of that family" if answered is None else "its resolvers did not answer"
            )
            notes.append(f"{label}: {why}; kernel route {'found' if paths[family] else 'missing'}")
    return Connectivity(
        ipv6=paths[6], ipv4=paths[4], notes=tuple(notes), resolvers_answered=any_answered
    )


def silent_resolvers_warning(
    connectivity: Connectivity, servers: Sequence[DnsServer], timeout: float
) -> str | None:
    """What to tell the operator at once when no resolver answered the preflight: the
    scan goes on (address entries need none), but each name look-up will wait out its
    timeouts, and a list of 100,000 names would take hours to give only errors."""
    if connectivity.resolvers_answered:
        return None
    listed = ", ".join(str(s) for s in servers)
    return (
        f"warning: no resolver answered a test question within {timeout:g} s ({listed}); "
        "every name look-up will time out. Check --resolver, or stop the scan (Ctrl-C)."
    )


async def discover_dns64(resolver: Resolver) -> tuple[str, ...]:
    """RFC 7050: a resolver that returns AAAA for ipv4only.arpa synthesizes; find its prefixes."""
    lookup = await resolver.lookup("ipv4only.arpa", "AAAA")
    if not lookup.values:
        return ()
    return tuple(str(p) for p in dns64_prefixes_from_ipv4only(lookup.values))
