"""summary.json's scores: per target (from tally), then per sector and overall.

A sector's and the overall score are the mean of their targets' scores; per tier, the mean
of the targets' tier scores. Check counts per tier, stage counts and service colours are
summed so that milestones and reports need no second pass over the results. The sums are
running ones: a group's state does not grow with its targets, so the target rows can be
streamed to disk (scoring.stream) while the groups stay in memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from ipv6scan.model import TIERS, CheckResult
from ipv6scan.scoring.colours import COLOUR_NAMES, SERVICE_NAMES
from ipv6scan.scoring.fix_tally import FixTally
from ipv6scan.scoring.mean import Mean
from ipv6scan.scoring.profile import DEFAULT_PROFILE, Profile
from ipv6scan.scoring.stages import catalogue
from ipv6scan.scoring.tally import TargetScore
from ipv6scan.scoring.vantage import combine

SCHEMA = 1


def _number(value: object) -> float | None:
    """A score that counts in a mean: a number (not a bool); None (unscored) does not."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


PENDING_LIMIT = 4096  # shapes whose counts wait to be added (see _Group.add)
# shapes whose scores are remembered (see SummaryBuilder.add): each holds its shape and so
# its first row; a DNS-only run has a handful, a full scan many
SCORES_LIMIT = 256


class _Scores:
    """What a row adds to the means: its score and its tiers' scores, numbers or None."""

    __slots__ = ("score", "tiers")

    def __init__(self, row: Mapping[str, Any]) -> None:
        self.score = _number(row["score"])
        self.tiers = tuple((tier, _number(info["score"])) for tier, info in row["tiers"].items())


class _Group:
    """The targets of one sector, or of the whole run.

    Rows of one shape (scoring.shapes) add the same counts, so a shape's are added once,
    times its rows, when the group is read or the waiting shapes are many: in the order
    the shapes first came, which gives every dict its keys in the order a row at a time
    gives them. The means are added a row at a time (a float sum depends on its order)."""

    def __init__(self) -> None:
        self.scores = Mean()  # of the scored targets
        self.targets = 0
        self.tier_scores: dict[str, Mean] = {}
        self.tier_targets: dict[str, int] = {}
        self.checks: dict[str, dict[str, dict[str, int]]] = {}  # tier -> check -> counts
        self.stages: dict[str, int] = {}
        self.colours: dict[str, dict[str, int]] = {}
        self._pending: dict[int, list[Any]] = {}  # id(shape) -> [shape, a row, rows]

    def add(
        self, row: Mapping[str, Any], shape: object = None, scores: _Scores | None = None
    ) -> None:
        """One target row; `shape`: the shape it was filled from, when it was; `scores`:
        the row's _Scores, when the caller has them (read once a shape)."""
        if scores is None:
            scores = _Scores(row)
        if scores.score is not None:
            self.scores.add(scores.score)
        tier_scores = self.tier_scores
        for tier, value in scores.tiers:
            mean = tier_scores.get(tier)
            if mean is None:
                mean = tier_scores[tier] = Mean()
            if value is not None:
                mean.add(value)
        if shape is None:
            self._flush()
            self._add_counts(row, 1)
            return
        waiting = self._pending.get(id(shape))
        if waiting is not None:
            waiting[2] += 1
            return
        if len(self._pending) >= PENDING_LIMIT:
            self._flush()
        self._pending[id(shape)] = [shape, row, 1]  # the shape held: its id stays its own

    def _flush(self) -> None:
        for _shape, row, n in self._pending.values():
            self._add_counts(row, n)
        self._pending.clear()

    def _add_counts(self, row: Mapping[str, Any], n: int) -> None:
        self.targets += n
        for tier, info in row["tiers"].items():
            self.tier_targets[tier] = self.tier_targets.get(tier, 0) + n
            per_tier = self.checks.setdefault(tier, {})
            for check, counts in info["checks"].items():
                into = per_tier.setdefault(check, {})
                for status, k in counts.items():
                    into[status] = into.get(status, 0) + k * n
        self.stages[row["stage"]] = self.stages.get(row["stage"], 0) + n
        for service, colour in row["services"].items():
            key = colour if colour is not None else "not-assessed"
            per = self.colours.setdefault(service, {})
            per[key] = per.get(key, 0) + n

    def to_json(self) -> dict[str, Any]:
        self._flush()
        order = [t for t in TIERS if t in self.tier_scores]
        order += sorted(set(self.tier_scores) - set(TIERS))
        return {
            "score": self.scores.value(),
            "targets": self.targets,
            "tiers": {
                tier: {
                    "score": self.tier_scores[tier].value(),
                    "targets": self.tier_targets[tier],
                    "checks": self.checks.get(tier, {}),
                }
                for tier in order
            },
            "stages": self.stages,
            "services": self.colours,
        }


