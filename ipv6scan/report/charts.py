"""Inline SVG charts, drawn here in Python: the report needs no chart library and no
script to show them, and they print as crisp as the text around them.

Every chart is an `<svg role="img">` with a <title> and a <desc> that says its numbers
in words, and every bar carries its value as visible text: colour is never the only
carrier. All text goes through `escape`; colours come from CSS classes in the report's
stylesheet so the palette lives in one place.
"""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

FONT = 13  # px in viewBox units; the page's font family is inherited
ROW = 24
HEAD = 12  # column headings of a heatmap
WIDTH = 540  # about a half-page card, so text is drawn near its CSS size


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None  # None: nothing to draw (not scored)
    text: str  # the value as the reader sees it, already formatted
    tone: str = "score-none"  # CSS class of the bar's fill


@dataclass(frozen=True)
class Segment:
    key: str  # CSS class suffix (a status) and legend entry
    name: str  # translated name, for titles
    count: int
    text: str  # count formatted for the locale


@dataclass(frozen=True)
class Cell:
    share: float | None  # 0..1; None: nothing decided
    text: str
    title: str


@dataclass(frozen=True)
class Stack:
    label: str
    segments: Sequence[Segment]
    text: str  # trailing label, e.g. the pass rate


def text_width(text: str, size: float = FONT) -> float:
    """Rough advance width: CJK glyphs are a full em, Latin about half. Only used for layout."""
    return sum(size if unicodedata.east_asian_width(ch) in "WF" else size * 0.58 for ch in text)


def clip(text: str, room: float, size: float = FONT) -> str:
    if text_width(text, size) <= room:
        return text
    out = ""
    for ch in text:
        if text_width(out + ch + "…", size) > room:
            break
        out += ch
    return out + "…"


def share_tone(share: float | None) -> str:
    """Five steps from red (below 20%) to green (80% and more); grey when undecided."""
    return "hm-none" if share is None else f"hm-{min(4, int(share * 5))}"


def score_tone(score: float | None) -> str:
    if score is None:
        return "score-none"
    return "score-good" if score >= 80 else "score-mid" if score >= 50 else "score-bad"


def _two_lines(text: str, room: float, size: float) -> list[str]:
    """A column heading over two lines: break at the last space that fits, else clip."""
    first = ""
    for i, ch in enumerate(text):
        if text_width(first + ch, size) > room:
            cut = first.rfind(" ")
            if cut > 0:
                return [first[:cut], clip(text[cut + 1 :], room, size)]
            if unicodedata.east_asian_width(ch) in "WF":  # CJK breaks anywhere
                return [first, clip(text[i:], room, size)]
            return [clip(text, room, size)]
        first += ch
    return [text]


