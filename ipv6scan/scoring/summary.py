"""summary.json's scores: per target (from tally), then per sector and overall.

A sector's and the overall score are the mean of their targets' scores; per tier, the mean
of the targets' tier scores. Check counts per tier, stage counts and service colours are
summed so that milestones and reports need no second pass over the results.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from ipv6scan.model import TIERS, CheckResult
from ipv6scan.scoring.colours import COLOUR_NAMES, SERVICE_NAMES
from ipv6scan.scoring.profile import DEFAULT_PROFILE, Profile
from ipv6scan.scoring.stages import catalogue
from ipv6scan.scoring.tally import TargetScore

SCHEMA = 1


def _mean(values: Iterable[object]) -> float | None:
    nums = [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return round(sum(nums) / len(nums), 1) if nums else None


def _add_counts(into: dict[str, int], counts: Mapping[str, int]) -> None:
    for status, n in counts.items():
        into[status] = into.get(status, 0) + n


class _Group:
    """The targets of one sector, or of the whole run."""

    def __init__(self) -> None:
        self.scores: list[float | None] = []
        self.tier_scores: dict[str, list[float | None]] = {}
        self.checks: dict[str, dict[str, dict[str, int]]] = {}  # tier -> check -> counts
        self.stages: dict[str, int] = {}
        self.colours: dict[str, dict[str, int]] = {}

    def add(self, row: Mapping[str, Any]) -> None:
        self.scores.append(row["score"])
        for tier, info in row["tiers"].items():
            self.tier_scores.setdefault(tier, []).append(info["score"])
            per_tier = self.checks.setdefault(tier, {})
            for check, counts in info["checks"].items():
                _add_counts(per_tier.setdefault(check, {}), counts)
        self.stages[row["stage"]] = self.stages.get(row["stage"], 0) + 1
        for service, colour in row["services"].items():
            key = colour if colour is not None else "not-assessed"
            per = self.colours.setdefault(service, {})
            per[key] = per.get(key, 0) + 1

    def to_json(self) -> dict[str, Any]:
        order = [t for t in TIERS if t in self.tier_scores]
        order += sorted(set(self.tier_scores) - set(TIERS))
        return {
            "score": _mean(self.scores),
            "targets": len(self.scores),
            "tiers": {
                tier: {
                    "score": _mean(self.tier_scores[tier]),
                    "targets": len(self.tier_scores[tier]),
                    "checks": self.checks.get(tier, {}),
                }
                for tier in order
            },
            "stages": self.stages,
            "services": self.colours,
        }


def summarize(
    results: Iterable[CheckResult],
    weights: Mapping[str, float] | None = None,
    *,
    profile: Profile = DEFAULT_PROFILE,
) -> dict[str, Any]:
    """summary.json from a stream of results. `weights`, when given, replaces the profile's
    weight table (checks it does not name weigh the profile's default weight)."""
    if weights is not None:
        profile = replace(profile, weights=dict(weights))
    targets: dict[str, TargetScore] = {}
    for result in results:
        ts = targets.get(result.target)
        if ts is None:
            ts = targets[result.target] = TargetScore(result.target, result.sector, profile)
        ts.add(result)
    rows = [ts.row() for ts in targets.values()]
    overall, sectors = _Group(), {}
    for row in rows:
        overall.add(row)
        sectors.setdefault(row["sector"], _Group()).add(row)
    return {
        "schema": SCHEMA,
        "profile": profile.describe(),
        "overall": overall.to_json(),
        "sectors": {name: group.to_json() for name, group in sorted(sectors.items())},
        "targets": rows,
        "stages": catalogue(),
        "legend": {"services": SERVICE_NAMES, "colours": COLOUR_NAMES},
    }
