"""dns.delegation: the walk by referrals (probes/delegation.py) over a scripted hierarchy of
name servers (no packet is sent), and the judge (checks/delegation.py) on its observations."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from ipv6scan.addresses import AddressPolicy
from ipv6scan.checks.delegation import judge_delegation
from ipv6scan.checks.options import CheckOptions
from ipv6scan.context import Limits, ScanContext
from ipv6scan.dnsclient.transport import RR, DnsReply, DnsServer
from ipv6scan.model import Status, Subject, Target
from ipv6scan.observations.delegation import DelegationChain
from ipv6scan.observations.dns import Connectivity, NsAnswer
from ipv6scan.probes import delegation, tries
from ipv6scan.probes.delegation import (
    CUT,
    GONE,
    SAME,
    UNUSABLE,
    NsReply,
    observe_delegation,
    read_step,
)
from ipv6scan.probes.dns import observe_ns_reachability
from tests.unit.web_servers import TableResolver

# A small world: cn -> gov.cn -> hunan.gov.cn / beijing.gov.cn, each zone on its own servers.
HOSTS: dict[str, tuple[str, ...]] = {
    "a.dns.cn": ("2001:db8:1::1",),
    "b.dns.cn": ("2001:db8:1::2",),
    "ns1.gov.cn": ("2001:db8:2::1",),
    "ns2.gov.cn": ("2001:db8:2::2",),
    "ns.hunan.gov.cn": ("2001:db8:3::1",),
    "ns.beijing.gov.cn": ("2001:db8:4::1",),
}
ZONES: dict[str, tuple[str, ...]] = {
    "cn": ("a.dns.cn", "b.dns.cn"),
    "gov.cn": ("ns1.gov.cn", "ns2.gov.cn"),
    "hunan.gov.cn": ("ns.hunan.gov.cn",),
    "beijing.gov.cn": ("ns.beijing.gov.cn",),
}
V4_ONLY_GOV = {**HOSTS, "ns1.gov.cn": (), "ns2.gov.cn": ()}


def _below(name: str, zone: str) -> bool:
    return name == zone or name.endswith("." + zone)


class World:
    """Authoritative servers of ZONES, answering as NSD does: from the deepest zone the
    server serves, with a referral (and glue) for a delegated child, AA otherwise."""

    def __init__(self, hosts: dict[str, tuple[str, ...]], silent: frozenset[str] = frozenset()):
        self.hosts = hosts
        self.silent = silent  # addresses that never answer
        self.serves: dict[str, set[str]] = {}
        for zone, ns in ZONES.items():
            for host in ns:
                for address in hosts[host]:
                    self.serves.setdefault(address, set()).add(zone)
        self.asked: list[tuple[str, str, str]] = []  # (address, qname, rdtype)
        self.names = {z for z in ZONES} | {h for h in hosts}

    def _zone_of(self, address: str, name: str) -> str | None:
        zones = [z for z in self.serves.get(address, ()) if _below(name, z)]
        return max(zones, key=len) if zones else None

    def _reply(self, server: DnsServer, qname: str, rdtype: str, **kw: object) -> DnsReply:
        return DnsReply(qname, rdtype, str(server), **kw)  # type: ignore[arg-type]

    async def query(
        self, server: DnsServer, qname: str, rdtype: str, *, recursion: bool, timeout: float
    ) -> DnsReply:  # ctx.transport: the SOA questions
        self.asked.append((server.address, qname, rdtype))
        if server.address in self.silent:
            return self._reply(server, qname, rdtype, rcode="TIMEOUT", error="no answer")
        if qname not in self.serves.get(server.address, ()):
            return self._reply(server, qname, rdtype, rcode="REFUSED")
        soa = RR(qname, "SOA", 300, f"{ZONES[qname][0]}. h. 1 2 3 4 5")
        return self._reply(server, qname, rdtype, rcode="NOERROR", answers=(soa,),
                           authoritative=True)  # fmt: skip

    async def ask(self, server: DnsServer, qname: str, timeout: float) -> NsReply:  # referrals
        self.asked.append((server.address, qname, "NS"))
        if server.address in self.silent:
            return NsReply(self._reply(server, qname, "NS", rcode="TIMEOUT"))
        zone = self._zone_of(server.address, qname)
        if zone is None:
            return NsReply(self._reply(server, qname, "NS", rcode="REFUSED"))
        if qname == zone:
            answers = tuple(RR(zone, "NS", 300, h) for h in ZONES[zone])
            return NsReply(self._reply(server, qname, "NS", rcode="NOERROR", answers=answers,
                                       authoritative=True))  # fmt: skip
        children = [c for c in ZONES if c != zone and _below(c, zone) and _below(qname, c)]
        if children:
            child = min(children, key=len)
            authority = tuple(RR(child, "NS", 300, h) for h in ZONES[child])
            glue = tuple(RR(h, "AAAA", 300, a) for h in ZONES[child] if _below(h, zone)
                         for a in self.hosts[h])  # fmt: skip
            return NsReply(self._reply(server, qname, "NS", rcode="NOERROR"), authority, glue)
        if any(_below(n, qname) for n in self.names):
            return NsReply(self._reply(server, qname, "NS", rcode="NOERROR", authoritative=True))
        return NsReply(self._reply(server, qname, "NS", rcode="NXDOMAIN", authoritative=True))


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    w = World(HOSTS)
    monkeypatch.setattr(delegation, "ASKER", w)
    monkeypatch.setattr(tries, "BACKOFF_MIN", 0.01)
    monkeypatch.setattr(tries, "BACKOFF_MAX", 0.02)
    yield w


Table = dict[tuple[str, str], tuple[str, ...] | str]


def _resolver(hosts: dict[str, tuple[str, ...]], extra: Table | None = None) -> TableResolver:
    table: Table = {("cn", "NS"): ZONES["cn"], **{(h, "AAAA"): a for h, a in hosts.items()}}
    return TableResolver({**table, **(extra or {})})


def _ctx(world: World, resolver: TableResolver, *, ipv6: bool = True, attempts: int = 1):
    return ScanContext(
        resolver=resolver,  # type: ignore[arg-type]
        transport=world,  # type: ignore[arg-type]
        policy=AddressPolicy(allow=("2001:db8::/32",)),  # type: ignore[arg-type]
        connectivity=Connectivity(ipv6=ipv6, ipv4=True),
        limits=Limits(64, 8),
        timeout=0.2,
        options=CheckOptions(attempts=attempts),
    )


def _domain(name: str) -> Subject:
    return Subject("domain", name, Target(name, "government", (name,)))


async def _walk(ctx: ScanContext, name: str) -> DelegationChain:
    return await observe_delegation(ctx, _domain(name))


# ------------------------------------------------------------------ the walk


async def test_a_whole_chain_over_ipv6_passes_with_every_cut_in_evidence(world: World) -> None:
    chain = await _walk(_ctx(world, _resolver(HOSTS)), "hunan.gov.cn")
    verdict = judge_delegation(chain)
    assert verdict.status is Status.PASS, verdict.detail
    assert "cn -> gov.cn -> hunan.gov.cn" in verdict.detail
    cuts = verdict.evidence["chain"]
    assert [c["zone"] for c in cuts] == ["cn", "gov.cn", "hunan.gov.cn"]
    assert [c["from"] for c in cuts] == ["resolver", "referral", "referral"]
    gov = cuts[1]
    assert [s["host"] for s in gov["name_servers"]] == ["ns1.gov.cn", "ns2.gov.cn"]
    assert gov["name_servers"][0]["glue"] is True  # glue: ns1.gov.cn is under cn
    assert gov["name_servers"][0]["answered"] == ["2001:db8:2::1"]


async def test_a_middle_zone_with_only_ipv4_name_servers_fails_naming_it(world: World) -> None:
    world.__init__(V4_ONLY_GOV)  # type: ignore[misc]
    # the leaf's own servers would answer over IPv6: only the middle zone is at fault
    chain = await _walk(_ctx(world, _resolver(V4_ONLY_GOV)), "hunan.gov.cn")
    verdict = judge_delegation(chain)
    assert verdict.status is Status.FAIL
    assert "No name server of gov.cn" in verdict.detail
    assert [c["zone"] for c in verdict.evidence["chain"]] == ["cn", "gov.cn"]
    assert verdict.evidence["chain"][1]["ipv6_ok"] is False
    # no question went to the leaf's servers: an IPv6-only resolver could not get there
    assert not [a for a in world.asked if a[0] == "2001:db8:3::1"]


async def test_a_middle_zone_whose_servers_never_answer_fails_after_the_tries(
    world: World,
) -> None:
    world.silent = frozenset({"2001:db8:2::1", "2001:db8:2::2"})
    chain = await _walk(_ctx(world, _resolver(HOSTS), attempts=2), "hunan.gov.cn")
    verdict = judge_delegation(chain)
    assert verdict.status is Status.FAIL
    assert "No IPv6 name-server address of gov.cn answers" in verdict.detail
    assert "no answer (timeout)" in verdict.detail
    assert (verdict.evidence["attempts"], verdict.evidence["failed_attempts"]) == (2, 2)


async def test_shared_cuts_are_asked_once_per_scan(world: World) -> None:
    ctx = _ctx(world, _resolver(HOSTS))
    await _walk(ctx, "hunan.gov.cn")
    first = len(world.asked)
    chain = await _walk(ctx, "beijing.gov.cn")
    assert judge_delegation(chain).status is Status.PASS
    # the second domain costs only its step below gov.cn and its own cut's SOA
    assert world.asked[first:] == [
        ("2001:db8:2::1", "beijing.gov.cn", "NS"),
        ("2001:db8:4::1", "beijing.gov.cn", "SOA"),
    ]
    again = len(world.asked)
    await _walk(ctx, "hunan.gov.cn")
    assert len(world.asked) == again  # a domain walked before costs nothing


async def test_the_own_zones_soa_questions_are_shared_with_dns_ns_reachable(
    world: World,
) -> None:
    resolver = _resolver(HOSTS, {("hunan.gov.cn", "NS"): ZONES["hunan.gov.cn"]})
    ctx = _ctx(world, resolver)
    reach = await observe_ns_reachability(ctx, _domain("hunan.gov.cn"))
    assert [a.good for a in reach.answers] == [True]
    await _walk(ctx, "hunan.gov.cn")
    assert world.asked.count(("2001:db8:3::1", "hunan.gov.cn", "SOA")) == 1


async def test_a_name_inside_a_zone_is_not_a_cut(world: World) -> None:
    # www.hunan.gov.cn has no cut of its own: the chain ends at hunan.gov.cn
    chain = await _walk(_ctx(world, _resolver(HOSTS)), "www.hunan.gov.cn")
    assert chain.ending == "nxdomain"  # the world has no www: NXDOMAIN from hunan's server
    assert judge_delegation(chain).status is Status.SKIP
    world.names.add("www.hunan.gov.cn")
    chain = await _walk(_ctx(world, _resolver(HOSTS)), "www.hunan.gov.cn")
    assert [c.zone for c in chain.cuts] == ["cn", "gov.cn", "hunan.gov.cn"]
    assert judge_delegation(chain).status is Status.PASS


async def test_no_ipv6_path_is_an_error_and_sends_nothing(world: World) -> None:
    chain = await _walk(_ctx(world, _resolver(HOSTS), ipv6=False), "hunan.gov.cn")
    verdict = judge_delegation(chain)
    assert verdict.status is Status.ERROR
    assert "no IPv6 path" in verdict.detail
    assert world.asked == []


async def test_a_tld_whose_ns_cannot_be_found_is_an_error(world: World) -> None:
    resolver = _resolver(HOSTS, {("cn", "NS"): "SERVFAIL"})
    verdict = judge_delegation(await _walk(_ctx(world, resolver), "hunan.gov.cn"))
    assert verdict.status is Status.ERROR
    assert "name servers of the TLD" in verdict.detail and "SERVFAIL" in verdict.detail


async def test_a_failed_aaaa_lookup_of_a_cut_without_answers_is_an_error(world: World) -> None:
    world.__init__(V4_ONLY_GOV)  # type: ignore[misc]
    failed: Table = {("a.dns.cn", "AAAA"): "SERVFAIL", ("b.dns.cn", "AAAA"): "SERVFAIL"}
    resolver = _resolver(V4_ONLY_GOV, failed)
    verdict = judge_delegation(await _walk(_ctx(world, resolver), "hunan.gov.cn"))
    assert verdict.status is Status.ERROR
    assert "a.dns.cn" in verdict.detail


async def test_non_global_name_server_addresses_get_no_packet(world: World) -> None:
    hosts = {**HOSTS, "ns.hunan.gov.cn": ("::1",)}
    world.__init__(hosts)  # type: ignore[misc]
    verdict = judge_delegation(await _walk(_ctx(world, _resolver(hosts)), "hunan.gov.cn"))
    assert verdict.status is Status.FAIL
    assert "No name server of hunan.gov.cn" in verdict.detail
    assert not [a for a in world.asked if a[0] == "::1"]


# ------------------------------------------------------------------ reading one reply


def _ns(reply: DnsReply, authority: tuple[RR, ...] = (), glue: tuple[RR, ...] = ()) -> NsReply:
    return NsReply(reply, authority, glue)


def _r(rcode: str = "NOERROR", aa: bool = False, answers: tuple[RR, ...] = ()) -> DnsReply:
    return DnsReply("x", "NS", "2001:db8::1", rcode, answers, authoritative=aa)


def test_a_referral_is_a_cut_with_its_in_bailiwick_glue_only() -> None:
    authority = (RR("gov.cn", "NS", 1, "ns1.gov.cn"), RR("gov.cn", "NS", 1, "ns.other.org"))
    glue = (
        RR("ns1.gov.cn", "AAAA", 1, "2001:db8::5"),
        RR("ns.other.org", "AAAA", 1, "2001:db8::6"),
    )
    step = read_step("cn", "gov.cn", _ns(_r(), authority, glue))
    assert (step.kind, step.zone, step.source) == (CUT, "gov.cn", "referral")
    assert step.hosts == ("ns.other.org", "ns1.gov.cn")
    assert step.glue == (("ns1.gov.cn", ("2001:db8::5",)),)


def test_ns_records_at_the_name_make_it_a_cut() -> None:
    answers = (RR("gov.cn", "NS", 1, "ns1.gov.cn"),)
    step = read_step("cn", "gov.cn", _ns(_r(aa=True, answers=answers)))
    assert (step.kind, step.zone, step.source) == (CUT, "gov.cn", "answer")


def test_other_answers() -> None:
    assert read_step("cn", "gov.cn", _ns(_r(aa=True))).kind == SAME
    assert read_step("cn", "gov.cn", _ns(_r("NXDOMAIN", aa=True))).kind == GONE
    assert read_step("cn", "gov.cn", _ns(_r("REFUSED"))).kind == UNUSABLE
    assert read_step("cn", "gov.cn", _ns(_r())).kind == UNUSABLE  # lame: neither
    # a "referral" that leads up or sideways is no referral
    upward = (RR("com", "NS", 1, "a.gtld"),)
    assert read_step("cn", "gov.cn", _ns(_r(), upward)).kind == UNUSABLE


# ------------------------------------------------------------------ the judge's tries


def test_a_pass_resting_on_a_cut_that_answered_only_on_a_later_try_is_intermittent(
    world: World,
) -> None:
    import asyncio

    chain = asyncio.run(_walk(_ctx(world, _resolver(HOSTS)), "hunan.gov.cn"))
    gov = chain.cuts[1]
    flaky = tuple(replace(a, attempts=2, failed_attempts=1) for a in gov.answers)
    chain = replace(chain, cuts=(chain.cuts[0], replace(gov, answers=flaky), chain.cuts[2]))
    verdict = judge_delegation(chain)
    assert verdict.status is Status.WARN
    assert "intermittent" in verdict.detail and verdict.evidence["intermittent"] is True


def test_a_failed_answer_of_one_server_beside_a_steady_one_still_passes(world: World) -> None:
    import asyncio

    chain = asyncio.run(_walk(_ctx(world, _resolver(HOSTS)), "hunan.gov.cn"))
    gov = chain.cuts[1]
    dead = NsAnswer("ns2.gov.cn", "2001:db8:2::2", "TIMEOUT", False, False, "no answer", 0, 3, 3)
    chain = replace(chain, cuts=(chain.cuts[0], replace(gov, answers=(gov.answers[0], dead)),
                                 chain.cuts[2]))  # fmt: skip
    verdict = judge_delegation(chain)
    assert verdict.status is Status.PASS
    assert verdict.evidence["attempts"] == 3
