"""dns.delegation's probe: walk the zone cuts from D's TLD down to D's own zone the way an
IPv6-only resolver would, by referrals, and ask each cut's name servers over IPv6 for the
zone's SOA. I/O only; checks/delegation.py judges.

The TLD's NS set comes from the recursive resolver (the root's servers all have IPv6);
below it the walk asks the TLD's servers directly (no recursion), one label at a time
(RFC 9156 style: `gov.cn NS`, then `hunan.gov.cn NS`), and follows what they say:
- NS records for the name in the answer: the name is a zone apex, a cut (its servers
  answered from the child zone they also serve);
- a referral (not authoritative, NS in the authority section): a cut, with its glue;
- an authoritative answer without NS: the name is inside the current zone, go on;
- NXDOMAIN: the name does not exist; the walk ends.
A cut whose name servers give no authoritative answer over IPv6 ends the walk: an
IPv6-only resolver can go no further.

Cached per scan in ctx.memo: a cut's probe per zone, a step per (zone, name), so that
thousands of domains under `gov.cn` ask `cn` and `gov.cn` once.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from functools import partial
from typing import Final

import dns.message
import dns.rdatatype
import dns.rrset

from ipv6scan import stall_clock
from ipv6scan.context import ScanContext
from ipv6scan.dnsclient.resolution import Lookup
from ipv6scan.dnsclient.transport import (
    NO_PATH,
    RR,
    DnspythonTransport,
    DnsReply,
    DnsServer,
    make_query,
    normalize_name,
    reply_from,
)
from ipv6scan.model import Subject
from ipv6scan.observations.delegation import (
    NO_IPV6,
    NO_TLD,
    NOTE_NO_REFERRAL,
    NOTE_NO_ROUTE,
    NOTE_NOT_ASKED,
    NOTE_NXDOMAIN,
    NOTE_RCODE,
    NOTE_RCODE_ERROR,
    NOTE_TOO_LONG,
    NXDOMAIN,
    REACHED,
    STUCK,
    TOO_LONG,
    UNFOLLOWED,
    CutServer,
    DelegationChain,
    WalkEnding,
    ZoneCut,
)
from ipv6scan.observations.dns import NsAnswer
from ipv6scan.probes.dns import MAX_NS_HOSTS, addresses, classify, soa_answer, unanswered
from ipv6scan.probes.tries import Tried, run_tries

MAX_CUTS: Final = 8  # zone cuts followed from the TLD down; deeper chains are not real ones
MAX_GLUE: Final = 8  # glue AAAA kept per NS name
MAX_ASKED: Final = 3  # a cut's answering servers asked in turn for the next step
CUT_KEY: Final = "dns.delegation.cut"
STEP_KEY: Final = "dns.delegation.step"

# Kinds of step.
CUT, SAME, GONE, UNUSABLE = "cut", "same", "gone", "unusable"


@dataclass(frozen=True)
class NsReply:
    """A direct `NAME NS` question's reply, with the sections a referral lives in."""

    reply: DnsReply
    authority: tuple[RR, ...] = ()
    additional: tuple[RR, ...] = ()


@dataclass(frozen=True)
class Step:
    """What one cut's servers said about one name below it."""

    kind: str  # CUT, SAME, GONE or UNUSABLE
    zone: str = ""  # CUT: the new cut
    source: str = ""  # CUT: "referral" or "answer"
    hosts: tuple[str, ...] = ()  # CUT: its NS names
    glue: tuple[tuple[str, tuple[str, ...]], ...] = ()  # CUT: (NS name, glue AAAA)
    note: str = ""  # GONE, UNUSABLE: what was answered


def _section(rrsets: list[dns.rrset.RRset], limit: int = 64) -> tuple[RR, ...]:
    """NS and AAAA records of a section, bounded: a hostile server cannot make us hold more."""
    out: list[RR] = []
    for rrset in rrsets:
        kind = dns.rdatatype.to_text(rrset.rdtype)
        owner = normalize_name(rrset.name)
        for rd in rrset:
            if len(out) >= limit:
                return tuple(out)
            if kind == "NS":
                out.append(RR(owner, kind, rrset.ttl, normalize_name(rd.target)))
            elif kind == "AAAA":
                out.append(RR(owner, kind, rrset.ttl, rd.to_text()))
    return tuple(out)


