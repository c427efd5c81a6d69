"""DNS replies for the lane fuzzer: well-formed seeds of every shape the lane reads or hands
back, answering the lane's own question, and the mutations that break them."""

from __future__ import annotations

import random
import socket
import struct
from dataclasses import dataclass

REPLY_MAX = 8192  # octets; over the lane's 4096 a datagram is truncated (and punted)


@dataclass
class Wire:
    """A reply being written, with where its names and RDLENGTH fields are."""

    data: bytearray
    names: list[int]
    rdlens: list[int]


ADDRESSES = [
    "2a00:1450::1", "2a00:1450::2", "2001:db8::1", "2001:db8:1::53", "fe80::1", "::1", "::",
    "fc00::1", "fd00::5", "::ffff:198.51.100.1", "64:ff9b::c633:6401", "2002:c633:6401::1",
    "2001::1", "ff02::1", "100::1", "3fff::1", "5f00::1", "::198.51.100.1", "2001:20::1",
]  # fmt: skip
T_A, T_NS, T_CNAME, T_SOA, T_AAAA, T_OPT, T_TXT = 1, 2, 5, 6, 28, 41, 16


def _labels_wire(labels: list[bytes]) -> bytes:
    return b"".join(bytes((len(x),)) + x for x in labels) + b"\x00"


_POOL_RNG = random.Random(0)
LABELS = [bytes(_POOL_RNG.choice(b"abcdefgh0-_") for _ in range(_POOL_RNG.randint(1, 10)))
          for _ in range(400)]  # fmt: skip


def random_labels(rng: random.Random) -> list[bytes]:
    out = rng.choices(LABELS, k=rng.randint(1, 4))
    if rng.random() < 0.1:
        out[0] = rng.randbytes(rng.randint(1, 6))  # a label that needs escapes
    return [*out, b"fuzz", b"test"]


class Writer:
    def __init__(self, qid: int, flags: int, counts: tuple[int, int, int, int]) -> None:
        self.w = Wire(bytearray(struct.pack("!HHHHHH", qid, flags, *counts)), [], [])

    def name(self, labels: list[bytes], pointer: int | None = None) -> None:
        self.w.names.append(len(self.w.data))
        if pointer is None:
            self.w.data += _labels_wire(labels)
        else:
            self.w.data += _labels_wire(labels)[:-1] + struct.pack("!H", 0xC000 | pointer)

    def rr(self, rdtype: int, ttl: int, rdata: bytes, klass: int = 1) -> None:
        self.w.data += struct.pack("!HHI", rdtype, klass, ttl)
        self.w.rdlens.append(len(self.w.data))
        self.w.data += struct.pack("!H", len(rdata)) + rdata


def _aaaa(rng: random.Random) -> bytes:
    if rng.random() < 0.15:
        return rng.randbytes(16)
    return socket.inet_pton(socket.AF_INET6, rng.choice(ADDRESSES))


