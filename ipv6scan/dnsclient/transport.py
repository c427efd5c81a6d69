"""DNS transport: send one query to one server, return what came back.

This is the only module that encodes and decodes DNS messages, so a faster
codec can replace `DnspythonTransport` without touching resolution or checks.
"""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager

import dns.asyncbackend
import dns.asyncquery
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype

from ipv6scan import stall_clock
from ipv6scan.dnsclient import reasons

# the records and outcomes, compiled (see dns_records.py); imported from here everywhere
from ipv6scan.dnsclient.records import (  # noqa: F401
    MALFORMED,
    NET_ERROR,
    NO_ANSWER_OUTCOMES,
    NO_PATH,
    REFUSED_PORT,
    RR,
    TIMEOUT,
    DnsReply,
)

# the server and the transport's protocol, and our-side errors: light, imported from here too
from ipv6scan.dnsclient.server import DnsServer, DnsTransport  # noqa: F401
from ipv6scan.nopath import NO_PATH_ERRNOS


def normalize_name(name: dns.name.Name | str) -> str:
    text = name.to_text() if isinstance(name, dns.name.Name) else name
    if text == ".":
        return text
    return text.rstrip(".").lower()


def _records(response: dns.message.Message) -> tuple[RR, ...]:
    out: list[RR] = []
    for rrset in response.answer:
        owner = normalize_name(rrset.name)
        rdtype = dns.rdatatype.to_text(rrset.rdtype)
        for rd in rrset:
            if rdtype in ("CNAME", "NS", "PTR", "DNAME"):
                out.append(RR(owner, rdtype, rrset.ttl, normalize_name(rd.target)))
            elif rdtype == "MX":
                out.append(RR(owner, rdtype, rrset.ttl, normalize_name(rd.exchange), rd.preference))
            else:
                out.append(RR(owner, rdtype, rrset.ttl, rd.to_text()))
    return tuple(out)


def make_query(qname: str, rdtype: str, recursion: bool) -> dns.message.Message:
    flags = dns.flags.RD if recursion else 0
    return dns.message.make_query(qname, rdtype, use_edns=0, payload=1232, flags=flags)


async def tcp_exchange(
    q: dns.message.Message, server: DnsServer, due: float
) -> tuple[dns.message.Message, bool]:
    """The TCP retry after a truncated UDP answer, by `due` (on stall_clock's watched
    clock): what is left of the query's timeout."""
    async with _watched(due):
        response = await dns.asyncquery.tcp(q, server.address, port=server.port)
    return response, True


@asynccontextmanager
async def _watched(due: float) -> AsyncIterator[None]:
    """dnspython's timeout, on the watched clock (see stall_clock): dns.exception.Timeout
    once it reaches `due`."""
    try:
        async with stall_clock.timeout_at(due):
            yield
    except TimeoutError:
        raise dns.exception.Timeout from None


async def reply_from(
    exchange: Awaitable[tuple[dns.message.Message, bool]],
    server: DnsServer,
    qname: str,
    rdtype: str,
    started: float,
) -> DnsReply:
    """Await a dnspython exchange and turn its answer, or the way it failed, into a DnsReply:
    the one mapping of exceptions to outcomes, shared by every transport that uses dnspython."""

    def reply(
        rcode: str,
        error: str | None = None,
        answers: tuple[RR, ...] = (),
        authoritative: bool = False,
        truncated_then_tcp: bool = False,
    ) -> DnsReply:
        return DnsReply(
            qname=qname,
            rdtype=rdtype,
            server=str(server),
            rcode=rcode,
            answers=answers,
            authoritative=authoritative,
            truncated_then_tcp=truncated_then_tcp,
            elapsed_ms=(time.monotonic() - started) * 1000,
            error=error,
        )

    try:
        response, used_tcp = await exchange
    except dns.exception.Timeout:
        return reply(TIMEOUT, reasons.NO_ANSWER_IN_TIME)
    except ConnectionRefusedError:
        return reply(REFUSED_PORT, reasons.PORT_UNREACHABLE)
    except OSError as exc:
        if exc.errno in NO_PATH_ERRNOS:
            return reply(NO_PATH, reasons.said(reasons.NO_ROUTE, f"{exc.strerror}"))
        return reply(NET_ERROR, reasons.said(reasons.NETWORK_ERROR, f"{exc.strerror or exc}"))
    except (dns.exception.FormError, dns.exception.SyntaxError, ValueError, EOFError) as exc:
        return reply(MALFORMED, reasons.MALFORMED_REPLY(reason=f"{exc}"))
    except dns.exception.DNSException as exc:
        return reply(MALFORMED, reasons.DNS_ERROR(reason=f"{exc}"))
    return reply(
        dns.rcode.to_text(response.rcode()),
        answers=_records(response),
        authoritative=bool(response.flags & dns.flags.AA),
        truncated_then_tcp=used_tcp,
    )


class DnspythonTransport:
    """UDP with TCP fallback on truncation, via dnspython's asyncio API.

    The UDP socket is connected, so an ICMP port unreachable comes back as an error at
    once instead of a timeout, and a missing route fails at connect(). The TCP retry
    gets only what is left of the timeout: one query never costs more than `timeout`.
    """

    async def _exchange(
        self, q: dns.message.Message, server: DnsServer, due: float
    ) -> tuple[dns.message.Message, bool]:
        """UDP, then TCP on truncation, both by `due` (on stall_clock's watched clock)."""
        backend = dns.asyncbackend.get_default_backend()
        family = socket.AF_INET6 if server.family == 6 else socket.AF_INET
        destination = (server.address, server.port)
        sock = await backend.make_socket(family, socket.SOCK_DGRAM, 0, None, destination)
        async with sock:
            try:
                async with _watched(due):
                    response = await dns.asyncquery.udp(
                        q, server.address, port=server.port, sock=sock, raise_on_truncation=True
                    )
                return response, False
            except dns.message.Truncated:
                pass
        return await tcp_exchange(q, server, due)

    async def query(
        self, server: DnsServer, qname: str, rdtype: str, *, recursion: bool, timeout: float
    ) -> DnsReply:
        started = time.monotonic()
        q = make_query(qname, rdtype, recursion)
        due = stall_clock.now() + timeout
        return await reply_from(self._exchange(q, server, due), server, qname,
                                rdtype, started)  # fmt: skip
