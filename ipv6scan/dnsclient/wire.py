"""A small DNS codec for the hot path: encode one query, decode the reply to it.

dnspython decodes about 6,600 messages a second (FIELD.md), far below what a
name server answers, so the scanner's recursive look-ups decode here instead.
Only what the scan reads is decoded: the header, the question, and the answer
records of the types the checks use (A, AAAA, CNAME, NS, MX, SOA, PTR, DNAME).

The result must be exactly what `dns.message.from_wire` plus `probes.dns._records`
give, so this module follows dnspython's rules where they change the outcome:
records of one (owner, class, type) merge into one RRset with the lowest TTL,
duplicate rdata are kept once, CNAME/DNAME/SOA keep their last record, TTLs above
2**31-1 read as 0, compression pointers must point strictly backwards (at most 16
hops, never into the name being read), and any error that dnspython raises as a
FormError turns into truncation when the TC bit is set. A message with anything
else in it (another class, another record type in any section, EDNS options,
another opcode) is handed to dnspython whole: rare, and then the answer is
dnspython's by construction. tests/unit/test_fastdns_property.py holds the two
decoders to the same results.

setup.py compiles this module with mypyc (about three times as fast), so it must stay
mypy-clean; the Final constants and the byte arithmetic are for the compiled form.
"""

from __future__ import annotations

import re
import socket
import struct
from dataclasses import dataclass
from typing import Final

import dns.exception
import dns.message
import dns.name
import dns.rcode

from ipv6scan.dnsclient.records import RR
from ipv6scan.dnsclient.transport import _records

# Final: mypyc reads these as C constants, not through the module's dict
_HEADER: Final = struct.Struct("!HHHHHH")
_QTAIL: Final = struct.Struct("!HH")
_U16: Final = struct.Struct("!H")
_SOA_TAIL: Final = struct.Struct("!IIIII")

QR: Final = 0x8000
AA: Final = 0x0400
TC: Final = 0x0200
RD: Final = 0x0100
CLASS_IN: Final = 1
OPT: Final = 41
TYPE_CODES: Final[dict[str, int]] = {
    "A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "AAAA": 28, "DNAME": 39,
}  # fmt: skip
_TYPE_NAMES: Final = {code: name for name, code in TYPE_CODES.items()}
_NAME_TARGET: Final = frozenset({2, 5, 12})  # NS, CNAME, PTR: one compressible name
_SINGLETONS: Final = frozenset({5, 6, 39})  # dnspython keeps one record per RRset of these
_MAX_HOPS: Final = 16  # dnspython's MAX_COMPRESSION_POINTER_CHAIN
# rcodes after which dnspython accepts a reply with no question section
NO_QUESTION_OK: Final = frozenset({1, 2, 4, 5})  # FORMERR, SERVFAIL, NOTIMP, REFUSED
# bytes dnspython prints as they are; anything else in a label is escaped. Deleting
# these with bytes.translate leaves what needs escaping: cheaper than a regex search.
_PLAIN: Final = bytes(sorted(set(range(0x21, 0x7F)) - set(b'"().;\\@$')))
_SIMPLE_QNAME: Final = re.compile(r"[A-Za-z0-9_-]{1,63}(?:\.[A-Za-z0-9_-]{1,63})*\.?")
# root, OPT, payload 1232, no options
_OPT_RR: Final = b"\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00"


class Malformed(Exception):
    """The reply cannot be decoded; dnspython would raise too."""


class Truncated(Exception):
    """TC bit set: ask again over TCP. `reply` is the decoded part when it decoded."""

    def __init__(self, qid: int, reply: Reply | None) -> None:
        super().__init__("truncated")
        self.qid = qid
        self.reply = reply


class _Form(Exception):
    """What dnspython raises as a FormError (the TC bit turns it into truncation)."""


@dataclass(frozen=True, init=False)
class Reply:
    qid: int
    flags: int
    rcode: str
    rcode_value: int
    questions: tuple[tuple[bytes, int, int], ...]  # (lower-case wire name, type, class)
    answers: tuple[RR, ...]

    # written out: mypyc compiles this one, not the generated one (see dns_records.py)
    def __init__(
        self,
        qid: int,
        flags: int,
        rcode: str,
        rcode_value: int,
        questions: tuple[tuple[bytes, int, int], ...],
        answers: tuple[RR, ...],
    ) -> None:
        object.__setattr__(self, "qid", qid)
        object.__setattr__(self, "flags", flags)
        object.__setattr__(self, "rcode", rcode)
        object.__setattr__(self, "rcode_value", rcode_value)
        object.__setattr__(self, "questions", questions)
        object.__setattr__(self, "answers", answers)

    @property
    def authoritative(self) -> bool:
        return bool(self.flags & AA)

    def answers_question(self, key: tuple[bytes, int, int]) -> bool:
        """dnspython's Message.is_response for a QUERY, the ID already matched."""
        if not self.flags & QR or (self.flags >> 11) & 0xF:
            return False
        if not self.questions:
            return self.rcode_value in NO_QUESTION_OK
        return all(q == key for q in self.questions)


