"""The fixes the whole run asks for, counted by organisation: summary.json's `fixes`.

A fix (report/fixes.py: "<check>.<outcome>") counts once per target that has at least one
result needing it, however many subjects of that target fail the check: the reader wants
to know how many organisations a change concerns, not how many rows it fills. The points
are what the targets' own "what to fix first" lists say fixing it would add to their
scores (at most the profile's `fix_first` items a target, so a lower bound), and the same
divided over the scored targets: what the overall score would gain.

A target row keeps counts per check and status, not each result's evidence, so a `warn`
is counted under its check's warn fix (or its fail fix where the check has no warn of its
own); an intermittent warn is told apart only where the target's list names it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from ipv6scan.report.fixes import fix_key

TOP = 10  # fixes listed in summary.json, the most organisations first


# shapes whose counts wait to be added (see FixTally.add): each holds its shape and so its
# first row; a DNS-only run has a handful, a full scan many, flushed this many at a time
PENDING_LIMIT = 256


class _Needs:
    """What one target row asks of the tally: the one reading of a row, made once per
    shape (scoring.shapes) when the row came from one, as its rows ask the same."""

    __slots__ = ("checks", "keys", "points", "results", "scored")

    def __init__(self, row: Mapping[str, Any]) -> None:
        self.scored = isinstance(row.get("score"), (int, float))
        keys: set[str] = set()
        checks: set[str] = set()
        results: dict[str, int] = {}
        for info in _dict(row.get("tiers")).values():
            for check, counts in _dict(_dict(info).get("checks")).items():
                for status in ("fail", "warn"):
                    n = _dict(counts).get(status)
                    if not isinstance(n, int) or n <= 0:
                        continue
                    checks.add(str(check))
                    key = fix_key(str(check), status, {})
                    if key is not None:
                        keys.add(key)
                        results[key] = results.get(key, 0) + n
        points: list[tuple[str, float]] = []
        for item in row.get("fix_first") or []:
            if not isinstance(item, Mapping):
                continue
            key = item.get("fix")
            gain = item.get("gain")
            if not isinstance(key, str) or not isinstance(gain, (int, float)):
                continue
            if key not in keys:  # an intermittent warn, counted above as a plain one
                plain = fix_key(str(item.get("check", "")), str(item.get("status", "")), {})
                keys.discard(plain or "")
                keys.add(key)
            points.append((key, float(gain)))
        self.keys = tuple(keys)
        self.checks = tuple(checks)
        self.results = tuple(results.items())
        self.points = tuple(points)  # (fix, gain) in the row's order: added a row at a time


class FixTally:
    """Running counts over target rows; a few counters per fix, whatever the run's size.

    Rows of one shape ask the same (_Needs): their counts wait, one entry per shape, and
    are added times their rows when read. Their points are added a row at a time (a float
    sum depends on its order). The counts' key order does not show: to_json sorts them."""

    def __init__(self) -> None:
        self.targets: Counter[str] = Counter()  # fix key -> targets needing it
        self.results: Counter[str] = Counter()  # fix key -> results needing it
        self.points: dict[str, float] = {}  # fix key -> target-score points (fix_first)
        self.checks: Counter[str] = Counter()  # check -> targets with a fail or warn in it
        self.scored = 0
        self._pending: dict[int, list[Any]] = {}  # id(shape) -> [shape, needs, rows]

    def add(self, row: Mapping[str, Any], shape: object = None) -> None:
        """One target row; `shape`: the scoring.shapes Shape it was filled from, if any."""
        if shape is None:
            needs = _Needs(row)
            self._count(needs, 1)
        else:
            waiting = self._pending.get(id(shape))
            if waiting is None:
                if len(self._pending) >= PENDING_LIMIT:
                    self._flush()
                waiting = self._pending[id(shape)] = [shape, _Needs(row), 0]  # shape held
            waiting[2] += 1
            needs = waiting[1]
        points = self.points
        for key, gain in needs.points:
            points[key] = points.get(key, 0.0) + gain

    def _count(self, needs: _Needs, n: int) -> None:
        if needs.scored:
            self.scored += n
        for key in needs.keys:
            self.targets[key] += n
        for key, k in needs.results:
            self.results[key] += k * n
        for check in needs.checks:
            self.checks[check] += n

    def _flush(self) -> None:
        for _shape, needs, n in self._pending.values():
            self._count(needs, n)
        self._pending.clear()

    def to_json(self, top: int = TOP) -> dict[str, Any]:
        """The `top` fixes, most organisations first, then most points, then by key."""
        self._flush()
        points = self.points
        ranked = sorted(self.targets, key=lambda k: (-self.targets[k], -points.get(k, 0.0), k))
        return {
            "targets_scored": self.scored,
            "top": [
                {
                    "fix": key,
                    "check": key.rsplit(".", 1)[0],
                    "targets": self.targets[key],
                    "results": self.results[key],
                    "points": round(points.get(key, 0.0), 1),
                    "overall_gain": round(points.get(key, 0.0) / self.scored, 2)
                    if self.scored
                    else 0,
                }
                for key in ranked[:top]
            ],
            "checks": dict(sorted(self.checks.items(), key=lambda kv: (-kv[1], kv[0]))),
        }


def _dict(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