class SummaryBuilder:
    """summary.json from target rows as they come: the groups add up, the rows pass on."""

    def __init__(self, profile: Profile = DEFAULT_PROFILE) -> None:
        self.profile = profile
        self.overall = _Group()
        self.sectors: dict[str, _Group] = {}
        self.fixes = FixTally()  # the run's fixes by organisations affected (fix_tally.py)
        self._scores: dict[int, tuple[object, _Scores]] = {}  # id(shape) -> (shape, scores)

    def add(self, row: Mapping[str, Any], shape: object = None) -> None:
        """A target row; `shape`: its scoring.shapes Shape, when it was filled from one."""
        if shape is None:
            scores = _Scores(row)
        else:  # a shape's rows have the same scores: read once a shape
            held = self._scores.get(id(shape))
            if held is None:
                if len(self._scores) >= SCORES_LIMIT:
                    self._scores.clear()
                held = self._scores[id(shape)] = (shape, _Scores(row))  # held: its id stays
            scores = held[1]
        self.overall.add(row, shape, scores)
        sector = self.sectors.get(row["sector"])
        if sector is None:
            sector = self.sectors[row["sector"]] = _Group()
        sector.add(row, shape, scores)
        self.fixes.add(row, shape)

    def overall_score(self) -> float | None:
        return self.overall.scores.value()

    def summary(self, targets: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
        """The summary; `targets` (the rows added, a list or a spool) is its "targets"."""
        return {
            "schema": SCHEMA,
            "profile": self.profile.describe(),
            "overall": self.overall.to_json(),
            "sectors": {name: group.to_json() for name, group in sorted(self.sectors.items())},
            "targets": targets,
            "stages": catalogue(),
            "legend": {"services": SERVICE_NAMES, "colours": COLOUR_NAMES},
            "fixes": self.fixes.to_json(),
        }


def with_scanner(summary: dict[str, Any], scanner: Mapping[str, Any] | None) -> None:
    """Attach the scanner's own facts (preflight) to `summary`. A scan with no usable
    resolver measured nothing that needs DNS: its overall score is null, whatever the
    few checks that needed none (net.ping of address entries) would add up to."""
    if scanner is None:
        return
    summary["scanner"] = scanner
    if scanner.get("resolvers_usable") is False:
        summary["overall"]["score"] = None


def summarize(
    results: Iterable[CheckResult],
    weights: Mapping[str, float] | None = None,
    *,
    profile: Profile = DEFAULT_PROFILE,
) -> dict[str, Any]:
    """summary.json from results in any order, every target held in memory: for tests and
    small inputs. A results.jsonl of any size goes through scoring.stream instead.
    `weights`, when given, replaces the profile's weight table (checks it does not name
    weigh the profile's default weight)."""
    if weights is not None:
        profile = replace(profile, weights=dict(weights))
    targets: dict[str, TargetScore] = {}
    for result in combine(list(results), profile.vantage_share):  # scoring.vantage
        ts = targets.get(result.target)
        if ts is None:
            ts = targets[result.target] = TargetScore(result.target, result.sector, profile)
        ts.add(result)
    builder = SummaryBuilder(profile)
    rows = [ts.row() for ts in targets.values()]
    for row in rows:
        builder.add(row)
    return builder.summary(rows)
