"""net.ping's most common line, filled in from a shape instead of made anew.

On the bulk ping path (engine/ping_only.py) most results are an address whose every echo
of its first series was answered. judge_ping decides it and CheckResult.to_line writes it
(the one rule, the one writer) at some 10 us an address: as much again as the echoes'
own handling. That line differs from one address to the next only in the names, the
address and the figures. So, as engine/lane.py does for dns.aaaa, the rule and the writer
are asked once per number of echoes, with marked values in those places; the line they
write is cut at the marks (a Shape), and an address's line is the pieces joined with its
own values, each rendered by the function that rendered its mark (rtt_figure, ms_text,
duration_figure, JSON's string escape).

A shape is used only once it has written, for several sets of real values (large and
small times, names that need escaping), the very line judge_ping and to_line write: if
the rule ever decides on the figures or words them otherwise, the shape is not used, and
each address goes to judge_ping as before. tests/unit/test_ping_lines.py holds the two to
the same bytes over random values.
"""

from __future__ import annotations

from collections.abc import Sequence
from json.encoder import encode_basestring  # type: ignore[attr-defined]

from ipv6scan.checks.net import judge_ping, median, ms_text, rtt_figure
from ipv6scan.checks.options import CheckOptions
from ipv6scan.engine.scheduler import result_of
from ipv6scan.model import Subject, Target, duration_figure
from ipv6scan.observations.net import NetTarget, PingObservation, PingResult

CHECK = "net.ping"
_MARK = "\ue000"  # a private-use character: JSON writes it as it is, no name holds it

# The values a line is filled with, by their index in Shape.fill's tuple.
TARGET, SECTOR, TIER, SUBJECT, ADDRESS, MS, MEDIAN, DURATION, RTTS = range(9)
_NAMES = {TARGET: "T", SECTOR: "S", TIER: "R", SUBJECT: "U", ADDRESS: "A"}
# figures whose rendered text is unlike any other's: 9111.163 is said "9111.2" and kept
# as 9111.163; the median of an odd count is one of the times, told apart by its place
_SENTINEL_TIMES = tuple(9000.163 + 111 * i for i in range(64))
_SENTINEL_DURATION = 8765.432

# Real values a shape must write as judge_ping and to_line do before it is used.
_TRIALS = (
    ("T", "government", "access", "2001:db8::1", (0.0612, 0.0681, 0.0683), 203.6651),
    ('Q"uote\\d 中文', "operator", "backbone", "2001:db8:ffff::2", (1500.25, 0.0, 99999.9995),
     0.0004),
    ("t\u2028", "enterprise", "metro", "2001:db8::a:b", (7.05, 7.15, 7.25, 0.35, 1e-7), 1e9),
)  # fmt: skip


def _inner(text: str) -> str:
    """`text` as it stands inside a JSON string of the line."""
    return str(encode_basestring(text)[1:-1])


class Shape:
    """A passing line of `count` echoes, cut at its values."""

    __slots__ = ("count", "holes", "pieces")

    def __init__(self, count: int, pieces: tuple[str, ...], holes: tuple[int, ...]) -> None:
        self.count = count
        self.pieces = pieces  # one more than the holes
        self.holes = holes  # the value index of each hole

    def line(
        self, subject: Subject, address: str, rtts: Sequence[float], duration_ms: float
    ) -> str:
        """The line for `subject` whose address answered every echo in `rtts`."""
        middle = median(tuple(rtts))
        target = subject.target
        values = (
            _inner(target.name), _inner(target.sector), _inner(subject.tier),
            _inner(subject.name), _inner(address), ms_text(middle), repr(rtt_figure(middle)),
            repr(duration_figure(duration_ms)), *[repr(rtt_figure(x)) for x in rtts],
        )  # fmt: skip
        pieces = self.pieces
        parts = [pieces[0]]
        for i, hole in enumerate(self.holes, 1):
            parts.append(values[hole])
            parts.append(pieces[i])
        return "".join(parts)


