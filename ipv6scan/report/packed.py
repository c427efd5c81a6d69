"""The report's result rows as one compressed block inside the page (issue 16: small
enough to send).

The result table and the drill-downs' per-check rows are not HTML: they are one JSON
document, every string in it once (a table of strings, rows of indices into it), gzipped
and base64-encoded into a non-executed `<script type="application/octet-stream">`.
report.js decompresses it (DecompressionStream on a Blob: no fetch, so the CSP's
connect-src 'none' holds) when a reader first needs it, and builds only the rows shown.
Base64 has no `<`, so nothing in the data can end the element early.

The block has a byte budget (BYTES_LIMIT): should a run's rows not fit, the table keeps
its worst results (failures first), then the drill-downs lose their evidence, then their
last rows, until it fits. Everything is in results.csv and results.jsonl.

    {"s": [string, ...],                      every string once
     "r": [[target, sector, tier, subject, check, status, detail, fix], ...]
                                               indices into "s"; fix -1 when none
     "t": n,                                   r[:n] are the result table's rows
     "d": {anchor: [[tier, subject, score, [[row, evidence], ...]], ...]}
                                               a drill-down's groups; score "" or shown,
                                               evidence an index into "s" or -1
     "a": [[target, anchor], ...],             targets with a drill-down
     "l": {"sector"|"tier"|"check"|"status": {id: label}},
     "k": {"rows": [...], ...}}                the ranking (html.py _ranking)
"""

from __future__ import annotations

import base64
import gzip
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ipv6scan.report.details import render_detail
from ipv6scan.report.digest import DETAIL_CHARS, PRIORITY, Row, Shown
from ipv6scan.report.labels import Words

BYTES_LIMIT = 2_500_000  # of base64 text: the page stays < 5 MB at any size
EVIDENCE_BUDGET = 1_000_000  # characters of evidence in all drill-downs together
TABLE_WIDTH = 8  # fields of a row in "r"

Gettext = Callable[[str], str]


@dataclass(frozen=True)
class DrillRows:
    """One drill-down's rows as the page shows them: groups of (tier, subject, score)."""

    anchor: str
    target: str
    groups: Sequence[tuple[str, str, str, Sequence[Shown]]]  # score already formatted


@dataclass(frozen=True)
class Packed:
    text: str  # base64 of the gzipped JSON
    table_rows: int  # rows of the result table in it
    cut: bool  # the byte budget left table rows, evidence or drill rows out


class _Strings:
    """Every string once: its index in the list."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.items: list[str] = []

    def __call__(self, text: str) -> int:
        text = str(text)  # a Detail is a str subclass: keep only its text
        found = self.index.get(text)
        if found is None:
            found = self.index[text] = len(self.items)
            self.items.append(text)
        return found


class DetailText:
    """Details in the report's language (report/details.py), each rendered once, bounded."""

    def __init__(self, gettext: Gettext, lang: str) -> None:
        self.gettext, self.lang = gettext, lang
        self.cache: dict[tuple[object, str], str] = {}

    def __call__(self, detail: str) -> str:
        key = (getattr(detail, "key", None), detail)  # a Detail hashes and compares as its text
        shown = self.cache.get(key)
        if shown is None:
            shown = render_detail(detail, self.gettext, self.lang)
            if len(shown) > DETAIL_CHARS:
                shown = shown[:DETAIL_CHARS] + "…"
            self.cache[key] = shown
        return shown


def pack(
    table: Sequence[Row],
    drills: Sequence[DrillRows],
    words: Words,
    gettext: Gettext,
    lang: str,
    limit: int | None = None,
    ranking: Mapping[str, Any] | None = None,
) -> Packed:
    """The block, within `limit` (BYTES_LIMIT) bytes of base64 (see the module's
    docstring); `ranking` goes in as it is ("k": html.py makes it, at most RANK_LIMIT rows)."""
    limit = BYTES_LIMIT if limit is None else limit
    details = DetailText(gettext, lang)
    keep = list(range(len(table)))
    evidence = EVIDENCE_BUDGET
    drill_rows = sum(len(rows) for d in drills for *_h, rows in d.groups)
    cut = False
    while True:
        doc = _document([table[i] for i in keep], drills, words, details, evidence, drill_rows)
        doc["k"] = ranking or {}
        text = _encode(doc)
        if len(text) <= limit:
            return Packed(text, len(keep), cut)
        cut = True
        share = limit / len(text) * 0.9
        if keep:  # first the table, its worst rows kept
            keep = _worst(table, keep, int(len(keep) * share))
        elif evidence:
            evidence = 0
        elif drill_rows:
            drill_rows = int(drill_rows * share)
        else:  # labels alone over the budget: cannot be
            doc = _document([], [], words, details, 0, 0)
            return Packed(_encode({**doc, "k": ranking or {}}), 0, True)


