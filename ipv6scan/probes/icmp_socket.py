"""One raw ICMPv6 socket per scan, driven by the asyncio loop: many echoes in flight.

Why not scapy's sr1(): it opens sockets and sniffs per call, about 72 probes a
second (FIELD.md). Here one non-blocking socket is registered with
loop.add_reader; each probe is a future in a dict keyed by its 16-bit sequence
number, resolved by the reader when the echo reply (or a router's error quoting
the probe) comes back, or by the sweeper when its deadline passes. The
identifier is the process id, as ping(8) does, and a 64-bit token in the payload
tells a late reply to an old probe apart from the new probe that reuses its
sequence number after the wrap.

Per probe the hot path is kept to a few dict and deque operations and one
sendmsg(): no task, no timer handle (one sweeper serves every deadline), no
scapy object. The hop limit of each probe travels with the packet as
IPV6_HOPLIMIT ancillary data, so parallel traces never race on a socket-wide
option.
"""

from __future__ import annotations

import asyncio
import errno
import os
import random
import socket
import struct
import time
from collections import deque
from collections.abc import Callable
from types import TracebackType

from ipv6scan.observations_net import (
    NO_PATH,
    REPLY,
    SEND_ERROR,
    TIME_EXCEEDED,
    TIMEOUT,
    UNREACHABLE,
    EchoOutcome,
)
from ipv6scan.probes import icmp
from ipv6scan.probes.dns import NO_PATH_ERRNOS

SocketFactory = Callable[[int, int, int], socket.socket]

MAX_IN_FLIGHT = 60_000  # below the 65,536 sequence numbers, so a free one always exists
SWEEP_INTERVAL = 0.02  # deadline granularity: a probe times out at most this much late
_READS_PER_WAKEUP = 1024  # bounded, so one busy socket cannot starve the loop
_RCVBUF = 8 << 20  # a burst of thousands of replies must not overflow the default ~200 KiB
_SO_RCVBUFFORCE = 33  # <asm-generic/socket.h>; not exported by Python's socket module
_TRANSIENT = (errno.ENOBUFS, errno.EAGAIN)
_KIND = {
    icmp.ECHO_REPLY: REPLY,
    icmp.TIME_EXCEEDED: TIME_EXCEEDED,
    icmp.DEST_UNREACHABLE: UNREACHABLE,
}


# Where raw sockets come from; tests replace it to play an unprivileged user.
SOCKET_FACTORY: SocketFactory = socket.socket


class RawSocketDenied(Exception):
    """Raw sockets are not permitted here (not root, no CAP_NET_RAW)."""


def open_raw_socket(factory: SocketFactory | None = None) -> socket.socket:
    factory = factory or SOCKET_FACTORY
    try:
        sock = factory(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    except PermissionError as exc:  # EPERM or EACCES
        raise RawSocketDenied(
            f"raw ICMPv6 sockets are not permitted ({exc.strerror or exc}); "
            "run as root or grant CAP_NET_RAW"
        ) from exc
    try:
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_ICMPV6, icmp.ICMP6_FILTER, icmp.filter_bytes())
        try:  # the forced size needs CAP_NET_ADMIN; the plain one is capped by rmem_max
            sock.setsockopt(socket.SOL_SOCKET, _SO_RCVBUFFORCE, _RCVBUF)
        except OSError:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _RCVBUF)
    except BaseException:
        sock.close()
        raise
    return sock


class _Probe:
    __slots__ = ("address", "cmsg", "deadline", "dst", "future", "seq", "started", "token")

    def __init__(
        self,
        future: asyncio.Future[EchoOutcome],
        address: tuple[str, int],
        dst: bytes,
        cmsg: list[tuple[int, int, bytes]],
        deadline: float,
    ) -> None:
        self.future = future
        self.address = address
        self.dst = dst
        self.cmsg = cmsg
        self.deadline = deadline
        self.seq = -1  # assigned when sent
        self.token = 0
        self.started = 0.0


