"""Before probing: which resolvers to use, whether the scanner itself has IPv6 and
IPv4 paths, and whether its resolver synthesizes AAAA (DNS64, RFC 7050)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from pathlib import Path

from ipv6scan.addresses import dns64_prefixes_from_ipv4only
from ipv6scan.dnsclient.reasons import RESOLVER_DENIED, RESOLVER_REWRITES, RESOLVER_SILENT
from ipv6scan.dnsclient.resolution import Resolver
from ipv6scan.dnsclient.transport import DnsReply, DnsServer, DnsTransport
from ipv6scan.messages import message, word
from ipv6scan.observations.dns import Connectivity

# Route look-ups only: connect() on a UDP socket sends nothing, it asks the kernel for a route.
ROUTE_PROBES: dict[int, str] = {socket.AF_INET6: "2001:4860:4860::8888", socket.AF_INET: "8.8.8.8"}


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


# What every recursive resolver knows (RFC 7050, RFC 8880): the well-known name and the
# root. A resolver that denies them denies everything, and would make every site look
# IPv4-only.
VETTING_QUESTIONS: tuple[tuple[str, str], ...] = (
    ("ipv4only.arpa", "AAAA"),
    ("ipv4only.arpa", "A"),
    (".", "NS"),
)
IPV4ONLY_ADDRESSES = frozenset({"192.0.0.170", "192.0.0.171"})
DENIALS = frozenset({"NXDOMAIN", "REFUSED"})
VETTING_TRIES = 2  # a question left unanswered is asked once more, as the Resolver would


# The scanner's notes about its own network (Connectivity.notes, the report's scanner
# section), as messages so that a report can show them in its language.
NOTE_ANSWERED = message("scanner.note.answered", "a resolver answered over %(family)s")
NOTE_NO_ANSWER = message("scanner.note.no_answer", "%(family)s: %(why)s; kernel route %(route)s")
NOTE_NOT_USED = message("scanner.note.not_used", "resolver %(server)s not used: it %(what)s")
SILENT_RESOLVERS = word("its resolvers did not answer")
NO_RESOLVER_OF_FAMILY = word("no resolver of that family")
ROUTE_FOUND, ROUTE_MISSING = word("found"), word("missing")


def resolver_problem(replies: Sequence[DnsReply]) -> str | None:
    """Why a resolver cannot be trusted, from its replies to VETTING_QUESTIONS (in order),
    as "answered NXDOMAIN for ipv4only.arpa A"; None when it can. SERVFAIL is no reason:
    a resolver may fail one name and serve the rest, and each look-up will say so."""
    for (qname, rdtype), reply in zip(VETTING_QUESTIONS, replies, strict=True):
        what = f"{qname} {rdtype}"
        if not reply.answered:
            return RESOLVER_SILENT(question=what, error=reply.error or reply.rcode)
        if reply.rcode in DENIALS:
            return RESOLVER_DENIED(rcode=reply.rcode, question=what)
        if (qname, rdtype) == ("ipv4only.arpa", "A"):
            found = {rr.data for rr in reply.answers if rr.rdtype == "A"}
            if found - IPV4ONLY_ADDRESSES:  # a resolver that rewrites answers
                listed = ", ".join(sorted(found)[:3])
                return RESOLVER_REWRITES(question=what, listed=listed)
    return None


async def _ask(
    transport: DnsTransport, server: DnsServer, qname: str, rdtype: str, timeout: float
) -> DnsReply:
    reply = await transport.query(server, qname, rdtype, recursion=True, timeout=timeout)
    for _ in range(VETTING_TRIES - 1):
        if reply.answered:
            break
        reply = await transport.query(server, qname, rdtype, recursion=True, timeout=timeout)
    return reply


async def vet_resolvers(
    transport: DnsTransport, servers: Sequence[DnsServer], timeout: float
) -> list[tuple[DnsServer, tuple[DnsReply, ...]]]:
    """Each resolver's replies to VETTING_QUESTIONS, every question asked at once."""
    jobs = [_ask(transport, s, q, t, timeout) for s in servers for q, t in VETTING_QUESTIONS]
    replies = await asyncio.gather(*jobs)
    n = len(VETTING_QUESTIONS)
    return [(s, tuple(replies[i * n : (i + 1) * n])) for i, s in enumerate(servers)]


async def check_connectivity(
    transport: DnsTransport,
    servers: Sequence[DnsServer],
    timeout: float,
    allow_prefixes: Sequence[str] = (),
) -> Connectivity:
    """The scanner's paths, and which resolvers it may use: a resolver that answered over
    a family proves that path; a family with none answering falls back on a route look-up."""
    vetted = await vet_resolvers(transport, servers, timeout)
    unusable = tuple(
        (str(server), problem)
        for server, replies in vetted
        if (problem := resolver_problem(replies)) is not None
    )
    notes = []
    paths = {}
    any_answered = False
    for family, label, fam in ((6, "IPv6", socket.AF_INET6), (4, "IPv4", socket.AF_INET)):
        mine = [replies for server, replies in vetted if server.family == family]
        answered = any(r.answered for replies in mine for r in replies)
        any_answered = any_answered or answered
        if answered:
            paths[family] = True
            notes.append(NOTE_ANSWERED(family=label))
        else:
            paths[family] = has_route(fam, route_candidates(fam, allow_prefixes))
            why = SILENT_RESOLVERS if mine else NO_RESOLVER_OF_FAMILY
            route = ROUTE_FOUND if paths[family] else ROUTE_MISSING
            notes.append(NOTE_NO_ANSWER(family=label, why=why, route=route))
    notes += [NOTE_NOT_USED(server=server, what=what) for server, what in unusable]
    return Connectivity(
        ipv6=paths[6],
        ipv4=paths[4],
        notes=tuple(notes),
        resolvers_answered=any_answered,
        unusable_resolvers=unusable,
        resolvers_usable=len(unusable) < len(servers),
    )


def usable_servers(
    servers: Sequence[DnsServer], connectivity: Connectivity
) -> tuple[DnsServer, ...]:
    """The resolvers the scan asks: those the preflight did not reject."""
    rejected = {server for server, _ in connectivity.unusable_resolvers}
    return tuple(s for s in servers if str(s) not in rejected)


def resolver_warning(connectivity: Connectivity) -> str | None:
    """The one line for stderr about the resolvers, said at once: with none usable every
    check that needs DNS is `error` (address entries still run), and the score is null."""
    detail = connectivity.no_resolver_detail
    if detail is not None:
        return (
            f"error: {detail}. Every check that needs DNS is reported as error and the "
            "scan is not scored; use --resolver with a working recursive resolver."
        )
    if connectivity.unusable_resolvers:
        listed = "; ".join(f"{s} {what}" for s, what in connectivity.unusable_resolvers)
        return f"warning: resolvers not used: {listed}"
    return None


async def discover_dns64(resolver: Resolver) -> tuple[str, ...]:
    """RFC 7050: a resolver that returns AAAA for ipv4only.arpa synthesizes; find its prefixes."""
    lookup = await resolver.lookup("ipv4only.arpa", "AAAA")
    if not lookup.values:
        return ()
    return tuple(str(p) for p in dns64_prefixes_from_ipv4only(lookup.values))
