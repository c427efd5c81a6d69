"""The fast lane (engine/_lane.c) against the general bulk path, reply by reply.

The same targets go through DnsOnlyScan twice against one small DNS server on ::1 whose
answer is a pure function of the question: once with the lane (write_lines given, the
lane on) and once without it (IPV6SCAN_LANE=0). The result lines must be the same, byte
for byte but for the value of "duration_ms", and so must the counts. The server's reply
shapes cover what the lane reads itself (NOERROR and NXDOMAIN, CNAME chains, every kind
of address the policy knows) and what it must recognise and hand back (timeouts, other
rcodes, truncation, EDNS options, other record types, names that need escaping, loops,
long chains, IPv4 inside an address, DNS64), with the www.D rule of each.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import re
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ipv6scan.addresses import AddressPolicy
from ipv6scan.checks import registry
from ipv6scan.context import Limits, ScanContext
from ipv6scan.dnsclient.fast import FastUdpTransport
from ipv6scan.dnsclient.resolution import Resolver
from ipv6scan.dnsclient.transport import DnsServer
from ipv6scan.engine import lane as lane_module
from ipv6scan.engine.dns_only import DnsOnlyScan
from ipv6scan.engine.scheduler import Engine, ScanStats
from ipv6scan.model import CheckResult, Target
from ipv6scan.observations.dns import Connectivity
from tests.unit.test_dns_transport import tcp_server, udp_server

# s a question; a timeout costs the lane one of these, then Python two. The server answers
# from the scanner's own event loop: too short a timeout, or too many questions at once,
# and a busy machine turns answers into timeouts (on one run and not the other).
TIMEOUT = 0.5
IN_FLIGHT = 32  # domains in progress: at most about 64 questions waiting on the server
NOERROR, NXDOMAIN, SERVFAIL = dns.rcode.NOERROR, dns.rcode.NXDOMAIN, dns.rcode.SERVFAIL
_DURATION = re.compile(r', "duration_ms": ([^,{}"]+)\}$')


@pytest.fixture(autouse=True)
def _the_lane_is_built() -> None:
    if lane_module.Lane is None:
        why = "the fast lane (ipv6scan/engine/_lane.c) is not compiled in this install"
        # Under CI a skipped comparison would hide a lane that failed to build: fail.
        if os.environ.get("CI") == "true":
            pytest.fail(f"{why}; CI must build it", pytrace=False)
        pytest.skip(why)


# --- a DNS server whose answer is a pure function of the question ------------------------------


@dataclass(frozen=True)
class R:
    """One reply shape. Each answer line is its own RRset, so the records go out exactly as
    written (duplicates too); `tc` sets the TC bit over UDP (with an empty answer) while
    TCP gets the whole reply; `edit` rewrites the rendered bytes."""

    answer: tuple[str, ...] = ()
    rcode: int = NOERROR
    soa: bool = False
    authority: tuple[str, ...] = ()
    additional: tuple[str, ...] = ()
    tc: bool = False
    option: bool = False  # an EDNS option in the OPT record
    question: str | None = None  # answer as if asked this name instead
    edit: Callable[[bytes], bytes] | None = None
    drop: int = 0  # the first `drop` UDP questions go unanswered; -1: every one


SOA_OWNER = "lane.test"
DEFAULT = R(rcode=NXDOMAIN, soa=True)  # a name not in the table does not exist


def _rrset(text: str) -> dns.rrset.RRset:
    name, ttl, klass, rdtype, data = text.split(None, 4)
    return dns.rrset.from_text(name, int(ttl), klass, rdtype, data)


def render(spec: R, query: dns.message.Message, tcp: bool) -> bytes:
    asked = query
    if spec.question is not None:
        asked = dns.message.make_query(spec.question, query.question[0].rdtype, use_edns=0)
        asked.id = query.id
        asked.flags = query.flags
    reply = dns.message.make_response(asked)
    if spec.option:
        reply.use_edns(0, 0, 1232, options=[dns.edns.GenericOption(65001, b"lane")])
    reply.set_rcode(spec.rcode)
    truncated = spec.tc and not tcp
    if truncated:
        reply.flags |= dns.flags.TC
    else:
        reply.answer.extend(_rrset(text) for text in spec.answer)
        if spec.soa:
            reply.authority.append(
                _rrset(f"{SOA_OWNER}. 60 IN SOA ns.{SOA_OWNER}. host.{SOA_OWNER}. 1 2 3 4 5")
            )
        reply.authority.extend(_rrset(text) for text in spec.authority)
        reply.additional.extend(_rrset(text) for text in spec.additional)
    wire = reply.to_wire(max_size=65535)
    return spec.edit(wire) if spec.edit is not None else wire


class Zone:
    """The table (name, type) -> R, and how often each question was asked."""

    def __init__(self, table: dict[tuple[str, str], R], default: R = DEFAULT) -> None:
        self.table = table
        self.default = default
        self.asked: Counter[tuple[str, str, str]] = Counter()

    def handle(self, wire: bytes, tcp: bool) -> bytes | None:
        query = dns.message.from_wire(wire)
        question = query.question[0]
        name = question.name.to_text().rstrip(".").lower()
        rdtype = dns.rdatatype.to_text(question.rdtype)
        self.asked[(name, rdtype, "tcp" if tcp else "udp")] += 1
        spec = self.table.get((name, rdtype), self.default)
        if not tcp and (spec.drop < 0 or self.asked[(name, rdtype, "udp")] <= spec.drop):
            return None
        return render(spec, query, tcp)


@contextlib.asynccontextmanager
async def dns_server(
    zone: Zone, hosts: tuple[str, ...] = ("::1", "127.0.0.1")
) -> AsyncIterator[DnsServer]:
    """UDP and TCP (for truncated answers) on one port of the first of `hosts` there is."""
    for host in hosts:
        for _ in range(10):
            try:
                tcp_cm = tcp_server(lambda wire: zone.handle(wire, True), host=host)
                port = await tcp_cm.__aenter__()
            except OSError:
                break  # no such loopback here
            try:
                try:
                    udp_cm = udp_server(lambda wire: zone.handle(wire, False), port, host)
                    server, _ = await udp_cm.__aenter__()
                except OSError:
                    continue  # the UDP port is taken: another try
                try:
                    yield server
                finally:
                    await udp_cm.__aexit__(None, None, None)
                return
            finally:
                await tcp_cm.__aexit__(None, None, None)
    raise RuntimeError("no loopback port free for both UDP and TCP")


# --- one scan, with and without the lane ------------------------------------------------------


@dataclass
class Run:
    lines: list[str]  # every result line, as written
    from_lane: list[str]  # those the lane wrote itself
    stats: ScanStats
    scan: DnsOnlyScan


def _context(server: DnsServer | list[DnsServer], policy: AddressPolicy) -> ScanContext:
    servers = server if isinstance(server, list) else [server]
    resolver = Resolver(FastUdpTransport(), servers, timeout=TIMEOUT)
    return ScanContext(resolver=resolver, transport=None,  # type: ignore[arg-type]
                       policy=policy, connectivity=Connectivity(True, True),
                       limits=Limits(64, 8), timeout=TIMEOUT)  # fmt: skip


async def scan_once(
    server: DnsServer | list[DnsServer],
    targets: list[Target],
    policy: AddressPolicy,
    *,
    lane: bool,
    env: pytest.MonkeyPatch,
) -> Run:
    if lane:
        env.delenv(lane_module.LANE_ENV, raising=False)
    else:
        env.setenv(lane_module.LANE_ENV, "0")
    results: list[CheckResult] = []
    chunks: list[bytes] = []
    ctx = _context(server, policy)
    stats = ScanStats()
    check = registry.BY_ID["dns.aaaa"]
    engine = Engine(ctx, [check], results.append, check_deadline=10)
    scan = DnsOnlyScan(ctx, results.append, stats, in_flight=IN_FLIGHT, run_whole=engine.run_target,
                       write_lines=chunks.append)  # fmt: skip
    try:
        await asyncio.wait_for(scan.run(targets), 60)
    finally:
        transport = ctx.resolver.transport
        assert isinstance(transport, FastUdpTransport)
        transport.close()
        env.delenv(lane_module.LANE_ENV, raising=False)
    if lane:
        assert scan.lane is not None, "the lane did not open: nothing would be compared"
    else:
        assert scan.lane is None and not chunks, "IPV6SCAN_LANE=0 did not turn the lane off"
    written = b"".join(chunks)
    assert all(chunk.endswith(b"\n") for chunk in chunks), "the lane wrote a partial line"
    from_lane = written.decode("utf-8").splitlines()
    return Run(from_lane + [r.to_line() for r in results], from_lane, stats, scan)


def _normal(line: str) -> str:
    found = _DURATION.search(line)
    assert found is not None, f"no duration_ms at the end of {line!r}"
    return line[: found.start()] + ', "duration_ms": 0}'


def _subject(line: str) -> str:
    return str(json.loads(line)["subject"])


def assert_same(with_lane: Run, python: Run) -> None:
    """The contract: the same lines (duration_ms aside) and the same counts."""
    for line in with_lane.from_lane:
        value = _DURATION.search(line)
        assert value is not None, line
        # the lane's number reads as Python writes a float: json.loads and repr agree
        assert repr(float(value.group(1))) == value.group(1), line
        json.loads(line)
    got, want = sorted(map(_normal, with_lane.lines)), sorted(map(_normal, python.lines))
    if got != want:
        lane_only = Counter(got) - Counter(want)
        python_only = Counter(want) - Counter(got)
        report = ["lines differ between the lane and the Python path:"]
        for line in sorted(lane_only.elements()):
            origin = "lane" if line in map(_normal, with_lane.from_lane) else "python(punted)"
            report.append(f"  with the lane [{origin}]: {line}")
        for line in sorted(python_only.elements()):
            report.append(f"  Python path only:          {line}")
        pytest.fail("\n".join(report), pytrace=False)
    assert with_lane.stats.results == python.stats.results == len(python.lines)
    assert with_lane.stats.targets_done == python.stats.targets_done


def statuses(run: Run) -> Counter[str]:
    return Counter(json.loads(line)["status"] for line in run.lines)


async def compare(
    server: DnsServer,
    targets: list[Target],
    env: pytest.MonkeyPatch,
    policy: AddressPolicy | None = None,
) -> tuple[Run, Run]:
    policy = policy or AddressPolicy()
    with_lane = await scan_once(server, targets, policy, lane=True, env=env)
    python = await scan_once(server, targets, policy, lane=False, env=env)
    assert_same(with_lane, python)
    return with_lane, python


# --- the scenarios ----------------------------------------------------------------------------

Z = "lane.test"
CDN = "cdn.lane-cdn.test"
G, G2, G3 = "2a00:1450::1", "2a00:1450::2", "2a00:1450::3"
V4 = "198.51.100.1"
SOA_ONLY = R(soa=True)  # NODATA
LONG = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 48])  # with .lane.test: 250 octets


def d(label: str) -> str:
    return f"{label}.{Z}"


def www(label: str) -> str:
    return f"www.{label}.{Z}"


def aaaa(owner: str, *addresses: str) -> tuple[str, ...]:
    return tuple(f"{owner}. 60 IN AAAA {a}" for a in addresses)


def cname(owner: str, target: str) -> str:
    return f"{owner}. 60 IN CNAME {target}."


def hops(owner: str, stem: str, count: int, end: tuple[str, ...]) -> dict[tuple[str, str], R]:
    """owner -> stem1 -> ... -> stem<count>, each CNAME answered alone (the resolver leaves
    every step unfinished); the last name answers `end`."""
    names = [owner] + [f"{stem}{i}.{CDN}" for i in range(1, count + 1)]
    table = {(a, "AAAA"): R((cname(a, b),)) for a, b in itertools.pairwise(names)}
    table[(names[-1], "AAAA")] = R(end)
    return table


def in_answer_chain(owner: str, stem: str, count: int) -> tuple[str, ...]:
    names = [owner] + [f"{stem}{i}.{CDN}" for i in range(1, count + 1)]
    return (*(cname(a, b) for a, b in itertools.pairwise(names)),
            *aaaa(names[-1], G))  # fmt: skip


def _upper_question(wire: bytes) -> bytes:
    end = wire.index(b"\x00", 12)
    return wire[:12] + wire[12:end].upper() + wire[end:]


def _no_qr(wire: bytes) -> bytes:
    return wire[:2] + bytes([wire[2] & 0x7F]) + wire[3:]


def _self_pointer(wire: bytes) -> bytes:
    """The first answer's owner (a pointer to the question) points at itself instead."""
    at = wire.index(b"\xc0\x0c")
    return wire[:at] + bytes([0xC0 | at >> 8, at & 0xFF]) + wire[at + 2 :]


