"""One pass over the results, in bounded memory: the report never holds the whole run.

Counts are kept per (sector, check), (tier, check) and check. Whole results are kept
only for the targets that get a drill-down (a fixed budget, worst statuses first),
and short rows for the result table (all of them up to TABLE_LIMIT, else that many
findings, failures first). The rows go into the report's compressed data (report/packed.py),
which has a byte budget of its own; the rest is in results.csv.
"""

from __future__ import annotations

import heapq
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ipv6scan.messages import Detail
from ipv6scan.model import CheckResult
from ipv6scan.report.fixes import fix_key

# Worse statuses matter more to a reader: they are kept first when a budget runs out.
PRIORITY: dict[str, int] = {"fail": 4, "warn": 3, "error": 2, "pass": 1, "skip": 0}
_LEVELS = range(max(PRIORITY.values()) + 1)
_FINDINGS = ("fail", "warn", "error")  # worst first
# the findings below each, the lowest first: what a worse one may take the place of
_LOWER = {s: _FINDINGS[i + 1 :][::-1] for i, s in enumerate(_FINDINGS)}

TABLE_LIMIT = 50_000  # rows of the result table, kept compressed in the page (packed.py)
DRILL_BUDGET = 4000  # results shown in all drill-downs together
DRILL_MIN_PER_TARGET = 20
EVIDENCE_CHARS = 2000  # per result; the whole evidence is in results.jsonl
DETAIL_CHARS = 600


@dataclass(frozen=True, slots=True)
class Row:
    """A result without its evidence: a line of the filterable table. `detail` is the
    result's (bounded) Detail, key and parameters kept, rendered in the report's language
    when the page is written (report/details.py)."""

    target: str
    sector: str
    tier: str
    subject: str
    check: str
    status: str
    detail: str
    fix: str | None = None  # report.fixes' key, for a fail or warn


@dataclass(frozen=True)
class Shown:
    """A result as a drill-down shows it: evidence already pretty-printed and bounded."""

    row: Row
    evidence: str
    duration_ms: float


@dataclass
class Kept:
    """The results kept for one drill-down target, at most `cap`, worst first.

    Once full, a worse result replaces the first kept one of the lowest priority. That
    one is found through a heap of slot numbers per priority, not a scan of the slots:
    one target with a hundred thousand results (an operator's address plan listed as a
    single target) made the scan quadratic, minutes of report. The evidence is made
    readable only for a result that is kept."""

    cap: int
    items: list[Shown] = field(default_factory=list)
    omitted: int = 0
    _slots: list[list[int]] = field(default_factory=lambda: [[] for _ in _LEVELS])

    def offer(self, row: Row, evidence: Mapping[str, Any], duration_ms: float) -> None:
        prio = _prio(row)
        if len(self.items) < self.cap:
            heapq.heappush(self._slots[prio], len(self.items))
            self.items.append(Shown(row, evidence_text(evidence), duration_ms))
            return
        self.omitted += 1
        lowest = next((level for level in _LEVELS if self._slots[level]), None)
        if lowest is None or prio <= lowest:
            return
        slot = heapq.heappop(self._slots[lowest])
        heapq.heappush(self._slots[prio], slot)
        self.items[slot] = Shown(row, evidence_text(evidence), duration_ms)


def _prio(row: Row) -> int:
    return PRIORITY.get(row.status, 0)


Cell = tuple[str, str, str, str]  # (sector, tier, check, status)


