"""FastUdpTransport against tiny DNS servers on 127.0.0.1: the same replies as
DnspythonTransport, one socket per resolver, and the anti-spoofing rules."""

from __future__ import annotations

import asyncio
import time

import dns.message
import dns.rcode
import pytest

from ipv6scan.dnsclient import wire as dnswire
from ipv6scan.dnsclient.fast import MIN_WINDOW, FastUdpTransport, recursive_transport
from ipv6scan.dnsclient.resolution import Resolver
from ipv6scan.dnsclient.transport import (
    MALFORMED,
    REFUSED_PORT,
    RR,
    TIMEOUT,
    DnspythonTransport,
    DnsReply,
    DnsServer,
)
from tests.unit.test_dns_transport import (
    LOOPBACK,
    respond,
    udp_and_tcp,
    udp_server,
    unused_udp_port,
)


def _same(a: DnsReply, b: DnsReply) -> None:
    """Equal apart from timing."""
    assert (a.qname, a.rdtype, a.server, a.rcode, a.answers, a.authoritative, a.error) == (
        b.qname,
        b.rdtype,
        b.server,
        b.rcode,
        b.answers,
        b.authoritative,
        b.error,
    )
    assert a.truncated_then_tcp == b.truncated_then_tcp


@pytest.mark.parametrize(
    ("rrsets", "qname", "rdtype", "rcode"),
    [
        (
            (
                "WWW.Example.COM. 300 IN CNAME CDN.Example.NET.",
                "cdn.example.net. 60 IN AAAA 2001:db8::1",
                "cdn.example.net. 30 IN AAAA 2001:DB8:0:0::2",
                "cdn.example.net. 60 IN AAAA ::ffff:198.51.100.7",
            ),
            "www.example.com",
            "AAAA",
            dns.rcode.NOERROR,
        ),
        (("a.example. 60 IN A 198.51.100.1",), "a.example", "A", dns.rcode.NOERROR),
        (
            (
                "Example.com. 3600 IN MX 10 MX1.Example.COM.",
                "example.com. 3600 IN MX 0 .",
                "example.com. 3600 IN NS NS1.example.NET.",
                "example.com. 3600 IN SOA ns1.example.net. h.example.com. 7 3600 600 86400 300",
            ),
            "example.com",
            "MX",
            dns.rcode.NOERROR,
        ),
        ((), "nx.example", "AAAA", dns.rcode.NXDOMAIN),
        ((), "sf.example", "AAAA", dns.rcode.SERVFAIL),
        ((". 518400 IN NS a.root-servers.net.",), ".", "NS", dns.rcode.NOERROR),
    ],
)
async def test_same_reply_as_dnspython(
    rrsets: tuple[str, ...], qname: str, rdtype: str, rcode: int
) -> None:
    # Given a server answering with these records
    async with udp_server(respond(*rrsets, rcode=rcode)) as (server, seen):
        # When both transports ask the same question
        fast = await FastUdpTransport().query(server, qname, rdtype, recursion=True, timeout=2)
        slow = await DnspythonTransport().query(server, qname, rdtype, recursion=True, timeout=2)
    # Then they report the same thing, and sent the same query apart from the ID
    _same(fast, slow)
    assert seen[0].to_wire()[2:] == seen[1].to_wire()[2:]


async def test_one_socket_many_queries_in_flight() -> None:
    # Given one server and one transport
    async with udp_server(respond("x.example. 60 IN AAAA 2001:db8::1")) as (server, seen):
        transport = FastUdpTransport()
        # When 200 queries are in flight at once (below what the test server's default
        # receive buffer holds: it, not the transport, would drop a bigger burst)
        replies = await asyncio.gather(
            *(
                transport.query(server, f"n{i}.example", "AAAA", recursion=True, timeout=3)
                for i in range(200)
            )
        )
        transport.close()
    # Then every one is answered, from one source port, with distinct IDs
    assert all(r.rcode == "NOERROR" for r in replies)
    assert len(seen) == 200
    assert len({m.id for m in seen}) == 200
    assert transport.sent == 200 and transport.received == 200


