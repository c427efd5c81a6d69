"""Weighted points per tier, subject and target, and what to fix first.

Results stream in any order and a scan may hold a million targets, so a target keeps only
running sums, status counts and its few best "fix first" candidates, never its results.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ipv6scan.model import TIERS, CheckResult
from ipv6scan.report.fixes import fix_key
from ipv6scan.scoring.colours import service_colours
from ipv6scan.scoring.profile import DEFAULT_PROFILE, POINTS, Profile
from ipv6scan.scoring.stages import stage_of

NS_IPV6, NS_REACHABLE = "dns.ns_ipv6", "dns.ns_reachable"


# A million targets have a few hundred kinds of status counts: each kind's stage and service
# colours are worked out once. Keys hold the stage rules' id; the rules are kept alive
# beside (_PINNED), so that an id is never another's. Bounded: cleared when full.
CountsKey = tuple[tuple[str, tuple[tuple[str, int], ...]], ...]
MEMO_LIMIT = 4096
_STAGES: dict[tuple[int, CountsKey], str] = {}
_COLOURS: dict[CountsKey, dict[str, str | None]] = {}
_PINNED: dict[int, object] = {}


def _counts_key(counts: Mapping[str, Mapping[str, int]]) -> CountsKey:
    return tuple(sorted((c, tuple(sorted(s.items()))) for c, s in counts.items()))


def _remember(memo: dict[Any, Any], key: Any, value: Any, pinned: object = None) -> None:
    if len(memo) >= MEMO_LIMIT:
        memo.clear()
    memo[key] = value
    if pinned is not None:
        _PINNED[id(pinned)] = pinned


def _colours(counts: Mapping[str, Mapping[str, int]]) -> dict[str, str | None]:
    key = _counts_key(counts)
    found = _COLOURS.get(key)
    if found is None:
        found = service_colours(counts)
        _remember(_COLOURS, key, found)
    return dict(found)


@dataclass(slots=True)
class Tally:
    """Weighted points over full points; undecided results are only counted."""

    points: float = 0.0
    full: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)

    def count(self, status: str) -> None:
        self.counts[status] = self.counts.get(status, 0) + 1

    def add_points(self, weight: float, earned: float) -> None:
        self.points += weight * earned
        self.full += weight

    def add(self, result: CheckResult, weights: Mapping[str, float]) -> None:
        """Count one result and score it with `weights` (unknown checks weigh 1)."""
        status = str(result.status)
        self.count(status)
        if result.status in POINTS:
            self.add_points(weights.get(result.check, 1.0), POINTS[result.status])

    @property
    def score(self) -> float | None:
        return round(100 * self.points / self.full, 1) if self.full else None


@dataclass(slots=True)
class _Points:
    points: float = 0.0
    full: float = 0.0

    @property
    def score(self) -> float | None:
        return round(100 * self.points / self.full, 1) if self.full else None


@dataclass(frozen=True, slots=True)
class _Fix:
    """A failing or warning result and the weighted points fixing it would add to its tier."""

    points: float
    tier: str
    subject: str
    check: str
    status: str
    detail: str
    weight: float
    fix: str | None  # report.fixes' stable key of what to change


class TargetScore:
    def __init__(self, name: str, sector: str, profile: Profile = DEFAULT_PROFILE) -> None:
        self.name = name
        self.sector = sector
        self.profile = profile
        self.tiers: dict[str, Tally] = {}
        self.subjects: dict[tuple[str, str], _Points] = {}
        self.checks: dict[str, dict[str, dict[str, int]]] = {}  # tier -> check -> status -> n
        self._fixes: dict[str, list[tuple[float, int, _Fix]]] = {}  # tier -> min-heap
        self._seq = 0
        # (tier, domain) -> check -> (status, detail, fix): the name-server pair waits for the cap
        self._ns: dict[tuple[str, str], dict[str, tuple[str, str, str | None]]] = {}

    def add(self, result: CheckResult) -> None:
        tier, status = result.tier, str(result.status)
        self.tiers.setdefault(tier, Tally()).count(status)
        per_check = self.checks.setdefault(tier, {}).setdefault(result.check, {})
        per_check[status] = per_check.get(status, 0) + 1
        self.subjects.setdefault((tier, result.subject), _Points())  # listed even if unscored
        fix = fix_key(result.check, status, result.evidence)
        if result.check in (NS_IPV6, NS_REACHABLE):
            pair = self._ns.setdefault((tier, result.subject), {})
            pair[result.check] = (status, result.detail, fix)
            return
        earned = self.profile.earned(result.check, status)
        if earned is not None:
            self._score(tier, result.subject, result.check, status, result.detail, earned, fix)

    def _score(
        self,
        tier: str,
        subject: str,
        check: str,
        status: str,
        detail: str,
        earned: float,
        fix: str | None,
        best: float = 1.0,
        extra: float = 0.0,
    ) -> None:
        weight = self.profile.weight(check)
        self.tiers[tier].add_points(weight, earned)
        self.subjects[(tier, subject)].points += weight * earned
        self.subjects[(tier, subject)].full += weight
        gain = weight * max(best - earned, 0.0) + extra
        if status in ("warn", "fail") and gain > 0 and self.profile.fix_first > 0:
            self._seq += 1
            heap = self._fixes.setdefault(tier, [])
            # -seq: on equal points the earlier result stays, so the list is stable
            item = (gain, -self._seq, _Fix(gain, tier, subject, check, status, detail, weight, fix))
            if len(heap) < self.profile.fix_first:
                heapq.heappush(heap, item)
            else:
                heapq.heappushpop(heap, item)

    def _settle_name_servers(self) -> None:
        """Score the deferred name-server pairs: one IPv6 name server caps reachability."""
        for (tier, subject), pair in self._ns.items():
            ns, reach = pair.get(NS_IPV6), pair.get(NS_REACHABLE)
            single = ns is not None and ns[0] == "warn"
            cap = min(self.profile.single_ns_cap, 1.0) if single else 1.0
            lifted = 0.0  # what a second IPv6 name server would also give back to reachability
            if reach is not None:
                earned = self.profile.earned(NS_REACHABLE, reach[0])
                if earned is not None:
                    capped = min(earned, cap)
                    lifted = self.profile.weight(NS_REACHABLE) * (earned - capped)
                    status, detail, fix = reach
                    self._score(tier, subject, NS_REACHABLE, status, detail, capped, fix, cap)
            if ns is not None:
                earned = self.profile.earned(NS_IPV6, ns[0])
                if earned is not None:
                    self._score(tier, subject, NS_IPV6, ns[0], ns[1], earned, ns[2], extra=lifted)
        self._ns.clear()

    def tier_scores(self) -> dict[str, float | None]:
        self._settle_name_servers()
        return {t: self.tiers[t].score for t in self._tier_order()}

    def _tier_order(self) -> list[str]:
        return [t for t in TIERS if t in self.tiers] + sorted(set(self.tiers) - set(TIERS))

    @property
    def score(self) -> float | None:
        """Weighted mean of the tier scores (equal weights by default)."""
        total = weights = 0.0
        for tier, tier_score in self.tier_scores().items():
            w = self.profile.tier_weight(tier)
            if tier_score is not None and w > 0:
                total += w * tier_score
                weights += w
        return round(total / weights, 1) if weights else None

    def status_counts(self) -> dict[str, dict[str, int]]:
        """check -> status -> count over every tier: the stage ladder's evidence."""
        out: dict[str, dict[str, int]] = {}
        for per_tier in self.checks.values():
            for check, counts in per_tier.items():
                merged = out.setdefault(check, {})
                for status, n in counts.items():
                    merged[status] = merged.get(status, 0) + n
        return out

    @property
    def stage(self) -> str:
        counts = self.status_counts()
        key = (id(self.profile.stages), _counts_key(counts))
        found = _STAGES.get(key)
        if found is None:
            found = stage_of(counts, self.profile.stages)
            _remember(_STAGES, key, found, self.profile.stages)
        return found

    def fix_first(self) -> list[dict[str, Any]]:
        """The failing and warning results ordered by how much fixing each would raise the
        target's score: weight x missing points, over its tier's full points, times the
        tier's share of the target score. Within one tier that is weight x missing points."""
        scored = {
            t: self.profile.tier_weight(t)
            for t, s in self.tier_scores().items()
            if s is not None and self.profile.tier_weight(t) > 0
        }
        share = sum(scored.values())
        items: list[tuple[float, float, int, _Fix]] = []
        for tier, heap in self._fixes.items():
            if tier not in scored:
                continue
            factor = 100 * scored[tier] / share / self.tiers[tier].full
            items.extend((fix.points * factor, fix.points, seq, fix) for _, seq, fix in heap)
        # most gain first; then failures before warnings; then the order results came in
        items.sort(key=lambda i: (-i[0], -i[1], i[3].status != "fail", -i[2]))
        return [
            {
                "tier": fix.tier,
                "subject": fix.subject,
                "check": fix.check,
                "status": fix.status,
                "detail": fix.detail,
                "weight": fix.weight,
                "points": round(fix.points, 2),
                "gain": round(gain, 1),
                "fix": fix.fix,
            }
            for gain, _, _, fix in items[: self.profile.fix_first]
        ]

    def row(self) -> dict[str, Any]:
        """The target's entry in summary.json."""
        self._settle_name_servers()  # before anything reads the tallies
        tiers = {
            t: {
                "score": self.tiers[t].score,
                "counts": self.tiers[t].counts,
                "checks": self.checks.get(t, {}),
            }
            for t in self._tier_order()
        }
        return {
            "name": self.name,
            "sector": self.sector,
            "score": self.score,
            "stage": self.stage,
            "tiers": tiers,
            "services": _colours(self.checks.get("services", {})),
            "fix_first": self.fix_first(),
            "subjects": [
                {"tier": tier, "subject": subject, "score": p.score}
                for (tier, subject), p in self.subjects.items()
            ],
        }