@dataclass
class Digest:
    drill: dict[str, Kept]
    table_limit: int = TABLE_LIMIT
    # one count per (sector, tier, check, status): the totals by check, sector and tier are
    # sums of these, made when read (a run has some dozens), not four counts per result
    cells: Counter[Cell] = field(default_factory=Counter)
    first_rows: list[Row] = field(default_factory=list)  # file order, until one too many
    overflow: bool = False  # more results than table_limit: first_rows is dropped
    findings: dict[str, list[Row]] = field(default_factory=dict)  # at most table_limit
    _findings_kept: int = 0  # rows in findings

    @classmethod
    def for_targets(cls, names: Iterable[str], budget: int = DRILL_BUDGET) -> Digest:
        wanted = list(names)
        cap = max(DRILL_MIN_PER_TARGET, budget // max(1, len(wanted)))
        return cls(drill={name: Kept(cap) for name in wanted})

    def add(self, r: CheckResult) -> None:
        self.count(r)
        self.offer(r)

    def count(self, r: CheckResult) -> None:
        """add() but the drill-downs, which the finish stage fills apart (offer). A Row is
        made only for a result that is kept: a big run's table is its findings."""
        status = str(r.status)
        self.cells[(r.sector, r.tier, r.check, status)] += 1
        row = None
        if not self.overflow:
            if len(self.first_rows) < self.table_limit:
                row = _row(r, status)
                self.first_rows.append(row)
            else:  # the run is large: the table becomes its findings, the memory theirs
                self.overflow = True
                self.first_rows = []
        if status in _FINDINGS:
            self._keep_finding(status, r, row)

    def _keep_finding(self, status: str, r: CheckResult, row: Row | None) -> None:
        """At most table_limit findings in all: once full, a worse one takes the place of
        the latest kept of the lowest status (the earliest of each status stay)."""
        bucket = self.findings.setdefault(status, [])
        if self._findings_kept < self.table_limit:
            bucket.append(row or _row(r, status))
            self._findings_kept += 1
            return
        for lower in _LOWER[status]:
            if self.findings.get(lower):
                self.findings[lower].pop()
                bucket.append(row or _row(r, status))
                return

    @property
    def total(self) -> Counter[str]:
        """Results by status."""
        total: Counter[str] = Counter()
        for (_sector, _tier, _check, status), n in self.cells.items():
            total[status] += n
        return total

    @property
    def by_check(self) -> dict[str, Counter[str]]:
        """check -> results by status; checks and statuses in the order first met."""
        by: dict[str, Counter[str]] = {}
        for (_sector, _tier, check, status), n in self.cells.items():
            _counter(by, check)[status] += n
        return by

    @property
    def by_sector(self) -> dict[str, dict[str, Counter[str]]]:
        """sector -> check -> results by status."""
        return self._by(0)

    @property
    def by_tier(self) -> dict[str, dict[str, Counter[str]]]:
        """tier -> check -> results by status."""
        return self._by(1)

    def _by(self, part: int) -> dict[str, dict[str, Counter[str]]]:
        """The cells' counts by their `part` (0 sector, 1 tier), then check, then status."""
        by: dict[str, dict[str, Counter[str]]] = {}
        for cell, n in self.cells.items():
            _counter(_table(by, cell[part]), cell[2])[cell[3]] += n
        return by

    def offer(self, r: CheckResult) -> None:
        """The drill-down part of add(): a drilled target's result, in file order."""
        kept = self.drill.get(r.target)
        if kept is not None:
            kept.offer(_row(r, str(r.status)), r.evidence, r.duration_ms)

    @property
    def results(self) -> int:
        return sum(self.total.values())

    @property
    def table_is_complete(self) -> bool:
        return not self.overflow

    def table_rows(self) -> list[Row]:
        """Every result when they fit; else the findings, failures first, up to the limit."""
        if self.table_is_complete:
            return self.first_rows
        rows = [row for s in _FINDINGS for row in self.findings.get(s, [])]
        return rows[: self.table_limit]

    @property
    def finding_count(self) -> int:
        total = self.total
        return sum(total[s] for s in _FINDINGS)


def digest(results: Iterable[CheckResult], drill_targets: Iterable[str]) -> Digest:
    d = Digest.for_targets(drill_targets)
    for r in results:
        d.add(r)
    return d


def evidence_text(evidence: Mapping[str, Any]) -> str:
    """Readable JSON (Chinese page titles stay Chinese); the template escapes it."""
    try:
        text = json.dumps(evidence, ensure_ascii=False, indent=1, sort_keys=True, default=str)
    except (TypeError, ValueError):
        text = repr(evidence)
    if len(text) > EVIDENCE_CHARS:
        text = text[:EVIDENCE_CHARS] + "\n…"
    return text


def _counter(counters: dict[str, Counter[str]], key: str) -> Counter[str]:
    """counters.setdefault(key, Counter()) without a Counter made a call."""
    found = counters.get(key)
    if found is None:
        found = counters[key] = Counter()
    return found


def _table(tables: dict[str, dict[str, Counter[str]]], key: str) -> dict[str, Counter[str]]:
    found = tables.get(key)
    if found is None:
        found = tables[key] = {}
    return found


def _row(r: CheckResult, status: str) -> Row:
    fix = fix_key(r.check, status, r.evidence)
    return Row(r.target, r.sector, r.tier, r.subject, r.check, status, clip(r.detail), fix)


def clip(text: str) -> str:
    """At most DETAIL_CHARS; a Detail cut short keeps its key and parameters, since the
    report renders it from them (and cuts the rendering again)."""
    if len(text) <= DETAIL_CHARS:
        return text
    cut = text[:DETAIL_CHARS] + "…"
    key = getattr(text, "key", None)
    return Detail(cut, key, getattr(text, "params", None)) if key else cut


def pass_rate(counts: Mapping[str, int]) -> float | None:
    """Passes over decided results (pass, warn, fail): error and skip say nothing."""
    decided = sum(counts.get(s, 0) for s in ("pass", "warn", "fail"))
    return counts.get("pass", 0) / decided if decided else None
