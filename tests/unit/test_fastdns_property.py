"""The fast decoder (dnsclient/wire.py) against dnspython, on messages dnspython writes.

For every message: the same outcome. Either both decode it, to the same ID, flags,
rcode, question and answer records (as probes.dns._records reduces them), or both
call it truncated, or both call it malformed. Truncated at every byte and with
random bytes changed, the same holds; the fast decoder never raises anything but
its two exceptions, and never loops (compression pointers are bounded).

Each test runs on both forms of the decoder: the module `import` gives, compiled by
mypyc when setup.py could (see test_compiled.py), and dnswire.py itself loaded from
its source, which is what runs wherever the compile is not possible.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import socket
import sys
from pathlib import Path
from types import ModuleType

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ipv6scan
from ipv6scan.dnsclient import wire as dnswire
from ipv6scan.dnsclient.transport import _records

# dnspython touches the global `random` state somewhere while building messages; the
# messages themselves depend only on what hypothesis draws.
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")

Outcome = tuple[object, ...]


def _load_source() -> ModuleType:
    """dnsclient/wire.py itself, under another name: `import` picks the .so when built."""
    # from the package, not dnswire.__file__: mypyc names a grouped module's file oddly
    path = Path(ipv6scan.__file__ or "").parent / "dnsclient" / "wire.py"
    spec = importlib.util.spec_from_file_location("ipv6scan_dnswire_source", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look up the module of their class
    spec.loader.exec_module(module)
    return module


SOURCE = _load_source()
COMPILED = (dnswire.__file__ or "").endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))
DECODERS = pytest.mark.parametrize(
    "decoder",
    [
        pytest.param(
            dnswire,
            id="compiled",
            marks=pytest.mark.skipif(
                not COMPILED, reason="dnswire is not compiled in this install"
            ),
        ),
        pytest.param(SOURCE, id="source"),
    ],
)

_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"

# A few base names, so that random names share suffixes and compression pointers appear.
_SUFFIXES = [b"example", b"Example", b"net", b"arpa", b"xn--bcher-kva"]

plain_label = st.text(_LETTERS, min_size=1, max_size=12).map(lambda t: t.encode())
odd_label = st.binary(min_size=1, max_size=8)  # escapes: dots, spaces, quotes, high bytes
long_label = st.just(b"a" * 63)
label = st.one_of(plain_label, plain_label, plain_label, odd_label, long_label)


@st.composite
def names(draw: st.DrawFn) -> dns.name.Name:
    labels = draw(st.lists(label, min_size=0, max_size=4))
    if draw(st.booleans()):
        labels.append(draw(st.sampled_from(_SUFFIXES)))
    while sum(len(x) + 1 for x in labels) + 1 > 255:
        labels.pop(0)
    return dns.name.Name([*labels, b""])


def _text(name: dns.name.Name) -> str:
    return name.to_text()


@st.composite
def rdata_text(draw: st.DrawFn, rdtype: str) -> str:
    if rdtype == "A":
        return socket.inet_ntop(socket.AF_INET, draw(st.binary(min_size=4, max_size=4)))
    if rdtype == "AAAA":
        raw = draw(
            st.one_of(
                st.binary(min_size=16, max_size=16),
                # the forms with special text: zero runs, IPv4-mapped and -compatible
                st.tuples(
                    st.sampled_from([b"\0" * 10 + b"\xff\xff", b"\0" * 12, b"\0" * 11 + b"\1"]),
                    st.binary(min_size=4, max_size=4),
                ).map(lambda p: p[0] + p[1]),
                st.lists(
                    st.sampled_from([b"\0\0", b"\0\1", b"\xab\xcd"]), min_size=8, max_size=8
                ).map(b"".join),
            )
        )
        return socket.inet_ntop(socket.AF_INET6, raw)
    target = _text(draw(names()))
    if rdtype == "MX":
        return f"{draw(st.integers(0, 65535))} {target}"
    if rdtype == "SOA":
        numbers = draw(st.lists(st.integers(0, 2**32 - 1), min_size=5, max_size=5))
        return f"{target} {_text(draw(names()))} " + " ".join(map(str, numbers))
    if rdtype == "TXT":
        return '"' + draw(st.text("abc xyz", max_size=10)) + '"'
    return target  # CNAME, NS, PTR, DNAME


FAST_TYPES = ["A", "AAAA", "CNAME", "NS", "MX", "SOA", "PTR", "DNAME"]


@st.composite
def rrsets(draw: st.DrawFn, owners: list[dns.name.Name]) -> dns.rrset.RRset:
    rdtype = draw(st.sampled_from([*FAST_TYPES, *FAST_TYPES, "TXT"]))
    owner = draw(st.sampled_from(owners)) if owners and draw(st.booleans()) else draw(names())
    ttl = draw(st.one_of(st.integers(0, 86400), st.integers(2**31 - 2, 2**32 - 1)))
    count = 1 if rdtype in ("CNAME", "DNAME", "SOA") else draw(st.integers(1, 3))
    texts = [draw(rdata_text(rdtype)) for _ in range(count)]
    return dns.rrset.from_text(owner, ttl, "IN", rdtype, *texts)


@st.composite
def messages(draw: st.DrawFn) -> bytes:
    qname = draw(names())
    qtype = draw(st.sampled_from(FAST_TYPES))
    use_edns = draw(st.booleans())
    # built by hand: make_query draws its ID from `random`, which hypothesis cannot replay
    query = dns.message.QueryMessage(id=draw(st.integers(0, 65535)))
    query.find_rrset(query.question, qname, dns.rdataclass.IN, dns.rdatatype.from_text(qtype),
                     create=True, force_unique=True)  # fmt: skip
    query.use_edns(0 if use_edns else -1, payload=1232)
    reply = dns.message.make_response(query)
    if draw(st.booleans()):
        reply.question = []  # some servers answer REFUSED/SERVFAIL without a question
    rcode = draw(st.integers(0, 4095 if use_edns else 15))
    reply.set_rcode(dns.rcode.Rcode.make(rcode))
    for flag, on in ((dns.flags.AA, st.booleans()), (dns.flags.TC, st.booleans())):
        if draw(on):
            reply.flags |= flag
    owners = [qname]
    # a CNAME chain from the question name, then records of the asked type
    for _ in range(draw(st.integers(0, 3))):
        target = draw(names())
        reply.answer.append(dns.rrset.from_text(owners[-1], 300, "IN", "CNAME", _text(target)))
        owners.append(target)
    for _ in range(draw(st.integers(0, 4))):
        # separate RRsets of one name and type are merged by the reader: TTLs, duplicates
        reply.answer.append(draw(rrsets(owners)))
    for _ in range(draw(st.integers(0, 2))):
        reply.authority.append(draw(rrsets(owners)))
    for _ in range(draw(st.integers(0, 2))):
        reply.additional.append(draw(rrsets(owners)))
    if use_edns and draw(st.integers(0, 9)) == 0:
        reply.use_edns(0, options=[dns.edns.GenericOption(65001, b"x")])
    return reply.to_wire(max_size=65535)


def dnspython_outcome(wire: bytes) -> Outcome:
    try:
        msg = dns.message.from_wire(wire, raise_on_truncation=True)
    except dns.message.Truncated:
        return ("TC",)
    except Exception:
        return ("MALFORMED",)
    questions = tuple(
        (r.name.to_wire().lower(), int(r.rdtype), int(r.rdclass)) for r in msg.question
    )
    return ("OK", msg.id, int(msg.flags), dns.rcode.to_text(msg.rcode()), questions, _records(msg))


def fast_outcome(decoder: ModuleType, wire: bytes) -> Outcome:
    try:
        r = decoder.parse_reply(wire)
    except decoder.Truncated:
        return ("TC",)
    except decoder.Malformed:
        return ("MALFORMED",)
    return ("OK", r.qid, r.flags, r.rcode, r.questions, r.answers)


SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@DECODERS
@SETTINGS
@given(messages())
def test_same_result_as_dnspython(decoder: ModuleType, wire: bytes) -> None:
    assert fast_outcome(decoder, wire) == dnspython_outcome(wire)


def test_most_generated_messages_take_the_fast_path(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # the agreement above must not come from handing everything to dnspython; source
    # only: compiled code calls its own functions directly, past a monkeypatch
    handed: list[bytes] = []
    real = SOURCE._via_dnspython
    monkeypatch.setattr(SOURCE, "_via_dnspython", lambda w: handed.append(w) or real(w))
    seen: list[bytes] = []

    @settings(max_examples=200, deadline=None, database=None)
    @given(messages())
    def collect(wire: bytes) -> None:
        seen.append(wire)
        fast_outcome(SOURCE, wire)

    collect()
    assert len(handed) < len(seen) // 2


@DECODERS
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages())
def test_truncated_at_every_byte(decoder: ModuleType, wire: bytes) -> None:
    for end in range(len(wire)):
        cut = wire[:end]
        assert fast_outcome(decoder, cut) == dnspython_outcome(cut), f"cut at {end} of {len(wire)}"


@DECODERS
@SETTINGS
@given(messages(), st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=4))
def test_random_byte_changes(
    decoder: ModuleType, wire: bytes, changes: list[tuple[int, int]]
) -> None:
    data = bytearray(wire)
    for at, value in changes:
        data[at % len(data)] = value
    assert fast_outcome(decoder, bytes(data)) == dnspython_outcome(bytes(data))


@DECODERS
@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=12, max_size=80))
def test_random_bytes(decoder: ModuleType, data: bytes) -> None:
    assert fast_outcome(decoder, data) == dnspython_outcome(data)


@DECODERS
def test_compression_loops_fail_cleanly(decoder: ModuleType) -> None:
    # a name that points at itself, and two names that point at each other
    header = bytes.fromhex("abcd81800001000100000000")
    question = b"\x01a\x00\x00\x01\x00\x01"
    for owner in (b"\xc0\x19", b"\xc0\x0c", b"\x01b\xc0\x19"):
        rr = owner + bytes.fromhex("0001000100000e100004c6336401")
        wire = header + question + rr
        assert fast_outcome(decoder, wire) == dnspython_outcome(wire)
        assert fast_outcome(decoder, wire)[0] in ("OK", "MALFORMED")


@DECODERS
@given(st.integers(1, 20))
def test_pointer_chains_are_bounded_to_sixteen_hops(decoder: ModuleType, questions: int) -> None:
    # question 0 is "a."; question i is a pointer to question i-1: a chain of i hops
    wire = bytearray(bytes.fromhex("abcd8180") + questions.to_bytes(2, "big") + bytes(6))
    previous = len(wire)
    wire += b"\x01a\x00\x00\x01\x00\x01"
    for _ in range(questions - 1):
        here = len(wire)
        wire += bytes((0xC0 | previous >> 8, previous & 0xFF)) + b"\x00\x01\x00\x01"
        previous = here
    outcome = fast_outcome(decoder, bytes(wire))
    assert outcome == dnspython_outcome(bytes(wire))
    assert outcome[0] == ("OK" if questions <= 17 else "MALFORMED")