class ReferralAsker:
    """Sends `NAME NS` without recursion and keeps the authority and additional sections,
    which DnsReply leaves out. The exchange is DnspythonTransport's (a connected UDP socket,
    TCP on truncation), and the outcome mapping is reply_from's, as for every direct query."""

    def __init__(self) -> None:
        self._transport = DnspythonTransport()

    async def ask(self, server: DnsServer, qname: str, timeout: float) -> NsReply:
        started = time.monotonic()
        due = stall_clock.now() + timeout
        query = make_query(qname, "NS", recursion=False)
        seen: list[dns.message.Message] = []

        async def exchange() -> tuple[dns.message.Message, bool]:
            message, used_tcp = await self._transport._exchange(query, server, due)
            seen.append(message)
            return message, used_tcp

        reply = await reply_from(exchange(), server, qname, "NS", started)
        if not seen:
            return NsReply(reply)
        return NsReply(reply, _section(seen[0].authority), _section(seen[0].additional))


ASKER = ReferralAsker()  # module-level: tests put a fake in its place


def below(name: str, zone: str) -> bool:
    """`name` is `zone` or a name under it."""
    return zone == "." or name == zone or name.endswith("." + zone)


def read_step(zone: str, name: str, ns_reply: NsReply) -> Step:
    """Pure: what the reply of a server of `zone` to `name NS` says about the chain."""
    reply = ns_reply.reply
    if reply.rcode == "NXDOMAIN" and reply.authoritative:
        return Step(GONE, note=NOTE_NXDOMAIN(zone=zone, server=reply.server, name=name))
    if reply.rcode != "NOERROR":
        said = {"zone": zone, "server": reply.server, "rcode": reply.rcode}
        if reply.error:
            return Step(UNUSABLE, note=NOTE_RCODE_ERROR(**said, error=reply.error))
        return Step(UNUSABLE, note=NOTE_RCODE(**said))
    at_apex = tuple(rr.data for rr in reply.answers if rr.rdtype == "NS" and rr.name == name)
    if at_apex:
        return _cut_step(zone, name, "answer", at_apex, ns_reply)
    owners = {rr.name for rr in ns_reply.authority if rr.rdtype == "NS"}
    if not reply.authoritative and len(owners) == 1:
        owner = next(iter(owners))
        # a referral must lead down, between the zone asked and the name asked about
        if owner != zone and below(owner, zone) and below(name, owner):
            hosts = tuple(rr.data for rr in ns_reply.authority
                          if rr.rdtype == "NS" and rr.name == owner)  # fmt: skip
            return _cut_step(zone, owner, "referral", hosts, ns_reply)
    if reply.authoritative:
        return Step(SAME)
    return Step(UNUSABLE, note=NOTE_NO_REFERRAL(zone=zone, server=reply.server, name=name))


def _cut_step(zone: str, cut: str, source: str, hosts: tuple[str, ...], ns: NsReply) -> Step:
    names = tuple(sorted(set(hosts)))
    # glue only for names under the zone that gave it: what a resolver would accept
    glue = tuple(
        (host, tuple(sorted({rr.data for rr in ns.additional
                             if rr.rdtype == "AAAA" and rr.name == host}))[:MAX_GLUE])
        for host in names
        if below(host, zone)
    )  # fmt: skip
    return Step(CUT, cut, source, names, tuple((h, g) for h, g in glue if g))


async def _ask_ns_once(ctx: ScanContext, server: DnsServer, qname: str) -> NsReply:
    async with ctx.limits.slot(server.address):
        return await ASKER.ask(server, qname, ctx.timeout)


