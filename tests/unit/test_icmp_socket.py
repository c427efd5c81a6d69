"""The raw-socket ICMP prober: real echoes to ::1 (root only), and matching, timeouts,
traces and send errors against a scripted socket that never touches the network.

Only ::1 is ever sent to; every other address below lives in the scripted socket.
"""

from __future__ import annotations

import asyncio
import errno
import itertools
import os
import socket
import struct
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from scapy.layers.inet6 import ICMPv6DestUnreach, ICMPv6EchoReply, ICMPv6TimeExceeded, IPv6

from ipv6scan.observations.net import (
    NO_PATH,
    REPLY,
    SEND_ERROR,
    TIME_EXCEEDED,
    TIMEOUT,
    UNREACHABLE,
)
from ipv6scan.probes import icmp, icmp_socket
from ipv6scan.probes.icmp_socket import IcmpProber, RawSocketDenied, open_raw_socket
from ipv6scan.probes.net import ping_result, trace

DEST = "2001:db8::99"


def _raw_sockets_permitted() -> bool:
    try:
        open_raw_socket().close()
    except RawSocketDenied:
        return False
    return True


needs_raw = pytest.mark.skipif(
    not _raw_sockets_permitted(), reason="raw ICMPv6 sockets need root or CAP_NET_RAW"
)


# ------------------------------------------------------------------ real echoes to ::1


@needs_raw
async def test_many_pings_in_flight_to_loopback_all_complete() -> None:
    # Given one prober, When 200 echoes to ::1 are in flight at once
    async with IcmpProber.open() as prober:
        outcomes = await asyncio.gather(*(prober.echo("::1", timeout=3) for _ in range(200)))
        # Then every one is answered, each matched to its own probe
        assert [o.kind for o in outcomes] == [REPLY] * 200
        assert {o.responder for o in outcomes} == {"::1"}
        assert prober.sent == prober.matched == 200
        assert prober.in_flight == 0


@needs_raw
async def test_ping_of_loopback_counts_replies() -> None:
    async with IcmpProber.open() as prober:
        result = ping_result("::1", await prober.ping("::1", count=3, interval=0.01, timeout=2))
    assert (result.sent, result.received, result.scanner_error) == (3, 3, None)
    assert all(rtt >= 0 for rtt in result.rtts_ms)


@needs_raw
async def test_trace_to_loopback_reaches_at_hop_one() -> None:
    async with IcmpProber.open() as prober:
        result = await trace(prober, "::1", max_hops=5, timeout=2)
    assert result.reached
    assert [(h.ttl, h.address) for h in result.hops] == [(1, "::1")]


# ------------------------------------------------------------------ unprivileged


def test_no_permission_is_reported_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    def denied(*_: int) -> socket.socket:
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(icmp_socket, "SOCKET_FACTORY", denied)
    with pytest.raises(RawSocketDenied, match="CAP_NET_RAW"):
        open_raw_socket()


# ------------------------------------------------------------------ a scripted socket

Respond = Callable[[bytes, int | None, str], list[tuple[bytes, str]]]


class ScriptedSocket:
    """Stands in for the raw socket: records what is sent and queues the replies that
    `respond` makes up. A datagram socketpair gives the loop a real descriptor to watch."""

    def __init__(
        self, respond: Respond, send_error: int | None = None, kernel_delay: float | None = None
    ) -> None:
        self.respond = respond
        self.send_error = send_error
        # set: replies carry a kernel receive timestamp this long after the send
        self.kernel_delay = kernel_delay
        self._wake, self._ring = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._wake.setblocking(False)
        self.inbox: deque[tuple[bytes, str, int | None]] = deque()
        self.sent: list[tuple[bytes, int | None, str]] = []
        self.times: list[float] = []  # time.monotonic() of each send

    def fileno(self) -> int:
        return self._wake.fileno()

    def sendmsg(
        self, buffers: list[bytes], ancdata: list[tuple[int, int, bytes]], flags: int, addr: tuple
    ) -> int:
        if self.send_error is not None:
            raise OSError(self.send_error, os.strerror(self.send_error))
        packet = b"".join(buffers)
        hop = struct.unpack("i", ancdata[0][2])[0] if ancdata else None
        self.sent.append((packet, hop, addr[0]))
        self.times.append(time.monotonic())
        stamp = None
        if self.kernel_delay is not None:
            stamp = time.time_ns() + int(self.kernel_delay * 1e9)
        for reply in self.respond(packet, hop, addr[0]):
            self.deliver(*reply, stamp_ns=stamp)
        return len(packet)

    def deliver(self, data: bytes, source: str, stamp_ns: int | None = None) -> None:
        # one wake byte while anything is queued: thousands of replies would fill the pair
        if not self.inbox:
            self._ring.send(b"!")
        self.inbox.append((data, source, stamp_ns))

    def recvmsg(
        self, _size: int, _ancsize: int = 0
    ) -> tuple[bytes, list[tuple[int, int, bytes]], int, tuple[str, int, int, int]]:
        if not self.inbox:
            raise BlockingIOError(errno.EAGAIN, "nothing queued")  # like the real one
        data, source, stamp_ns = self.inbox.popleft()
        if not self.inbox:
            self._wake.recv(1)  # the loop stops seeing it readable
        ancdata = []  # no kernel timestamp: the prober reads the clock
        if stamp_ns is not None:
            timespec = icmp_socket._TIMESPEC.pack(*divmod(stamp_ns, 1_000_000_000))
            ancdata.append((socket.SOL_SOCKET, icmp_socket._SO_TIMESTAMPNS, timespec))
        return data, ancdata, 0, (source, 0, 0, 0)

    def close(self) -> None:
        self._wake.close()
        self._ring.close()


