"""The preflight's word on the resolvers (INTERFACE.md, "A resolver that cannot be
trusted"): each is asked ipv4only.arpa AAAA/A and the root's NS; one that denies them
(NXDOMAIN, REFUSED), rewrites them or stays silent is not used, and with none usable every
look-up fails at once with an error naming each resolver and what it answered."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import dns.message
import dns.rcode
import dns.rrset
import pytest

from ipv6scan.addresses import AddressPolicy
from ipv6scan.context import Limits, ScanContext
from ipv6scan.dnsclient.fast import FastUdpTransport
from ipv6scan.dnsclient.resolution import NO_RESOLVER, Resolver
from ipv6scan.dnsclient.transport import RR, DnspythonTransport, DnsReply, DnsServer
from ipv6scan.engine import run
from ipv6scan.engine.dns_only import bulk_capable
from ipv6scan.observations.dns import Connectivity
from ipv6scan.preflight import (
    VETTING_QUESTIONS,
    check_connectivity,
    resolver_problem,
    resolver_warning,
    usable_servers,
)
from tests.unit.test_dns_transport import udp_server

Handler = Callable[[bytes], bytes | None]


def _good(wire: bytes) -> bytes:
    """A resolver that knows the world: ipv4only.arpa A, the root's NS, and www.ok.test."""
    query = dns.message.from_wire(wire)
    reply = dns.message.make_response(query)
    question = query.question[0]
    name, rdtype = question.name.to_text(), dns.rdatatype.to_text(question.rdtype)
    if (name, rdtype) == ("ipv4only.arpa.", "A"):
        reply.answer.append(dns.rrset.from_text(name, 60, "IN", "A", "192.0.0.170", "192.0.0.171"))
    elif (name, rdtype) == (".", "NS"):
        reply.answer.append(dns.rrset.from_text(name, 60, "IN", "NS", "a.root.test."))
    elif (name, rdtype) == ("www.ok.test.", "AAAA"):
        reply.answer.append(dns.rrset.from_text(name, 60, "IN", "AAAA", "2001:db8::1"))
    return reply.to_wire()


def _rcode(code: dns.rcode.Rcode) -> Handler:
    def handle(wire: bytes) -> bytes:
        reply = dns.message.make_response(dns.message.from_wire(wire))
        reply.set_rcode(code)
        return reply.to_wire()

    return handle


def _hijacking(wire: bytes) -> bytes:
    """Answers every A question with its own address, as a captive portal would."""
    query = dns.message.from_wire(wire)
    reply = dns.message.make_response(query)
    question = query.question[0]
    if question.rdtype == dns.rdatatype.A:
        reply.answer.append(dns.rrset.from_text(question.name, 60, "IN", "A", "198.51.100.9"))
    return reply.to_wire()


@pytest.mark.parametrize(
    ("handler", "said"),
    [
        (_rcode(dns.rcode.NXDOMAIN), "answered NXDOMAIN for ipv4only.arpa AAAA"),
        (_rcode(dns.rcode.REFUSED), "answered REFUSED for ipv4only.arpa AAAA"),
        (lambda wire: None, "did not answer ipv4only.arpa AAAA (no answer within the timeout)"),
        (_hijacking, "answered ipv4only.arpa A with 198.51.100.9, not 192.0.0.170/171"),
    ],
)
async def test_a_resolver_that_denies_the_well_known_names_is_not_used(
    handler: Handler, said: str
) -> None:
    # Given one resolver that denies, ignores or rewrites the well-known names
    async with udp_server(handler) as (server, _):
        found = await check_connectivity(DnspythonTransport(), [server], 0.2)
    # Then no resolver is usable, and the detail names it and what it answered
    assert found.resolvers_usable is False
    assert found.unusable_resolvers == ((str(server), said),)
    assert found.no_resolver_detail == f"no usable resolver: {server} {said}"
    warning = resolver_warning(found)
    assert warning is not None and "\n" not in warning
    assert warning.startswith("error: no usable resolver") and str(server) in warning
    assert f"resolver {server} not used: it {said}" in found.notes