def judged_line(
    subject: Subject, address: str, rtts: Sequence[float], duration_ms: float,
    options: CheckOptions,
) -> str:  # fmt: skip
    """The line judge_ping's verdict makes, through the engine's writer (the reference)."""
    result = PingResult(address, sent=len(rtts), received=len(rtts), rtts_ms=tuple(rtts))
    target = NetTarget(address, "address", addresses=(address,))
    verdict = judge_ping(PingObservation(target, True, None, (result,)), options)
    return result_of(subject, CHECK, verdict, duration_ms).to_line()


def compile_shape(count: int, options: CheckOptions) -> Shape | None:
    """The shape of a passing line of `count` echoes, or None when judge_ping's line
    cannot be told from its values by their marks (see the module's docstring)."""
    if not 1 <= count <= len(_SENTINEL_TIMES):
        return None
    times = _SENTINEL_TIMES[:count]
    marks = {k: f"{_MARK}{name}{_MARK}" for k, name in _NAMES.items()}
    subject = Subject("address", marks[SUBJECT], Target(marks[TARGET], marks[SECTOR]),
                      marks[TIER])  # fmt: skip
    try:
        line = judged_line(subject, marks[ADDRESS], times, _SENTINEL_DURATION, options)
    except Exception:  # a rule that refuses marked values: no shape
        return None
    middle = median(times)
    texts: list[tuple[int, str]] = [(k, mark) for k, mark in marks.items()]
    texts += [(RTTS + i, repr(rtt_figure(x))) for i, x in enumerate(times)]
    texts += [(MEDIAN, repr(rtt_figure(middle))), (MS, ms_text(middle)),
              (DURATION, repr(duration_figure(_SENTINEL_DURATION)))]  # fmt: skip
    shape = _cut(line, texts, count)
    if shape is None or not all(_agrees(shape, trial, options) for trial in _TRIALS):
        return None
    return shape


def _cut(line: str, texts: list[tuple[int, str]], count: int) -> Shape | None:
    """`line` cut where the texts stand. A text several values share (the median of an odd
    count is one of the times) is theirs in the order the line writes them: the times,
    then the median; any other arrangement fails the trials."""
    owners: dict[str, list[int]] = {}
    for index, text in texts:
        owners.setdefault(text, []).append(index)
    found: list[tuple[int, int, int]] = []  # (start, end, value index)
    for text, indexes in owners.items():
        starts = _occurrences(line, text)
        if not starts:
            return None
        if len(indexes) > 1:
            if len(starts) != len(indexes):
                return None
            found += [(s, s + len(text), i) for s, i in zip(starts, indexes, strict=True)]
        else:
            found += [(s, s + len(text), indexes[0]) for s in starts]
    found.sort()
    pieces, holes, at = [], [], 0
    for start, end, index in found:
        if start < at:  # two texts overlap: not told apart
            return None
        pieces.append(line[at:start])
        holes.append(index)
        at = end
    pieces.append(line[at:])
    if _MARK in "".join(pieces):
        return None
    return Shape(count, tuple(pieces), tuple(holes))


def _occurrences(line: str, text: str) -> list[int]:
    starts, at = [], line.find(text)
    while at >= 0:
        starts.append(at)
        at = line.find(text, at + len(text))
    return starts


def _agrees(shape: Shape, trial: tuple[str, str, str, str, tuple[float, ...], float],
            options: CheckOptions) -> bool:  # fmt: skip
    name, sector, tier, address, times, duration = trial
    times = (times * shape.count)[: shape.count]
    subject = Subject("address", address, Target(name, sector), tier)
    return shape.line(subject, address, times, duration) == judged_line(
        subject, address, times, duration, options
    )


class ShapeCache:
    """Each echo count's shape, compiled on first use (None: judge_ping each time)."""

    def __init__(self, options: CheckOptions) -> None:
        self.options = options
        self._shapes: dict[int, Shape | None] = {}

    def get(self, count: int) -> Shape | None:
        if count not in self._shapes:
            self._shapes[count] = compile_shape(count, self.options)
        return self._shapes[count]