def echo_reply(packet: bytes) -> bytes:
    ident, seq = struct.unpack_from("!HH", packet, 4)
    return bytes(ICMPv6EchoReply(id=ident, seq=seq, data=packet[8:], cksum=0))


def error_quoting(kind: type, packet: bytes, dest: str, **fields: object) -> bytes:
    header = IPv6(src="2001:db8::1", dst=dest, nh=58, hlim=1, plen=len(packet))
    return bytes(kind(cksum=0, **fields)) + bytes(header) + packet


@pytest.fixture
def scripted() -> Iterator[Callable[..., IcmpProber]]:
    made: list[IcmpProber] = []

    def make(
        respond: Respond,
        send_error: int | None = None,
        *,
        rate: float = icmp_socket.DEFAULT_RATE,
        kernel_delay: float | None = None,
    ) -> IcmpProber:
        sock = ScriptedSocket(respond, send_error, kernel_delay)
        prober = IcmpProber(sock, ident=0x1234, rate=rate)  # type: ignore[arg-type]
        made.append(prober)
        return prober

    yield make
    for prober in made:
        prober.close()


async def test_replies_match_their_own_probe(scripted: Callable[..., IcmpProber]) -> None:
    # Given a destination that answers only every second probe
    count = 0

    def every_other(packet: bytes, hop: int | None, dest: str) -> list[tuple[bytes, str]]:
        nonlocal count
        count += 1
        return [(echo_reply(packet), dest)] if count % 2 else []

    prober = scripted(every_other)
    # When ten probes are in flight
    outcomes = await asyncio.gather(*(prober.echo(DEST, timeout=0.2) for _ in range(10)))
    # Then the answered ones are replies and the rest time out: no mix-up
    assert [o.kind for o in outcomes] == [REPLY, TIMEOUT] * 5


async def test_a_reply_with_a_stale_token_is_ignored(scripted: Callable[..., IcmpProber]) -> None:
    # Given a reply that carries the right sequence number but another probe's token
    # (a late answer to an earlier probe after the sequence numbers wrapped)
    def stale(packet: bytes, hop: int | None, dest: str) -> list[tuple[bytes, str]]:
        forged = packet[:8] + struct.pack("!Q", 0xDEAD) + packet[16:]
        return [(echo_reply(forged), dest)]

    prober = scripted(stale)
    started = time.monotonic()
    outcome = await prober.echo(DEST, timeout=0.2)
    # Then it is not taken for this probe's reply
    assert outcome.kind == TIMEOUT
    assert 0.15 < time.monotonic() - started < 1.0


async def test_a_late_reply_after_the_timeout_is_dropped(
    scripted: Callable[..., IcmpProber],
) -> None:
    prober = scripted(lambda packet, hop, dest: [])
    outcome = await prober.echo(DEST, timeout=0.05)
    assert outcome.kind == TIMEOUT
    sock = prober._sock
    packet = sock.sent[0][0]  # type: ignore[attr-defined]
    sock.deliver(echo_reply(packet), DEST)  # type: ignore[attr-defined]
    await asyncio.sleep(0.05)
    assert prober.matched == 0 and prober.in_flight == 0


