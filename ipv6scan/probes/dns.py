"""DNS observations for the checks: look-ups through the resolver, and direct
questions to name servers and resolvers. I/O only; no judgement here."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Final

from ipv6scan.context import ScanContext
from ipv6scan.dnsclient.records import DnsReply
from ipv6scan.dnsclient.resolution import Lookup
from ipv6scan.dnsclient.transport import NET_ERROR, NO_PATH, REFUSED_PORT, TIMEOUT, DnsServer
from ipv6scan.model import Subject
from ipv6scan.names import www_name
from ipv6scan.observations.dns import (
    Addresses,
    MailExchangers,
    NameServers,
    NsAnswer,
    NsReachability,
    ResolverAnswer,
)
from ipv6scan.probes.tries import Tried, run_tries

MAX_NS_HOSTS = 13  # more NS names than the root has is not a real delegation
MAX_MX_HOSTS = 20


def classify(ctx: ScanContext, lookup: Lookup) -> Addresses:
    classes = []
    # sorted: resolvers rotate RRsets (Unbound's rrset-roundrobin), and the same answer
    # should read the same in every run's details and diffs
    for value in sorted(lookup.values):
        try:
            classes.append(ctx.policy.classify(value))
        except ValueError:
            continue  # a malformed address in an answer is simply not an address
    return Addresses(lookup, tuple(classes))


async def addresses(ctx: ScanContext, host: str, rdtype: str = "AAAA") -> Addresses:
    return classify(ctx, await ctx.resolver.lookup(host, rdtype))


async def observe_aaaa(ctx: ScanContext, subject: Subject) -> Addresses:
    return await addresses(ctx, subject.name, "AAAA")


async def find_name_servers(ctx: ScanContext, domain: str) -> NameServers:
    """Walk up the labels from `domain` until an NS set is found: the zone cut."""
    labels = domain.split(".")
    lookup = Lookup(domain, "NS", "NOERROR")
    for i in range(len(labels)):
        name = ".".join(labels[i:])
        lookup = await ctx.resolver.lookup(name, "NS")
        if not lookup.ok or (i == 0 and lookup.rcode == "NXDOMAIN"):
            return NameServers(domain, None, lookup)  # failed, or the domain does not exist
        if lookup.values and not lookup.cname_chain:
            hosts = sorted(set(lookup.values))[:MAX_NS_HOSTS]
            found = await asyncio.gather(*(addresses(ctx, h) for h in hosts))
            return NameServers(domain, name, lookup, tuple(zip(hosts, found, strict=True)))
    return NameServers(domain, None, lookup)


async def observe_name_servers(ctx: ScanContext, subject: Subject) -> NameServers:
    return await find_name_servers(ctx, subject.name)


# A direct question that got no answer, an ICMP port unreachable (a refusal) or a network
# error (a reset over TCP) is asked again (probes/tries.py); any DNS answer, REFUSED and
# SERVFAIL included, is the server's word and final.
RETRYABLE: Final = frozenset({TIMEOUT, REFUSED_PORT, NET_ERROR})


def unanswered(reply: DnsReply) -> bool:
    return reply.rcode in RETRYABLE


async def _ask_once(
    ctx: ScanContext, server: DnsServer, qname: str, rdtype: str, recursion: bool
) -> DnsReply:
    async with ctx.limits.slot(server.address):  # per try: no slot is held during a backoff
        return await ctx.transport.query(
            server, qname, rdtype, recursion=recursion, timeout=ctx.timeout
        )


async def ask_tried(
    ctx: ScanContext, server: DnsServer, qname: str, rdtype: str, recursion: bool
) -> Tried[DnsReply]:
    """One direct question to a server, tried up to --attempts times while unanswered."""
    one_try = partial(_ask_once, ctx, server, qname, rdtype, recursion)
    return await run_tries(one_try, unanswered, ctx.options.attempts)


async def _ask_soa(ctx: ScanContext, ns: str, address: str, zone: str) -> NsAnswer:
    tried = await ask_tried(ctx, DnsServer(address), zone, "SOA", False)
    reply = tried.outcome
    has_soa = any(rr.rdtype == "SOA" and rr.name == zone for rr in reply.answers)
    return NsAnswer(
        ns,
        address,
        reply.rcode,
        reply.authoritative,
        has_soa,
        reply.error,
        reply.elapsed_ms,
        tried.attempts,
        tried.failed_attempts,
    )


SOA_KEY: Final = "dns.soa"


async def soa_answer(ctx: ScanContext, ns: str, address: str, zone: str) -> NsAnswer:
    """One NS address's SOA answer for a zone, asked once per scan: dns.ns_reachable and
    dns.delegation (probes/delegation.py) ask a domain's own servers the same question."""
    answer: NsAnswer = await ctx.memo.get(
        (SOA_KEY, zone, ns, address), partial(_ask_soa, ctx, ns, address, zone)
    )
    return answer