def _one_more_answer(wire: bytes) -> bytes:
    """ANCOUNT says one record more than there is."""
    count = wire[6] << 8 | wire[7]
    return wire[:6] + (count + 1).to_bytes(2, "big") + wire[8:]


def _one_more_additional(wire: bytes) -> bytes:
    """ARCOUNT says one record more than there is: the reader must stop at the end."""
    count = wire[10] << 8 | wire[11]
    return wire[:10] + (count + 1).to_bytes(2, "big") + wire[12:]


def _edns_v1_do(wire: bytes) -> bytes:
    """The OPT record (last, no options) says EDNS version 1, with the DO bit."""
    assert wire[-11:-8] == b"\x00\x00\x29" and wire[-2:] == b"\x00\x00"
    return wire[:-5] + b"\x01\x80" + wire[-3:]


ADDRESS_CASES: dict[str, tuple[str, ...]] = {
    "global": (G,),
    "several": (G3, G, G2),  # out of order: the line lists them sorted
    "dupes": (G, G2, G),  # a record twice in the RRset
    "doc": ("2001:db8::1",),
    "doc3fff": ("3fff::1",),
    "ula": ("fc00::1",),
    "ula-fd": ("fd12:3456::1",),
    "linklocal": ("fe80::1",),
    "multicast": ("ff02::1",),
    "mapped": ("::ffff:198.51.100.7",),
    "compat": ("::1.2.3.4",),
    "dotted": ("::1:0",),  # glibc writes ::0.1.0.0, ipaddress ::1:0
    "nat64": ("64:ff9b::c633:6407",),
    "nat64local": ("64:ff9b:1::1",),
    "sixtofour": ("2002:c633:6401::1",),
    "teredo": ("2001::1",),
    "ietf": ("2001:100::1",),
    "unallocated": ("4000::1",),
    "siit": ("::ffff:0:102:304",),  # beside ipv4-mapped, unallocated; no dot either way
    "anycast": ("2001:1::1", "2620:4f:8000::1"),  # special, but globally reachable
    "loopback": ("::1", "::"),
    "sitelocal": ("fec0::1",),
    "srv6": ("5f00::1",),
    "mixed": (G, "fc00::1", "fe80::1"),
    "mixed-doc": ("2001:db8::1", G2, "4000::1", "2002:c633:6401::1"),
    "big": tuple(f"2a00:1450::{i:x}" for i in range(1, 71)),  # more than the lane reads
    "huge": tuple(f"2a00:1450::{i:x}" for i in range(1, 151)),  # over 4096 bytes
}