class IcmpProber:
    """Echo requests to any number of destinations over one raw socket."""

    def __init__(self, sock: socket.socket, *, ident: int | None = None) -> None:
        self._sock = sock
        self._fd = sock.fileno()
        self._loop = asyncio.get_running_loop()
        self.ident = (os.getpid() if ident is None else ident) & 0xFFFF
        self._template = icmp.echo_template(self.ident)
        self._pending: dict[int, _Probe] = {}
        self._backlog: deque[_Probe] = deque()  # waiting for room or for the socket
        self._deadlines: dict[float, deque[_Probe]] = {}  # per timeout value: FIFO = by deadline
        self._seq = random.getrandbits(16)
        # random start: a reply to a previous run with the same pid never matches a token
        self._token = random.getrandbits(62)
        self._hop_cmsg: dict[int, list[tuple[int, int, bytes]]] = {}
        self._sweeper: asyncio.TimerHandle | None = None
        self._waiting_writable = False
        self._closed = False
        self.sent = 0
        self.matched = 0
        self._loop.add_reader(self._fd, self._on_readable)

    @classmethod
    def open(cls, factory: SocketFactory | None = None) -> IcmpProber:
        """A prober on a new raw socket; RawSocketDenied when not permitted. Call it inside
        the running loop that will await the probes."""
        sock = open_raw_socket(factory)
        try:
            return cls(sock)
        except BaseException:
            sock.close()
            raise

    @property
    def in_flight(self) -> int:
        return len(self._pending) + len(self._backlog)

    def send(
        self, destination: str, *, timeout: float, hop_limit: int | None = None
    ) -> asyncio.Future[EchoOutcome]:
        """Send one echo request now (or as soon as the socket takes it); the future holds
        what came back within `timeout` seconds. Never raises for network trouble: a
        send error is an outcome. ValueError for a destination that is not IPv6."""
        if self._closed:
            raise RuntimeError("the ICMP prober is closed")
        if hop_limit is not None and not 1 <= hop_limit <= 255:
            raise ValueError(f"hop limit {hop_limit} is outside 1..255")
        try:
            dst = socket.inet_pton(socket.AF_INET6, destination)
        except OSError:
            raise ValueError(f"{destination!r} is not an IPv6 address") from None
        future: asyncio.Future[EchoOutcome] = self._loop.create_future()
        probe = _Probe(
            future, (destination, 0), dst, self._ancillary(hop_limit), time.monotonic() + timeout
        )
        queue = self._deadlines.get(timeout)
        if queue is None:
            queue = self._deadlines[timeout] = deque()
        queue.append(probe)
        if self._sweeper is None:
            self._sweeper = self._loop.call_later(SWEEP_INTERVAL, self._sweep)
        if self._backlog or len(self._pending) >= MAX_IN_FLIGHT or not self._transmit(probe):
            self._backlog.append(probe)
            self._wait_writable()
        return future

    async def echo(
        self, destination: str, *, timeout: float, hop_limit: int | None = None
    ) -> EchoOutcome:
        return await self.send(destination, timeout=timeout, hop_limit=hop_limit)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._loop.remove_reader(self._fd)
        if self._waiting_writable:
            self._loop.remove_writer(self._fd)
        if self._sweeper is not None:
            self._sweeper.cancel()
        for probe in (*self._pending.values(), *self._backlog):
            _settle(probe, EchoOutcome(SEND_ERROR, error="the ICMP prober closed"))
        self._pending.clear()
        self._backlog.clear()
        self._deadlines.clear()
        self._sock.close()

    async def __aenter__(self) -> IcmpProber:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ sending

    def _ancillary(self, hop_limit: int | None) -> list[tuple[int, int, bytes]]:
        if hop_limit is None:
            return []
        cmsg = self._hop_cmsg.get(hop_limit)
        if cmsg is None:
            cmsg = [(socket.IPPROTO_IPV6, socket.IPV6_HOPLIMIT, struct.pack("i", hop_limit))]
            self._hop_cmsg[hop_limit] = cmsg
        return cmsg

    def _transmit(self, probe: _Probe) -> bool:
        """Try to send `probe`; False when the socket cannot take it now (retry later)."""
        if probe.future.done():
            return True  # expired or abandoned while waiting: nothing to send
        pending = self._pending
        seq = self._seq
        while True:  # a free number exists: MAX_IN_FLIGHT < 65,536
            seq = (seq + 1) & 0xFFFF
            if seq not in pending:
                break
        self._seq = seq
        self._token = token = (self._token + 1) & 0xFFFF_FFFF_FFFF_FFFF
        probe.seq, probe.token = seq, token
        packet = icmp.fill(self._template, seq, token)
        probe.started = time.perf_counter()
        try:
            self._sock.sendmsg([packet], probe.cmsg, 0, probe.address)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError as exc:
            if exc.errno in _TRANSIENT:
                return False  # a full device queue drains in a moment; not the site's fault
            kind = NO_PATH if exc.errno in NO_PATH_ERRNOS else SEND_ERROR
            probe.future.set_result(EchoOutcome(kind, error=exc.strerror or str(exc)))
            return True
        pending[seq] = probe
        self.sent += 1
        return True

    def _wait_writable(self) -> None:
        if not self._waiting_writable and not self._closed:
            self._waiting_writable = True
            self._loop.add_writer(self._fd, self._flush)

    def _flush(self) -> None:
        """Send what waited: called when the socket is writable again."""
        backlog = self._backlog
        while backlog and len(self._pending) < MAX_IN_FLIGHT:
            if not self._transmit(backlog[0]):
                return  # still full: stay registered as a writer
            backlog.popleft()
        # done, or waiting for room rather than for the socket: replies and the sweeper
        # call _wait_writable again while anything is left
        self._loop.remove_writer(self._fd)
        self._waiting_writable = False

    # ------------------------------------------------------------------ receiving

    def _sweep(self) -> None:
        now = time.monotonic()
        for timeout, queue in list(self._deadlines.items()):
            # answered probes leave from the front early, so memory follows the oldest
            # unanswered probe rather than everything sent within the last timeout
            while queue and (queue[0].deadline <= now or queue[0].future.done()):
                probe = queue.popleft()
                if self._pending.get(probe.seq) is probe:
                    del self._pending[probe.seq]
                _settle(probe, EchoOutcome(TIMEOUT))
            if not queue:
                del self._deadlines[timeout]
        if self._backlog:
            while self._backlog and self._backlog[0].future.done():
                self._backlog.popleft()
            if self._backlog:
                self._wait_writable()
        self._sweeper = (
            self._loop.call_later(SWEEP_INTERVAL, self._sweep) if self._deadlines else None
        )

    def _on_readable(self) -> None:
        recvfrom, pending, ident, parse = self._sock.recvfrom, self._pending, self.ident, icmp.parse
        for _ in range(_READS_PER_WAKEUP):
            try:
                data, source = recvfrom(2048)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                continue  # a queued socket error is cleared by reading it; keep draining
            now = time.perf_counter()
            parsed = parse(data, ident)
            if parsed is None:
                continue
            kind, code, seq, token, quoted_dst = parsed
            probe = pending.get(seq)
            if probe is None or (token is not None and token != probe.token):
                continue  # late, or another run's probe
            if quoted_dst is not None and quoted_dst != probe.dst:
                continue
            if kind == icmp.ECHO_REPLY and token is None:
                continue  # a reply must echo our payload
            del pending[seq]
            if probe.future.done():
                continue  # its waiter gave up
            self.matched += 1
            responder = source[0].split("%", 1)[0]  # drop a link-local zone id
            probe.future.set_result(
                EchoOutcome(
                    _KIND[kind],
                    responder,
                    round((now - probe.started) * 1000, 3),
                    None if kind == icmp.ECHO_REPLY else code,
                )
            )
        if self._backlog and not self._waiting_writable:
            self._wait_writable()  # replies made room for probes that waited


def _settle(probe: _Probe, outcome: EchoOutcome) -> None:
    if not probe.future.done():
        probe.future.set_result(outcome)