def _worst(table: Sequence[Row], keep: list[int], n: int) -> list[int]:
    """The `n` worst of the kept rows (the earlier of equals), in their order."""
    ranked = sorted(keep, key=lambda i: (-PRIORITY.get(table[i].status, 0), i))
    return sorted(ranked[: max(0, n)])


def _encode(doc: dict[str, Any]) -> str:
    raw = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "replace")
    return base64.b64encode(gzip.compress(raw, compresslevel=6, mtime=0)).decode("ascii")


def _document(
    table: Sequence[Row],
    drills: Sequence[DrillRows],  # read twice
    words: Words,
    details: DetailText,
    evidence_budget: int,
    drill_budget: int,
) -> dict[str, Any]:
    s = _Strings()
    rows: list[list[int]] = []
    where: dict[Row, list[int]] = {}  # a drill-down's result that is in the table too

    known = s.index.get

    def add(row: Row) -> int:
        fix = s(row.fix) if row.fix else -1
        strings = (row.target, row.sector, row.tier, row.subject, row.check, row.status,
                   details(row.detail))  # fmt: skip
        # s() for the strings not in yet, in order: a big table's sectors, tiers, checks and
        # statuses are a few, looked up without a call each
        ids = [i if (i := known(text)) is not None else s(text) for text in strings]
        ids.append(fix)
        rows.append(ids)
        return len(rows) - 1

    # only a drilled target's rows are looked up in `where`: the others are not hashed
    drilled = {item.row.target for d in drills for *_h, shown in d.groups for item in shown}
    for row in table:
        i = add(row)
        if row.target in drilled:
            where.setdefault(row, []).append(i)
    in_table = len(rows)
    used: dict[Row, int] = {}  # how many of a row's table copies drill-downs took

    def ref(row: Row) -> int:
        copies = where.get(row, [])
        n = used.get(row, 0)
        if n < len(copies):
            used[row] = n + 1
            return copies[n]
        return add(row)

    drill, anchors = _drills(drills, s, ref, evidence_budget, drill_budget)
    labels = _labels(s.items, rows, drill, words)
    return {"s": s.items, "r": rows, "t": in_table, "d": drill, "a": anchors, "l": labels}


def _drills(
    drills: Iterable[DrillRows],
    s: _Strings,
    ref: Callable[[Row], int],
    evidence_budget: int,
    drill_budget: int,
) -> tuple[dict[str, list[list[Any]]], list[list[Any]]]:
    """Each drill-down's groups of (row, evidence) references, within the budgets, and the
    anchors; `ref` gives a row's index in the document's rows."""
    drill: dict[str, list[list[Any]]] = {}
    anchors: list[list[Any]] = []
    evidence_left, rows_left = evidence_budget, drill_budget
    for d in drills:
        groups: list[list[Any]] = []
        for tier, subject, score, shown in d.groups:
            items: list[list[int]] = []
            for item in shown:
                if rows_left <= 0:
                    break
                rows_left -= 1
                ev = -1
                if item.evidence and len(item.evidence) <= evidence_left:
                    evidence_left -= len(item.evidence)
                    ev = s(item.evidence)
                items.append([ref(item.row), ev])
            if items:
                groups.append([s(tier), s(subject), score, items])
        drill[d.anchor] = groups
        anchors.append([s(d.target), d.anchor])
    return drill, anchors


def _labels(
    strings: list[str], rows: list[list[int]], drill: dict[str, list[list[Any]]], words: Words
) -> dict[str, dict[str, str]]:
    """The words for the sectors, tiers, checks and statuses the document names."""
    ids = {name: {strings[r[i]] for r in rows} for i, name in _LABELLED}
    ids["tier"].update(strings[g[0]] for groups in drill.values() for g in groups)
    name: dict[str, Callable[[str], str]] = {
        "sector": words.sector, "tier": words.tier, "check": words.check, "status": words.status
    }  # fmt: skip
    return {kind: {k: name[kind](k) for k in sorted(ids[kind])} for kind in name}


_LABELLED = ((1, "sector"), (2, "tier"), (4, "check"), (5, "status"))


def unpack(text: str) -> dict[str, Any]:
    """The document from its base64 text: what report.js reads (for tests and tools)."""
    doc: dict[str, Any] = json.loads(gzip.decompress(base64.b64decode(text)))
    return doc


_ELEMENT = re.compile(r'<script type="application/octet-stream" id="report-data"[^>]*>([^<]*)<')


def unpack_page(html: str) -> dict[str, Any]:
    """The document inside a report.html."""
    found = _ELEMENT.search(html)
    if found is None:
        raise ValueError("no compressed rows in this page")
    return unpack(found.group(1))