async def test_a_good_resolver_is_used_and_a_bad_one_beside_it_is_not() -> None:
    async with (
        udp_server(_good) as (good, _),
        udp_server(_rcode(dns.rcode.NXDOMAIN)) as (bad, _),
    ):
        found = await check_connectivity(DnspythonTransport(), [bad, good], 0.5)
    assert found.resolvers_usable is True and found.no_resolver_detail is None
    assert usable_servers([bad, good], found) == (good,)
    warning = resolver_warning(found)
    assert warning is not None and warning.startswith("warning: resolvers not used")
    assert str(bad) in warning and str(good) not in warning


async def test_a_good_resolver_gets_no_warning() -> None:
    async with udp_server(_good) as (server, _):
        found = await check_connectivity(DnspythonTransport(), [server], 0.5)
    assert found.resolvers_usable and found.resolvers_answered
    assert found.unusable_resolvers == ()
    assert resolver_warning(found) is None


def _reply(qname: str, rdtype: str, rcode: str, *data: str) -> DnsReply:
    answers = tuple(RR(qname, rdtype, 60, d) for d in data)
    return DnsReply(qname, rdtype, "2001:db8::53", rcode, answers)


def test_nodata_and_servfail_are_no_reason_to_drop_a_resolver() -> None:
    # ipv4only.arpa AAAA is NODATA on any resolver without DNS64; a SERVFAIL is a failure
    # of that one name, which each look-up reports itself
    replies = [
        _reply("ipv4only.arpa", "AAAA", "NOERROR"),
        _reply("ipv4only.arpa", "A", "NOERROR", "192.0.0.170"),
        _reply(".", "NS", "SERVFAIL"),
    ]
    assert [q for q, _ in VETTING_QUESTIONS] == ["ipv4only.arpa", "ipv4only.arpa", "."]
    assert resolver_problem(replies) is None
    replies[2] = _reply(".", "NS", "NXDOMAIN")
    assert resolver_problem(replies) == "answered NXDOMAIN for . NS"


class _NoNetwork:
    async def query(self, *args: object, **kwargs: object) -> DnsReply:
        raise AssertionError("a query was sent through an unusable resolver")


async def test_an_unusable_resolver_answers_every_look_up_with_the_error_at_once() -> None:
    why = "no usable resolver: 2001:db8:53::66 answered NXDOMAIN for ipv4only.arpa AAAA"
    resolver = Resolver(_NoNetwork(), [DnsServer("2001:db8:53::66")], timeout=1, unusable=why)
    lookup = await resolver.lookup("www.example.test", "AAAA")
    assert lookup.rcode == NO_RESOLVER and not lookup.ok and lookup.error == why
    assert lookup.describe_failure() == f"AAAA www.example.test: {why}"
    assert resolver.queries_sent == 0


def test_the_dns_bulk_path_is_not_taken_without_a_usable_resolver() -> None:
    def ctx(unusable: str | None) -> ScanContext:
        resolver = Resolver(
            FastUdpTransport(), [DnsServer("2001:db8::53")], timeout=1, unusable=unusable
        )
        return ScanContext(resolver=resolver, transport=None,  # type: ignore[arg-type]
                           policy=AddressPolicy(), connectivity=Connectivity(True, True),
                           limits=Limits(8, 8), timeout=1)  # fmt: skip

    assert bulk_capable(["dns.aaaa"], ctx(None))
    assert not bulk_capable(["dns.aaaa"], ctx("no usable resolver: ..."))


async def test_the_scan_asks_only_the_usable_resolvers(tmp_path: Path) -> None:
    # Given a known preflight (as a bulk worker gets it) that rejected one of two resolvers
    bad, good = DnsServer("2001:db8:53::66"), DnsServer("2001:db8:53::53")
    known = Connectivity(True, True, unusable_resolvers=((str(bad), "answered NXDOMAIN"),))
    config = run.ScanConfig(out=tmp_path, checks=(), resolvers=(bad, good))
    ctx = await run.prepare_context(config, known=known)
    assert ctx.resolver.servers == (good,) and ctx.resolver.unusable is None
    # And with both rejected: the look-ups fail with the detail, naming both
    known = Connectivity(
        True,
        True,
        unusable_resolvers=((str(bad), "answered NXDOMAIN"), (str(good), "answered REFUSED")),
        resolvers_usable=False,
    )
    ctx = await run.prepare_context(config, known=known)
    assert ctx.resolver.unusable == (
        "no usable resolver: 2001:db8:53::66 answered NXDOMAIN; 2001:db8:53::53 answered REFUSED"
    )
