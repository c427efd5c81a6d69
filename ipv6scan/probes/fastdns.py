"""A fast DNS transport for the recursive look-ups: one UDP socket per resolver.

DnspythonTransport opens a socket, a task and a dnspython Message per query; at
scan rates that costs more than the name server's answer. Here each resolver
gets one connected UDP socket, read by one callback on the event loop; a query
is a future in a dict keyed by its message ID, sent with one send() and decoded
by probes/dnswire.py. Same DnsTransport protocol, same DnsReply and RR.

Anti-spoofing, since one socket has one source port for the whole scan:
- IDs come from os.urandom and are allocated collision-free among the queries
  in flight on that socket;
- the socket is connected, so the kernel delivers only datagrams from the
  resolver's address and port;
- a reply must repeat the question (name, type, class) and have QR set.
A datagram that fails these checks does not end the wait: a forger cannot cut
a query short. If nothing better came by the deadline, the query reports
MALFORMED (what dnspython reports for such a reply) instead of TIMEOUT.

Differences from DnspythonTransport, all on the error paths:
- a reply with another query's ID is dropped, not reported as MALFORMED;
- an ICMP port unreachable cannot be tied to one query on a shared socket, so
  it fails every query then in flight to that resolver (PORT_UNREACHABLE).
A truncated reply (TC) is asked again over TCP through dnspython.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import socket
import time
from collections import deque
from dataclasses import dataclass, field

from ipv6scan.probes import dnswire
from ipv6scan.probes.dns import (
    MALFORMED,
    NET_ERROR,
    NO_PATH,
    NO_PATH_ERRNOS,
    REFUSED_PORT,
    TIMEOUT,
    DnspythonTransport,
    DnsReply,
    DnsServer,
    DnsTransport,
    make_query,
    reply_from,
    tcp_exchange,
)

RCVBUF = 4 << 20  # a burst of answers to thousands of queries in flight must not overflow
_SO_RCVBUFFORCE = 33  # <asm-generic/socket.h>: above rmem_max, needs CAP_NET_ADMIN
MAX_IN_FLIGHT = 32_768  # per socket; half the ID space keeps random allocation quick
MAX_CHANNELS = 64  # resolvers with their own socket; queries to others go to dnspython
_READS_PER_WAKEUP = 512  # bounded: one busy socket must not starve the loop
_SWEEP = 0.02  # deadline granularity (s): a query times out at most this much late
_TRANSIENT = frozenset({errno.EAGAIN, errno.ENOBUFS, errno.EINTR})

# What a pending query's future resolves to.
_TC = "TC"


@dataclass(slots=True, eq=False)
class _Pending:
    fut: asyncio.Future[object]
    key: tuple[bytes, int, int]
    deadline: float
    bad: str | None = None  # why a datagram carrying our ID was not accepted


class _Ids:
    """16-bit query IDs from the kernel's random source, drawn in batches."""

    def __init__(self) -> None:
        self._pool = b""
        self._at = 0

    def next(self) -> int:
        if self._at + 2 > len(self._pool):
            self._pool, self._at = os.urandom(4096), 0
        value = self._pool[self._at] << 8 | self._pool[self._at + 1]
        self._at += 2
        return value


@dataclass(eq=False)
class _Channel:
    """One connected UDP socket to one resolver and the queries in flight on it."""

    loop: asyncio.AbstractEventLoop
    sock: socket.socket
    pending: dict[int, _Pending] = field(default_factory=dict)
    deadlines: dict[float, deque[tuple[float, int, _Pending]]] = field(default_factory=dict)
    sweeper: asyncio.TimerHandle | None = None
    waiters: list[asyncio.Future[None]] = field(default_factory=list)
    unmatched: int = 0  # datagrams with no query of that ID in flight
    label: str = ""  # str(server), made once: every reply carries it


