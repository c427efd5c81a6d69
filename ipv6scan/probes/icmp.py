"""ICMPv6 wire format of the echo probes: built once with scapy, parsed with struct.

The probe socket (probes/icmp_socket.py) sends tens of thousands of echo requests
a second, so nothing here builds a scapy packet per probe: scapy lays out the echo
request once (EchoPacker), each probe is that layout with its sequence number and
token put in, and replies are read with fixed offsets after a two-byte test of the
identifier, so nothing that is not ours costs more than that. The kernel fills in
the ICMPv6 checksum of a raw IPPROTO_ICMPV6 socket itself (RFC 3542 section 3.1;
Linux sets the checksum offset of every such socket), so no probe needs checksum
arithmetic, whatever its destination.

An AF_INET6 raw socket delivers ICMPv6 messages without the IPv6 header; the
sender's address comes with recvmsg().
"""

from __future__ import annotations

import struct

ECHO_REQUEST = 128
ECHO_REPLY = 129
DEST_UNREACHABLE = 1
TIME_EXCEEDED = 3
ERROR_TYPES = (DEST_UNREACHABLE, TIME_EXCEEDED)

# <linux/icmpv6.h>; Python's socket module does not export it.
ICMP6_FILTER = 1

_HEADER = 8  # type, code, checksum, identifier, sequence
_TOKEN = struct.Struct("!Q")
TOKEN_LEN = _TOKEN.size
PAYLOAD_LEN = 16  # the token, then zeros: small, like ping's default minus the timestamp
_IPV6_HEADER = 40
_NEXT_HEADER_ICMPV6 = 58
_SEQ_TOKEN = struct.Struct("!HQ")  # bytes 6..15 of a probe
_ECHO_FIELDS = struct.Struct("!BBHHH")

# Offsets inside an error message (type 1 or 3): 8 bytes of ICMPv6 header, then the
# invoking packet as the router saw it: its IPv6 header, then our echo request.
_Q_IPV6 = _HEADER
_Q_NEXT = _Q_IPV6 + 6
_Q_DST = _Q_IPV6 + 24
_Q_ICMP = _Q_IPV6 + _IPV6_HEADER
_Q_MIN = _Q_ICMP + _HEADER
_Q_TOKEN_END = _Q_ICMP + _HEADER + TOKEN_LEN

# What parse() returns: (type, code, seq, token or None, quoted destination or None).
Parsed = tuple[int, int, int, int | None, bytes | None]


def echo_template(ident: int) -> bytes:
    """An echo request with our identifier, sequence 0 and a zero payload, laid out by
    scapy. Checksum left 0: the kernel computes it for raw ICMPv6 sockets."""
    _scapy_without_routes()
    from scapy.layers.inet6 import ICMPv6EchoRequest  # slow import: only when probing

    packet = bytes(ICMPv6EchoRequest(id=ident, seq=0, cksum=0, data=bytes(PAYLOAD_LEN)))
    if len(packet) != _HEADER + PAYLOAD_LEN or packet[0] != ECHO_REQUEST:
        raise RuntimeError(f"unexpected echo request layout from scapy: {packet.hex()}")
    return packet


def _scapy_without_routes() -> None:
    """Tell scapy, before its first import, not to copy the routing tables: the probes
    go out through the kernel's routes (a raw socket), and scapy's copy is read at
    import, route by route, which on a router holding a full BGP table means a million
    routes before the first echo. A no-op once scapy.route and scapy.route6 are loaded."""
    from scapy.config import conf

    conf.route_autoload = False
    conf.route6_autoload = False


class EchoPacker:
    """Echo requests of one identifier: scapy's layout, split around the sequence number
    and token, so a probe costs one struct.pack and two concatenations."""

    __slots__ = ("_head", "_pack", "_tail")

    def __init__(self, ident: int) -> None:
        template = echo_template(ident)
        self._head = template[:6]  # type, code, checksum (0: the kernel's), identifier
        self._tail = template[_HEADER + TOKEN_LEN :]
        self._pack = _SEQ_TOKEN.pack

    def packet(self, seq: int, token: int) -> bytes:
        return self._head + self._pack(seq, token) + self._tail


def parse(data: bytes, ident: int) -> Parsed | None:
    """Our echo reply, or an error message quoting our echo request; None for anything
    else (other processes' pings share the raw socket's view of ICMPv6)."""
    size = len(data)
    if size < _HEADER:
        return None
    kind = data[0]
    if kind == ECHO_REPLY:
        if (data[4] << 8 | data[5]) != ident:  # the cheap test first: most strangers end here
            return None
        token = _TOKEN.unpack_from(data, _HEADER)[0] if size >= _HEADER + TOKEN_LEN else None
        return kind, data[1], data[6] << 8 | data[7], token, None
    if kind in ERROR_TYPES:
        if size < _Q_MIN or data[_Q_NEXT] != _NEXT_HEADER_ICMPV6:
            return None  # too short to match, or not quoting an ICMPv6 packet
        q_type, _, _, got_ident, seq = _ECHO_FIELDS.unpack_from(data, _Q_ICMP)
        if q_type != ECHO_REQUEST or got_ident != ident:
            return None
        # RFC 4443 asks routers to quote as much as fits in 1280 bytes, so the token is
        # normally there; an old router that quotes less is matched by sequence alone.
        token = _TOKEN.unpack_from(data, _Q_ICMP + _HEADER)[0] if size >= _Q_TOKEN_END else None
        return kind, data[1], seq, token, bytes(data[_Q_DST : _Q_DST + 16])
    return None


def filter_bytes(passed: tuple[int, ...] = (ECHO_REPLY, *ERROR_TYPES)) -> bytes:
    """A struct icmp6_filter that lets only `passed` types through. In Linux's encoding a
    set bit blocks the type, so the kernel drops every other ICMPv6 message (neighbour
    discovery, our own echo requests looped back, ...) before it reaches Python."""
    words = [0xFFFFFFFF] * 8
    for kind in passed:
        words[kind >> 5] &= ~(1 << (kind & 31))
    return struct.pack("=8I", *words)