TABLE: dict[tuple[str, str], R] = {}
for _label, _addresses in ADDRESS_CASES.items():
    TABLE[(d(_label), "AAAA")] = R(aaaa(d(_label), *_addresses))
# fmt: off
TABLE.update({
    # www.D beside an address case: a CNAME to D inside the answer
    (www("global"), "AAAA"): R((cname(www("global"), d("global")), *aaaa(d("global"), G))),
    (www("several"), "AAAA"): R(aaaa(www("several"), G2, G)),
    (www("mixed"), "AAAA"): R(aaaa(www("mixed"), "fe80::2", G)),
    (www("ula"), "AAAA"): SOA_ONLY,  # NODATA for AAAA and A: not a subject
    (www("ula"), "A"): SOA_ONLY,
    (www("doc"), "AAAA"): SOA_ONLY,  # NODATA, but an A: a subject with no AAAA
    (www("doc"), "A"): R((f"{www('doc')}. 60 IN A {V4}",)),
    (www("mapped"), "AAAA"): R(aaaa(www("mapped"), "::ffff:198.51.100.8")),
    # rcodes
    (d("nx"), "AAAA"): R(rcode=NXDOMAIN, soa=True),
    (d("nodata"), "AAAA"): SOA_ONLY,
    (www("nodata"), "AAAA"): SOA_ONLY,
    (www("nodata"), "A"): SOA_ONLY,
    (d("servfail"), "AAAA"): R(rcode=SERVFAIL),
    (www("servfail"), "AAAA"): R(rcode=SERVFAIL),
    (www("servfail"), "A"): R(rcode=SERVFAIL),
    (d("refused"), "AAAA"): R(rcode=dns.rcode.REFUSED),
    (d("badvers"), "AAAA"): R(rcode=dns.rcode.BADVERS),  # an extended rcode, in the OPT
    (d("nxdata"), "AAAA"): R(aaaa(d("nxdata"), G), rcode=NXDOMAIN, soa=True),
    # CNAME chains
    (d("chain"), "AAAA"): R(in_answer_chain(d("chain"), "c", 2)),
    (d("ten"), "AAAA"): R(in_answer_chain(d("ten"), "t", 10)),  # the longest allowed
    (d("eleven"), "AAAA"): R(in_answer_chain(d("eleven"), "e", 11)),  # one too many
    (d("unfinished"), "AAAA"): R((cname(d("unfinished"), f"edge-nodata.{CDN}"),)),
    (f"edge-nodata.{CDN}", "AAAA"): SOA_ONLY,
    (d("unfinished-ok"), "AAAA"): R((cname(d("unfinished-ok"), f"edge-ok.{CDN}"),)),
    (f"edge-ok.{CDN}", "AAAA"): R(aaaa(f"edge-ok.{CDN}", G2, "fc00::9")),
    (f"edge-ok.{CDN}", "A"): R((f"edge-ok.{CDN}. 60 IN A {V4}",)),
    (d("unfinished-nx"), "AAAA"): R((cname(d("unfinished-nx"), f"edge-gone.{CDN}"),)),
    (f"edge-gone.{CDN}", "AAAA"): R(rcode=NXDOMAIN, soa=True),
    (d("unfinished-fail"), "AAAA"): R((cname(d("unfinished-fail"), f"edge-fail.{CDN}"),)),
    (f"edge-fail.{CDN}", "AAAA"): R(rcode=SERVFAIL),
    **hops(d("multihop"), "m", 3, (cname(f"m3.{CDN}", f"m4.{CDN}"), *aaaa(f"m4.{CDN}", G3))),
    **hops(d("hop9"), "n", 9, aaaa(f"n9.{CDN}", G)),  # the most hops a look-up takes
    **hops(d("hop10"), "o", 10, aaaa(f"o10.{CDN}", G)),  # one too many
    (d("loop"), "AAAA"): R((cname(d("loop"), d("loop2")), cname(d("loop2"), d("loop")))),
    (d("selfloop"), "AAAA"): R((cname(d("selfloop"), d("selfloop")),)),
    (d("loophop"), "AAAA"): R((cname(d("loophop"), f"lh.{CDN}"),)),
    (f"lh.{CDN}", "AAAA"): R((cname(f"lh.{CDN}", f"lh2.{CDN}"), cname(f"lh2.{CDN}", d("loophop")))),
    (d("cnamenx"), "AAAA"): R((cname(d("cnamenx"), f"gone.{CDN}"),), rcode=NXDOMAIN, soa=True),
    (d("dupcname"), "AAAA"): R((cname(d("dupcname"), f"x1.{CDN}"),
                                cname(d("dupcname"), f"x2.{CDN}"),
                                *aaaa(f"x1.{CDN}", G), *aaaa(f"x2.{CDN}", G2))),
    (d("rootcname"), "AAAA"): R((cname(d("rootcname"), ""),)),
    # www.D
    (d("wwwa"), "AAAA"): R(aaaa(d("wwwa"), G)),
    (www("wwwa"), "AAAA"): SOA_ONLY,
    (www("wwwa"), "A"): R((f"{www('wwwa')}. 60 IN A {V4}",)),
    (d("wwwnone"), "AAAA"): R(aaaa(d("wwwnone"), G)),
    (www("wwwnone"), "AAAA"): SOA_ONLY,
    (www("wwwnone"), "A"): SOA_ONLY,
    (d("wwwnx"), "AAAA"): R(aaaa(d("wwwnx"), G)),
    (www("wwwnx"), "AAAA"): R(rcode=NXDOMAIN, soa=True),
    (d("wwwhop"), "AAAA"): R(aaaa(d("wwwhop"), G)),
    (www("wwwhop"), "AAAA"): R((cname(www("wwwhop"), f"edge-ok.{CDN}"),)),
    (d("wwwhopnodata"), "AAAA"): R(aaaa(d("wwwhopnodata"), G)),
    (www("wwwhopnodata"), "AAAA"): R((cname(www("wwwhopnodata"), f"edge-nodata.{CDN}"),)),
    (d("wwwacname"), "AAAA"): R(aaaa(d("wwwacname"), G)),
    (www("wwwacname"), "AAAA"): SOA_ONLY,
    (www("wwwacname"), "A"): R((cname(www("wwwacname"), f"edge-ok.{CDN}"),)),  # A: a hop
    (d("wwwanx"), "AAAA"): R(aaaa(d("wwwanx"), G)),
    (www("wwwanx"), "AAAA"): SOA_ONLY,
    (www("wwwanx"), "A"): R(rcode=NXDOMAIN, soa=True),
    (d("wwwafail"), "AAAA"): R(aaaa(d("wwwafail"), G)),
    (www("wwwafail"), "AAAA"): SOA_ONLY,
    (www("wwwafail"), "A"): R(rcode=SERVFAIL),
    (d("wwwfail"), "AAAA"): R(aaaa(d("wwwfail"), G)),
    (www("wwwfail"), "AAAA"): R(rcode=SERVFAIL),  # the A decides; the verdict is an error
    (www("wwwfail"), "A"): R((f"{www('wwwfail')}. 60 IN A {V4}",)),
    (d("wwwnxchain"), "AAAA"): R(aaaa(d("wwwnxchain"), G)),
    (www("wwwnxchain"), "AAAA"): R((cname(www("wwwnxchain"), f"gone.{CDN}"),), rcode=NXDOMAIN),
    # odd wire shapes
    (d("tc"), "AAAA"): R(aaaa(d("tc"), G), tc=True),
    (d("tcwww"), "AAAA"): R(aaaa(d("tcwww"), G)),
    (www("tcwww"), "AAAA"): R(aaaa(www("tcwww"), G2), tc=True),
    (d("edns"), "AAAA"): R(aaaa(d("edns"), G), option=True),
    (d("extra"), "AAAA"): R((*aaaa(d("extra"), G), f'{d("extra")}. 60 IN TXT "v=lane"',
                             f"{d('extra')}. 60 IN MX 10 mx.{d('extra')}.")),
    (d("chclass"), "AAAA"): R((*aaaa(d("chclass"), G), f'{d("chclass")}. 60 CH TXT "x"')),
    (d("glue"), "AAAA"): R(aaaa(d("glue"), G), authority=(f"{Z}. 60 IN NS ns.{Z}.",),
                           additional=(f"ns.{Z}. 60 IN A {V4}", *aaaa(f"ns.{Z}", G3))),
    (d("authaaaa"), "AAAA"): R(soa=True, authority=aaaa(f"other.{Z}", G)),
    (d("ttlmax"), "AAAA"): R((f"{d('ttlmax')}. 4294967295 IN AAAA {G}",)),
    (d("ednsv1"), "AAAA"): R(aaaa(d("ednsv1"), G), edit=_edns_v1_do),
    (d("wrongq"), "AAAA"): R(aaaa(d("wrongq"), G), question=d("someone-else")),
    (d("noqr"), "AAAA"): R(aaaa(d("noqr"), G), edit=_no_qr),
    (d("trailing"), "AAAA"): R(aaaa(d("trailing"), G), edit=lambda wire: wire + b"\x00junk"),
    (d("selfpointer"), "AAAA"): R(aaaa(d("selfpointer"), G), edit=_self_pointer),
    (d("shortcount"), "AAAA"): R(aaaa(d("shortcount"), G), edit=_one_more_answer),
    (d("shortextra"), "AAAA"): R(aaaa(d("shortextra"), G), edit=_one_more_additional),
    (d("late"), "AAAA"): R(aaaa(d("late"), G), drop=1),
    (d("silent"), "AAAA"): R(drop=-1),
    (www("silent"), "AAAA"): R(drop=-1),
    (www("silent"), "A"): R(drop=-1),
    (d("upper"), "AAAA"): R((cname(d("upper"), "UP-EDGE.Lane-CDN.TEST"),
                             *aaaa("up-edge.lane-cdn.test", G))),
    (d("upperq"), "AAAA"): R(aaaa(d("upperq"), G), edit=_upper_question),
    (d("upperhop"), "AAAA"): R((cname(d("upperhop"), f"UPHOP.{CDN.upper()}"),)),
    (f"uphop.{CDN}", "AAAA"): R(aaaa(f"UpHop.{CDN}", G2)),
    (d("escaped"), "AAAA"): R((cname(d("escaped"), rf"a\032b.{CDN}"), *aaaa(rf"a\032b.{CDN}", G))),
    (d("escapedhop"), "AAAA"): R((cname(d("escapedhop"), rf"a\032c.{CDN}"),)),
    (rf"a\032c.{CDN}", "AAAA"): R(aaaa(rf"a\032c.{CDN}", G)),
    (d("escapeddot"), "AAAA"): R((cname(d("escapeddot"), rf"x\.y\200.{CDN}"),)),
    (rf"x\.y\200.{CDN}", "AAAA"): R(aaaa(rf"x\.y\200.{CDN}", G)),
    (d("plus"), "AAAA"): R((cname(d("plus"), f"x+y.{CDN}"), *aaaa(f"x+y.{CDN}", G))),
    (d("underscore"), "AAAA"): R((cname(d("underscore"), f"_edge.{CDN}"),
                                  *aaaa(f"_edge.{CDN}", G))),
    (d("underscorehop"), "AAAA"): R((cname(d("underscorehop"), f"_hop.{CDN}"),)),
    (f"_hop.{CDN}", "AAAA"): R(aaaa(f"_hop.{CDN}", G)),
    (d("elsewhere"), "AAAA"): R(aaaa(f"other.{Z}", G)),  # an RRset at another owner
    (f"{LONG}.{Z}", "AAAA"): R(aaaa(f"{LONG}.{Z}", G)),
    ("under_score.lane.test", "AAAA"): R(aaaa("under_score.lane.test", G)),
    ("lanetest", "AAAA"): R(aaaa("lanetest", G2)),
    ("xn--bcher-kva.lane.test", "AAAA"): R(aaaa("xn--bcher-kva.lane.test", G3)),
})
# fmt: on