class FastUdpTransport:
    """UDP with TCP fallback on truncation; see the module docstring."""

    def __init__(self, rcvbuf: int = RCVBUF) -> None:
        self.rcvbuf = rcvbuf
        self._channels: dict[DnsServer, _Channel] = {}
        self._ids = _Ids()
        self._fallback = DnspythonTransport()
        self.sent = 0
        self.received = 0

    # --- the protocol ---------------------------------------------------------------------
    async def query(
        self, server: DnsServer, qname: str, rdtype: str, *, recursion: bool, timeout: float
    ) -> DnsReply:
        code = dnswire.TYPE_CODES.get(rdtype)
        if code is None:
            return await self._fallback.query(
                server, qname, rdtype, recursion=recursion, timeout=timeout
            )
        started = time.monotonic()
        wire_name = dnswire.qname_wire(qname)  # raises for a bad name, as make_query does
        loop = asyncio.get_running_loop()
        channel = self._channels.get(server)
        if channel is None or channel.loop is not loop:
            try:
                channel = self._channel(server, loop)
            except OSError as exc:
                return _outcome(qname, rdtype, server, started, _socket_error(exc))
            if channel is None:  # too many resolvers to give each a socket
                return await self._fallback.query(
                    server, qname, rdtype, recursion=recursion, timeout=timeout
                )
        pending_map = channel.pending
        while len(pending_map) >= MAX_IN_FLIGHT:
            waiter = loop.create_future()
            channel.waiters.append(waiter)
            await waiter
        qid = self._ids.next()
        while qid in pending_map:
            qid = self._ids.next()
        fut: asyncio.Future[object] = loop.create_future()
        pending = _Pending(fut, (wire_name.lower(), code, dnswire.CLASS_IN), started + timeout)
        pending_map[qid] = pending
        # one FIFO per timeout value: deadlines arrive in order, so expiry is O(1) a query
        fifo = channel.deadlines.get(timeout)
        if fifo is None:
            fifo = channel.deadlines[timeout] = deque()
        fifo.append((pending.deadline, qid, pending))
        if channel.sweeper is None:
            channel.sweeper = loop.call_later(_SWEEP, self._sweep, channel)
        data = dnswire.encode_query(qid, wire_name, code, recursion)
        try:
            try:
                channel.sock.send(data)
                self.sent += 1
            except OSError as exc:
                failed = await self._send_again(channel, data, pending.deadline, exc)
                if failed is not None:
                    return _outcome(qname, rdtype, server, started, failed)
            got = await fut
        finally:
            if pending_map.get(qid) is pending:
                del pending_map[qid]
            if channel.waiters:
                waiter = channel.waiters.pop(0)
                if not waiter.done():
                    waiter.set_result(None)
        if type(got) is dnswire.Reply:
            return DnsReply(
                qname,
                rdtype,
                channel.label,
                got.rcode,
                got.answers,
                got.authoritative,
                False,
                (time.monotonic() - started) * 1000,
            )
        if got == _TC:
            return await self._tcp(server, qname, rdtype, recursion, timeout, started)
        assert isinstance(got, tuple)
        return _outcome(qname, rdtype, server, started, got)

    def close(self) -> None:
        """Close every socket; queries still in flight end as NET_ERROR."""
        for channel in list(self._channels.values()):
            self._drop(channel, (NET_ERROR, "the transport was closed"))

    # --- sockets ----------------------------------------------------------------------------
    def _channel(self, server: DnsServer, loop: asyncio.AbstractEventLoop) -> _Channel | None:
        channel = self._channels.get(server)
        if channel is not None:
            if channel.loop is loop:
                return channel
            self._drop(channel, (NET_ERROR, "event loop changed"))
        if len(self._channels) >= MAX_CHANNELS:
            return None
        family = socket.AF_INET6 if server.family == 6 else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.setblocking(False)
            try:  # forced: the plain option is capped by net.core.rmem_max
                sock.setsockopt(socket.SOL_SOCKET, _SO_RCVBUFFORCE, self.rcvbuf)
            except OSError:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.rcvbuf)
            # connected: the kernel drops datagrams from anyone but the resolver, and a
            # missing route fails here at once
            sock.connect((server.address, server.port))
        except OSError:
            sock.close()
            raise
        channel = _Channel(loop, sock, label=str(server))
        loop.add_reader(sock.fileno(), self._readable, channel)
        self._channels[server] = channel
        return channel

    def _drop(self, channel: _Channel, why: tuple[str, str]) -> None:
        for server, known in list(self._channels.items()):
            if known is channel:
                del self._channels[server]
        with contextlib.suppress(Exception):
            channel.loop.remove_reader(channel.sock.fileno())
        if channel.sweeper is not None:
            channel.sweeper.cancel()
            channel.sweeper = None
        channel.sock.close()
        self._fail_all(channel, why)

    @staticmethod
    def _fail_all(channel: _Channel, why: tuple[str, str]) -> None:
        for pending in channel.pending.values():
            if not pending.fut.done():
                pending.fut.set_result(why)
        channel.pending.clear()

    async def _send_again(
        self, channel: _Channel, data: bytes, deadline: float, exc: OSError
    ) -> tuple[str, str] | None:
        """After a failed send(): the outcome, or None once sent (or left to the deadline)."""
        pause = 0.001
        while True:
            if exc.errno not in _TRANSIENT:
                why = _socket_error(exc)
                if why[0] == REFUSED_PORT:
                    self._fail_all(channel, why)  # the ICMP error was for an earlier query
                return why
            # send buffer full: wait a little rather than lose the query to a whole timeout
            if time.monotonic() + pause >= deadline:
                return None  # the sweeper reports the timeout
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.05)
            try:
                channel.sock.send(data)
                self.sent += 1
                return None
            except OSError as again:
                exc = again

    # --- receiving --------------------------------------------------------------------------
    def _readable(self, channel: _Channel) -> None:
        recv, datagram = channel.sock.recv, self._datagram
        for _ in range(_READS_PER_WAKEUP):
            try:
                data = recv(65535)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # a queued ICMP error: not tied to one query
                self._fail_all(channel, _socket_error(exc))
                continue
            datagram(channel, data)

    def _datagram(self, channel: _Channel, data: bytes) -> None:
        waiting = channel.pending.get(data[0] << 8 | data[1]) if len(data) >= 12 else None
        if waiting is None or waiting.fut.done():
            channel.unmatched += 1
            return
        self.received += 1
        try:
            reply = dnswire.parse_reply(data)
        except dnswire.Truncated as exc:
            if exc.reply is None or exc.reply.answers_question(waiting.key):
                waiting.fut.set_result(_TC)
            else:
                waiting.bad = "malformed reply: it does not match the question"
            return
        except dnswire.Malformed as exc:
            waiting.bad = f"malformed reply: {exc}"
            return
        if reply.answers_question(waiting.key):
            waiting.fut.set_result(reply)
        else:
            waiting.bad = "malformed reply: it does not match the question"

    def _sweep(self, channel: _Channel) -> None:
        now = time.monotonic()
        pending_map = channel.pending
        left = False
        for fifo in channel.deadlines.values():
            while fifo and fifo[0][0] <= now:
                _, qid, pending = fifo.popleft()
                if pending_map.get(qid) is pending and not pending.fut.done():
                    if pending.bad is not None:
                        pending.fut.set_result((MALFORMED, pending.bad))
                    else:
                        pending.fut.set_result((TIMEOUT, "no answer within the timeout"))
            left = left or bool(fifo)
        channel.sweeper = channel.loop.call_later(_SWEEP, self._sweep, channel) if left else None

    # --- truncated replies ------------------------------------------------------------------
    async def _tcp(
        self,
        server: DnsServer,
        qname: str,
        rdtype: str,
        recursion: bool,
        timeout: float,
        started: float,
    ) -> DnsReply:
        q = make_query(qname, rdtype, recursion)
        return await reply_from(tcp_exchange(q, server, timeout, started), server, qname, rdtype,
                                started)  # fmt: skip


def _outcome(
    qname: str, rdtype: str, server: DnsServer, started: float, why: tuple[str, str]
) -> DnsReply:
    """A reply that is no DNS answer: (TIMEOUT, ...), (NO_PATH, ...) and the like."""
    elapsed = (time.monotonic() - started) * 1000
    return DnsReply(qname, rdtype, str(server), why[0], elapsed_ms=elapsed, error=why[1])


def _socket_error(exc: OSError) -> tuple[str, str]:
    if isinstance(exc, ConnectionRefusedError):
        return (REFUSED_PORT, "port unreachable: no DNS server listens there")
    if exc.errno in NO_PATH_ERRNOS:
        return (NO_PATH, f"no route: {exc.strerror}")
    return (NET_ERROR, f"network error: {exc.strerror or exc}")


TRANSPORT_ENV = "IPV6SCAN_DNS_TRANSPORT"  # "dnspython": the old path, for A/B benchmarks


def recursive_transport() -> DnsTransport:
    """The transport for the Resolver's look-ups: the fast one unless told otherwise."""
    if os.environ.get(TRANSPORT_ENV, "").lower() == "dnspython":
        return DnspythonTransport()
    return FastUdpTransport()
