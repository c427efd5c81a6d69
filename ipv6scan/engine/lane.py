"""The fast lane (engine/_lane.c) on the event loop: dns.aaaa for plain domains in C.

The lane asks AAAA D, AAAA www.D and, when the rule says so, A www.D on one connected UDP
socket to the first resolver, and reads the answers, CNAME chains and all. It knows no
check rule and no line layout: the first outcome of each *shape* (the part and type
asked, NXDOMAIN or not, the chain's length, and the rows of AddressPolicy.tables() each
address falls in) comes here, to ShapeCompiler, which decides with the engine's own
pieces (probes.dns.classify, checks.dns.judge_aaaa, www_settled / www_exists) and
renders the line with model.CheckResult.to_line, holes in it for what varies within the
shape. The lane fills the holes for every later outcome of that shape. So a rule changed
in Python changes the lane's lines too, and tests/unit/test_lane.py holds the two paths'
lines to the same bytes.

What the lane does not read completely (see _lane.c) is handed back, part by part (D, or
www.D), to the general bulk path, which asks again from scratch with every resolver and
all of its rules; so a timeout there costs one timeout more than on the general path
alone, and never another result.

It needs the compiled module (setup.py builds it; without a C compiler the scan runs on
the general path), and IPV6SCAN_LANE=0 turns it off, for A/B runs and tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections.abc import Callable
from typing import Any

from ipv6scan.addresses import AddressClass
from ipv6scan.checks.dns import judge_aaaa
from ipv6scan.context import ScanContext
from ipv6scan.dnsclient.fast import RCVBUF, open_udp
from ipv6scan.dnsclient.resolution import Lookup
from ipv6scan.dnsclient.transport import DnsServer
from ipv6scan.engine.scheduler import result_of, www_exists, www_settled
from ipv6scan.model import Status, Subject, Target, Verdict, duration_figure, json_text
from ipv6scan.observations.dns import Addresses
from ipv6scan.probes.dns import classify
from ipv6scan.report.jsonl_batch import encode_lines

try:
    from ipv6scan.engine._lane import Lane  # type: ignore[import-not-found]  # C, built by setup.py
except ImportError:  # not compiled: the general bulk path does it all
    Lane = None

LANE_ENV = "IPV6SCAN_LANE"  # "0": never the lane
SWEEP = 0.02  # s between looks for questions past their deadline
FAILING_AFTER = 64  # timeouts before the lane may be judged failing (see failing())
CHECK = "dns.aaaa"

# A shape's answer to the lane: what its outcomes do (ACT_* in _lane.c) ...
WRITE, DROP, ASK_A, PUNT = 0, 1, 2, 3
# ... the line's status, as the lane counts it (ST_* in _lane.c) ...
STATUSES = (Status.PASS, Status.WARN, Status.FAIL, Status.ERROR)
# ... and its line as (literal bytes, hole) pairs, the hole filled per outcome (HOLE_*).
HOLE_END, HOLE_TARGET, HOLE_SECTOR, HOLE_SUBJECT, HOLE_DURATION = 0, 1, 2, 3, 4
HOLE_ADDRESS, HOLE_CHAIN = 16, 128
Segments = tuple[tuple[bytes, int], ...]
ShapeAnswer = tuple[int, int, Segments]
NOT_MINE: ShapeAnswer = (PUNT, 0, ())

# The holes as the compiled line carries them: DEL and a letter, which JSON keeps as they
# are and no judge writes. The duration is a number: a sentinel value stands for it.
_MARK = "\x7f"
_TARGET, _SECTOR, _SUBJECT = _MARK + "T", _MARK + "S", _MARK + "N"
_DURATION_SENTINEL = 86_400_123.125  # ms; exact in binary, so its repr is its text
_HOLES = re.compile(rb"\x7f(T|S|N|D|A\d\d|C\d\d)")
_FIXED_HOLES = {b"T": HOLE_TARGET, b"S": HOLE_SECTOR, b"N": HOLE_SUBJECT, b"D": HOLE_DURATION}


def lane_wanted() -> bool:
    return Lane is not None and os.environ.get(LANE_ENV, "").strip() != "0"


def target_fields(target: Target) -> tuple[bytes, bytes] | None:
    """The target's name and sector as the lane writes them into its holes: the insides of
    their JSON strings, as json_text and encode_lines write them. None for a text they
    would write otherwise (a lone surrogate): the general path takes that target."""
    try:
        name = json_text(target.name)[1:-1].encode()
        sector = json_text(target.sector)[1:-1].encode()
    except UnicodeEncodeError:
        return None
    return name, sector


def _address_hole(i: int) -> str:
    return f"{_MARK}A{i:02d}"


def _chain_hole(i: int) -> str:
    return f"{_MARK}C{i:02d}"


class ShapeCompiler:
    """A new shape's answer for the lane, from the first outcome of that shape. Called
    by _lane.c with (shape id, www?, "AAAA" or "A", NXDOMAIN?, the chain's names, the
    values as text, sorted, and for www.D's A the shape of its AAAA outcome, else -1)."""

    def __init__(self, ctx: ScanContext, server: str) -> None:
        self.ctx = ctx
        self.server = server
        self._asking_a: dict[int, Addresses] = {}  # www.D's AAAA, holed, while its A decides

    def __call__(
        self, shape: int, www: bool, rdtype: str, nxdomain: bool,
        chain: tuple[str, ...], values: tuple[str, ...], prior: int,
    ) -> ShapeAnswer:  # fmt: skip
        try:
            return self._compile(shape, www, rdtype, nxdomain, chain, values, prior)
        except Exception:  # a bug is the general path's to report, as a result
            return NOT_MINE

    def _compile(
        self, shape: int, www: bool, rdtype: str, nxdomain: bool,
        chain: tuple[str, ...], values: tuple[str, ...], prior: int,
    ) -> ShapeAnswer:  # fmt: skip
        rcode = "NXDOMAIN" if nxdomain else "NOERROR"
        names = tuple(_chain_hole(i) for i in range(len(chain)))
        lookup = Lookup(_SUBJECT, rdtype, rcode, values, (), names, self.server)
        if rdtype == "A":  # www.D's A: is www.D a subject, with the AAAA answer it had
            aaaa = self._asking_a.get(prior)
            if not www or aaaa is None:
                return NOT_MINE
            if not www_exists(aaaa.lookup, lookup):
                return (DROP, 0, ())
            status, segments = self._line(aaaa)
            if any(hole >= HOLE_ADDRESS for _, hole in segments):
                return NOT_MINE  # it would need the AAAA outcome's values: not at hand
            return (WRITE, status, segments)
        found = self._holed(lookup, values)
        if found is None:
            return NOT_MINE
        if www:
            settled = www_settled(lookup)
            if settled is None:
                self._asking_a[shape] = found
                return (ASK_A, 0, ())
            if not settled:
                return (DROP, 0, ())
        return (WRITE, *self._line(found))

    def _holed(self, lookup: Lookup, values: tuple[str, ...]) -> Addresses | None:
        """The outcome classified as the engine classifies it, each address then replaced
        by its hole; None when a class is not the shape's alone (an IPv4 inside)."""
        found = classify(self.ctx, lookup)
        holes = {value: _address_hole(i) for i, value in enumerate(values)}
        if len(found.classes) != len(values) or len(holes) != len(values):
            return None
        classes = []
        for c in found.classes:
            if c.embedded_ipv4 is not None or c.address not in holes:
                return None
            classes.append(AddressClass(holes[c.address], c.version, c.category,
                                        c.is_global, c.allowed_by))  # fmt: skip
        holed = Lookup(lookup.name, lookup.rdtype, lookup.rcode,
                       tuple(c.address for c in classes), (), lookup.cname_chain,
                       lookup.server)  # fmt: skip
        return Addresses(holed, tuple(classes))

    def _line(self, found: Addresses) -> tuple[int, Segments]:
        verdict = judge_aaaa(found, self.ctx.options)
        subject = Subject("host", _SUBJECT, Target(_TARGET, _SECTOR))
        return STATUSES.index(verdict.status), segments(line_of(subject, verdict))


def line_of(subject: Subject, verdict: Verdict) -> bytes:
    """The results line emit() writes for `verdict`, as bytes, with the duration sentinel."""
    return encode_lines([result_of(subject, CHECK, verdict, _DURATION_SENTINEL).to_line()])


def segments(line: bytes) -> Segments:
    """A compiled line cut at its holes."""
    sentinel = repr(duration_figure(_DURATION_SENTINEL)).encode()
    if line.count(sentinel) != 1:
        raise ValueError("the duration is not in the line once")
    line = line.replace(sentinel, _MARK.encode() + b"D")
    out: list[tuple[bytes, int]] = []
    at = 0
    for hole in _HOLES.finditer(line):
        code = hole.group(1)
        number = _FIXED_HOLES.get(code)
        if number is None:
            base = HOLE_ADDRESS if code[:1] == b"A" else HOLE_CHAIN
            number = base + int(code[1:])
        out.append((line[at : hole.start()], number))
        at = hole.end()
    rest = line[at:]
    if _MARK.encode() in rest or any(_MARK.encode() in text for text, _ in out):
        raise ValueError("a hole the lane does not know")
    out.append((rest, HOLE_END))
    return tuple(out)


# (lines, finished tokens, [(token, parts handed back, started)], (pass, warn, fail, error))
Taken = tuple[bytes, list[Any], list[tuple[Any, int, float]], tuple[int, int, int, int]]


def new_lane(fd: int, ctx: ScanContext, server: str, timeout: float, window: int) -> Any:
    """A Lane on `fd` with the scan's address tables and a ShapeCompiler."""
    assert Lane is not None
    tables = ctx.policy.tables()
    compiler = ShapeCompiler(ctx, server)
    return Lane(fd, timeout, window, tables.special, tables.allow, tables.dns64, compiler)


class FastLane:
    """One Lane, its socket, its reader and its deadline sweep on the running loop.
    `on_taken` gets what the lane finished after each read and each sweep."""

    def __init__(
        self,
        server: DnsServer,
        ctx: ScanContext,
        timeout: float,
        on_taken: Callable[[Taken], None],
        rcvbuf: int = RCVBUF,
    ) -> None:
        assert Lane is not None
        self.loop = asyncio.get_running_loop()
        self.sock, window = open_udp(server, rcvbuf)
        try:
            self.lane = new_lane(self.sock.fileno(), ctx, str(server), timeout, window)
        except BaseException:
            self.sock.close()
            raise
        self.on_taken = on_taken
        self.loop.add_reader(self.sock.fileno(), self._readable)
        self._sweeper: asyncio.TimerHandle | None = self.loop.call_later(SWEEP, self._sweep)
        # (token, name, www, target, sector) -> False: not for the lane (target_fields)
        self.add = self.lane.add
        self.flush = self.lane.flush

    @classmethod
    def open(
        cls, server: DnsServer, ctx: ScanContext, timeout: float,
        on_taken: Callable[[Taken], None], rcvbuf: int = RCVBUF,
    ) -> FastLane | None:  # fmt: skip
        """The lane, or None when it is off, not compiled, has no socket (the general
        path then reports the socket's error as a result) or cannot take the policy's
        tables (more than 65,534 --allow-prefix values)."""
        if not lane_wanted():
            return None
        try:
            return cls(server, ctx, timeout, on_taken, rcvbuf)
        except (OSError, ValueError):
            return None

    def failing(self) -> bool:
        """More of its questions timed out than were answered (after FAILING_AFTER timeouts):
        its resolver, the first configured, is silent. Each name it hands back then waits
        one timeout more than on the general path, which goes on to the next resolver."""
        expired = self.lane.expired
        return expired >= FAILING_AFTER and expired > self.lane.received

    def _readable(self) -> None:
        self.lane.read()
        self.on_taken(self.lane.take())

    def _sweep(self) -> None:
        # answers already waiting count, however late the loop came round to them (after
        # a stall of the scanner, uvloop runs this timer before the reader: stall_clock)
        self.lane.read()
        self.lane.expire()
        self._sweeper = self.loop.call_later(SWEEP, self._sweep)
        self.on_taken(self.lane.take())

    def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        if self.sock.fileno() >= 0:
            with contextlib.suppress(RuntimeError, ValueError, OSError):  # the loop is closing
                self.loop.remove_reader(self.sock.fileno())
            self.sock.close()