# --- encoding ---------------------------------------------------------------------------------


_WIRE_NAMES: Final[dict[str, bytes]] = {}  # recent names: a scan asks AAAA and A of the same one
_WIRE_NAMES_MAX: Final = 4096


def qname_wire(qname: str) -> bytes:
    """The wire form of a question name; unusual names (IDN, escapes) go through dnspython,
    which raises for names it cannot encode, as DnspythonTransport would."""
    wire = _WIRE_NAMES.get(qname)
    if wire is None:
        wire = _qname_wire(qname)
        if len(_WIRE_NAMES) >= _WIRE_NAMES_MAX:
            _WIRE_NAMES.clear()  # bounded; recency is all that matters here
        _WIRE_NAMES[qname] = wire
    return wire


def _qname_wire(qname: str) -> bytes:
    if qname == ".":
        return b"\x00"
    if len(qname) < 254 and _SIMPLE_QNAME.fullmatch(qname):
        out = bytearray()
        for label in qname.rstrip(".").split("."):
            out.append(len(label))
            out += label.encode("ascii")
        out.append(0)
        return bytes(out)
    return dns.name.from_text(qname).to_wire() or b""


def encode_query(qid: int, wire_name: bytes, rdtype: int, recursion: bool) -> bytes:
    """The query dnspython's make_query(use_edns=0, payload=1232) sends, with our ID."""
    flags = RD if recursion else 0
    return (
        _HEADER.pack(qid, flags, 1, 0, 0, 1) + wire_name + _QTAIL.pack(rdtype, CLASS_IN) + _OPT_RR
    )


# --- decoding ---------------------------------------------------------------------------------


# Names already read in one message, by the position of each label of their first
# segment: (the name's labels, the index of that label, end of that segment, pointer
# hops, wire length from that label). A later pointer to such a position reuses the
# labels from that index instead of reading them again; the slice is made only then
# (so nothing may change a list of labels once read).
_Memo = dict[int, tuple[list[bytes], int, int, int, int]]


def _read_name(
    wire: bytes, pos: int, end: int, memo: _Memo, decompress: bool = True
) -> tuple[list[bytes], int]:
    """Labels (without the root) and the position after the name, as dnspython reads them."""
    labels: list[bytes] = []
    first = 0  # labels of the first segment, one after another from `at`: memo keeps those
    at = pos
    biggest = pos  # a pointer must point below every earlier one: no loops
    start = pos  # reading after a jump must stay below the segment jumped from
    after: int | None = None
    hops = 0
    total = 1
    while True:
        if pos >= end:
            raise _Form
        count = wire[pos]
        if count == 0:
            pos += 1
            break
        if count < 64:
            nxt = pos + 1 + count
            if nxt > end:
                raise _Form
            if after is None:
                first += 1
            labels.append(wire[pos + 1 : nxt])
            total += count + 1
            pos = nxt
        elif count >= 192:
            if not decompress or pos + 1 >= end:
                raise _Form
            target = (count & 0x3F) << 8 | wire[pos + 1]
            if target >= biggest:
                raise _Form
            hops += 1
            if hops > _MAX_HOPS:
                raise _Form
            if after is None:
                after = pos + 2
            known = memo.get(target)
            # valid here only if dnspython's reading of it would stay below `start` too
            if known is not None and known[2] <= start and hops + known[3] <= _MAX_HOPS:
                labels.extend(known[0][known[1] :])
                total += known[4] - 1
                hops += known[3]
                break
            biggest = target
            end = start
            start = pos = target
        else:
            raise _Form  # label types 0x40 and 0x80
    if total > 255:
        raise _Form
    seg_end = pos if after is None else after
    for i in range(first):
        memo[at] = (labels, i, seg_end, hops, total)
        total -= len(labels[i]) + 1
        at += len(labels[i]) + 1
    return labels, seg_end


def _label_text(label: bytes) -> str:
    if not label.translate(None, _PLAIN):
        return label.decode("ascii")
    out = []
    for c in label:
        if c in b'"().;\\@$':
            out.append("\\" + chr(c))
        elif 0x20 < c < 0x7F:
            out.append(chr(c))
        else:
            out.append(f"\\{c:03d}")
    return "".join(out)