WWW_CASES = ["wwwa", "wwwnone", "wwwnx", "wwwhop", "wwwhopnodata", "wwwacname", "wwwanx",
             "wwwafail", "wwwfail", "wwwnxchain", "tcwww"]  # fmt: skip
OTHER_CASES = ["nx", "nodata", "servfail", "refused", "badvers", "nxdata", "chain", "ten",
               "eleven", "unfinished", "unfinished-ok", "unfinished-nx", "unfinished-fail",
               "multihop", "hop9", "hop10", "loop", "selfloop", "loophop", "cnamenx",
               "dupcname", "rootcname", "tc", "edns", "extra", "chclass", "glue", "authaaaa",
               "ttlmax", "ednsv1", "wrongq", "noqr", "trailing", "selfpointer",
               "shortcount", "shortextra", "late", "silent", "upper",
               "upperq", "upperhop", "escaped", "escapedhop", "escapeddot", "plus",
               "underscore", "underscorehop", "elsewhere", "absent"]  # fmt: skip
# the address cases not in the first target
_FIRST = ["global", "wwwa", "chain"]
SINGLE = [c for c in [*ADDRESS_CASES, *WWW_CASES, *OTHER_CASES] if c not in _FIRST]


def scenario_targets() -> list[Target]:
    return [
        Target("国家税务总局", "政府机构", tuple(d(c) for c in _FIRST)),  # several domains
        Target('Quote "q", back\\slash\tand tab\x01', "enterprise", (d("several"), d("global"))),
        # names the lane does not take as they are, beside ones it does: a trailing dot,
        # upper case, a U-label, an escape (a target list normalises these; Target does not)
        Target(
            "mixed list",
            "enterprise",
            (
                d("wwwa"),
                "Mixed.Lane.TEST",
                "global.lane.test.",
                "bücher.lane.test",
                r"a\032b.lane.test",
                d("servfail"),
                d("nodata"),
            ),
        ),
        Target("odd but plain", "enterprise", ("under_score.lane.test", "lanetest")),
        *(Target(d(c), "enterprise", (d(c),)) for c in SINGLE if c != "several"),
        Target("long", "enterprise", (f"{LONG}.{Z}",)),  # www.D cannot be a DNS name
        Target("mixed case", "enterprise", ("Global.Lane.TEST",)),  # not normalised: no lane
        Target("nothing", "enterprise", ()),
    ]