def build_reply(rng: random.Random, query: bytes) -> Wire:
    """A well-formed reply to `query` (the lane's own question) of a random shape."""
    qid = query[:2]
    qend = query.index(b"\x00", 12) + 1
    qname, qtype = query[12:qend], struct.unpack_from("!H", query, qend)[0]
    shape = rng.choice(["aaaa", "aaaa", "a", "cname", "cname", "chase", "nx", "nodata",
                        "extra", "dup", "hops", "random"])  # fmt: skip
    if qname.startswith(b"\x03hop") and rng.random() < 0.8:
        shape = "chase"  # the lane asks a chain's end itself: keep it going, up to its cap
    if shape == "random":
        size = rng.choice([0, 1, 4, 12, 20, 40, 100, 300])
        return Wire(bytearray(qid + rng.randbytes(size)), [], [])
    rcode = 3 if shape == "nx" else 0
    flags = 0x8180 | rcode | (0x0400 if rng.random() < 0.3 else 0)
    answers: list[tuple[int | None, list[bytes], int, bytes]] = []  # (pointer, labels, type, rdata)
    qlabels = labels_of(qname)
    if rng.random() < 0.1:  # the question in another case: the lane must still match it
        qname = bytes(c ^ 0x20 if 97 <= c <= 122 and rng.random() < 0.5 else c for c in qname)
    owner_ptr: int | None = 12
    if shape in ("aaaa", "dup", "extra") and qtype in (T_AAAA, T_A):
        for _ in range(rng.randint(1, 4)):
            data = _aaaa(rng) if qtype == T_AAAA else rng.randbytes(4)
            answers.append((owner_ptr, [], qtype, data))
        if shape == "dup":
            answers.append(answers[0])
    elif shape in ("a", "aaaa", "dup", "extra"):
        answers.append((owner_ptr, [], T_A, rng.randbytes(4)))
    elif shape in ("cname", "chase"):
        previous: tuple[int | None, list[bytes]] = (12, [])
        seen = [qlabels]
        for _ in range(rng.choice([1, 1, 2, 3, 9, 10, 11, 12])):
            target = random_labels(rng)
            if shape == "chase":
                target[0] = b"hop"  # the name the lane asks next
            if rng.random() < 0.05:
                target = rng.choice(seen)  # a loop: back to the question or an earlier name
            seen.append(target)
            answers.append((previous[0], previous[1], T_CNAME, _labels_wire(target)))
            previous = (None, target)
            if rng.random() < 0.1:
                answers.append(answers[-1])  # the same CNAME twice
        if shape == "cname":
            for _ in range(rng.randint(0, 3)):
                answers.append((*previous, qtype if qtype in (T_A, T_AAAA) else T_AAAA,
                                _aaaa(rng) if qtype != T_A else rng.randbytes(4)))  # fmt: skip
    elif shape == "hops":
        return _pointer_hops(rng, qid, flags, qname, qtype)
    authority: list[tuple[int, bytes]] = []
    if shape in ("nx", "nodata") or rng.random() < 0.2:
        soa = _labels_wire([b"ns", b"fuzz", b"test"]) + _labels_wire([b"host", b"fuzz", b"test"])
        authority.append((T_SOA, soa + struct.pack("!IIIII", 1, 2, 3, 4, 5)))
    if shape == "extra":
        authority.append((T_NS, _labels_wire([b"ns1", b"fuzz", b"test"])))
    additional: list[tuple[int, bytes]] = []
    if shape == "extra":
        additional.append((T_AAAA, _aaaa(rng)))
        additional.append((T_A, rng.randbytes(4)))
    opt = rng.random() < 0.6
    writer = Writer(
        struct.unpack("!H", qid)[0], flags, (1, len(answers), len(authority), len(additional) + opt)
    )
    writer.name([], None)
    writer.w.data[-1:] = qname  # the question as asked (its case perhaps changed)
    writer.w.data += struct.pack("!HH", qtype, 1)
    for pointer, labels, rdtype, rdata in answers:
        writer.name(labels, pointer) if pointer is not None else writer.name(labels)
        writer.rr(rdtype, rng.choice([60, 300, 0, 2**31, 2**32 - 1]), rdata)
    for rdtype, rdata in authority:
        writer.name([b"fuzz", b"test"])
        writer.rr(rdtype, 60, rdata)
    for rdtype, rdata in additional:
        writer.name(qlabels) if rng.random() < 0.5 else writer.name([], 12)
        writer.rr(rdtype, 60, rdata)
    if opt:
        writer.w.names.append(len(writer.w.data))
        writer.w.data += b"\x00"
        high = rng.choice([0, 0, 0, 1 << 24])  # an extended rcode sometimes
        options = b"" if rng.random() < 0.8 else b"\xfd\xe9\x00\x01x"
        writer.rr(T_OPT, high, options, klass=1232)
    return writer.w


def labels_of(wire: bytes) -> list[bytes]:
    labels, pos = [], 0
    while wire[pos]:
        labels.append(wire[pos + 1 : pos + 1 + wire[pos]])
        pos += 1 + wire[pos]
    return labels


