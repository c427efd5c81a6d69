"""A target's row scored once per *shape*: a million-name DNS-only list has a handful.

Two targets have one shape when their results, in order, have the same tier, check,
status and fix (report.fixes), and their subjects repeat in the same pattern (the first
subject seen, the second, ...). Everything in a row but the names and details is then the
same: the scores, the stage, the colours, the counts, which results are in "fix first" and
in what order. So the first target of a shape is scored by TargetScore; the next gets that
row with its own name, sector, subjects and details put in.

A group that holds one (tier, subject, check) twice is scored whole: which of the two a
"fix first" item came from would be a guess. The memo is bounded (cleared when full).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ipv6scan.model import CheckResult
from ipv6scan.report.fixes import fix_key
from ipv6scan.scoring.profile import DEFAULT_PROFILE, Profile
from ipv6scan.scoring.tally import TargetScore

MEMO_LIMIT = 4096  # shapes remembered; a list has a few, a full scan some hundreds

ShapeKey = tuple[tuple[str, int, str, str, str | None], ...]


@dataclass(frozen=True, slots=True)
class Shape:
    """A scored shape: the first target's row, and where its per-target parts came from."""

    row: Mapping[str, Any]
    fixes: tuple[int, ...]  # fix_first[i] came from result fixes[i]
    subjects: tuple[int, ...]  # subjects[i] is the target's subjects[i]-th distinct subject


class ShapeScorer:
    """score_target's rows, each shape scored once (`shape` says which, for sums)."""

    def __init__(self, profile: Profile = DEFAULT_PROFILE) -> None:
        self.profile = profile
        self._memo: dict[ShapeKey, Shape] = {}
        self.shape: Shape | None = None  # the last row's shape; None: scored whole

    def row(self, results: Sequence[CheckResult]) -> dict[str, Any]:
        """The summary.json row of one target's (combined) results."""
        first = results[0]
        subjects: dict[str, int] = {}
        key_parts = []
        for r in results:
            i = subjects.setdefault(r.subject, len(subjects))
            status = str(r.status)
            key_parts.append((r.tier, i, r.check, status, fix_key(r.check, status, r.evidence)))
        key: ShapeKey = tuple(key_parts)
        shape = self._memo.get(key)
        if shape is None:
            row, shape = self._score(results, first, subjects)
            self.shape = shape
            if shape is not None:
                if len(self._memo) >= MEMO_LIMIT:
                    self._memo.clear()
                self._memo[key] = shape
            return row
        self.shape = shape
        return _fill(shape, results, list(subjects))

    def _score(
        self, results: Sequence[CheckResult], first: CheckResult, subjects: dict[str, int]
    ) -> tuple[dict[str, Any], Shape | None]:
        ts = TargetScore(first.target, first.sector, self.profile)
        where: dict[tuple[str, str, str], int] = {}
        for i, r in enumerate(results):
            ts.add(r)
            where[(r.tier, r.subject, r.check)] = i
        row = ts.row()
        if len(where) != len(results):  # one (tier, subject, check) twice: no shape
            return row, None
        fixes = tuple(where[(f["tier"], f["subject"], f["check"])] for f in row["fix_first"])
        subject_ix = tuple(subjects[s["subject"]] for s in row["subjects"])
        return row, Shape(row, fixes, subject_ix)


def _fill(shape: Shape, results: Sequence[CheckResult], subjects: list[str]) -> dict[str, Any]:
    """The shape's row for another target of that shape: the same keys in the same order."""
    first = results[0]
    row = dict(shape.row)
    row["name"] = first.target
    row["sector"] = first.sector
    if shape.fixes:
        items = []
        for item, i in zip(shape.row["fix_first"], shape.fixes, strict=True):
            r = results[i]
            filled = dict(item)
            filled["subject"] = r.subject
            filled["detail"] = r.detail
            items.append(filled)
        row["fix_first"] = items
    row["subjects"] = [
        {"tier": s["tier"], "subject": subjects[i], "score": s["score"]}
        for s, i in zip(shape.row["subjects"], shape.subjects, strict=True)
    ]
    return row
