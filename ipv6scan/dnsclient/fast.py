"""A fast DNS transport for the recursive look-ups: one UDP socket per resolver.

DnspythonTransport opens a socket, a task and a dnspython Message per query; at
scan rates that costs more than the name server's answer. Here each resolver
gets one connected UDP socket, read by one callback on the event loop; a query
is a future in a dict keyed by its message ID, sent with one send() and decoded
by dnsclient/wire.py. Same DnsTransport protocol, same DnsReply and RR.

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
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field

from ipv6scan import stall_clock
from ipv6scan.dnsclient import reasons
from ipv6scan.dnsclient import wire as dnswire
from ipv6scan.dnsclient.transport import (
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
# An answer waits in the socket's receive buffer until it is read, and the kernel charges
# it up to about 2.3 KiB there (an skb's truesize, for a datagram up to our EDNS size of
# 1,232 bytes). So a socket has no more queries in flight than its buffer holds answers:
# else a reader busy with earlier answers loses later ones, and they end as timeouts (the
# lab lost 203,229 answers of 387,674 at --concurrency 100000). The others wait in the
# backlog, their timeout not yet running.
ANSWER_TRUESIZE = 2304
MIN_WINDOW = 64  # however small the buffer granted (rmem_max caps it without CAP_NET_ADMIN)
MAX_CHANNELS = 64  # resolvers with their own socket; queries to others go to dnspython
_READS_PER_WAKEUP = 512  # bounded: one busy socket must not starve the loop
_SWEEP = 0.02  # deadline granularity (s): a query times out at most this much late
_DRAIN_ROUNDS = MAX_IN_FLIGHT // _READS_PER_WAKEUP + 1  # a sweep reads a full window
_TRANSIENT = frozenset({errno.EAGAIN, errno.ENOBUFS, errno.EINTR})

# A pending query is settled with a decoded reply, _TC (ask again over TCP) or a
# no-answer outcome (code, why).
_TC = "TC"
Done = Callable[[DnsReply], None]


class _Pending:
    """One query in flight. A plain class: mypyc compiles its __init__ (a dataclass's
    would run as interpreted code, once a query)."""

    def __init__(
        self,
        qname: str,
        rdtype: str,
        server: DnsServer,
        recursion: bool,
        timeout: float,
        started: float,
        key: tuple[bytes, int, int],
        data: bytes,
        done: Done,
    ) -> None:
        self.qname = qname
        self.rdtype = rdtype
        self.server = server
        self.recursion = recursion
        self.timeout = timeout
        self.started = started
        self.key = key
        self.data = data  # the query on the wire, kept for a send that must be tried again
        self.done = done
        self.qid = -1
        self.bad: str | None = None  # why a datagram carrying our ID was not accepted
        self.over = False  # settled: answered, failed, timed out or abandoned

    @property
    def deadline(self) -> float:
        return self.started + self.timeout


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
    deadlines: dict[float, deque[_Pending]] = field(default_factory=dict)
    sweeper: asyncio.TimerHandle | None = None
    backlog: deque[_Pending] = field(default_factory=deque)  # waiting for room in the window
    window: int = MAX_IN_FLIGHT  # queries in flight at most (see ANSWER_TRUESIZE)
    unmatched: int = 0  # datagrams with no query of that ID in flight
    label: str = ""  # str(server), made once: every reply carries it


class FastUdpTransport:
    """UDP with TCP fallback on truncation; see the module docstring.

    Two ways in: `await query(...)`, the DnsTransport protocol, and `submit(...)`, which
    takes a callback instead of making a coroutine, for the bulk path (engine/), where a
    future and a task per question would cost more than the question."""

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
        fut: asyncio.Future[DnsReply] = asyncio.get_running_loop().create_future()

        def done(reply: DnsReply) -> None:
            if not fut.done():
                fut.set_result(reply)

        pending = self.submit(
            server, qname, rdtype, recursion=recursion, timeout=timeout, done=done
        )
        try:
            return await fut
        finally:
            if pending is not None and not pending.over:  # cancelled: free its ID now
                self._abandon(pending)

    def submit(
        self,
        server: DnsServer,
        qname: str,
        rdtype: str,
        *,
        recursion: bool,
        timeout: float,
        done: Done,
    ) -> _Pending | None:
        """Ask, and call `done(reply)` from the event loop once (never before returning).
        Raises, as query() does, for a name that cannot be encoded."""
        loop = asyncio.get_running_loop()
        started = time.monotonic()
        code = dnswire.TYPE_CODES.get(rdtype)
        if code is None:  # a type the codec does not read: dnspython's whole path
            self._spawn(self._fallback.query(server, qname, rdtype, recursion=recursion,
                                             timeout=timeout), done)  # fmt: skip
            return None
        wire_name = dnswire.qname_wire(qname)  # raises for a bad name, as make_query does
        channel = self._channels.get(server)
        if channel is None or channel.loop is not loop:
            try:
                channel = self._channel(server, loop)
            except OSError as exc:
                loop.call_soon(done, _outcome(qname, rdtype, server, started, _socket_error(exc)))
                return None
            if channel is None:  # too many resolvers to give each a socket
                self._spawn(self._fallback.query(server, qname, rdtype, recursion=recursion,
                                                 timeout=timeout), done)  # fmt: skip
                return None
        key = (wire_name.lower(), code, dnswire.CLASS_IN)
        # `data` holds the bare name until _start() gives the query its ID
        pending = _Pending(qname, rdtype, server, recursion, timeout, started, key, wire_name,
                           done)  # fmt: skip
        if channel.backlog or len(channel.pending) >= channel.window:
            channel.backlog.append(pending)  # sent in turn, when the window has room
        else:
            self._start(channel, pending)
        return pending

    def close(self) -> None:
        """Close every socket; queries still in flight end as NET_ERROR."""
        for channel in list(self._channels.values()):
            self._drop(channel, (NET_ERROR, "the transport was closed"))

    # --- one query's life -------------------------------------------------------------------
    def _start(self, channel: _Channel, pending: _Pending) -> None:
        pending.started = time.monotonic()  # the timeout runs from the send, not the backlog
        pending_map = channel.pending
        qid = self._ids.next()
        while qid in pending_map:
            qid = self._ids.next()
        pending.qid = qid
        pending_map[qid] = pending
        # one FIFO per timeout value: deadlines arrive in order, so expiry is O(1) a query
        fifo = channel.deadlines.get(pending.timeout)
        if fifo is None:
            fifo = channel.deadlines[pending.timeout] = deque()
        fifo.append(pending)
        if channel.sweeper is None:
            channel.sweeper = channel.loop.call_later(_SWEEP, self._sweep, channel)
        pending.data = dnswire.encode_query(qid, pending.data, pending.key[1], pending.recursion)
        self._send(channel, pending, 0.001)

    def _send(self, channel: _Channel, pending: _Pending, pause: float) -> None:
        if pending.over:
            return
        try:
            channel.sock.send(pending.data)
            self.sent += 1
        except OSError as exc:
            if exc.errno not in _TRANSIENT:
                why = _socket_error(exc)
                if why[0] == REFUSED_PORT:
                    self._fail_all(channel, why)  # the ICMP error was for an earlier query
                else:
                    self._settle(channel, pending, why)
                return
            # send buffer full: try again a little later rather than lose the query to a
            # whole timeout; past the deadline the sweeper reports the timeout
            if time.monotonic() + pause < pending.deadline:
                channel.loop.call_later(pause, self._send, channel, pending, min(pause * 2, 0.05))

    def _settle(self, channel: _Channel, pending: _Pending, outcome: object) -> None:
        if pending.over:
            return
        pending.over = True
        if channel.pending.get(pending.qid) is pending:
            del channel.pending[pending.qid]
        self._drain(channel)
        if type(outcome) is dnswire.Reply:
            pending.done(DnsReply(
                pending.qname, pending.rdtype, channel.label, outcome.rcode, outcome.answers,
                outcome.authoritative, False, (time.monotonic() - pending.started) * 1000,
            ))  # fmt: skip
        elif outcome == _TC:
            self._spawn(self._tcp(pending), pending.done)
        else:
            assert isinstance(outcome, tuple)
            pending.done(_outcome(pending.qname, pending.rdtype, pending.server,
                                  pending.started, outcome))  # fmt: skip

    def _abandon(self, pending: _Pending) -> None:
        """The asker went away (cancelled): free the ID at once, tell no one. In the backlog
        it stays, marked over, and is skipped in its turn: a search there for each of
        tens of thousands of cancelled queries would take minutes."""
        pending.over = True
        for channel in self._channels.values():
            if channel.pending.get(pending.qid) is pending:
                del channel.pending[pending.qid]
                self._drain(channel)  # its room in the window goes to a waiting query

    def _drain(self, channel: _Channel) -> None:
        """Send waiting queries, in turn, while the window has room."""
        while channel.backlog and len(channel.pending) < channel.window:
            waiting = channel.backlog.popleft()
            if not waiting.over:  # abandoned ones stay queued until their turn
                self._start(channel, waiting)

    @staticmethod
    def _spawn(coro: Coroutine[object, object, DnsReply], done: Done) -> None:
        """A rare path that needs a coroutine (TCP, dnspython): a task, then the callback."""

        def finished(task: asyncio.Task[DnsReply]) -> None:
            if not task.cancelled():
                done(task.result())  # the transports return failures, they do not raise

        asyncio.ensure_future(coro).add_done_callback(finished)

    # --- sockets ----------------------------------------------------------------------------
    def _channel(self, server: DnsServer, loop: asyncio.AbstractEventLoop) -> _Channel | None:
        channel = self._channels.get(server)
        if channel is not None:
            if channel.loop is loop:
                return channel
            self._drop(channel, (NET_ERROR, "event loop changed"))
        if len(self._channels) >= MAX_CHANNELS:
            return None
        sock, window = open_udp(server, self.rcvbuf)
        channel = _Channel(loop, sock, label=str(server), window=window)
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
        # the backlog first: settling the queries in flight must not send the waiting ones
        waiting, channel.backlog = channel.backlog, deque()
        self._fail_all(channel, why)
        for pending in waiting:
            self._settle(channel, pending, why)

    def _fail_all(self, channel: _Channel, why: tuple[str, str]) -> None:
        for pending in list(channel.pending.values()):
            self._settle(channel, pending, why)

    # --- receiving --------------------------------------------------------------------------
    def _readable(self, channel: _Channel) -> bool:
        """Read what waits, up to _READS_PER_WAKEUP datagrams; True when more may wait."""
        recv, datagram = channel.sock.recv, self._datagram
        for _ in range(_READS_PER_WAKEUP):
            try:
                data = recv(65535)
            except (BlockingIOError, InterruptedError):
                return False
            except OSError as exc:  # a queued ICMP error: not tied to one query
                self._fail_all(channel, _socket_error(exc))
                continue
            datagram(channel, data)
        return True

    def _datagram(self, channel: _Channel, data: bytes) -> None:
        waiting = channel.pending.get(data[0] << 8 | data[1]) if len(data) >= 12 else None
        if waiting is None:
            channel.unmatched += 1
            return
        self.received += 1
        try:
            reply = dnswire.parse_reply(data)
        # one name per except clause: mypyc gives a reused name the first clause's type
        except dnswire.Truncated as truncated:
            if truncated.reply is None or truncated.reply.answers_question(waiting.key):
                self._settle(channel, waiting, _TC)
            else:
                waiting.bad = reasons.NOT_THE_QUESTION
            return
        except dnswire.Malformed as malformed:
            waiting.bad = reasons.MALFORMED_REPLY(reason=f"{malformed}")
            return
        if reply.answers_question(waiting.key):
            self._settle(channel, waiting, reply)
        else:
            waiting.bad = reasons.NOT_THE_QUESTION

    def _sweep(self, channel: _Channel) -> None:
        # answers already waiting count, however late the loop came round to them: after a
        # stall of the scanner (stall_clock), uvloop runs this timer before the reader
        for _ in range(_DRAIN_ROUNDS):
            if channel.sock.fileno() < 0 or not self._readable(channel):
                break
        if channel.sock.fileno() < 0:
            return  # dropped while reading (_drop): its queries are settled
        now = time.monotonic()
        left = False
        for fifo in channel.deadlines.values():
            while fifo and fifo[0].deadline <= now:
                pending = fifo.popleft()
                if not pending.over:
                    if pending.bad is not None:
                        self._settle(channel, pending, (MALFORMED, pending.bad))
                    else:
                        self._settle(channel, pending, (TIMEOUT, reasons.NO_ANSWER_IN_TIME))
            left = left or bool(fifo)
        channel.sweeper = channel.loop.call_later(_SWEEP, self._sweep, channel) if left else None

    # --- truncated replies ------------------------------------------------------------------
    async def _tcp(self, pending: _Pending) -> DnsReply:
        q = make_query(pending.qname, pending.rdtype, pending.recursion)
        # what is left of the timeout, from now on the watched clock (stall_clock)
        due = stall_clock.now() + (pending.deadline - time.monotonic())
        exchange = tcp_exchange(q, pending.server, due)
        return await reply_from(exchange, pending.server, pending.qname, pending.rdtype,
                                pending.started)  # fmt: skip


def open_udp(server: DnsServer, rcvbuf: int = RCVBUF) -> tuple[socket.socket, int]:
    """A non-blocking UDP socket connected to `server`, and its window: how many queries
    may be in flight on it (see ANSWER_TRUESIZE). Raises OSError (no route, ...)."""
    family = socket.AF_INET6 if server.family == 6 else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        sock.setblocking(False)
        try:  # forced: the plain option is capped by net.core.rmem_max
            sock.setsockopt(socket.SOL_SOCKET, _SO_RCVBUFFORCE, rcvbuf)
        except OSError:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        # connected: the kernel drops datagrams from anyone but the resolver, and a
        # missing route fails here at once
        sock.connect((server.address, server.port))
    except OSError:
        sock.close()
        raise
    # what the kernel granted (twice the size asked: its bookkeeping counts too)
    granted = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    return sock, min(MAX_IN_FLIGHT, max(MIN_WINDOW, granted // ANSWER_TRUESIZE))


def _outcome(
    qname: str, rdtype: str, server: DnsServer, started: float, why: tuple[str, str]
) -> DnsReply:
    """A reply that is no DNS answer: (TIMEOUT, ...), (NO_PATH, ...) and the like."""
    elapsed = (time.monotonic() - started) * 1000
    return DnsReply(qname, rdtype, str(server), why[0], elapsed_ms=elapsed, error=why[1])


def _socket_error(exc: OSError) -> tuple[str, str]:
    if isinstance(exc, ConnectionRefusedError):
        return (REFUSED_PORT, reasons.PORT_UNREACHABLE)
    if exc.errno in NO_PATH_ERRNOS:
        return (NO_PATH, reasons.said(reasons.NO_ROUTE, f"{exc.strerror}"))
    return (NET_ERROR, reasons.said(reasons.NETWORK_ERROR, f"{exc.strerror or exc}"))


TRANSPORT_ENV = "IPV6SCAN_DNS_TRANSPORT"  # "dnspython": the old path, for A/B benchmarks


def recursive_transport() -> DnsTransport:
    """The transport for the Resolver's look-ups: the fast one unless told otherwise."""
    if os.environ.get(TRANSPORT_ENV, "").lower() == "dnspython":
        return DnspythonTransport()
    return FastUdpTransport()
