"""The second process's work on a results line, done once per *shape* of line.

For each line of a large results.jsonl the second process (finish.tables_beside) writes
the result's row of results.csv, its junit.xml test case and its history records
(finish.history_beside). A large scan's lines repeat a few shapes: the same fields,
checks, statuses, details and evidence, with other names, addresses and durations in
them. For a line of a shape seen before, those texts are the shape's, with the line's
names, addresses and duration put in, as the scan's fast lane fills its lines
(engine/lane.py): no JSON parsed, no result made.

A line's shape is the line with its *holes* marked: the target and the subject (wherever
their names appear) and each JSON string that is an IPv6 address; the duration is one
too. A hole's text is plain (HOLE, ADDRESS): ASCII letters, digits and `._:/-`, a name's
starting with a letter or a digit, so no writer escapes, quotes or guards it (a comma, a
quote, `<`, `&`, a formula's first character), and each copies it as it is.

A shape's texts are made by the writers themselves (report.tables.csv_row, junit_case,
evidence_text; history_store.verdict_record), from the line with stand-ins in its holes,
and cut where the stand-ins are. That is done twice, with stand-ins of other lengths, and
the two must agree; and the first line the plan fills must get from it what the writers
make of that line itself. A shape that fails that, that has a hole in a key, a
vantage point, or a detail compared without its measured figures, gets no plan, and its
lines take the slow way (parsed, each writer called); so does a line whose test case
would cut its detail or evidence (MESSAGE_CHARS, BODY_CHARS).

A shape is learnt the second time it is seen: a line of its own costs only its cut. What
is remembered is bounded, and a file whose lines mostly do not repeat stops being cut.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ipv6scan.finish.lines import parse_line
from ipv6scan.history_store import Verdict, text_key, verdict_key, verdict_record, verdict_row
from ipv6scan.model import CheckResult, Status, json_loads, json_text
from ipv6scan.report.tables import (
    BODY_CHARS,
    MESSAGE_CHARS,
    MadeCase,
    csv_duration,
    csv_row,
    evidence_text,
    junit_case,
    junit_time,
)

HEAD = b'{"target": "'
SUBJECT = b', "subject": "'
DURATION = b', "duration_ms": '
HOLE = re.compile(rb"[A-Za-z0-9][A-Za-z0-9._:/-]*")  # a name's text, whole
ADDRESS = re.compile(rb'"([0-9a-f]{0,4}:[0-9a-f:]*)"')  # a JSON string that is an address
NUMBER = re.compile(rb"[0-9]{1,15}(?:\.[0-9]{1,17})?")  # a duration as the scan writes it
# The holes' marks in a shape: NUL (never in a JSON line) and a byte that no name or address
# holds, so that no name is found across a mark and a shape gives back its line.
TARGET, SUBJECT_NAME = b"\x00\x01", b"\x00\x02"
MANY = 64  # addresses a line may have as holes
ADDRESSES = tuple(b"\x00" + bytes([0x80 + i]) for i in range(MANY))  # the i-th distinct one

LONGEST = 2048  # bytes of a line that may be cut (a DNS line is some 450)
PLANS = 1024  # shapes remembered with their plans (cleared when full)
SEEN = 16384  # shapes seen once, by hash (cleared when full)
TRIAL = 20_000  # lines after which a file whose lines mostly do not repeat stops being cut

# The stand-ins: plain texts (as a hole's), of two lengths; durations exact in binary.
STAND_IN = "qZ7"
_STAND_INS = (lambda i: f"qZ7a{i}x", lambda i: f"qZ7b{i}{'y' * (5 + i)}x")
_DURATIONS = (86_400_123.125, 43_200_456.5)

Made = tuple[str, int, Verdict, int, str, float, MadeCase]  # see LineShapes.make
Cut = tuple[bytes, list[str], float]  # a line's shape, its holes' texts, its duration
Template = tuple[str | int, ...]  # literal texts and holes (their index in the values)
_FAILED = (Status.FAIL, Status.ERROR)  # their test case holds the evidence's JSON, cut
_CUT_DETAIL = (Status.FAIL, Status.ERROR, Status.SKIP)  # theirs holds the detail, cut


class LineShapes:
    """make(line): the line's texts from its shape's plan, or None (the slow way). The
    lines are cut in C (finish/_cut.c, a third of _cut's time) where it is built."""

    def __init__(self) -> None:
        self._cut = cut_in_c if cut_in_c is not None else _cut
        self._plans: dict[bytes, Plan | None] = {}  # None: a shape with no plan
        self._unchecked: set[bytes] = set()  # plans not yet held to a line of their own
        self._seen: set[int] = set()
        self._tried = self._made = 0
        self.off = False  # the lines do not repeat: no more cutting

    def make(self, line: bytes) -> Made | None:
        """(results.csv's row, the verdict's key, its row, the evidence's key, its text,
        the duration, the test case) of the line, as the writers would make them."""
        if self.off:
            return None
        cut = self._cut(line)
        made = None
        if cut is not None:
            shape, values, ms = cut
            plan = self._plans.get(shape, _UNKNOWN)
            if plan is _UNKNOWN:
                plan = self._learn(shape, len(values))
            if plan is not None:
                made = plan.fill(values, ms)
                if made is not None and shape in self._unchecked:
                    made = self._check(shape, line, made)
        self._count(made is not None)
        return made

    def _learn(self, shape: bytes, holes: int) -> Plan | None:
        """The shape's plan the second time it is seen (None the first)."""
        seen = hash(shape)
        if seen not in self._seen:
            if len(self._seen) >= SEEN:
                self._seen.clear()
            self._seen.add(seen)
            return None
        plan = Plan.learn(shape, holes)
        if len(self._plans) >= PLANS:
            self._plans.clear()
            self._unchecked.clear()
        self._plans[shape] = plan
        if plan is not None:
            self._unchecked.add(shape)
        return plan

    def _check(self, shape: bytes, line: bytes, made: Made) -> Made | None:
        """The first line a plan fills: what the writers make of it, or the plan goes."""
        self._unchecked.discard(shape)
        r = parse_line(line)
        if r is not None and made == slow(r):
            return made
        self._plans[shape] = None
        return None

    def _count(self, made: bool) -> None:
        self._tried += 1
        self._made += made
        if self._tried == TRIAL and self._made * 4 < self._tried:
            self.off = True


def _cut(line: bytes) -> Cut | None:
    """The line's shape, its holes' texts (the target, the subject, the addresses in
    order) and its duration; None for a line not cut so (the slow way)."""
    if len(line) > LONGEST or not line.startswith(HEAD) or b"\x00" in line:
        return None
    end = line.find(b'"', len(HEAD))
    at = line.find(SUBJECT, end)
    if at < 0:
        return None
    start = at + len(SUBJECT)
    stop = line.find(b'"', start)
    at = line.rfind(DURATION)
    if at < stop:
        return None
    tail = line[at + len(DURATION) :]
    number = tail[:-2] if tail.endswith(b"}\n") else tail[:-1] if tail.endswith(b"}") else b""
    target, subject = line[len(HEAD) : end], line[start:stop]
    if (
        NUMBER.fullmatch(number) is None
        or HOLE.fullmatch(target) is None
        or HOLE.fullmatch(subject) is None
    ):
        return None
    body = line[stop:at]
    if subject in body:
        body = body.replace(subject, SUBJECT_NAME)
    if target in body:
        body = body.replace(target, TARGET)
    values = [target.decode(), subject.decode()]
    found = ADDRESS.findall(body)
    if found:  # each address wherever it is (a detail's text holds it too)
        found = list(dict.fromkeys(found))  # numbered in order of appearance ...
        if len(found) > MANY:
            return None
        values += [address.decode() for address in found]
        for address in sorted(found, key=len, reverse=True):  # ... put in longest first
            body = body.replace(address, ADDRESSES[found.index(address)])
    return line[end:start] + b"\x00" + body, values, float(number)


_UNKNOWN: Any = object()

try:  # C, built by setup.py: _cut, byte for byte (tests/unit/test_line_shapes.py, tests/fuzz)
    from ipv6scan.finish._cut import cut as cut_in_c  # type: ignore[import-not-found]
except ImportError:  # not compiled: _cut itself
    cut_in_c = None


@dataclass(frozen=True, slots=True)
class Plan:
    """A shape's texts as format strings over the values (the holes' texts, then the
    duration as results.csv and as junit.xml write it), and its fields that have none."""

    csv: str
    evidence: str
    detail: str
    data: str | None  # the detail's key and parameters (history_store._detail_data)
    case: str
    sector: str
    tier: str
    check: str
    status: Status
    message: bool  # the test case holds the detail cut to MESSAGE_CHARS
    body: tuple[int, ...] | None  # the evidence's JSON cut to BODY_CHARS: its holes ...
    body_fixed: int  # ... and the length of the rest

    def fill(self, v: list[str], ms: float) -> Made | None:
        """The texts of a line with these values; None where its test case would cut them."""
        v = [*v, csv_duration(ms), junit_time(ms)]
        detail = self.detail.format(*v)
        if self.message and len(detail) > MESSAGE_CHARS:
            return None
        body = self.body
        if body is not None and self.body_fixed + sum([len(v[i]) for i in body]) > BODY_CHARS:
            return None
        evidence = self.evidence.format(*v)
        target, subject, status = v[0], v[1], self.status
        said = str(status)
        key = verdict_key(target, self.sector, self.tier, subject, self.check, said, detail)
        data = self.data.format(*v) if self.data is not None else None
        verdict = (key, target, self.sector, self.tier, subject, self.check, said, detail, None,
                   data)  # fmt: skip
        case = MadeCase(target, self.tier, subject, self.check, status, ms,
                        self.case.format(*v))  # fmt: skip
        return self.csv.format(*v), key, verdict, text_key(evidence), evidence, ms, case

    @classmethod
    def learn(cls, shape: bytes, holes: int) -> Plan | None:
        """The plan of a shape with this many holes, from its stand-ins (LineShapes holds
        it to the first line it fills), or None: see the module's docstring."""
        if STAND_IN.encode() in shape:
            return None
        middle, body = shape.split(b"\x00", 1)
        made = [_render(middle, body, [f(i) for i in range(holes)], d)
                for f, d in zip(_STAND_INS, _DURATIONS, strict=True)]  # fmt: skip
        if made[0] is None or made[0] != made[1]:
            return None
        return made[0].plan()


def slow(r: CheckResult) -> Made:
    """What the writers make of a result, each called (what Plan.fill must give)."""
    evidence = evidence_text(r.evidence)
    key, pending, _own = verdict_record(r)
    case = MadeCase(r.target, r.tier, r.subject, r.check, r.status, r.duration_ms,
                    junit_case(r, False))  # fmt: skip
    return (csv_row(r, evidence), key, verdict_row(pending), text_key(evidence), evidence,
            r.duration_ms, case)  # fmt: skip


@dataclass(frozen=True)
class _Rendered:
    """A shape's texts from one set of stand-ins, cut where they are."""

    texts: tuple[Template, Template, Template, Template, Template]  # see plan()
    data: Template | None  # the detail's key and parameters, if it has a key
    fields: tuple[str, str, str, Status]

    def plan(self) -> Plan:
        csv, evidence, detail, case, body = self.texts  # body: the evidence's JSON
        data = self.data
        sector, tier, check, status = self.fields
        fixed = sum(len(part) for part in body if isinstance(part, str))
        holes = tuple(part for part in body if isinstance(part, int))
        return Plan(_format(csv), _format(evidence), _format(detail),
                    _format(data) if data is not None else None, _format(case), sector, tier,
                    check, status, status in _CUT_DETAIL,
                    holes if status in _FAILED else None, fixed)  # fmt: skip


def _render(middle: bytes, body: bytes, stand_ins: list[str], ms: float) -> _Rendered | None:
    """The writers' texts of the shape's line with these stand-ins and this duration."""
    fill = [s.encode() for s in stand_ins]
    text = body.replace(TARGET, fill[0]).replace(SUBJECT_NAME, fill[1])
    for i, stand_in in enumerate(fill[2:]):
        text = text.replace(ADDRESSES[i], stand_in)
    line = HEAD + fill[0] + middle + fill[1] + text + DURATION + repr(ms).encode() + b"}\n"
    r = parse_line(line)
    if r is None or r.vantage is not None or r.target != stand_ins[0] or r.subject != stand_ins[1]:
        return None
    if any(STAND_IN in key for key in _keys(json_loads(line))):
        return None  # a hole in a key: where it sorts would depend on its text
    _key, _pending, own = verdict_record(r)
    if own is not None:  # compared without its measured figures: the slow way
        return None
    fields = (r.sector, r.tier, r.check, r.status)
    if any(STAND_IN in str(field) for field in fields):
        return None
    made = slow(r)
    holes = {text: i for i, text in enumerate(stand_ins)}
    holes[csv_duration(ms)] = len(stand_ins)
    holes[junit_time(ms)] = len(stand_ins) + 1
    cut = re.compile("|".join(re.escape(h) for h in sorted(holes, key=len, reverse=True)))
    csv, evidence, detail, case, evidence_json = (_cut_text(text, cut, holes) for text in (
        made[0], made[4], str(r.detail), made[6].text, json_text(r.evidence)))  # fmt: skip
    data = made[2][9]
    return _Rendered((csv, evidence, detail, case, evidence_json),
                     _cut_text(data, cut, holes) if data is not None else None,
                     (r.sector, r.tier, r.check, r.status))  # fmt: skip


def _cut_text(text: str, cut: re.Pattern[str], holes: dict[str, int]) -> Template:
    parts: list[str | int] = []
    at = 0
    for found in cut.finditer(text):
        parts += (text[at : found.start()], holes[found.group()])
        at = found.end()
    parts.append(text[at:])
    return tuple(parts)


def _format(template: Template) -> str:
    return "".join(part.replace("{", "{{").replace("}", "}}") if isinstance(part, str)
                   else f"{{{part}}}" for part in template)  # fmt: skip


def _keys(value: object) -> Iterator[str]:
    """Every key of every object in a parsed JSON value."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _keys(item)