def name_text(labels: list[bytes]) -> str:
    """dns.name.Name.to_text() of an absolute name."""
    if not labels:
        return "."
    dotted = b".".join(labels)
    # the usual name: what translate leaves is only the len(labels) - 1 dots between labels
    if len(dotted.translate(None, _PLAIN)) == len(labels) - 1:
        return dotted.decode("ascii") + "."
    return ".".join([_label_text(lb) for lb in labels]) + "."


def _normal(text: str) -> str:
    """probes.dns.normalize_name of a to_text() string."""
    return text if text == "." else text.rstrip(".").lower()


_inet_ntop: Final = socket.inet_ntop  # Final: no look-ups in `socket` per address
_AF_INET6: Final = socket.AF_INET6


def _ntop6(data: bytes) -> str:
    # glibc's inet_ntop follows the same RFC 5952 rules as dns.ipv6.inet_ntoa (longest
    # zero run of two or more, first on a tie, "::ffff:a.b.c.d" and "::a.b.c.d" forms)
    # at a tenth of the cost; the property test compares the two on every address form.
    return _inet_ntop(_AF_INET6, data)


class _Group:
    """One answer RRset while it is being read."""

    __slots__ = ("items", "owner", "rdtype", "ttl")

    def __init__(self, owner: str, rdtype: int, ttl: int) -> None:
        self.owner = owner
        self.rdtype = rdtype
        self.ttl = ttl
        self.items: dict[object, tuple[str, int | None]] = {}


class _Fallback(Exception):
    """Something outside the fast subset: let dnspython decode the whole message."""


def _rdata(
    wire: bytes, pos: int, end: int, rdtype: int, want: bool, memo: _Memo
) -> tuple[object, str, int | None] | None:
    """Decode one rdata of a fast type exactly filling [pos, end); (key, data, pref) or None."""
    if rdtype == 28:  # AAAA
        if end - pos != 16:
            raise _Form  # dnspython wraps every rdata error in a FormError
        if not want:
            return None
        raw = wire[pos:end]
        return raw, _ntop6(raw), None
    if rdtype == 1:  # A
        if end - pos != 4:
            raise _Form
        if not want:
            return None
        raw = wire[pos:end]
        return raw, f"{raw[0]}.{raw[1]}.{raw[2]}.{raw[3]}", None
    if rdtype in _NAME_TARGET or rdtype == 39:
        labels, after = _read_name(wire, pos, end, memo, decompress=rdtype != 39)
        if after != end:
            raise _Form
        if not want:
            return None
        text = name_text(labels)
        # DNAME's digestable form keeps case, but it is a singleton: the key never matters
        return text.lower(), _normal(text), None
    if rdtype == 15:  # MX
        if end - pos < 2:
            raise _Form
        pref = _U16.unpack_from(wire, pos)[0]
        labels, after = _read_name(wire, pos + 2, end, memo)
        if after != end:
            raise _Form
        if not want:
            return None
        text = name_text(labels)
        return (pref, text.lower()), _normal(text), pref
    if rdtype == 6:  # SOA
        mname, pos = _read_name(wire, pos, end, memo)
        rname, pos = _read_name(wire, pos, end, memo)
        if end - pos != 20:
            raise _Form
        if not want:
            return None
        numbers = " ".join(str(n) for n in _SOA_TAIL.unpack_from(wire, pos))
        return None, f"{name_text(mname)} {name_text(rname)} {numbers}", None
    raise _Fallback