async def test_errors_must_quote_the_probed_destination(
    scripted: Callable[..., IcmpProber],
) -> None:
    # A Time Exceeded quoting our sequence number but another destination is not ours
    def wrong_dest(packet: bytes, hop: int | None, dest: str) -> list[tuple[bytes, str]]:
        return [(error_quoting(ICMPv6TimeExceeded, packet, "2001:db8::1234"), "2001:db8::1")]

    prober = scripted(wrong_dest)
    assert (await prober.echo(DEST, timeout=0.1, hop_limit=1)).kind == TIMEOUT


async def test_unreachable_carries_its_code_and_sender(
    scripted: Callable[..., IcmpProber],
) -> None:
    def prohibited(packet: bytes, hop: int | None, dest: str) -> list[tuple[bytes, str]]:
        return [(error_quoting(ICMPv6DestUnreach, packet, dest, code=1), "2001:db8::fe")]

    outcome = await scripted(prohibited).echo(DEST, timeout=1)
    assert (outcome.kind, outcome.code, outcome.responder) == (UNREACHABLE, 1, "2001:db8::fe")


def path_of(routers: list[str | None], dest: str = DEST) -> Respond:
    """A path through `routers` (None: a hop that drops expired probes silently)."""

    def respond(packet: bytes, hop: int | None, to: str) -> list[tuple[bytes, str]]:
        assert hop is not None
        if hop > len(routers):
            return [(echo_reply(packet), dest)]
        router = routers[hop - 1]
        if router is None:
            return []
        return [(error_quoting(ICMPv6TimeExceeded, packet, to), router)]

    return respond


async def test_trace_goes_on_past_a_silent_hop(scripted: Callable[..., IcmpProber]) -> None:
    # Given a path whose second router drops expired probes without a word
    prober = scripted(path_of(["2001:db8::a", None, "2001:db8::c"]))
    # When it is traced
    result = await trace(prober, DEST, max_hops=30, timeout=0.1)
    # Then the silent hop shows as no address, and the destination is reached at hop 4
    assert result.reached
    assert [(h.ttl, h.address) for h in result.hops] == [
        (1, "2001:db8::a"),
        (2, None),
        (3, "2001:db8::c"),
        (4, DEST),
    ]
    assert result.hops[0].answered == 3 and result.hops[1].answered == 0
    # each hop's probes carry that hop limit
    hops_sent = [hop for _, hop, _ in prober._sock.sent]  # type: ignore[attr-defined]
    assert hops_sent.count(1) == 3 and max(hops_sent) == 8  # one window of 8 hops


async def test_trace_not_reached_within_max_hops(scripted: Callable[..., IcmpProber]) -> None:
    prober = scripted(path_of(["2001:db8::a"] + [None] * 40))
    result = await trace(prober, DEST, max_hops=10, timeout=0.05)
    assert not result.reached and len(result.hops) == 10 and result.max_hops == 10
    assert [h.address for h in result.hops[1:]] == [None] * 9


async def test_trace_stops_at_unreachable(scripted: Callable[..., IcmpProber]) -> None:
    def blocked(packet: bytes, hop: int | None, to: str) -> list[tuple[bytes, str]]:
        if hop == 1:
            return [(error_quoting(ICMPv6TimeExceeded, packet, to), "2001:db8::a")]
        return [(error_quoting(ICMPv6DestUnreach, packet, to, code=1), "2001:db8::b")]

    result = await trace(scripted(blocked), DEST, max_hops=30, timeout=0.1)
    assert not result.reached
    assert result.hops[-1].unreachable == "admin-prohibited"
    assert result.stopped and "2001:db8::b" in result.stopped


@pytest.mark.parametrize(
    ("code", "kind"),
    [(errno.ENETUNREACH, NO_PATH), (errno.EHOSTUNREACH, NO_PATH), (errno.EPERM, SEND_ERROR)],
)
async def test_send_errors_are_the_scanners_side(
    scripted: Callable[..., IcmpProber], code: int, kind: str
) -> None:
    prober = scripted(lambda packet, hop, dest: [], send_error=code)
    outcome = await prober.echo(DEST, timeout=1)
    assert outcome.kind == kind and outcome.error
    result = ping_result(DEST, await prober.ping(DEST, count=2, interval=0, timeout=1))
    assert result.received == 0 and result.scanner_error
    traced = await trace(prober, DEST, max_hops=5, timeout=1)
    assert traced.scanner_error and not traced.reached