def _pointer_hops(rng: random.Random, qid: bytes, flags: int, qname: bytes, qtype: int) -> Wire:
    """Answers whose owners are chains of 15-18 pointers back to the question's name."""
    hops = rng.randint(14, 18)
    writer = Writer(struct.unpack("!H", qid)[0], flags, (1, hops + 1, 0, 0))
    writer.name([])
    writer.w.data[-1:] = qname
    writer.w.data += struct.pack("!HH", qtype, 1)
    previous = 12
    for _ in range(hops + 1):
        here = len(writer.w.data)
        writer.name([], previous)
        writer.rr(T_AAAA if qtype != T_A else T_A, 60, _aaaa(rng) if qtype != T_A else b"\1\2\3\4")
        previous = here
    return writer.w


# --- replies: mutations ---------------------------------------------------------------------


def _at_name(rng: random.Random, w: Wire) -> int:
    return rng.choice(w.names) if w.names else rng.randrange(max(1, len(w.data)))


def mutate(rng: random.Random, w: Wire, other: bytes) -> bytes:
    data = w.data
    for _ in range(rng.choice([0, 1, 1, 1, 2, 3])):
        kind = rng.randrange(12)
        n = len(data)
        if kind == 0 and n > 2:  # a compression loop: a name pointing at itself or forward
            at = _at_name(rng, w)
            target = rng.choice([at, at + rng.randint(1, 40), rng.randrange(n), 12])
            data[at : at + 2] = struct.pack("!H", 0xC000 | (target & 0x3FFF))
        elif kind == 1 and n >= 12:  # counts past the end, or short
            field = rng.choice([4, 6, 8, 10])
            value = struct.unpack_from("!H", data, field)[0]
            new = rng.choice([0, 1, value + 1, value + 2, 64, 65, 0xFFFF, rng.randrange(65536)])
            struct.pack_into("!H", data, field, new & 0xFFFF)
        elif kind == 2 and w.rdlens:  # huge, short or off-by-one RDLENGTH
            at = rng.choice(w.rdlens)
            if at + 2 <= n:
                value = struct.unpack_from("!H", data, at)[0]
                new = rng.choice(
                    [0, 1, 0xFFFF, value + 1, value - 1, 4, 16, n, rng.randrange(65536)]
                )
                struct.pack_into("!H", data, at, new & 0xFFFF)
        elif kind == 3:  # a label of 63 octets or more (64-191: the reserved label types)
            at = _at_name(rng, w)
            length = rng.choice([63, 63, 64, 65, 127, 128, 191])
            body = b"a" * rng.choice([length, min(length, 63), length - 1, 0])
            data[at:at] = bytes((length,)) + body
        elif kind == 4:  # a name past 255 octets
            at = _at_name(rng, w)
            data[at:at] = (b"\x3f" + b"x" * 63) * rng.randint(3, 5)
        elif kind == 5 and n:  # flip bytes
            for _ in range(rng.randint(1, 4)):
                data[rng.randrange(n)] = rng.randrange(256)
        elif kind == 6 and n:  # cut
            del data[rng.randrange(n) :]
        elif kind == 7:  # junk after the end
            data += rng.randbytes(rng.randint(1, 20))
        elif kind == 8 and n:  # insert bytes
            at = rng.randrange(n)
            data[at:at] = rng.randbytes(rng.randint(1, 8))
        elif kind == 9 and other:  # splice with another reply, past the header
            at = rng.randrange(12, max(13, n))
            data[at:] = other[rng.randrange(len(other)) :]
        elif kind == 10 and n >= 4:  # header flags: TC, QR, opcode, rcode
            data[2] ^= rng.choice([0x02, 0x80, 0x08, 0x78])
            data[3] = (data[3] & 0xF0) | rng.choice([0, 0, 1, 2, 3, 5, 15])
        elif kind == 11:  # a datagram too long for the lane's buffer
            data += bytes(rng.choice([100, 4000, 5000]))
    return bytes(data[:REPLY_MAX])
