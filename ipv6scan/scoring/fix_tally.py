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


class FixTally:
    """Running counts over target rows; a few counters per fix, whatever the run's size."""

    def __init__(self) -> None:
        self.targets: Counter[str] = Counter()  # fix key -> targets needing it
        self.results: Counter[str] = Counter()  # fix key -> results needing it
        self.points: dict[str, float] = {}  # fix key -> target-score points (fix_first)
        self.checks: Counter[str] = Counter()  # check -> targets with a fail or warn in it
        self.scored = 0

    def add(self, row: Mapping[str, Any]) -> None:
        if isinstance(row.get("score"), (int, float)):
            self.scored += 1
        keys: set[str] = set()
        checks: set[str] = set()
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
                        self.results[key] += n
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
            self.points[key] = self.points.get(key, 0.0) + float(gain)
        self.targets.update(keys)
        self.checks.update(checks)

    def to_json(self, top: int = TOP) -> dict[str, Any]:
        """The `top` fixes, most organisations first, then most points, then by key."""
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