# what the Python path says of a few: the scenarios are what they claim to be
EXPECTED = {
    d("global"): "pass", www("global"): "pass", d("several"): "pass", d("dupes"): "pass",
    d("doc"): "fail", www("doc"): "fail", d("mixed"): "warn", d("mapped"): "fail",
    d("anycast"): "pass", d("big"): "pass", d("huge"): "pass", d("nx"): "fail",
    d("nodata"): "fail", d("servfail"): "error", d("refused"): "error",
    d("badvers"): "error", d("chain"): "pass", d("ten"): "pass", d("eleven"): "fail",
    d("unfinished"): "fail", d("unfinished-ok"): "warn", d("unfinished-fail"): "error",
    d("multihop"): "pass", d("hop9"): "pass", d("hop10"): "fail", d("loop"): "fail",
    d("selfloop"): "fail", d("loophop"): "fail", d("cnamenx"): "fail", d("tc"): "pass",
    d("edns"): "pass", d("extra"): "pass", d("wrongq"): "error", d("noqr"): "error",
    d("trailing"): "error", d("selfpointer"): "error", d("shortcount"): "error",
    d("shortextra"): "error",
    d("late"): "pass", d("silent"): "error", d("upper"): "pass",
    d("upperq"): "pass", d("upperhop"): "pass", d("escaped"): "pass",
    d("escapedhop"): "pass", d("escapeddot"): "pass", d("elsewhere"): "fail", www("wwwa"): "fail",
    www("wwwhop"): "warn", www("wwwhopnodata"): "fail", www("wwwacname"): "fail",
    www("wwwfail"): "error", www("wwwnxchain"): "fail", www("tcwww"): "pass",
}  # fmt: skip
NO_SUBJECT = [www("ula"), www("nodata"), www("servfail"), www("wwwnone"), www("wwwnx"),
              www("wwwanx"), www("wwwafail"), www("silent"), www("nx")]  # fmt: skip