async def test_time_exceeded_outcome(scripted: Callable[..., IcmpProber]) -> None:
    prober = scripted(path_of(["2001:db8::a"]))
    outcome = await prober.echo(DEST, timeout=1, hop_limit=1)
    assert (outcome.kind, outcome.responder) == (TIME_EXCEEDED, "2001:db8::a")


async def test_bad_input_is_refused(scripted: Callable[..., IcmpProber]) -> None:
    prober = scripted(lambda packet, hop, dest: [])
    with pytest.raises(ValueError):
        prober.send("198.51.100.1", timeout=1)
    with pytest.raises(ValueError):
        prober.send(DEST, timeout=1, hop_limit=0)


# ------------------------------------------------------------------ series, pacing, RTTs


def answer_all(packet: bytes, hop: int | None, dest: str) -> list[tuple[bytes, str]]:
    # the request with its type turned into a reply: what a host sends back, without
    # scapy's cost per packet (the checksum is not checked on this side)
    return [(bytes([icmp.ECHO_REPLY]) + packet[1:], dest)]


def sent_times(prober: IcmpProber) -> list[float]:
    return prober._sock.times  # type: ignore[attr-defined,no-any-return]


async def test_a_series_spaces_its_echoes_and_keeps_their_order(
    scripted: Callable[..., IcmpProber],
) -> None:
    # Given a destination that answers the first and third echo only
    count = 0

    def odd(packet: bytes, hop: int | None, dest: str) -> list[tuple[bytes, str]]:
        nonlocal count
        count += 1
        return [(echo_reply(packet), dest)] if count % 2 else []

    prober = scripted(odd)
    # When one series of three echoes 50 ms apart is sent
    outcomes = await prober.ping(DEST, count=3, interval=0.05, timeout=0.2)
    # Then the outcomes come in sending order, and the echoes were at least 50 ms apart
    assert [o.kind for o in outcomes] == [REPLY, TIMEOUT, REPLY]
    times = sent_times(prober)
    assert len(times) == 3
    assert all(b - a >= 0.049 for a, b in itertools.pairwise(times))
    assert prober.in_flight == 0


async def test_many_series_share_one_timer_not_one_per_echo(
    scripted: Callable[..., IcmpProber],
) -> None:
    # Given a thousand addresses pinged at once, three echoes each, 20 ms apart
    prober = scripted(answer_all)
    destinations = [f"2001:db8::{i + 1:x}" for i in range(1000)]
    started = time.monotonic()
    results = await asyncio.gather(
        *(prober.ping(d, count=3, interval=0.02, timeout=1) for d in destinations)
    )
    # Then every echo is answered, matched to its own destination
    assert all([o.kind for o in r] == [REPLY] * 3 for r in results)
    assert all({o.responder for o in r} == {d} for r, d in zip(results, destinations, strict=True))
    assert prober.sent == prober.matched == 3000
    # and the whole lot took about the spacing, not a thousand times it (40 s)
    assert time.monotonic() - started < 10.0


async def test_the_rate_bounds_echoes_per_second(scripted: Callable[..., IcmpProber]) -> None:
    # Given a prober paced at 1,000 echoes a second (a bucket of 20 ms: 20 echoes)
    prober = scripted(answer_all, rate=1000)
    # When 200 echoes are asked for at once
    outcomes = await asyncio.gather(*(prober.echo(DEST, timeout=1) for _ in range(200)))
    # Then they all go, yet spread over at least (200 - 20) / 1,000 s
    assert [o.kind for o in outcomes] == [REPLY] * 200
    times = sent_times(prober)
    assert times[-1] - times[0] >= 0.17
    # and no 50 ms window holds more than the bucket plus 50 ms of the rate
    busiest = max(sum(1 for t in times if a <= t < a + 0.05) for a in times)
    assert busiest <= 20 + 50 + 2


async def test_a_high_rate_still_reads_replies_between_bursts(
    scripted: Callable[..., IcmpProber],
) -> None:
    # Given a prober at the highest rate an operator may set (IPV6SCAN_PING_RATE)
    prober = scripted(answer_all, rate=1_000_000)
    sock = prober._sock
    unread: list[int] = []
    real_send = sock.sendmsg

    def send(*args: Any) -> int:
        unread.append(len(sock.inbox))  # replies the prober has not read yet
        return real_send(*args)

    sock.sendmsg = send
    # When 5,000 echoes are asked for at once
    outcomes = await asyncio.gather(*(prober.echo(DEST, timeout=5) for _ in range(5_000)))
    # Then all are answered, and the replies waiting unread never exceed about a burst
    # (a 20 ms bucket of 1,000,000/s would send all 5,000 before reading one)
    assert [o.kind for o in outcomes] == [REPLY] * 5_000
    assert max(unread) <= 2 * icmp_socket.MAX_BURST


