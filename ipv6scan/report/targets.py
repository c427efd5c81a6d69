"""The per-target parts of the report: ranking rows and drill-downs.

Targets come from the summary (one row each, even at 100k); the report shows a
bounded ranking (all of a normal run; the top and bottom of a huge one) and
drill-downs for at most DRILL_LIMIT of those, the lowest scores first since they
need the most work. Everything else is in summary.json and results.csv.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ipv6scan.report.digest import Kept, Shown
from ipv6scan.report.labels import CHECKS, SERVICES, TIERS

RANK_LIMIT = 1000
DRILL_LIMIT = 300


@dataclass
class TargetView:
    index: int  # position in summary["targets"]: the anchor, stable across sorts
    name: str
    sector: str
    score: float | None
    stage: str
    tiers: dict[str, float | None]
    counts: dict[str, int]  # statuses over all tiers
    fix_first: list[dict[str, Any]] | None  # None: the summary has no such list
    services: dict[str, str]  # dns|web|mail -> colour; "none" when not assessed
    subject_scores: dict[tuple[str, str], float | None] = field(default_factory=dict)
    trend: list[tuple[str, float]] = field(default_factory=list)
    rank: int = 0
    drill: bool = False

    @property
    def anchor(self) -> str:
        return f"t{self.index}"


@dataclass(frozen=True)
class SubjectGroup:
    tier: str
    subject: str
    score: float | None
    results: list[Shown]


@dataclass(frozen=True)
class Ranking:
    rows: list[TargetView]  # in rank order
    hidden: int  # targets between the top and the bottom part, not shown
    split: int  # rows[:split] is the top part, rows[split:] the bottom part


def _num(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def target_views(summary: Mapping[str, Any]) -> list[TargetView]:
    trends = _dict(_dict(summary.get("trends")).get("targets"))
    views = []
    for i, t in enumerate(summary.get("targets") or []):
        if not isinstance(t, Mapping):
            continue
        tiers = _dict(t.get("tiers"))
        counts: dict[str, int] = {}
        for tier in tiers.values():
            for status, n in _dict(_dict(tier).get("counts")).items():
                if isinstance(n, int):
                    counts[str(status)] = counts.get(str(status), 0) + n
        name = str(t.get("name", ""))
        views.append(
            TargetView(
                index=i,
                name=name,
                sector=str(t.get("sector", "")),
                score=_num(t.get("score")),
                stage=str(t.get("stage") or "not-assessed"),
                tiers={str(k): _num(_dict(v).get("score")) for k, v in tiers.items()},
                counts=counts,
                fix_first=_fix_first(t.get("fix_first")),
                services=_services(_dict(t.get("services"))),
                subject_scores={
                    (str(s.get("tier", "")), str(s.get("subject", ""))): _num(s.get("score"))
                    for s in t.get("subjects") or []
                    if isinstance(s, Mapping)
                },
                trend=series(trends.get(name)),
            )
        )
    return views


def rank(views: list[TargetView], limit: int = RANK_LIMIT) -> Ranking:
    """Best first, unscored last; a huge run keeps its top and bottom halves of `limit`."""
    ordered = sorted(views, key=lambda v: (v.score is None, -(v.score or 0.0), v.name))
    for position, v in enumerate(ordered, 1):
        v.rank = position
    if len(ordered) <= limit:
        return Ranking(ordered, 0, len(ordered))
    half = limit // 2
    return Ranking(ordered[:half] + ordered[-half:], len(ordered) - 2 * half, half)


def choose_drill(ranking: Ranking, limit: int = DRILL_LIMIT) -> list[TargetView]:
    rows = ranking.rows
    if len(rows) > limit:
        # the lowest scores (and the unscored) need the reader most
        rows = sorted(rows, key=lambda v: (v.score is not None, v.score or 0.0))[:limit]
    for v in rows:
        v.drill = True
    return rows


def groups(kept: Kept | None, target: TargetView) -> list[SubjectGroup]:
    """A target's kept results by tier and subject, checks in catalogue order."""
    if kept is None:
        return []
    by: dict[tuple[str, str], list[Shown]] = {}
    for s in kept.items:
        by.setdefault((s.row.tier, s.row.subject), []).append(s)
    tier_pos = {t: i for i, t in enumerate(TIERS)}
    check_pos = {c: i for i, c in enumerate(CHECKS)}
    keys = sorted(by, key=lambda k: (tier_pos.get(k[0], len(TIERS)), k[0]))
    return [
        SubjectGroup(
            tier,
            subject,
            target.subject_scores.get((tier, subject)),
            sorted(
                by[(tier, subject)], key=lambda s: (check_pos.get(s.row.check, 99), s.row.check)
            ),
        )
        for tier, subject in keys
    ]


def fallback_fix_first(kept: Kept | None, limit: int = 5) -> list[dict[str, Any]]:
    """Without the producer's list: failures before warnings, in catalogue order."""
    if kept is None:
        return []
    order = {c: i for i, c in enumerate(CHECKS)}
    bad = [s.row for s in kept.items if s.row.status in ("fail", "warn")]
    bad.sort(key=lambda r: (r.status != "fail", order.get(r.check, 99)))
    return [
        {"check": r.check, "subject": r.subject, "status": r.status, "detail": r.detail}
        for r in bad[:limit]
    ]


def series(raw: object) -> list[tuple[str, float]]:
    """[[date, score], ...] with malformed points dropped."""
    points: list[tuple[str, float]] = []
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        return points
    for p in raw:
        if isinstance(p, Sequence) and not isinstance(p, str) and len(p) >= 2:
            value = _num(p[1])
            if value is not None:
                points.append((str(p[0]), value))
    return points


def _fix_first(raw: object) -> list[dict[str, Any]] | None:
    if not isinstance(raw, list):
        return None
    return [dict(f) for f in raw if isinstance(f, Mapping)]


def _services(raw: Mapping[str, Any]) -> dict[str, str]:
    """dns, web, mail in that order; a service the scorer could not assess is "none"."""
    order = [k for k in SERVICES if k in raw] + sorted(k for k in raw if k not in SERVICES)
    return {str(k): str(raw[k]) if raw[k] is not None else "none" for k in order}


def _dict(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