async def test_no_more_queries_in_flight_than_the_buffer_holds_answers() -> None:
    # Given a transport whose receive buffer holds few answers, and a server answering all
    async with udp_server(respond("x.example. 60 IN AAAA 2001:db8::1")) as (server, seen):
        transport = FastUdpTransport(rcvbuf=64 << 10)
        replies: list[DnsReply] = []
        # When a thousand queries are asked at once
        for i in range(1000):
            transport.submit(server, f"n{i}.example", "AAAA", recursion=True, timeout=3,
                             done=replies.append)  # fmt: skip
        (channel,) = transport._channels.values()
        # Then the smallest window's worth is in flight and the rest wait their turn
        assert channel.window == MIN_WINDOW
        assert (len(channel.pending), len(channel.backlog)) == (MIN_WINDOW, 1000 - MIN_WINDOW)
        while len(replies) < 1000:
            await asyncio.sleep(0.01)
        transport.close()
    # And every one is answered: none was lost to a full buffer
    assert len(seen) == 1000 and all(r.rcode == "NOERROR" for r in replies)


async def test_a_waiting_querys_timeout_runs_from_its_send() -> None:
    # Given a silent server and more queries than the window
    async with udp_server(lambda wire: None) as (server, _):
        transport = FastUdpTransport(rcvbuf=64 << 10)
        ended: list[float] = []
        started = time.monotonic()

        def done(reply: DnsReply) -> None:
            ended.append(time.monotonic() - started)

        for i in range(MIN_WINDOW + 20):
            transport.submit(server, f"n{i}.example", "AAAA", recursion=True, timeout=0.3,
                             done=done)  # fmt: skip
        while len(ended) < MIN_WINDOW + 20:
            await asyncio.sleep(0.01)
        transport.close()
    # Then the first window times out after 0.3 s, and the twenty that waited for it get
    # their own 0.3 s on the wire, not what was left of it
    assert all(0.25 <= t < 0.55 for t in ended[:MIN_WINDOW])
    assert all(t >= 0.55 for t in ended[MIN_WINDOW:])


async def test_a_cancelled_query_gives_its_room_in_the_window_to_a_waiting_one() -> None:
    # Given a silent server, a full window of queries in flight and one more waiting
    async with udp_server(lambda wire: None) as (server, seen):
        transport = FastUdpTransport(rcvbuf=64 << 10)
        tasks = [
            asyncio.ensure_future(
                transport.query(server, f"n{i}.example", "AAAA", recursion=True, timeout=5)
            )
            for i in range(MIN_WINDOW)
        ]
        await asyncio.sleep(0.05)
        waiting: list[DnsReply] = []
        transport.submit(server, "last.example", "AAAA", recursion=True, timeout=5,
                         done=waiting.append)  # fmt: skip
        (channel,) = transport._channels.values()
        assert len(channel.backlog) == 1
        # When the queries in flight are cancelled (their checks ran out of time)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.sleep(0.05)
        # Then the waiting one went out, instead of waiting for an answer that never comes
        assert not channel.backlog and len(channel.pending) == 1
        assert len(seen) == MIN_WINDOW + 1
        transport.close()


async def test_truncated_reply_falls_back_to_tcp() -> None:
    full = respond(*(f"big.example. 60 IN AAAA 2001:db8::{i:x}" for i in range(1, 120)))
    async with udp_and_tcp(respond(tc=True), full) as (server, seen):
        reply = await FastUdpTransport().query(
            server, "big.example", "AAAA", recursion=True, timeout=2
        )
    assert reply.truncated_then_tcp is True
    assert reply.rcode == "NOERROR"
    assert len(reply.answers) == 119
    assert len(seen) == 1


async def test_silence_times_out_within_the_timeout() -> None:
    async with udp_server(lambda wire: None) as (server, _):
        started = time.monotonic()
        reply = await FastUdpTransport().query(
            server, "x.example", "AAAA", recursion=True, timeout=0.4
        )
    assert reply.rcode == TIMEOUT
    assert 0.35 <= time.monotonic() - started < 1.5


async def test_reply_with_another_id_is_ignored() -> None:
    # Given a server whose replies carry the wrong ID (as a blind spoofer's would)
    def wrong_id(wire: bytes) -> bytes:
        reply = dns.message.from_wire(respond("x.example. 60 IN AAAA 2001:db8::1")(wire))
        reply.id ^= 0xFFFF
        return reply.to_wire(max_size=65535)

    async with udp_server(wrong_id) as (server, _):
        transport = FastUdpTransport()
        reply = await transport.query(server, "x.example", "AAAA", recursion=True, timeout=0.5)
    # Then the forged answer is not taken: the query times out
    assert reply.rcode == TIMEOUT
    assert reply.answers == ()