async def observe_ns_reachability(ctx: ScanContext, subject: Subject) -> NsReachability:
    servers = await find_name_servers(ctx, subject.name)
    if servers.zone is None or not ctx.connectivity.ipv6:
        return NsReachability(servers, ctx.connectivity.ipv6)
    zone = servers.zone
    jobs = [soa_answer(ctx, ns, a, zone) for ns, found in servers.hosts for a in found.global_]
    return NsReachability(servers, True, tuple(await asyncio.gather(*jobs)))


async def observe_mail_exchangers(ctx: ScanContext, subject: Subject) -> MailExchangers:
    lookup = await ctx.resolver.lookup(subject.name, "MX")
    if not lookup.ok:
        return MailExchangers(subject.name, lookup)
    pairs = sorted(zip(lookup.prefs, lookup.values, strict=True))
    # RFC 7505: a single MX of "." says the domain accepts no mail
    if len(pairs) == 1 and pairs[0][1] in (".", ""):
        return MailExchangers(subject.name, lookup, null_mx=True)
    pairs = [(pref, host) for pref, host in pairs if host not in (".", "")]
    kept = pairs[:MAX_MX_HOSTS]
    found = await asyncio.gather(*(addresses(ctx, host) for _, host in kept))
    hosts = tuple((pref, host, addrs) for (pref, host), addrs in zip(kept, found, strict=True))
    return MailExchangers(subject.name, lookup, hosts=hosts, capped=len(pairs) - len(kept))


async def _resolver_probe_name(ctx: ScanContext, subject: Subject) -> str:
    """A name that has AAAA through our own resolver, so an empty answer means the probed
    resolver failed, not that the name has no IPv6: the target's own names first."""
    for domain in subject.target.domains[:4]:
        for name in filter(None, (domain, www_name(domain))):
            if (await ctx.resolver.lookup(name, "AAAA")).values:
                return name
    return ctx.resolver_probe_name


async def observe_resolver(ctx: ScanContext, subject: Subject) -> ResolverAnswer:
    address, port = subject.name, subject.port or 53
    family = 6 if ":" in address else 4
    out_of_scope = ctx.policy.not_probed(address)
    if out_of_scope is not None:  # the scanner's own loopback, a link-local, ...: no packet
        category = ctx.policy.classify(address).category
        return ResolverAnswer(address, port, family, "", ctx.connectivity.ipv6,
                              not_probed=out_of_scope,
                              not_probed_category=category)  # fmt: skip
    qname = await _resolver_probe_name(ctx, subject)
    base = ResolverAnswer(address, port, family, qname, ctx.connectivity.ipv6)
    if family != 6 or not ctx.connectivity.ipv6:
        return base
    tried = await ask_tried(ctx, DnsServer(address, port), qname, "AAAA", True)
    reply = tried.outcome
    if reply.rcode == NO_PATH:
        base = ResolverAnswer(address, port, family, qname, False)
    answers = tuple(rr.data for rr in reply.answers if rr.rdtype == "AAAA")
    return ResolverAnswer(
        address,
        port,
        family,
        qname,
        base.scanner_ipv6,
        reply.rcode,
        answers,
        reply.error,
        reply.elapsed_ms,
        qname_unverified=ctx.resolver.unusable,
        attempts=tried.attempts,
        failed_attempts=tried.failed_attempts,
    )
