"""One raw ICMPv6 socket per scan, driven by the asyncio loop: many echoes in flight.

Why not scapy's sr1(): it opens sockets and sniffs per call, about 72 probes a
second (FIELD.md). Here one non-blocking socket is registered with
loop.add_reader; scapy lays out the echo request once (icmp.EchoPacker).

Work comes as series: `count` echoes to one destination, `interval` apart (ping),
or a single echo (send(), as trace uses it). No task and no sleep per echo: one
pump, woken by one timer, sends every echo that is due, in batches, paced by a
token bucket (`rate` echo requests a second across the socket, bursts of
BURST_SECONDS of it), and puts each series' next echo on a FIFO per interval, in
due order by construction. The reader demultiplexes replies by sequence number:
each echo in flight has its 16-bit number, and a 64-bit token in the payload tells
a late reply to an old probe apart from the new probe that reuses its number after
the wrap. One sweeper serves every deadline. The identifier is the process id, as
ping(8) does.

Round-trip times use the kernel's receive timestamp (SO_TIMESTAMPNS) against the
clock read right before sendmsg(), so a reply read late by a busy loop is not a
slow reply. The hop limit of a probe travels with the packet as IPV6_HOPLIMIT
ancillary data, so parallel traces never race on a socket-wide option.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import math
import os
import random
import socket
import struct
import time
from collections import deque
from collections.abc import Callable
from types import TracebackType

from ipv6scan.dnsclient.transport import NO_PATH_ERRNOS
from ipv6scan.observations.net import (
    NO_PATH,
    REPLY,
    SEND_ERROR,
    TIME_EXCEEDED,
    TIMEOUT,
    UNREACHABLE,
    EchoOutcome,
)
from ipv6scan.probes import icmp

SocketFactory = Callable[[int, int, int], socket.socket]

MAX_IN_FLIGHT = 60_000  # below the 65,536 sequence numbers, so a free one always exists
SWEEP_INTERVAL = 0.02  # deadline granularity: a probe times out at most this much late
# Echo requests a second over the socket (net.ping and net.trace together), the bound an
# operator reads as fping's -i: 20,000 sends the 30,000 echoes of 10,000 addresses in
# 1.5 s, about 12.5 Mbit/s of 78-byte frames; a lab's veth takes ~50,000/s.
DEFAULT_RATE = 20_000.0
BURST_SECONDS = 0.02  # the bucket holds 20 ms of the rate: 400 echoes back to back at most
# and never more than this many, whatever the rate: one pump sends a whole bucket before
# the loop reads a reply, and the replies to 20 ms of a high IPV6SCAN_PING_RATE (20,000
# at 1,000,000/s) would overflow the receive buffer (_RCVBUF, ~1 KiB a reply) as lost echoes
MAX_BURST = 1024
_MIN_WAIT = 0.001  # the loop's timers are millisecond ones
_READS_PER_WAKEUP = 1024  # bounded, so one busy socket cannot starve the loop
_RCVBUF = 8 << 20  # a burst of thousands of replies must not overflow the default ~200 KiB
_SO_RCVBUFFORCE = 33  # <asm-generic/socket.h>; not exported by Python's socket module
_SO_TIMESTAMPNS = 35  # <asm-generic/socket.h> SO_TIMESTAMPNS_OLD: struct timespec, realtime
_ANC_SPACE = 64  # room for the timestamp (32 bytes with its header)
_TIMESPEC = struct.Struct("@ll")  # the old struct timespec: two C longs
_STAMP = _TIMESPEC.size
_TRANSIENT = (errno.ENOBUFS, errno.EAGAIN)
_KIND = {
    icmp.ECHO_REPLY: REPLY,
    icmp.TIME_EXCEEDED: TIME_EXCEEDED,
    icmp.DEST_UNREACHABLE: UNREACHABLE,
}
_CLOSED = "the ICMP prober closed"

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
        # without it, RTTs are read from the clock when Python reads the reply
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
    except BaseException:
        sock.close()
        raise
    return sock


class _Series:
    """`count` echo requests to one destination, `interval` seconds apart; each waits
    `timeout` for its answer. `single`: the future holds the one outcome, not a tuple."""

    __slots__ = (
        "address",
        "closed",
        "cmsg",
        "count",
        "dst",
        "future",
        "interval",
        "limited",
        "outcomes",
        "remaining",
        "sent",
        "single",
        "timeout",
    )

    def __init__(
        self,
        future: asyncio.Future[EchoOutcome] | asyncio.Future[tuple[EchoOutcome, ...]],
        address: tuple[str, int],
        dst: bytes,
        cmsg: list[tuple[int, int, bytes]],
        count: int,
        interval: float,
        timeout: float,
        single: bool,
        limited: bool,
    ) -> None:
        self.future = future
        self.address = address
        self.dst = dst
        self.cmsg = cmsg
        self.count = count
        self.interval = interval
        self.timeout = timeout
        self.single = single
        self.limited = limited  # counts against the per-destination bound
        self.outcomes: list[EchoOutcome | None] = [None] * count
        self.remaining = count  # echoes not settled yet
        self.sent = 0  # echoes handed to the socket (or failed there)
        self.closed = False


# One echo request in flight: (its series, its index there, its token, the realtime clock
# in ns right before sendmsg). A tuple, not an object: tens of thousands are made a second.
_Echo = tuple[_Series, int, int, int]
# In a deadline FIFO: (deadline, sequence number, the echo). The echo's token tells
# whether it still waits: an answered one left `pending`, or its number went to a newer one.
_Deadline = tuple[float, int, _Echo]


class IcmpProber:
    """Echo requests to any number of destinations over one raw socket, at most `rate`
    a second."""

    def __init__(
        self, sock: socket.socket, *, ident: int | None = None, rate: float = DEFAULT_RATE
    ) -> None:
        self._sock = sock
        self._fd = sock.fileno()
        self._loop = asyncio.get_running_loop()
        self.ident = (os.getpid() if ident is None else ident) & 0xFFFF
        self._packet = icmp.EchoPacker(self.ident).packet
        self._pending: dict[int, _Echo] = {}
        self._deadlines: dict[float, deque[_Deadline]] = {}  # per timeout: FIFO = by deadline
        self._ready: deque[_Series] = deque()  # series whose next echo may go now
        # per interval value: (due, series) in due order, since each entry is appended
        # `interval` after its series' previous echo went out
        self._later: dict[float, deque[tuple[float, _Series]]] = {}
        self._active: dict[bytes, int] = {}  # running series per destination, when bounded
        self._parked: dict[bytes, deque[_Series]] = {}  # waiting for their destination
        self._seq = random.getrandbits(16)
        # random start: a reply to a previous run with the same pid never matches a token
        self._token = random.getrandbits(62)
        self._hop_cmsg: dict[int, list[tuple[int, int, bytes]]] = {}
        self.rate = DEFAULT_RATE
        self._burst = 1.0
        self.set_rate(rate)
        self._tokens = self._burst
        self._refilled = time.monotonic()
        self._wakeup: asyncio.Handle | None = None  # the pump's one timer (or call_soon)
        self._wakeup_at = math.inf
        self._sweeper: asyncio.TimerHandle | None = None
        self._waiting_writable = False
        self._closed = False
        self.sent = 0
        self.matched = 0
        self._loop.add_reader(self._fd, self._on_readable)

    @classmethod
    def open(
        cls, factory: SocketFactory | None = None, *, rate: float = DEFAULT_RATE
    ) -> IcmpProber:
        """A prober on a new raw socket; RawSocketDenied when not permitted. Call it inside
        the running loop that will await the probes."""
        sock = open_raw_socket(factory)
        try:
            return cls(sock, rate=rate)
        except BaseException:
            sock.close()
            raise

    def set_rate(self, rate: float) -> None:
        """At most `rate` echo requests a second from now on (bursts of BURST_SECONDS of
        it, MAX_BURST at most)."""
        if not (rate > 0 and math.isfinite(rate)):
            raise ValueError(f"echo rate {rate!r} is not a positive number")
        self.rate = float(rate)
        self._burst = min(float(MAX_BURST), max(1.0, rate * BURST_SECONDS))

    @property
    def in_flight(self) -> int:
        """Echoes awaiting an answer, plus series waiting for their next echo."""
        waiting = sum(len(q) for q in self._later.values())
        parked = sum(len(q) for q in self._parked.values())
        return len(self._pending) + len(self._ready) + waiting + parked

    def send(
        self, destination: str, *, timeout: float, hop_limit: int | None = None
    ) -> asyncio.Future[EchoOutcome]:
        """Send one echo request as soon as the pacing allows; the future holds what came
        back within `timeout` seconds of sending. Never raises for network trouble: a
        send error is an outcome. ValueError for a destination that is not IPv6."""
        if hop_limit is not None and not 1 <= hop_limit <= 255:
            raise ValueError(f"hop limit {hop_limit} is outside 1..255")
        future: asyncio.Future[EchoOutcome] = self._loop.create_future()
        self._submit(future, destination, self._ancillary(hop_limit), 1, 0.0, timeout, True, 0)
        return future

    async def echo(
        self, destination: str, *, timeout: float, hop_limit: int | None = None
    ) -> EchoOutcome:
        return await self.send(destination, timeout=timeout, hop_limit=hop_limit)

    def ping(
        self,
        destination: str,
        *,
        count: int,
        interval: float,
        timeout: float,
        per_destination: int = 0,
    ) -> asyncio.Future[tuple[EchoOutcome, ...]]:
        """`count` echo requests, each sent at least `interval` seconds after the previous
        one, each waiting `timeout` seconds for its answer; the future holds the outcomes in
        order. `per_destination` > 0: at most that many series to one address run at once
        (the rest wait their turn), so many names sharing an address do not flood it."""
        if count < 1 or not interval >= 0:
            raise ValueError(f"count {count} and interval {interval} make no ping")
        future: asyncio.Future[tuple[EchoOutcome, ...]] = self._loop.create_future()
        self._submit(future, destination, [], count, interval, timeout, False, per_destination)
        return future

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._loop.remove_reader(self._fd)
        if self._waiting_writable:
            self._loop.remove_writer(self._fd)
        for handle in (self._wakeup, self._sweeper):
            if handle is not None:
                handle.cancel()
        unfinished = {id(e[0]): e[0] for e in self._pending.values()}
        waiting = [*self._ready, *(s for q in self._later.values() for _, s in q)]
        waiting += [s for q in self._parked.values() for s in q]
        unfinished.update((id(s), s) for s in waiting)
        for series in unfinished.values():
            for index, outcome in enumerate(series.outcomes):
                if outcome is None:
                    series.outcomes[index] = EchoOutcome(SEND_ERROR, error=_CLOSED)
            self._finish(series)
        for table in (self._pending, self._deadlines, self._later, self._parked, self._active):
            table.clear()
        self._ready.clear()
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

    def _submit(
        self,
        future: asyncio.Future[EchoOutcome] | asyncio.Future[tuple[EchoOutcome, ...]],
        destination: str,
        cmsg: list[tuple[int, int, bytes]],
        count: int,
        interval: float,
        timeout: float,
        single: bool,
        per_destination: int,
    ) -> None:
        if self._closed:
            raise RuntimeError("the ICMP prober is closed")
        try:
            dst = socket.inet_pton(socket.AF_INET6, destination)
        except OSError:
            raise ValueError(f"{destination!r} is not an IPv6 address") from None
        series = _Series(
            future,
            (destination, 0),
            dst,
            cmsg,
            count,
            interval,
            timeout,
            single,
            per_destination > 0,
        )
        if per_destination > 0:
            running = self._active.get(dst, 0)
            if running >= per_destination:
                self._parked.setdefault(dst, deque()).append(series)
                return
            self._active[dst] = running + 1
        self._ready.append(series)
        if self._wakeup_at > 0:  # else a pump is already due in this turn of the loop
            # now if the bucket allows (one pump for all submitted in this turn), else when
            # it will: an empty bucket's timer stays as it is
            tokens = self._tokens + (time.monotonic() - self._refilled) * self.rate
            self._wake(0.0 if tokens >= 1 else (1 - tokens) / self.rate)

    def _wake(self, delay: float) -> None:
        """Run the pump `delay` seconds from now, unless it already runs sooner."""
        at = time.monotonic() + delay if delay > 0 else 0.0
        if self._closed or (self._wakeup is not None and self._wakeup_at <= at):
            return
        if self._wakeup is not None:
            self._wakeup.cancel()
        self._wakeup_at = at
        if delay > 0:
            self._wakeup = self._loop.call_later(delay, self._pump)
        else:
            self._wakeup = self._loop.call_soon(self._pump)

    def _pump(self) -> None:
        """Send every echo that is due and that the bucket allows; then sleep until the
        next one is due or the bucket has refilled."""
        self._wakeup, self._wakeup_at = None, math.inf
        if self._closed or self._waiting_writable:
            return
        now = time.monotonic()
        tokens = min(self._burst, self._tokens + (now - self._refilled) * self.rate)
        self._refilled = now
        room = MAX_IN_FLIGHT - len(self._pending)
        blocked = False
        next_due = math.inf
        # follow-up echoes first: they keep their series' spacing and end it sooner
        for interval, queue in list(self._later.items()):
            while queue and tokens >= 1 and room > 0:
                due, series = queue[0]
                if due > now:
                    break
                outcome = self._transmit(series)
                if outcome is False:
                    blocked = True
                    break
                queue.popleft()
                if outcome:
                    tokens -= 1
                    room -= 1
            if queue:
                next_due = min(next_due, queue[0][0])
            else:
                del self._later[interval]
            if blocked:
                break
        ready = self._ready
        while ready and tokens >= 1 and room > 0 and not blocked:
            outcome = self._transmit(ready[0])
            if outcome is False:
                blocked = True
                break
            ready.popleft()
            if outcome:
                tokens -= 1
                room -= 1
        for queue in self._later.values():  # series that just sent have new heads
            next_due = min(next_due, queue[0][0])
        self._tokens = tokens
        if blocked:
            return  # _transmit chose how to wait: writable, or a moment for ENOBUFS
        if ready or next_due <= now:
            if room <= 0:
                return  # replies and the sweeper free sequence numbers and wake the pump
            # wait for a quarter bucket, not one token: fewer, fuller wakeups, and a wakeup
            # that comes late still finds room in the bucket for what accrued meanwhile
            want = min(self._burst / 4, max(1.0, float(len(ready))))
            self._wake_at(now + (want - tokens) / self.rate)
        elif next_due < math.inf:
            self._wake_at(next_due)

    def _wake_at(self, at: float) -> None:
        # from the pump's start, not its end: the time it spent sending counts as waited
        self._wake(max(_MIN_WAIT, at - time.monotonic()))

    def _transmit(self, series: _Series) -> bool | None:
        """Send `series`' next echo: True when it went, None when nothing was sent (the
        series was abandoned, or the send failed and that is its outcome), False when the
        socket cannot take it now (retry later)."""
        if series.future.done():  # its waiter gave up (cancelled, the check's deadline)
            series.sent = series.count
            self._close(series)
            return None
        pending = self._pending
        seq = self._seq
        while True:  # a free number exists: MAX_IN_FLIGHT < 65,536
            seq = (seq + 1) & 0xFFFF
            if seq not in pending:
                break
        token = (self._token + 1) & 0xFFFF_FFFF_FFFF_FFFF
        packet = self._packet(seq, token)
        sent_ns = time.time_ns()
        try:
            self._sock.sendmsg([packet], series.cmsg, 0, series.address)
        except (BlockingIOError, InterruptedError):
            self._wait_writable()
            return False
        except OSError as exc:
            if exc.errno in _TRANSIENT:  # a full device queue drains in a moment
                self._wake(_MIN_WAIT)
                return False
            kind = NO_PATH if exc.errno in NO_PATH_ERRNOS else SEND_ERROR
            index = self._next(series)
            self._record(series, index, EchoOutcome(kind, error=exc.strerror or str(exc)))
            return None
        self._seq, self._token = seq, token
        now = time.monotonic()
        echo = (series, self._next(series, now), token, sent_ns)
        pending[seq] = echo
        timeout = series.timeout
        queue = self._deadlines.get(timeout)
        if queue is None:
            queue = self._deadlines[timeout] = deque()
        queue.append((now + timeout, seq, echo))
        if self._sweeper is None:
            self._sweeper = self._loop.call_later(SWEEP_INTERVAL, self._sweep)
        self.sent += 1
        return True

    def _next(self, series: _Series, now: float | None = None) -> int:
        """The index of the echo going out now; queues the series' next one."""
        index = series.sent
        series.sent = index + 1
        if index + 1 < series.count:
            due = (time.monotonic() if now is None else now) + series.interval
            queue = self._later.get(series.interval)
            if queue is None:
                queue = self._later[series.interval] = deque()
            queue.append((due, series))
        return index

    def _resume(self) -> None:
        """Wake the pump if echoes wait and it sleeps with no timer (it stopped for room)."""
        if self._wakeup is None and (self._ready or self._later):
            self._wake(0.0)

    def _wait_writable(self) -> None:
        if not self._waiting_writable and not self._closed:
            self._waiting_writable = True
            self._loop.add_writer(self._fd, self._writable)

    def _writable(self) -> None:
        self._loop.remove_writer(self._fd)
        self._waiting_writable = False
        self._wake(0.0)

    # ------------------------------------------------------------------ settling

    def _record(self, series: _Series, index: int, outcome: EchoOutcome) -> None:
        series.outcomes[index] = outcome
        series.remaining -= 1
        if series.remaining == 0:
            self._finish(series)

    def _finish(self, series: _Series) -> None:
        self._close(series)
        future = series.future
        if not future.done():
            if series.single:
                future.set_result(series.outcomes[0])  # type: ignore[arg-type]
            else:
                future.set_result(tuple(series.outcomes))  # type: ignore[arg-type]

    def _close(self, series: _Series) -> None:
        """The series sends no more: its destination's turn passes to the next in line."""
        if series.closed:
            return
        series.closed = True
        if not series.limited or self._closed:
            return
        dst = series.dst
        parked = self._parked.get(dst)
        if parked:
            self._ready.append(parked.popleft())  # keeps the destination's running count
            if not parked:
                del self._parked[dst]
            self._wake(0.0)
            return
        running = self._active[dst] - 1
        if running:
            self._active[dst] = running
        else:
            del self._active[dst]

    # ------------------------------------------------------------------ receiving

    def _sweep(self) -> None:
        self._sweeper = None
        if self._pending:
            # replies already queued count, however late the loop came round to them
            self._on_readable()
        now = time.monotonic()
        pending = self._pending
        for timeout, queue in list(self._deadlines.items()):
            # answered probes leave from the front early, so memory follows the oldest
            # unanswered probe rather than everything sent within the last timeout
            while queue:
                deadline, seq, echo = queue[0]
                # still waiting when its number holds this echo; by token, not identity:
                # compiled, a tuple is copied in and out of the dict
                current = pending.get(seq)
                waiting = current is not None and current[2] == echo[2]
                if waiting and deadline > now:
                    break
                queue.popleft()
                if waiting:
                    del pending[seq]
                    self._record(echo[0], echo[1], EchoOutcome(TIMEOUT))
            if not queue:
                del self._deadlines[timeout]
        if self._deadlines and not self._closed:
            self._sweeper = self._loop.call_later(SWEEP_INTERVAL, self._sweep)
        self._resume()  # timeouts freed sequence numbers for echoes that waited

    def _on_readable(self) -> None:
        recvmsg, pending, ident, parse = self._sock.recvmsg, self._pending, self.ident, icmp.parse
        record, time_ns = self._record, time.time_ns
        freed = False
        for _ in range(_READS_PER_WAKEUP):
            try:
                data, ancdata, _flags, source = recvmsg(2048, _ANC_SPACE)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                continue  # a queued socket error is cleared by reading it; keep draining
            parsed = parse(data, ident)
            if parsed is None:
                continue
            kind, code, seq, token, quoted_dst = parsed
            echo = pending.get(seq)
            if echo is None or (token is not None and token != echo[2]):
                continue  # late, or another run's probe
            series = echo[0]
            if quoted_dst is not None and quoted_dst != series.dst:
                continue
            if kind == icmp.ECHO_REPLY and token is None:
                continue  # a reply must echo our payload
            received_ns = 0
            for level, option, stamp in ancdata:  # the kernel's receive time, when it gave one
                if (
                    option == _SO_TIMESTAMPNS
                    and level == socket.SOL_SOCKET
                    and len(stamp) >= _STAMP
                ):
                    seconds, nanoseconds = _TIMESPEC.unpack_from(stamp)
                    received_ns = seconds * 1_000_000_000 + nanoseconds
            if not received_ns:
                received_ns = time_ns()
            del pending[seq]
            freed = True
            self.matched += 1
            responder = source[0]
            if "%" in responder:
                responder = responder.split("%", 1)[0]  # drop a link-local zone id
            # to the microsecond, in integers: round(x, 3) formats the float to decimal
            rtt_ms = (max(0, received_ns - echo[3]) + 500) // 1000 / 1000
            code_or_none = None if kind == icmp.ECHO_REPLY else code
            record(series, echo[1], EchoOutcome(_KIND[kind], responder, rtt_ms, code_or_none))
        if freed:
            self._resume()  # replies made room for echoes that waited