# replies the lane reads itself: it must write these lines, not hand them back
LANE_WRITES = [d(c) for c in ADDRESS_CASES if c not in {
    "dupes", "mapped", "compat", "dotted", "nat64", "sixtofour", "mixed-doc", "big", "huge"}] + [
    www("global"), www("several"), www("mixed"), www("doc"), d("nx"), d("nodata"),
    d("nxdata"), d("chain"), d("ten"), d("unfinished"), d("unfinished-ok"),
    d("unfinished-nx"), d("multihop"), d("hop9"), d("cnamenx"), d("glue"), d("authaaaa"),
    d("ttlmax"), d("ednsv1"), d("upper"), d("upperq"), d("upperhop"), d("underscore"),
    d("underscorehop"), d("elsewhere"), www("wwwa"), www("wwwhop"), www("wwwhopnodata"),
    www("wwwacname"), www("wwwnxchain"), f"{LONG}.{Z}", "under_score.lane.test", "lanetest",
]  # fmt: skip
# replies it must recognise as not its own: written by the Python path
PYTHON_WRITES = [d(c) for c in (
    "dupes", "mapped", "compat", "dotted", "nat64", "sixtofour", "mixed-doc", "big", "huge",
    "servfail", "refused", "badvers", "eleven", "unfinished-fail", "hop10", "loop", "selfloop",
    "loophop", "dupcname", "rootcname", "tc", "edns", "extra", "chclass", "wrongq", "noqr",
    "trailing", "selfpointer", "shortcount", "shortextra", "late", "silent", "escaped",
    "escapedhop", "escapeddot", "plus")] + [
    www("wwwfail"), www("tcwww"), www("mapped"), "Global.Lane.TEST", "Mixed.Lane.TEST",
    "global.lane.test.", "bücher.lane.test", r"a\032b.lane.test"]  # fmt: skip