async def _ask_ns(ctx: ScanContext, address: str, qname: str) -> Tried[NsReply]:
    one_try = partial(_ask_ns_once, ctx, DnsServer(address), qname)
    return await run_tries(one_try, lambda r: unanswered(r.reply), ctx.options.attempts)


async def _step(ctx: ScanContext, cut: ZoneCut, name: str) -> Step:
    """Ask the cut's servers that answered SOA, in turn, until one says something usable."""
    step = Step(UNUSABLE, note=NOTE_NOT_ASKED(zone=cut.zone, name=name))
    for answer in cut.answered[:MAX_ASKED]:
        tried = await _ask_ns(ctx, answer.address, name)
        if tried.outcome.reply.rcode == NO_PATH:
            return Step(UNUSABLE, note=NOTE_NO_ROUTE(address=answer.address))
        step = read_step(cut.zone, name, tried.outcome)
        if step.kind != UNUSABLE:
            return step
    return step


async def _probe_cut(
    ctx: ScanContext,
    zone: str,
    source: str,
    hosts: tuple[str, ...],
    glue: dict[str, tuple[str, ...]],
) -> ZoneCut:
    kept = hosts[:MAX_NS_HOSTS]

    async def aaaa(host: str) -> CutServer:
        if host in glue:
            return CutServer(host, classify(ctx, Lookup(host, "AAAA", "NOERROR", glue[host],
                                                        server="glue")), glue=True)  # fmt: skip
        return CutServer(host, await addresses(ctx, host))

    servers = tuple(await asyncio.gather(*(aaaa(h) for h in kept)))
    jobs = [soa_answer(ctx, s.host, address, zone)
            for s in servers for address in s.addresses.global_
            if ctx.policy.not_probed(address) is None]  # fmt: skip
    answers: tuple[NsAnswer, ...] = tuple(await asyncio.gather(*jobs))
    return ZoneCut(zone, source, servers, answers, capped=len(hosts) - len(kept))


async def _cut(
    ctx: ScanContext, zone: str, source: str, hosts: tuple[str, ...],
    glue: tuple[tuple[str, tuple[str, ...]], ...] = (),
) -> ZoneCut:  # fmt: skip
    """The cut's probe, once per zone per scan: the first walk to reach it decides."""
    make = partial(_probe_cut, ctx, zone, source, hosts, dict(glue))
    cut: ZoneCut = await ctx.memo.get((CUT_KEY, zone), make)
    return cut


async def observe_delegation(ctx: ScanContext, subject: Subject) -> DelegationChain:
    domain = subject.name.rstrip(".").lower()
    if not ctx.connectivity.ipv6:
        return DelegationChain(domain, False, NO_IPV6)
    labels = domain.split(".")
    tld = labels[-1]
    lookup = await ctx.resolver.lookup(tld, "NS")
    if not lookup.ok or not lookup.values or lookup.cname_chain:
        return DelegationChain(domain, True, NO_TLD, tld_lookup=lookup)
    cuts = [await _cut(ctx, tld, "resolver", tuple(sorted(set(lookup.values))))]

    def chain(ending: WalkEnding, note: str = "") -> DelegationChain:
        return DelegationChain(domain, True, ending, tuple(cuts), lookup, note)

    for i in range(len(labels) - 2, -1, -1):
        current = cuts[-1]
        if not current.reachable:
            return chain(STUCK)
        name = ".".join(labels[i:])
        step: Step = await ctx.memo.get((STEP_KEY, current.zone, name),
                                        partial(_step, ctx, current, name))  # fmt: skip
        if step.kind == SAME:
            continue
        if step.kind == GONE:
            return chain(NXDOMAIN, step.note)
        if step.kind == UNUSABLE:
            return chain(UNFOLLOWED, step.note)
        if len(cuts) >= MAX_CUTS:
            return chain(TOO_LONG, NOTE_TOO_LONG(count=MAX_CUTS, domain=domain))
        cuts.append(await _cut(ctx, step.zone, step.source, step.hosts, step.glue))
    return chain(REACHED if cuts[-1].reachable else STUCK)
