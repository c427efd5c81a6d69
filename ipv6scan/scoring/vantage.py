"""Results from several vantage points made one per (tier, subject, check) for scoring.

A scan through a broker with vantage points has one result per vantage point for each
(tier, subject, check); a target is still scored once (INTERFACE.md). IPv6 reachability
depends on where one stands, and a site reachable from one network and not another is
not ready, so by default a result holds only when it holds from every vantage point (the
worst status among them wins); a scoring profile's `vantage_share` lowers that to a share
(0.5: at least half of them). Vantage points that could not decide (`error`, `skip`: no
raw socket, no path) do not vote: that is the vantage point's lack, not the site's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol, TypeVar

from ipv6scan.model import CheckResult, Status


class Vote(Protocol):
    """What combine reads of a result: a CheckResult, or a test case made already
    (report.tables.MadeCase, which stands in for its result in junit.xml's groups)."""

    @property
    def vantage(self) -> str | None: ...
    @property
    def tier(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def check(self) -> str: ...
    @property
    def status(self) -> Status: ...


V = TypeVar("V", bound=Vote)

# best first: the k-th best status is the one k vantage points reach at least
_RANK = {Status.PASS: 0, Status.WARN: 1, Status.FAIL: 2}


def combine(results: Sequence[V], share: float = 1.0) -> Sequence[V]:
    """One result per (tier, subject, check), in the order they first appear; `results`
    as they are when none names a vantage point (a local scan)."""
    for r in results:  # a plain loop: any() over a generator costs twice as much a group
        if r.vantage is not None:
            break
    else:
        return results
    groups: dict[tuple[str, str, str], list[V]] = {}
    for r in results:
        groups.setdefault((r.tier, r.subject, r.check), []).append(r)
    return [pick(group, share) for group in groups.values()]


def pick(group: Sequence[V], share: float = 1.0) -> V:
    """The result that at least `share` of the deciding vantage points reach."""
    decided = sorted((r for r in group if r.status in _RANK), key=lambda r: _RANK[r.status])
    if not decided:  # nobody could decide: an error says more than a skip
        return next((r for r in group if r.status == Status.ERROR), group[0])
    need = max(1, math.ceil(share * len(decided) - 1e-9))
    return decided[need - 1]


def differing(results: Sequence[CheckResult]) -> list[tuple[str, str, str, dict[str, str]]]:
    """(target, subject, check, {vantage: status}) where the vantage points that decided
    disagree: one that could not decide (no raw socket) differs in itself, not in the site."""
    seen: dict[tuple[str, str, str], dict[str, str]] = {}
    for r in results:
        if r.vantage is not None:
            seen.setdefault((r.target, r.subject, r.check), {})[r.vantage] = str(r.status)
    decided = {str(s) for s in _RANK}
    return [(*key, by) for key, by in seen.items() if len(decided.intersection(by.values())) > 1]


DIFFERING_SHOWN = 200  # subjects listed in summary.json and the report; the rest counted


class VantageTally:
    """summary.json's `vantages` from the finish's one pass: pass rates per vantage point
    and check (counted per result), and the (subject, check) whose verdict differs
    between vantage points (found per target group, which holds every vantage point's
    results of that target)."""

    def __init__(self) -> None:
        self.rates: dict[str, dict[str, dict[str, int]]] = {}  # vantage -> check -> counts
        self.differing: list[dict[str, object]] = []
        self.differing_total = 0

    def count(self, r: CheckResult) -> None:
        if r.vantage is None:
            return
        counts = self.rates.setdefault(r.vantage, {}).setdefault(r.check, {})
        counts[str(r.status)] = counts.get(str(r.status), 0) + 1

    def group(self, results: Sequence[CheckResult]) -> None:
        if not self.rates:  # no result named a vantage point so far: a local scan's group
            return
        for target, subject, check, by in differing(results):
            self.differing_total += 1
            if len(self.differing) < DIFFERING_SHOWN:
                self.differing.append({"target": target, "subject": subject, "check": check,
                                       "statuses": dict(sorted(by.items()))})  # fmt: skip

    def reset_groups(self) -> None:
        self.differing.clear()
        self.differing_total = 0

    def into(self, summary: dict[str, object]) -> None:
        """Add `vantages` to `summary` when any result named a vantage point."""
        if not self.rates:
            return
        summary["vantages"] = {
            "points": sorted(self.rates),
            "checks": sorted({check for checks in self.rates.values() for check in checks}),
            "pass_rates": {
                v: {check: _rate(counts) for check, counts in sorted(checks.items())}
                for v, checks in sorted(self.rates.items())
            },
            "differing": self.differing,
            "differing_total": self.differing_total,
        }


def _rate(counts: dict[str, int]) -> dict[str, object]:
    """Passes over decided results (pass, warn, fail), as the report's pass rates count."""
    decided = sum(counts.get(s, 0) for s in ("pass", "warn", "fail"))
    passed = counts.get("pass", 0)
    rate = round(100 * passed / decided, 1) if decided else None
    return {
        "pass": passed,
        "decided": decided,
        "rate": rate,
        "counts": dict(sorted(counts.items())),
    }
