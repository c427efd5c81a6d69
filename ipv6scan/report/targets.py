"""The per-target parts of the report: ranking rows and drill-downs.

Targets come from the summary (one row each, a million in a big run, read from a spool
one at a time); one pass counts them and keeps a bounded ranking (all of a normal run;
the top and bottom of a huge one) and the report drills down into at most DRILL_LIMIT of
those, the lowest scores first since they need the most work. Everything else is in
summary.json and results.csv.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ipv6scan.report.digest import Kept, Shown
from ipv6scan.report.fixes import fix_key
from ipv6scan.report.labels import CHECKS, SERVICES, TIERS
from ipv6scan.scoring.mean import Mean

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


def target_view(index: int, t: Mapping[str, Any], trends: Mapping[str, Any]) -> TargetView:
    tiers = _dict(t.get("tiers"))
    counts: dict[str, int] = {}
    for tier in tiers.values():
        for status, n in _dict(_dict(tier).get("counts")).items():
            if isinstance(n, int):
                counts[str(status)] = counts.get(str(status), 0) + n
    name = str(t.get("name", ""))
    return TargetView(
        index=index,
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


RankKey = tuple[bool, float, str, int]
Ranked = tuple[RankKey, Mapping[str, Any], object]  # a row, where it ranks, what rides along


def _rank_key(index: int, t: Mapping[str, Any]) -> RankKey:
    """Best first, unscored last, then by name; the index keeps equal names stable."""
    score = _num(t.get("score"))
    return (score is None, -(score or 0.0), str(t.get("name", "")), index)


class _Keep:
    """The `n` rows that rank first (last with `reverse`), in bounded memory: sorted and
    cut each time twice as many have come in. Once cut, a row that ranks after the last
    one kept (the bound) cannot come in: it is turned away with one comparison."""

    def __init__(self, n: int, reverse: bool = False) -> None:
        self.n = n
        self.reverse = reverse
        self.items: list[Ranked] = []
        self.bound: RankKey | None = None

    def add(self, key: RankKey, row: Mapping[str, Any], extra: object = None) -> None:
        bound = self.bound
        if bound is not None and (key < bound if self.reverse else key > bound):
            return
        self.items.append((key, row, extra))
        if len(self.items) > 2 * self.n:
            self._cut()

    def _cut(self) -> None:
        self.items.sort(key=lambda item: item[0], reverse=self.reverse)
        del self.items[self.n :]
        if self.n and len(self.items) == self.n:
            self.bound = self.items[-1][0]

    def result(self) -> list[Ranked]:
        """In rank order."""
        self._cut()
        return self.items[::-1] if self.reverse else self.items


Lights = tuple[tuple[str, str], ...]  # a row's (service, colour)s
TierScores = tuple[tuple[str, float | None], ...]  # a row's (tier, score)s
MEMO_LIMIT = 512  # parts remembered (_ReadOnce): a run has a handful of shapes, or hundreds


class _ReadOnce:
    """What `read` makes of a part of a row, once per object: the finish stage's rows of one
    shape (scoring/shapes.py) share their services and tiers dicts, so a big run has a few.
    The object is held with what was read, so its id cannot be another's while it is here;
    a row's parts are never changed once it is made."""

    def __init__(self, read: Callable[[object], Any]) -> None:
        self.read = read
        self.done: dict[int, tuple[object, Any]] = {}

    def __call__(self, part: object) -> Any:
        found = self.done.get(id(part))
        if found is not None and found[0] is part:
            return found[1]
        value = self.read(part)
        if len(self.done) >= MEMO_LIMIT:
            self.done.clear()
        self.done[id(part)] = (part, value)
        return value


def _lights(raw: object) -> Lights:
    return tuple(_services(_dict(raw)).items())


def _tier_scores(raw: object) -> TierScores:
    return tuple((str(tier), _num(_dict(info).get("score"))) for tier, info in _dict(raw).items())