async def test_every_scenario_gives_the_python_paths_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    zone = Zone(TABLE)
    targets = scenario_targets()
    async with dns_server(zone) as server:
        with_lane, python = await compare(server, targets, monkeypatch)
    by_subject = {_subject(line): json.loads(line)["status"] for line in python.lines}
    wrong = {s: (by_subject.get(s), want) for s, want in EXPECTED.items()
             if by_subject.get(s) != want}  # fmt: skip
    assert not wrong, f"scenarios that are not what they claim (got, want): {wrong}"
    assert not [s for s in NO_SUBJECT if s in by_subject]
    assert python.stats.targets_done == len(targets)
    # one domain in two targets: a line for each
    assert Counter(_subject(line) for line in python.lines)[d("global")] == 2
    lane_subjects = Counter(_subject(line) for line in with_lane.from_lane)
    missing = [s for s in LANE_WRITES if not lane_subjects[s]]
    assert not missing, f"the lane handed back replies it should read itself: {missing}"
    taken = [s for s in PYTHON_WRITES if lane_subjects[s]]
    assert not taken, f"the lane wrote lines for replies it must hand back: {taken}"
    # a domain whose www.D cannot be a name: D judged, www.D never asked
    assert len(f"{LONG}.{Z}") == 250 and f"www.{LONG}.{Z}" not in by_subject
    assert not [key for key in zone.asked if key[0] == f"www.{LONG}.{Z}"]
    # a truncated answer went on over TCP, and a dropped question was asked again
    assert zone.asked[(d("tc"), "AAAA", "tcp")] >= 2
    assert zone.asked[(d("late"), "AAAA", "udp")] >= 3


# --- the policy: allowed prefixes and DNS64 ---------------------------------------------------

POLICY_CASES = ["global", "several", "doc", "doc3fff", "ula", "ula-fd", "linklocal",
                "multicast", "mapped", "nat64", "nat64local", "sixtofour", "teredo", "ietf",
                "unallocated", "siit", "anycast", "loopback", "sitelocal", "srv6", "mixed",
                "mixed-doc"]  # fmt: skip