def _sections(
    wire: bytes, counts: tuple[int, int, int], pos: int, memo: _Memo
) -> tuple[list[_Group], int, int]:
    """Answer RRsets, the OPT TTL (EDNS flags) and the end position."""
    n = len(wire)
    groups: dict[tuple[str, int], _Group] = {}
    opt_ttl: int | None = None
    for section, count in enumerate(counts):
        for _ in range(count):
            labels, pos = _read_name(wire, pos, n, memo)
            if pos + 10 > n:
                raise _Form
            # byte by byte: compiled, this is native arithmetic, not a call and a tuple
            rdtype = wire[pos] << 8 | wire[pos + 1]
            rdclass = wire[pos + 2] << 8 | wire[pos + 3]
            ttl = wire[pos + 4] << 24 | wire[pos + 5] << 16 | wire[pos + 6] << 8 | wire[pos + 7]
            rdlen = wire[pos + 8] << 8 | wire[pos + 9]
            pos += 10
            end = pos + rdlen
            if end > n:
                if rdtype != OPT and (rdclass != CLASS_IN or rdtype not in _TYPE_NAMES):
                    raise _Fallback
                raise _Form
            if rdtype == OPT:
                if section != 2 or opt_ttl is not None or labels:
                    raise _Form  # BadEDNS: only one, in additional, owned by the root
                if rdlen:
                    raise _Fallback  # EDNS options: dnspython validates each kind
                opt_ttl = ttl
                continue
            if rdclass != CLASS_IN or rdtype not in _TYPE_NAMES:
                raise _Fallback
            got = _rdata(wire, pos, end, rdtype, section == 0, memo)
            pos = end
            if got is None:
                continue
            key, data, pref = got
            text = name_text(labels)
            gkey = (text.lower(), rdtype)
            ttl = 0 if ttl > 0x7FFFFFFF else ttl
            group = groups.get(gkey)
            if group is None:
                group = groups[gkey] = _Group(text, rdtype, ttl)
            else:
                group.ttl = min(group.ttl, ttl)
                if rdtype in _SINGLETONS:
                    group.items.clear()
            if key is None or key not in group.items:
                group.items[key if key is not None else object()] = (data, pref)
    return list(groups.values()), (0 if opt_ttl is None else opt_ttl), pos


_RCODE_TEXT: Final[dict[int, str]] = {}


def _rcode_text(value: int) -> str:
    text = _RCODE_TEXT.get(value)
    if text is None:
        text = _RCODE_TEXT[value] = dns.rcode.to_text(dns.rcode.Rcode.make(value))
    return text


def _via_dnspython(wire: bytes) -> Reply:
    try:
        msg = dns.message.from_wire(wire, raise_on_truncation=True)
    except dns.message.Truncated as exc:
        raise Truncated(_HEADER.unpack_from(wire)[0], None) from exc
    except Exception as exc:  # dnspython's own errors, and anything odd it lets escape
        raise Malformed(f"{type(exc).__name__}: {exc}") from exc
    questions = tuple(
        ((rrset.name.to_wire() or b"").lower(), int(rrset.rdtype), int(rrset.rdclass))
        for rrset in msg.question
    )
    rcode = int(msg.rcode())
    return Reply(msg.id, int(msg.flags), _rcode_text(rcode), rcode, questions, _records(msg))


def parse_reply(wire: bytes) -> Reply:
    """Decode a reply; raise Truncated (TC bit) or Malformed, never anything else."""
    if len(wire) < 12:
        raise Malformed("shorter than a DNS header")
    qid, flags, qdcount, ancount, nscount, arcount = _HEADER.unpack_from(wire)
    if (flags >> 11) & 0xF:
        return _via_dnspython(wire)  # not a QUERY: dnspython reads UPDATE differently
    memo: _Memo = {}
    try:
        pos = 12
        questions = []
        for _ in range(qdcount):
            at = pos
            labels, pos = _read_name(wire, pos, len(wire), memo)
            if pos + 4 > len(wire):
                raise _Form
            size = 1
            for label in labels:
                size += len(label) + 1
            # the bytes read are the name's wire form unless it has a pointer, whose 2
            # bytes stand for the root's 1 or for 3 or more: never the same length
            if pos - at == size:
                owner = wire[at:pos]
            else:
                owner = b"".join([bytes((len(lb),)) + lb for lb in labels]) + b"\x00"
            qtype, qclass = _QTAIL.unpack_from(wire, pos)
            pos += 4
            questions.append((owner.lower(), qtype, qclass))
        groups, opt_ttl, pos = _sections(wire, (ancount, nscount, arcount), pos, memo)
        if pos != len(wire):
            raise _Form  # trailing junk
    except _Fallback:
        return _via_dnspython(wire)
    except _Form as exc:
        if flags & TC:
            raise Truncated(qid, None) from exc
        raise Malformed("malformed message") from exc
    except Malformed:
        raise
    except Exception as exc:  # a bug here must read as a bad reply, not crash a scan
        raise Malformed(f"{type(exc).__name__}: {exc}") from exc
    rcode = (flags & 0xF) | ((opt_ttl >> 20) & 0xFF0)
    answers = tuple(
        RR(_normal(g.owner), _TYPE_NAMES[g.rdtype], g.ttl, data, pref)
        for g in groups
        for data, pref in g.items.values()
    )
    reply = Reply(qid, flags, _rcode_text(rcode), rcode, tuple(questions), answers)
    if flags & TC:
        raise Truncated(qid, reply)
    return reply