@dataclass
class Census:
    """What the report needs of every target row: counts, and a bounded ranking."""

    total: int = 0
    stages: Counter[str] = field(default_factory=Counter)
    sectors: set[str] = field(default_factory=set)
    tier_scores: dict[str, Mean] = field(default_factory=dict)  # mean of targets' tier scores
    tier_seen: Counter[str] = field(default_factory=Counter)  # targets with the tier
    ranking: Ranking = field(default_factory=lambda: Ranking([], 0, 0))
    extras: dict[int, object] = field(default_factory=dict)  # index -> what rode along
    lights: Counter[Lights] = field(default_factory=Counter)  # rows by their lights
    _lights_of: _ReadOnce = field(default_factory=lambda: _ReadOnce(_lights))
    _tier_scores_of: _ReadOnce = field(default_factory=lambda: _ReadOnce(_tier_scores))

    @property
    def tiers(self) -> set[str]:
        return set(self.tier_seen)

    @property
    def services(self) -> dict[str, Counter[str]]:
        """service -> colour -> targets; services and colours in the order first met."""
        by: dict[str, Counter[str]] = {}
        for lights, n in self.lights.items():
            for service, light in lights:
                by.setdefault(service, Counter())[light] += n
        return by

    def add(self, t: Mapping[str, Any]) -> None:
        """Count one row, reading only what the counts need (most rows are not shown)."""
        self.total += 1
        self.stages[str(t.get("stage") or "not-assessed")] += 1
        self.sectors.add(str(t.get("sector", "")))
        self.lights[self._lights_of(t.get("services"))] += 1
        seen, means = self.tier_seen, self.tier_scores
        tier_scores: TierScores = self._tier_scores_of(t.get("tiers"))
        for tier, score in tier_scores:
            seen[tier] += 1
            if score is not None:
                mean = means.get(tier)
                if mean is None:
                    mean = means[tier] = Mean()
                mean.add(score)


class Surveyor:
    """The census, a row at a time: the rows may come from a pass over the results (the
    finish stage, with where each target's lines lie riding along) or from a summary."""

    def __init__(self, limit: int = RANK_LIMIT) -> None:
        self.limit = limit
        self.census = Census()
        self._best, self._worst = _Keep(limit), _Keep(limit // 2, reverse=True)

    def add(self, t: Mapping[str, Any], extra: object = None) -> None:
        i = self.census.total
        self.census.add(t)
        key = _rank_key(i, t)
        self._best.add(key, t, extra)
        self._worst.add(key, t, extra)

    def result(self, trends: Mapping[str, Any]) -> Census:
        """The census with its ranking; `trends`: summary["trends"]["targets"]."""
        census = self.census

        def views(kept: list[Ranked]) -> list[TargetView]:
            for key, _t, extra in kept:
                if extra is not None:
                    census.extras[key[3]] = extra
            return [target_view(key[3], t, trends) for key, t, _extra in kept]

        best, worst = views(self._best.result()), views(self._worst.result())
        census.ranking = rank(best, worst, census.total, self.limit)
        return census


def survey(summary: Mapping[str, Any], limit: int = RANK_LIMIT) -> Census:
    """One pass over the summary's target rows (a list, or a spool of a million)."""
    surveyor = Surveyor(limit)
    rows: Iterable[Any] = summary.get("targets") or []
    for t in rows:
        if isinstance(t, Mapping):
            surveyor.add(t)
    return surveyor.result(_dict(_dict(summary.get("trends")).get("targets")))


def rank(
    best: list[TargetView], worst: list[TargetView], total: int, limit: int = RANK_LIMIT
) -> Ranking:
    """Positions for the kept views: all of them when `total` fits in `limit`, else the
    top and the bottom halves of `limit` (`best` and `worst`, both in rank order)."""
    if total <= limit:
        for position, v in enumerate(best, 1):
            v.rank = position
        return Ranking(best, 0, len(best))
    half = limit // 2
    top, bottom = best[:half], worst[-half:] if half else []
    for position, v in enumerate(top, 1):
        v.rank = position
    for position, v in enumerate(bottom, total - len(bottom) + 1):
        v.rank = position
    return Ranking(top + bottom, total - 2 * half, half)


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
        {
            "check": r.check,
            "subject": r.subject,
            "status": r.status,
            "detail": r.detail,
            "fix": r.fix,
        }
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
    """The items, each with its fix: a summary from before fix keys gets the one its check
    and status give (an intermittent warn is then read as a plain warn)."""
    if not isinstance(raw, list):
        return None
    items = [dict(f) for f in raw if isinstance(f, Mapping)]
    for item in items:
        if "fix" not in item:
            item["fix"] = fix_key(str(item.get("check", "")), str(item.get("status", "")), {})
    return items


def _services(raw: Mapping[str, Any]) -> dict[str, str]:
    """dns, web, mail in that order; a service the scorer could not assess is "none"."""
    order = [k for k in SERVICES if k in raw] + sorted(k for k in raw if k not in SERVICES)
    return {str(k): str(raw[k]) if raw[k] is not None else "none" for k in order}


def _dict(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