async def test_one_destination_gets_at_most_per_destination_series_at_once(
    scripted: Callable[..., IcmpProber],
) -> None:
    # Given five series to one address, at most two at a time
    prober = scripted(answer_all)
    futures = [
        prober.ping(DEST, count=2, interval=0.05, timeout=1, per_destination=2) for _ in range(5)
    ]
    # When the first echoes go out, only two series have started
    while not sent_times(prober):
        await asyncio.sleep(0)
    dst = socket.inet_pton(socket.AF_INET6, DEST)
    assert prober._active[dst] == 2 and len(prober._parked[dst]) == 3
    # Then all five finish, in three turns of the two slots
    results = await asyncio.gather(*futures)
    assert all([o.kind for o in r] == [REPLY, REPLY] for r in results)
    times = sent_times(prober)
    assert len(times) == 10 and times[-1] - times[0] >= 0.14
    assert not prober._active and not prober._parked


async def test_an_abandoned_series_sends_no_more(scripted: Callable[..., IcmpProber]) -> None:
    prober = scripted(answer_all)
    future = prober.ping(DEST, count=5, interval=0.05, timeout=1)
    while len(sent_times(prober)) < 2:
        await asyncio.sleep(0.005)
    future.cancel()  # what the check's deadline does to its waiter
    await asyncio.sleep(0.2)
    assert len(sent_times(prober)) == 2
    assert prober.in_flight == 0


async def test_close_settles_every_waiting_series(scripted: Callable[..., IcmpProber]) -> None:
    prober = scripted(lambda packet, hop, dest: [])
    series = prober.ping(DEST, count=3, interval=0.05, timeout=5)
    single = prober.send(DEST, timeout=5)
    await asyncio.sleep(0.01)
    prober.close()
    assert [o.kind for o in await series] == [SEND_ERROR] * 3
    assert (await single).kind == SEND_ERROR


async def test_rtt_is_the_kernels_receive_time_not_the_loops(
    scripted: Callable[..., IcmpProber],
) -> None:
    # Given replies stamped by the kernel 5 ms after the send
    prober = scripted(answer_all, kernel_delay=0.005)
    # When the loop is busy for 100 ms before it reads them
    future = prober.send(DEST, timeout=1)
    await asyncio.sleep(0)  # the echo goes out
    await asyncio.sleep(0)
    time.sleep(0.1)
    outcome = await future
    # Then the RTT is the kernel's 5 ms, not the 100 ms the loop took
    assert outcome.kind == REPLY and outcome.rtt_ms is not None
    assert 5.0 <= outcome.rtt_ms < 50.0


async def test_replies_waiting_in_the_socket_beat_their_deadline() -> None:
    # Given 1,500 probes whose replies all wait in the socket when a busy loop comes back
    # past their deadline: more than one wakeup of the reader takes (1,024)
    sock = ScriptedSocket(lambda packet, hop, dest: [])
    prober = IcmpProber(sock, ident=0x1234, rate=1e6)  # type: ignore[arg-type]
    try:
        futures = [prober.send(DEST, timeout=0.3) for _ in range(1500)]
        while len(sock.sent) < 1500:
            await asyncio.sleep(0.001)
        for packet, _, _ in sock.sent:
            sock.deliver(answer_all(packet, None, DEST)[0][0], DEST)
        time.sleep(0.4)
        outcomes = await asyncio.gather(*futures)
    finally:
        prober.close()
    # Then the sweeper reads what is queued before it declares anything lost
    assert [o.kind for o in outcomes] == [REPLY] * 1500


async def test_rate_must_be_positive(scripted: Callable[..., IcmpProber]) -> None:
    prober = scripted(answer_all)
    for bad in (0, -1, float("inf"), float("nan")):
        with pytest.raises(ValueError):
            prober.set_rate(bad)
    with pytest.raises(ValueError):
        prober.ping(DEST, count=0, interval=0.1, timeout=1)


@needs_raw
async def test_kernel_timestamps_give_loopback_rtts() -> None:
    async with IcmpProber.open() as prober:
        outcomes = await prober.ping("::1", count=3, interval=0.01, timeout=2)
    assert [o.kind for o in outcomes] == [REPLY] * 3
    assert all(o.rtt_ms is not None and 0 <= o.rtt_ms < 100 for o in outcomes)
