"""The ICMPv6 wire format of the echo probes: scapy-built messages parsed by the
struct hot path. No network."""

from __future__ import annotations

import socket
import struct
import subprocess
import sys

from scapy.layers.inet6 import (
    ICMPv6DestUnreach,
    ICMPv6EchoReply,
    ICMPv6EchoRequest,
    ICMPv6PacketTooBig,
    ICMPv6TimeExceeded,
    IPv6,
)

from ipv6scan.probes import icmp

IDENT = 0x4242
DEST = "2001:db8::7"


def probe(seq: int = 9, token: int = 0x0102030405060708) -> bytes:
    return icmp.EchoPacker(IDENT).packet(seq, token)  # what the prober sends


def quoted(kind: type, packet: bytes, **fields: object) -> bytes:
    # what a router sends back: its error header, then our packet as it saw it
    header = IPv6(src="2001:db8::1", dst=DEST, nh=58, hlim=1, plen=len(packet))
    return bytes(kind(cksum=0, **fields)) + bytes(header) + packet


def test_template_is_an_echo_request_with_our_identifier() -> None:
    # Given the template scapy lays out, When it is filled for one probe
    packet = probe(seq=0xBEEF, token=7)
    # Then scapy reads back our identifier, sequence number and token
    parsed = ICMPv6EchoRequest(packet)
    assert (parsed.type, parsed.id, parsed.seq) == (128, IDENT, 0xBEEF)
    assert struct.unpack("!Q", bytes(parsed.data)[:8]) == (7,)
    assert len(packet) == 8 + icmp.PAYLOAD_LEN


def test_echo_reply_gives_sequence_and_token() -> None:
    reply = bytes(ICMPv6EchoReply(id=IDENT, seq=9, data=probe()[8:]))
    assert icmp.parse(reply, IDENT) == (icmp.ECHO_REPLY, 0, 9, 0x0102030405060708, None)


def test_other_identifiers_and_types_are_ignored() -> None:
    # another process's ping on the same host shares the raw socket's view
    assert icmp.parse(bytes(ICMPv6EchoReply(id=IDENT + 1, seq=9, data=b"x" * 16)), IDENT) is None
    assert icmp.parse(quoted(ICMPv6PacketTooBig, probe()), IDENT) is None
    assert icmp.parse(b"\x81\x00", IDENT) is None


def test_time_exceeded_quotes_our_probe() -> None:
    packet = probe(seq=300)
    kind, code, seq, token, dst = icmp.parse(quoted(ICMPv6TimeExceeded, packet), IDENT) or ()
    assert (kind, code, seq, token) == (icmp.TIME_EXCEEDED, 0, 300, 0x0102030405060708)
    assert dst == socket.inet_pton(socket.AF_INET6, DEST)


def test_destination_unreachable_keeps_its_code() -> None:
    message = quoted(ICMPv6DestUnreach, probe(seq=5), code=1)  # administratively prohibited
    assert icmp.parse(message, IDENT)[:3] == (icmp.DEST_UNREACHABLE, 1, 5)  # type: ignore[index]


def test_short_quote_is_matched_without_token() -> None:
    # an old router quoting only the ICMPv6 header: sequence number, no token
    message = quoted(ICMPv6TimeExceeded, probe(seq=77)[:8])
    assert icmp.parse(message, IDENT)[2:4] == (77, None)  # type: ignore[index]
    assert icmp.parse(message[:50], IDENT) is None  # too short to say whose it is


def test_quote_of_another_identifier_is_ignored() -> None:
    other = bytes(ICMPv6EchoRequest(id=IDENT ^ 1, seq=9, data=bytes(16)))
    assert icmp.parse(quoted(ICMPv6TimeExceeded, other), IDENT) is None


def test_filter_passes_only_replies_and_errors() -> None:
    words = struct.unpack("=8I", icmp.filter_bytes())

    def blocked(kind: int) -> bool:  # Linux: a set bit blocks the type
        return bool(words[kind >> 5] & (1 << (kind & 31)))

    assert [k for k in range(256) if not blocked(k)] == [1, 3, 129]


def test_the_template_leaves_scapys_routing_tables_unread() -> None:
    # Given a fresh process whose scapy records every read of the kernel's routing tables
    # (scapy copies them at import by default: a million routes on a backbone router)
    code = "\n".join([
        "import scapy.arch as arch",
        "read = []",
        "arch.read_routes = lambda: read.append(4) or []",
        "arch.read_routes6 = lambda: read.append(6) or []",
        "from ipv6scan.probes import icmp",
        "assert icmp.echo_template(0x1234)[:6] == bytes([128, 0, 0, 0, 0x12, 0x34])",
        "print(read)",
    ])  # fmt: skip
    # When the echo template is built, scapy's first import in that process
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    # Then neither table was read: the probes use the kernel's routes
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
