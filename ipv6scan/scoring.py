"""Scores (0-100) per subject, tier, target, sector and overall, and a migration stage.

First model; see the README for the rules. `error` and `skip` never count:
an undecided check neither helps nor hurts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ipv6scan.model import TIERS, CheckResult, Status

# Points per status, internet.nl style: full, half, none.
POINTS: dict[Status, float] = {Status.PASS: 1.0, Status.WARN: 0.5, Status.FAIL: 0.0}

# How much each check weighs within its tier: what users feel most weighs most.
WEIGHTS: dict[str, float] = {
    "dns.aaaa": 3,
    "web.reachable": 3,
    "web.http": 3,
    "dns.ns_ipv6": 2,
    "dns.ns_reachable": 2,
    "web.parity": 2,
    "resolver.ipv6": 2,
    "dns.mx_ipv6": 1,
    "mail.smtp": 1,
    "web.links": 1,
    "web.latency": 1,
    "net.ping": 1,
    "net.trace": 1,
}

STAGES = ("ipv4-only", "aaaa-published", "reachable", "dual-stack", "ipv6-ready")


@dataclass
class Tally:
    """Weighted points over full points; undecided results are only counted."""

    points: float = 0.0
    full: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, result: CheckResult, weights: Mapping[str, float]) -> None:
        status = result.status
        self.counts[str(status)] = self.counts.get(str(status), 0) + 1
        if status in POINTS:
            w = weights.get(result.check, 1.0)
            self.points += w * POINTS[status]
            self.full += w

    @property
    def score(self) -> float | None:
        return round(100 * self.points / self.full, 1) if self.full else None


@dataclass
class TargetScore:
    name: str
    sector: str
    tiers: dict[str, Tally] = field(default_factory=dict)
    # check id -> statuses seen, for the stage ladder
    statuses: dict[str, set[str]] = field(default_factory=dict)

    def add(self, result: CheckResult, weights: Mapping[str, float]) -> None:
        self.tiers.setdefault(result.tier, Tally()).add(result, weights)
        self.statuses.setdefault(result.check, set()).add(str(result.status))

    @property
    def score(self) -> float | None:
        """Mean of the tier scores, so a big services list does not drown the backbone."""
        scored = [t.score for t in self.tiers.values() if t.score is not None]
        return round(sum(scored) / len(scored), 1) if scored else None

    @property
    def stage(self) -> str:
        return stage_of(self.statuses)


def _any(statuses: Mapping[str, set[str]], check: str, *wanted: str) -> bool:
    return bool(statuses.get(check, set()) & set(wanted))


def stage_of(statuses: Mapping[str, set[str]]) -> str:
    """The highest rung whose evidence is present: each rung needs the one below.
    Undecided results (error, skip) are no evidence either way."""
    if not _any(statuses, "dns.aaaa", "pass", "warn"):
        if _any(statuses, "dns.aaaa", "fail"):
            return "ipv4-only"
        if "dns.aaaa" in statuses:
            return "not-assessed"
        return _systems_stage(statuses)
    if not (_any(statuses, "web.reachable", "pass", "warn") and _any(statuses, "web.http", "pass")):
        return "aaaa-published"
    if not _any(statuses, "web.parity", "pass") or _any(statuses, "web.parity", "fail"):
        return "reachable"
    decided_bad = any(s & {"fail", "warn"} for s in statuses.values())
    return "dual-stack" if decided_bad else "ipv6-ready"


def _systems_stage(statuses: Mapping[str, set[str]]) -> str:
    """A target with systems only: ready when every decided check passes."""
    seen: set[str] = set().union(*statuses.values())
    if not seen & {"pass", "warn", "fail"}:
        return "not-assessed"
    if not seen & {"pass", "warn"}:
        return "ipv4-only"
    return "ipv6-ready" if not seen & {"fail", "warn"} else "reachable"


def summarize(
    results: Iterable[CheckResult], weights: Mapping[str, float] = WEIGHTS
) -> dict[str, object]:
    targets: dict[str, TargetScore] = {}
    for result in results:
        ts = targets.get(result.target)
        if ts is None:
            ts = targets[result.target] = TargetScore(result.target, result.sector)
        ts.add(result, weights)
    sectors: dict[str, list[float | None]] = {}
    rows = []
    for ts in targets.values():
        sectors.setdefault(ts.sector, []).append(ts.score)
        rows.append(
            {
                "name": ts.name,
                "sector": ts.sector,
                "score": ts.score,
                "stage": ts.stage,
                "tiers": {
                    tier: {"score": ts.tiers[tier].score, "counts": ts.tiers[tier].counts}
                    for tier in TIERS
                    if tier in ts.tiers
                },
            }
        )
    return {
        "schema": 1,
        "overall": {"score": _mean([r["score"] for r in rows]), "targets": len(rows)},
        "sectors": {
            name: {"score": _mean(scores), "targets": len(scores)}
            for name, scores in sorted(sectors.items())
        },
        "targets": rows,
    }


def _mean(values: Iterable[object]) -> float | None:
    nums = [float(v) for v in values if isinstance(v, (int, float))]
    return round(sum(nums) / len(nums), 1) if nums else None
