"""DnspythonTransport against tiny DNS servers started in-process on 127.0.0.1.

Every server and socket opened here is closed by its fixture or context manager.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import time
from collections.abc import AsyncIterator, Callable

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rrset
import pytest

from ipv6scan.dnsclient.transport import (
    MALFORMED,
    NO_ANSWER_OUTCOMES,
    REFUSED_PORT,
    RR,
    TIMEOUT,
    DnspythonTransport,
    DnsServer,
    normalize_name,
)

LOOPBACK = "127.0.0.1"
# Handler: the query's wire bytes -> reply bytes, or None to stay silent.
Handler = Callable[[bytes], bytes | None]


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, handler: Handler, seen: list[dns.message.Message]) -> None:
        self.handler = handler
        self.seen = seen
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        with contextlib.suppress(Exception):
            self.seen.append(dns.message.from_wire(data))
        reply = self.handler(data)
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)


@contextlib.asynccontextmanager
async def udp_server(
    handler: Handler, port: int = 0, host: str = LOOPBACK
) -> AsyncIterator[tuple[DnsServer, list[dns.message.Message]]]:
    loop = asyncio.get_running_loop()
    seen: list[dns.message.Message] = []
    transport, _ = await loop.create_datagram_endpoint(
        lambda: _Udp(handler, seen), local_addr=(host, port)
    )
    try:
        bound = transport.get_extra_info("sockname")[1]
        yield DnsServer(host, bound), seen
    finally:
        transport.close()


@contextlib.asynccontextmanager
async def tcp_server(handler: Handler, host: str = LOOPBACK) -> AsyncIterator[int]:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            (length,) = struct.unpack("!H", await reader.readexactly(2))
            reply = handler(await reader.readexactly(length))
            if reply is not None:
                writer.write(struct.pack("!H", len(reply)) + reply)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, host, 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


def respond(
    *rrsets: str,
    rcode: int = dns.rcode.NOERROR,
    aa: bool = True,
    tc: bool = False,
) -> Handler:
    """A handler answering every question with the given rrsets (presentation text)."""

    def handler(wire: bytes) -> bytes:
        query = dns.message.from_wire(wire)
        reply = dns.message.make_response(query)
        reply.set_rcode(rcode)
        if aa:
            reply.flags |= dns.flags.AA
        if tc:
            reply.flags |= dns.flags.TC
        for text in rrsets:
            name, ttl, rdclass, rdtype, *rdata = text.split()
            reply.answer.append(
                dns.rrset.from_text(name, int(ttl), rdclass, rdtype, " ".join(rdata))
            )
        return reply.to_wire(max_size=65535)

    return handler


def unused_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


async def ask(server: DnsServer, qname: str = "www.example.com", rdtype: str = "AAAA", **kw):  # type: ignore[no-untyped-def]
    kw.setdefault("recursion", True)
    kw.setdefault("timeout", 2.0)
    return await DnspythonTransport().query(server, qname, rdtype, **kw)


def test_normalize_name() -> None:
    assert normalize_name("WWW.Example.COM.") == "www.example.com"
    assert normalize_name(dns.name.from_text("Mx1.EXAMPLE.net")) == "mx1.example.net"
    assert normalize_name(dns.name.root) == "."
    assert normalize_name(".") == "."


async def test_answer_records_are_reduced_and_normalised() -> None:
    handler = respond(
        "WWW.Example.COM. 300 IN CNAME CDN.Example.NET.",
        "cdn.example.net. 60 IN AAAA 2001:db8::1",
        "cdn.example.net. 60 IN AAAA 2001:DB8:0:0::2",
    )
    async with udp_server(handler) as (server, seen):
        reply = await ask(server)
    assert reply.rcode == "NOERROR"
    assert reply.answered
    assert reply.answers == (
        RR("www.example.com", "CNAME", 300, "cdn.example.net"),
        RR("cdn.example.net", "AAAA", 60, "2001:db8::1"),
        RR("cdn.example.net", "AAAA", 60, "2001:db8::2"),
    )
    assert reply.qname == "www.example.com"
    assert reply.rdtype == "AAAA"
    assert reply.server == f"127.0.0.1:{server.port}"
    assert reply.truncated_then_tcp is False
    assert reply.error is None
    assert reply.elapsed_ms > 0
    (query,) = seen
    assert query.question[0].name.to_text() == "www.example.com."
    assert query.edns == 0


async def test_mx_ns_and_soa_records() -> None:
    handler = respond(
        "Example.com. 3600 IN MX 10 MX1.Example.COM.",
        "example.com. 3600 IN MX 0 .",
        "example.com. 3600 IN NS NS1.example.NET.",
        "example.com. 3600 IN SOA ns1.example.net. hostmaster.example.com. 7 3600 600 86400 300",
    )
    async with udp_server(handler) as (server, _):
        reply = await ask(server, "example.com", "MX")
    assert reply.answers[0] == RR("example.com", "MX", 3600, "mx1.example.com", 10)
    assert reply.answers[1] == RR("example.com", "MX", 3600, ".", 0)
    assert reply.answers[2] == RR("example.com", "NS", 3600, "ns1.example.net")
    soa = reply.answers[3]
    assert (soa.name, soa.rdtype, soa.pref) == ("example.com", "SOA", None)
    assert soa.data.split()[2:] == ["7", "3600", "600", "86400", "300"]


async def test_root_owner_stays_a_dot() -> None:
    async with udp_server(respond(". 518400 IN NS a.root-servers.net.")) as (server, _):
        reply = await ask(server, ".", "NS")
    assert reply.answers == (RR(".", "NS", 518400, "a.root-servers.net"),)


@pytest.mark.parametrize("aa", [True, False])
async def test_authoritative_flag(aa: bool) -> None:
    async with udp_server(respond("example.com. 60 IN SOA a. b. 1 2 3 4 5", aa=aa)) as (s, _):
        reply = await ask(s, "example.com", "SOA", recursion=False)
    assert reply.authoritative is aa


@pytest.mark.parametrize("recursion", [True, False])
async def test_recursion_desired_flag_follows_the_argument(recursion: bool) -> None:
    async with udp_server(respond()) as (server, seen):
        await ask(server, recursion=recursion)
    (query,) = seen
    assert bool(query.flags & dns.flags.RD) is recursion


@pytest.mark.parametrize(
    ("rcode", "text"),
    [
        (dns.rcode.NXDOMAIN, "NXDOMAIN"),
        (dns.rcode.SERVFAIL, "SERVFAIL"),
        (dns.rcode.REFUSED, "REFUSED"),
    ],
)
async def test_rcodes_are_reported_as_text(rcode: int, text: str) -> None:
    async with udp_server(respond(rcode=rcode, aa=False)) as (server, _):
        reply = await ask(server)
    assert reply.rcode == text
    assert reply.answered  # the server answered: a DNS rcode, not a no-answer outcome
    assert reply.answers == ()


@contextlib.asynccontextmanager
async def udp_and_tcp(
    udp: Handler, tcp: Handler
) -> AsyncIterator[tuple[DnsServer, list[dns.message.Message]]]:
    """UDP and TCP servers on one port (the TCP port is chosen first; retried if UDP's is taken)."""
    for _ in range(10):
        async with tcp_server(tcp) as port:
            try:
                cm = udp_server(udp, port=port)
                server, seen = await cm.__aenter__()
            except OSError:
                continue
            try:
                yield server, seen
            finally:
                await cm.__aexit__(None, None, None)
            return
    raise RuntimeError("no port free for both UDP and TCP")


async def test_truncated_udp_answer_falls_back_to_tcp() -> None:
    full = respond(*(f"big.example. 60 IN AAAA 2001:db8::{i:x}" for i in range(1, 120)))
    async with udp_and_tcp(respond(tc=True), full) as (server, seen):
        reply = await ask(server, "big.example")
    assert reply.truncated_then_tcp is True
    assert reply.rcode == "NOERROR"
    assert len(reply.answers) == 119
    assert reply.answers[0] == RR("big.example", "AAAA", 60, "2001:db8::1")
    assert len(seen) == 1  # UDP asked once, then TCP


async def test_untruncated_answer_does_not_use_tcp() -> None:
    def tcp_must_not_be_used(wire: bytes) -> bytes:
        raise AssertionError("TCP used without truncation")

    async with udp_and_tcp(respond("x.example. 60 IN AAAA 2001:db8::1"), tcp_must_not_be_used) as (
        server,
        _,
    ):
        reply = await ask(server, "x.example")
    assert reply.truncated_then_tcp is False
    assert reply.answers == (RR("x.example", "AAAA", 60, "2001:db8::1"),)


async def test_server_that_never_answers_times_out_within_the_timeout() -> None:
    async with udp_server(lambda wire: None) as (server, seen):
        started = time.monotonic()
        reply = await ask(server, timeout=0.4)
        elapsed = time.monotonic() - started
    assert reply.rcode == TIMEOUT
    assert not reply.answered
    assert reply.error is not None and "timeout" in reply.error
    assert 0.35 <= elapsed < 1.5
    assert 350 <= reply.elapsed_ms < 1500
    assert len(seen) == 1


async def test_garbage_reply_is_malformed() -> None:
    async with udp_server(lambda wire: b"\x00\x01garbage") as (server, _):
        reply = await ask(server, timeout=1.0)
    # dnspython (ignore_errors off) raises on the first undecodable datagram: deterministic
    assert reply.rcode == MALFORMED
    assert not reply.answered
    assert reply.error is not None and reply.error.startswith("malformed reply")


async def test_reply_to_another_question_is_malformed() -> None:
    def wrong_id(wire: bytes) -> bytes:
        reply = dns.message.from_wire(respond("x.example. 60 IN AAAA 2001:db8::1")(wire))
        reply.id ^= 0xFFFF
        return reply.to_wire(max_size=65535)

    async with udp_server(wrong_id) as (server, _):
        reply = await ask(server, timeout=1.0)
    assert reply.rcode == MALFORMED
    assert reply.answers == ()


async def test_nothing_listening_is_a_no_answer_outcome_not_a_crash() -> None:
    server = DnsServer(LOOPBACK, unused_udp_port())
    started = time.monotonic()
    reply = await ask(server, timeout=0.5)
    assert reply.rcode in NO_ANSWER_OUTCOMES
    assert not reply.answered
    assert time.monotonic() - started < 1.5


async def test_nothing_listening_is_port_unreachable() -> None:
    server = DnsServer(LOOPBACK, unused_udp_port())
    reply = await ask(server, timeout=1.0)
    assert reply.rcode == REFUSED_PORT
    assert reply.error is not None and "port unreachable" in reply.error


async def test_ipv6_loopback() -> None:
    try:
        cm = udp_server(respond("six.example. 60 IN AAAA ::1"), host="::1")
        server, _ = await cm.__aenter__()
    except OSError:
        pytest.skip("no IPv6 loopback here")
    try:
        reply = await ask(server, "six.example")
    finally:
        await cm.__aexit__(None, None, None)
    assert reply.rcode == "NOERROR"
    assert reply.answers == (RR("six.example", "AAAA", 60, "::1"),)
    assert reply.server == f"[::1]:{server.port}"