async def test_reply_to_another_question_is_not_taken_but_reported() -> None:
    # Given a server that answers with the right ID but for another name
    def other_question(wire: bytes) -> bytes:
        query = dns.message.from_wire(wire)
        forged = dns.message.make_query("evil.example", "AAAA")
        forged.id = query.id
        return respond("evil.example. 60 IN AAAA 2001:db8::666")(forged.to_wire()) or b""

    async with udp_server(other_question) as (server, _):
        reply = await FastUdpTransport().query(
            server, "x.example", "AAAA", recursion=True, timeout=0.5
        )
    # Then its records are never used, and the deadline reports what was seen
    assert reply.rcode == MALFORMED
    assert reply.answers == ()
    assert reply.error is not None and "question" in reply.error


async def test_spoofed_reply_then_real_one_gets_the_real_one() -> None:
    async with udp_server(lambda wire: None) as (server, _):
        transport = FastUdpTransport()
        task = asyncio.ensure_future(
            transport.query(server, "x.example", "AAAA", recursion=True, timeout=2)
        )
        await asyncio.sleep(0.05)
        (channel,) = transport._channels.values()
        (qid,) = channel.pending
        # a datagram with the right ID but garbage after the header, then the real answer
        transport._datagram(channel, qid.to_bytes(2, "big") + b"\x81\x80\x00\x01garbage")
        assert channel.pending[qid].bad is not None
        query = dns.message.make_query("x.example", "AAAA")
        query.id = qid
        real = respond("x.example. 60 IN AAAA 2001:db8::1")(query.to_wire())
        assert real is not None
        transport._datagram(channel, real)
        reply = await task
    assert reply.rcode == "NOERROR"
    assert reply.answers == (RR("x.example", "AAAA", 60, "2001:db8::1"),)


async def test_garbage_alone_is_malformed_at_the_deadline() -> None:
    async with udp_server(lambda wire: wire[:2] + b"\x81\x80\x00\x01" + b"garbage") as (server, _):
        reply = await FastUdpTransport().query(
            server, "x.example", "AAAA", recursion=True, timeout=0.4
        )
    assert reply.rcode == MALFORMED
    assert reply.error is not None and reply.error.startswith("malformed reply")


async def test_nothing_listening_is_port_unreachable() -> None:
    server = DnsServer(LOOPBACK, unused_udp_port())
    transport = FastUdpTransport()
    first = await transport.query(server, "x.example", "AAAA", recursion=True, timeout=1.0)
    second = await transport.query(server, "y.example", "AAAA", recursion=True, timeout=1.0)
    # the ICMP error reaches the shared socket after the first send: the first query or,
    # at the latest, the second reports it
    assert REFUSED_PORT in (first.rcode, second.rcode)
    assert {first.rcode, second.rcode} <= {REFUSED_PORT, TIMEOUT}


async def test_cancelled_query_leaves_nothing_pending() -> None:
    async with udp_server(lambda wire: None) as (server, _):
        transport = FastUdpTransport()
        task = asyncio.ensure_future(
            transport.query(server, "x.example", "AAAA", recursion=True, timeout=5)
        )
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        (channel,) = transport._channels.values()
        assert channel.pending == {}
        transport.close()


async def test_resolver_over_the_fast_transport_follows_cnames() -> None:
    def handler(wire: bytes) -> bytes | None:
        name = dns.message.from_wire(wire).question[0].name.to_text()
        if name == "www.example.com.":
            return respond("www.example.com. 60 IN CNAME edge.example.net.")(wire)
        return respond("edge.example.net. 60 IN AAAA 2001:db8::5")(wire)

    async with udp_server(handler) as (server, _):
        resolver = Resolver(FastUdpTransport(), [server], timeout=1)
        found = await resolver.lookup("www.example.com", "AAAA")
    assert found.values == ("2001:db8::5",)
    assert found.cname_chain == ("edge.example.net",)


def test_transport_choice_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IPV6SCAN_DNS_TRANSPORT", raising=False)
    assert isinstance(recursive_transport(), FastUdpTransport)
    monkeypatch.setenv("IPV6SCAN_DNS_TRANSPORT", "dnspython")
    assert isinstance(recursive_transport(), DnspythonTransport)


def test_ids_and_encoding_match_dnspython() -> None:
    query = dns.message.make_query("Mixed-Case_x.Example", "MX", use_edns=0, payload=1232)
    query.flags = 0
    wire = dnswire.encode_query(query.id, dnswire.qname_wire("Mixed-Case_x.Example"), 15, False)
    assert wire == query.to_wire()
    assert (
        dnswire.qname_wire("bücher.example")
        == dns.message.make_query("bücher.example", "A").question[0].name.to_wire()
    )