@pytest.mark.parametrize(
    "policy",
    [
        AddressPolicy(allow=("2001:db8::/32",)),
        AddressPolicy(allow=("fc00::/7", "fd00::/8", "2001::/32")),  # the narrowest is named
        AddressPolicy(allow=("::/0",)),  # everything that may be allowed at all
        AddressPolicy(allow=("2001:db8::/32", "2001:db8::/32", "4000::/2", "3fff::/20")),
        AddressPolicy().with_dns64(["64:ff9b::/96"]),
        AddressPolicy(allow=("fc00::/7",)).with_dns64(["2a00:1450::/96", "fc00::/96"]),
    ],
    ids=["documentation", "ula", "everything", "several", "dns64", "dns64-global"],
)
async def test_policy_variations_give_the_python_paths_lines(
    policy: AddressPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    zone = Zone(TABLE)
    targets = [Target(d(c), "sector", (d(c),)) for c in POLICY_CASES]
    async with dns_server(zone) as server:
        with_lane, python = await compare(server, targets, monkeypatch, policy)
    assert with_lane.from_lane, "the lane wrote nothing: the comparison proves little"
    rows = [json.loads(line) for line in python.lines]
    allowed = [a for r in rows for a in r["evidence"]["addresses"] if "allowed_by" in a]
    synthesized = [a for r in rows for a in r["evidence"]["addresses"]
                   if a["category"] == "dns64-synthesized"]  # fmt: skip
    # the policy changed what the lines say
    assert allowed or synthesized
    if policy.dns64_prefixes:
        assert synthesized
    if any(str(p) == "fd00::/8" for p in policy.allow):
        assert {"address": "fd12:3456::1", "category": "unique-local", "global": True,
                "allowed_by": "fd00::/8"} in allowed  # fmt: skip


# --- the lane really does the work -------------------------------------------------------------


@pytest.mark.parametrize("host", ["::1", "127.0.0.1"])
async def test_the_lane_answers_clean_domains_itself(
    host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over a resolver of either family (the lane's socket follows the resolver's)."""
    count = 100
    table = {}
    for i in range(count):
        table[(f"c{i}.clean.test", "AAAA")] = R(aaaa(f"c{i}.clean.test", G, f"2a00:1450:1::{i:x}"))
        table[(f"www.c{i}.clean.test", "AAAA")] = R(aaaa(f"www.c{i}.clean.test", G2))
    zone = Zone(table)
    targets = [Target(f"c{i}", "sector", (f"c{i}.clean.test",)) for i in range(count)]
    async with dns_server(zone, (host,)) as server:
        assert server.address == host
        with_lane, _ = await compare(server, targets, monkeypatch)
    assert with_lane.scan.lane is not None
    lane = with_lane.scan.lane.lane
    assert lane.sent == 2 * count and lane.received == lane.sent
    assert lane.busy == 0
    # every line from the lane, none from the Python path
    assert len(with_lane.from_lane) == with_lane.stats.results == 2 * count
    assert statuses(with_lane) == {"pass": 2 * count}
    assert sum(n for key, n in zone.asked.items() if key[1] == "AAAA") == 4 * count  # both runs


async def test_a_silent_first_resolver_closes_the_lane(monkeypatch: pytest.MonkeyPatch) -> None:
    """The lane asks the first resolver only; when it never answers, every name would wait
    one timeout in the lane and then the Python path's round of resolvers. Once more of
    the lane's questions time out than are answered, new domains skip it."""
    count = 150
    table = {(f"c{i}.clean.test", "AAAA"): R(aaaa(f"c{i}.clean.test", G)) for i in range(count)}
    zone = Zone(table)
    targets = [Target(f"c{i}", "sector", (f"c{i}.clean.test",)) for i in range(count)]
    async with udp_server(lambda wire: None, host="::1") as (silent, _), dns_server(zone) as good:
        policy = AddressPolicy()
        with_lane = await scan_once([silent, good], targets, policy, lane=True, env=monkeypatch)
        python = await scan_once([silent, good], targets, policy, lane=False, env=monkeypatch)
    assert_same(with_lane, python)
    assert statuses(with_lane) == {"pass": count}  # www.D is NXDOMAIN: one line each
    assert not with_lane.scan.lane_open
    assert with_lane.scan.lane is not None
    lane = with_lane.scan.lane.lane
    assert lane.received == 0
    # only the domains started before the first timeouts came back went through it
    assert lane_module.FAILING_AFTER <= lane.expired <= 2 * IN_FLIGHT < 2 * count


# --- random replies ---------------------------------------------------------------------------

P = "prop.test"
PD, PW = f"p.{P}", f"www.p.{P}"
# the chain ends' names too, one with an underscore and one that needs escaping
NAMES = [PD, PW, f"a.{P}", f"b.{P}", f"_u.{P}", rf"e\032x.{P}"]
# examples per run; more to hunt for a mismatch: IPV6SCAN_LANE_EXAMPLES=5000
EXAMPLES = int(os.environ.get("IPV6SCAN_LANE_EXAMPLES", "100"))
ADDRESS_POOL = [G, G2, "2606:4700::6810:84e5", "2001:db8::1", "3fff::1", "fc00::1",
                "fd12:3456::1", "fe80::1", "ff02::1", "::ffff:198.51.100.7", "::1.2.3.4",
                "::1:0", "::2", "::ffff:0:102:304", "64:ff9b::c633:6407", "64:ff9b:1::1",
                "2002:c633:6401::1", "2001::1", "2001:100::1", "4000::1", "8000::1", "2001:1::1",
                "2620:4f:8000::1", "::1", "::", "fec0::1", "5f00::1", "100::1", "2001:2::1",
                "2001:10::1", "2001:20::1"]  # fmt: skip
A_POOL = [V4, "192.0.2.7"]
# --allow-prefix values: broad, narrow, overlapping, over never-allowed ranges, IPv4
ALLOW_POOL = ["::/0", "2001:db8::/32", "2001:db8::1/128", "fc00::/7", "fd00::/8", "4000::/2",
              "8000::/1", "2001::/32", "2001::/23", "2002::/16", "3fff::/20", "5f00::/16",
              "100::/64", "2001:2::/48", "2001:10::/28", "64:ff9b::/96", "fe80::/10", "::/96",
              "::ffff:0:0/96", "2a00:1450::/32", "198.51.100.0/24"]  # fmt: skip
DNS64_POOL = ["64:ff9b::/96", "2a00:1450::/96", "2001:db8::/32", "fc00::/48"]
POLICIES = st.builds(
    lambda allow, dns64: AddressPolicy(allow=tuple(allow)).with_dns64(dns64),
    st.lists(st.sampled_from(ALLOW_POOL), max_size=3),
    st.sampled_from([[]] * 4 + [[p] for p in DNS64_POOL]),
)
_CASINGS: list[Callable[[str], str]] = [str.lower, str.upper, str.title]


def _record(name: str) -> st.SearchStrategy[str]:
    owners = st.sampled_from([name, name, name, *NAMES])
    cased = st.sampled_from(_CASINGS)
    return st.one_of(
        st.builds(lambda o, c, a: f"{c(o)}. 60 IN AAAA {a}", owners, cased,
                  st.sampled_from(ADDRESS_POOL)),
        st.builds(lambda o, c, a: f"{c(o)}. 60 IN A {a}", owners, cased, st.sampled_from(A_POOL)),
        st.builds(lambda o, c, t: cname(c(o), c(t)), owners, cased, st.sampled_from(NAMES)),
    )  # fmt: skip


def _reply(name: str) -> st.SearchStrategy[R]:
    return st.builds(
        R,
        answer=st.lists(_record(name), max_size=6).map(tuple),
        rcode=st.sampled_from([NOERROR] * 5 + [NXDOMAIN, SERVFAIL]),
        soa=st.booleans(),
        tc=st.sampled_from([False] * 9 + [True]),  # over TCP, the same reply
        option=st.sampled_from([False] * 9 + [True]),
    )


REPLIES = st.fixed_dictionaries(
    {
        (name, rdtype): _reply(name)
        for name in NAMES
        for rdtype in ("AAAA", "A")
        if (name, rdtype) != (PD, "A")
    }
)


def test_random_replies_give_the_python_paths_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    """One server for the whole test; each example swaps its table."""
    loop = asyncio.new_event_loop()
    zone = Zone({})
    server_cm = dns_server(zone)
    server = loop.run_until_complete(server_cm.__aenter__())
    targets = [Target("p", "sector", (PD,)), Target("a", "sector", (f"a.{P}",))]
    seen: Counter[str] = Counter()

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    @given(table=REPLIES, policy=POLICIES)
    def check(table: dict[tuple[str, str], R], policy: AddressPolicy) -> None:
        zone.table = table
        with_lane, _ = loop.run_until_complete(compare(server, targets, monkeypatch, policy))
        seen["lane"] += len(with_lane.from_lane)
        seen["lines"] += len(with_lane.lines)

    try:
        check()
    finally:
        loop.run_until_complete(server_cm.__aexit__(None, None, None))
        loop.close()
    # the random replies reached the lane's own reading, not only its punts
    assert seen["lane"] > 0 and seen["lines"] > seen["lane"]