class Charts:
    """One per report: numbers the element ids so titles stay unique in the page."""

    def __init__(self, pair: str = "%(label)s: %(value)s", sep: str = "; ") -> None:
        self._ids = itertools.count(1)
        # "label: value" and the list separator of the reader's language (：and ；in Chinese)
        self._pair_format = pair
        self._sep = sep

    def _pair(self, label: str, value: str) -> str:
        return self._pair_format % {"label": label, "value": value}

    def _open(self, width: float, height: float, title: str, desc: str, cls: str) -> str:
        n = next(self._ids)
        return (
            f'<svg class="chart {cls}" role="img" '
            f'width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
            f'aria-labelledby="chart{n}-t chart{n}-d">'
            f'<title id="chart{n}-t">{escape(title)}</title>'
            f'<desc id="chart{n}-d">{escape(desc)}</desc>'
        )

    def bars(self, bars: Sequence[Bar], title: str, maximum: float = 100.0) -> Markup:
        """Horizontal bars with the label on the left and the value at the bar's end."""
        label_w = min(WIDTH * 0.5, max([text_width(b.label) for b in bars] + [40]) + 12)
        value_w = max([text_width(b.text) for b in bars] + [30]) + 10
        track = WIDTH - label_w - value_w
        height = ROW * len(bars) + 8
        desc = self._sep.join(self._pair(b.label, b.text) for b in bars)
        out = [self._open(WIDTH, height, title, desc, "bars")]
        for i, b in enumerate(bars):
            y = 4 + i * ROW
            share = 0.0 if b.value is None or maximum <= 0 else min(1.0, b.value / maximum)
            w = track * share
            out.append(
                f"<g><title>{escape(self._pair(b.label, b.text))}</title>"
                f'<text x="{label_w - 8:.1f}" y="{y + 16}" text-anchor="end" class="lbl">'
                f"{escape(clip(b.label, label_w - 12))}</text>"
                f'<rect x="{label_w:.1f}" y="{y + 4}" width="{track:.1f}" height="16" '
                f'class="track"/>'
                f'<rect x="{label_w:.1f}" y="{y + 4}" width="{w:.1f}" height="16" '
                f'class="{b.tone}"/>'
                f'<text x="{label_w + w + 6:.1f}" y="{y + 16}" class="val">{escape(b.text)}</text>'
                "</g>"
            )
        out.append("</svg>")
        return Markup("".join(out))

    def stacks(self, stacks: Sequence[Stack], title: str) -> Markup:
        """One bar per row split by status; the trailing text says the pass rate."""
        label_w = min(WIDTH * 0.45, max([text_width(s.label) for s in stacks] + [40]) + 12)
        value_w = max([text_width(s.text) for s in stacks] + [30]) + 10
        track = WIDTH - label_w - value_w
        height = ROW * len(stacks) + 8
        desc = self._sep.join(
            self._pair(s.label, " ".join(f"{g.name} {g.text}" for g in s.segments if g.count))
            for s in stacks
        )
        out = [self._open(WIDTH, height, title, desc, "stacks")]
        for i, s in enumerate(stacks):
            y = 4 + i * ROW
            total = sum(g.count for g in s.segments)
            out.append(
                f'<g><text x="{label_w - 8:.1f}" y="{y + 16}" text-anchor="end" class="lbl">'
                f"<title>{escape(s.label)}</title>{escape(clip(s.label, label_w - 12))}</text>"
                f'<rect x="{label_w:.1f}" y="{y + 4}" width="{track:.1f}" height="16" '
                f'class="track"/>'
            )
            x = label_w
            for g in s.segments:
                if not g.count or not total:
                    continue
                w = track * g.count / total
                out.append(
                    f'<rect x="{x:.1f}" y="{y + 4}" width="{w:.1f}" height="16" '
                    f'class="st-{escape(g.key)}"><title>'
                    f"{escape(self._pair(s.label + ' · ' + g.name, g.text))}</title></rect>"
                )
                x += w
            out.append(
                f'<text x="{label_w + track + 6:.1f}" y="{y + 16}" class="val">'
                f"{escape(s.text)}</text></g>"
            )
        out.append("</svg>")
        return Markup("".join(out))

    def heatmap(
        self,
        rows: Sequence[str],
        columns: Sequence[str],
        cells: Sequence[Sequence[Cell]],
        title: str,
    ) -> Markup:
        """Rows (checks) by columns (sectors or tiers), each cell a pass rate in words."""
        # labels in full (the SVG scales down if it must); cells share what is left
        label_w = min(WIDTH * 0.6, max([text_width(r) for r in rows] + [40]) + 12)
        cell_w = max(72.0, (WIDTH - label_w) / max(1, len(columns)))
        width = label_w + cell_w * len(columns)
        head = 2 * ROW if any(text_width(c, HEAD) > cell_w - 6 for c in columns) else ROW
        height = head + ROW * len(rows) + 4
        desc = self._sep.join(
            self._pair(
                r, " ".join(f"{c} {cell.text}" for c, cell in zip(columns, line, strict=True))
            )
            for r, line in zip(rows, cells, strict=True)
        )
        out = [self._open(width, height, title, desc, "heatmap")]
        for j, c in enumerate(columns):
            x = label_w + j * cell_w + cell_w / 2
            heading = _two_lines(c, cell_w - 6, HEAD) if head > ROW else [c]
            for k, part in enumerate(heading):
                out.append(
                    f'<text x="{x:.1f}" y="{16 + k * 16}" text-anchor="middle" class="hd">'
                    f"{escape(part)}</text>"
                )
        for i, (r, row_cells) in enumerate(zip(rows, cells, strict=True)):
            y = head + i * ROW
            out.append(
                f'<text x="{label_w - 8:.1f}" y="{y + 16}" text-anchor="end" class="lbl">'
                f"<title>{escape(r)}</title>{escape(clip(r, label_w - 12))}</text>"
            )
            for j, cell in enumerate(row_cells):
                x = label_w + j * cell_w
                tone = share_tone(cell.share)
                out.append(
                    f"<g><title>{escape(cell.title)}</title>"
                    f'<rect x="{x + 1:.1f}" y="{y + 1}" width="{cell_w - 2:.1f}" '
                    f'height="{ROW - 2}" class="{tone}"/>'
                    f'<text x="{x + cell_w / 2:.1f}" y="{y + 16}" text-anchor="middle" '
                    f'class="hv {tone}-text">{escape(cell.text)}</text></g>'
                )
        out.append("</svg>")
        return Markup("".join(out))

    def ring(self, score: float | None, text: str, title: str) -> Markup:
        """The overall score as a gauge: a ring filled to the score, the number inside."""
        size, r, stroke = 168, 68, 18
        c = size / 2
        circumference = 2 * 3.141592653589793 * r
        filled = circumference * (max(0.0, min(100.0, score)) / 100 if score is not None else 0)
        out = [self._open(size, size, title, self._pair(title, text), "ring")]
        out.append(
            f'<circle cx="{c}" cy="{c}" r="{r}" class="ring-track" stroke-width="{stroke}" '
            'fill="none"/>'
            f'<circle cx="{c}" cy="{c}" r="{r}" class="ring-{score_tone(score)}" '
            f'stroke-width="{stroke}" fill="none" stroke-linecap="butt" '
            f'stroke-dasharray="{filled:.2f} {circumference:.2f}" '
            f'transform="rotate(-90 {c} {c})"/>'
            f'<text x="{c}" y="{c + 11}" text-anchor="middle" '
            f'class="ring-num{" ring-long" if len(text) > 4 else ""}">'
            f"{escape(text)}</text>"
        )
        out.append("</svg>")
        return Markup("".join(out))

    def sparkline(
        self,
        values: Sequence[float],
        title: str,
        desc: str,
        width: int = 120,
        height: int = 28,
    ) -> Markup:
        """A trend line on a fixed 0-100 scale (scores), the last point marked."""
        pad = 3
        n = len(values)
        step = (width - 2 * pad) / (n - 1) if n > 1 else 0

        def y(v: float) -> float:
            return pad + (height - 2 * pad) * (1 - max(0.0, min(100.0, v)) / 100)

        pts = [(pad + i * step if n > 1 else width / 2, y(v)) for i, v in enumerate(values)]
        out = [self._open(width, height, title, desc, "spark")]
        out.append(
            f'<line x1="{pad}" x2="{width - pad}" y1="{y(50):.1f}" y2="{y(50):.1f}" '
            'class="spark-mid"/>'
        )
        if n > 1:
            path = " ".join(f"{x:.1f},{yy:.1f}" for x, yy in pts)
            out.append(f'<polyline points="{path}" class="spark-line" fill="none"/>')
        if pts:
            x, yy = pts[-1]
            out.append(f'<circle cx="{x:.1f}" cy="{yy:.1f}" r="2.6" class="spark-end"/>')
        out.append("</svg>")
        return Markup("".join(out))

    def progress(self, share: float | None, title: str, tone: str) -> Markup:
        """A milestone's progress toward its target value."""
        width, height = 160, 14
        w = width * max(0.0, min(1.0, share or 0.0))
        out = [self._open(width, height, title, title, "progress")]
        out.append(
            f'<rect x="0" y="2" width="{width}" height="10" class="track"/>'
            f'<rect x="0" y="2" width="{w:.1f}" height="10" class="{escape(tone)}"/>'
        )
        out.append("</svg>")
        return Markup("".join(out))
