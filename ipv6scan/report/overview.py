"""The aggregate parts of the report (executive summary, sectors, tiers, milestones,
trends) as charts and rows, from the summary and the digest of the results.

Each builder returns None (or an empty list) when its data is absent, so a summary
from an older or newer scorer renders whatever it has.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from ipv6scan.report.charts import Bar, Cell, Charts, Segment, Stack, score_tone
from ipv6scan.report.digest import Digest, pass_rate
from ipv6scan.report.i18n import Formatter, localized
from ipv6scan.report.labels import (
    CHECKS,
    LIGHTS,
    PERCENT_METRICS,
    SECTORS,
    SERVICES,
    STATUSES,
    TIERS,
    Words,
    order_of,
)
from ipv6scan.report.targets import Census, series

Gettext = Callable[..., str]


@dataclass(frozen=True)
class Milestone:
    name: str
    measure: str  # metric and scope in words
    value: str
    target_value: str
    expected: str
    by: str
    state: str
    state_name: str
    progress: Markup | None
    history: Markup | None


@dataclass(frozen=True)
class Trend:
    label: str
    chart: Markup
    first: str
    last: str
    change: str
    first_short: str


@dataclass(frozen=True)
class Parts:
    """What the builders share: one language, one chart numbering."""

    _: Gettext
    words: Words
    fmt: Formatter
    charts: Charts


def stage_chart(p: Parts, order: list[str], counts: Counter[str], total: int) -> Markup | None:
    if not total:
        return None
    _, fmt = p._, p.fmt
    rungs = [s for s in order if s != "not-assessed"]
    bars = []
    for s in order:
        n = counts.get(s, 0)
        # colour climbs the ladder from red to green; unknown and unassessed stay grey
        step = rungs.index(s) * 4 // max(1, len(rungs) - 1) if s in rungs else None
        tone = f"stage-{step}" if step is not None else "score-none"
        text = _("%(count)s (%(share)s)", count=fmt.number(n), share=fmt.percent(n / total))
        bars.append(Bar(p.words.stage(s), float(n), text, tone))
    return p.charts.bars(bars, _("Targets by migration stage"), maximum=float(total))


def stage_kpis(
    p: Parts, ladder: list[str], counts: Counter[str], assessed: int
) -> list[tuple[str, str, str]]:
    """(label, count, share of assessed targets) for past the first rung and the top rung."""
    if not assessed:
        return []
    _, fmt = p._, p.fmt
    beyond_first = assessed - counts.get(ladder[0], 0)
    top = counts.get(ladder[-1], 0)
    return [
        (_("Targets with IPv6"), fmt.number(beyond_first), fmt.percent(beyond_first / assessed)),
        (_("Fully IPv6 ready"), fmt.number(top), fmt.percent(top / assessed)),
    ]


def _segments(p: Parts, counts: Mapping[str, int]) -> list[Segment]:
    return [
        Segment(s, p.words.status(s), counts.get(s, 0), p.fmt.number(counts.get(s, 0)))
        for s in STATUSES
    ]


def status_chart(p: Parts, d: Digest) -> Markup | None:
    if not d.results:
        return None
    rate = pass_rate(d.total)
    text = p._("pass rate %(rate)s", rate=p.fmt.percent(rate)) if rate is not None else "–"
    stack = Stack(p._("All results"), _segments(p, d.total), text)
    return p.charts.stacks([stack], p._("Results by status"))


def problems_chart(p: Parts, d: Digest, targets: object = None) -> Markup | None:
    """The checks that fail or warn at the most organisations (summary.json's
    fixes.checks, scoring/fix_tally.py); an older summary without it: the most results."""
    per_target = {str(c): n for c, n in _dict(targets).items() if isinstance(n, int) and n > 0}
    if per_target:
        bad, title = per_target, p._("Organisations with a failure or warning, per check")
    else:
        bad = {c: n.get("fail", 0) + n.get("warn", 0) for c, n in d.by_check.items()}
        title = p._("Most frequent problems (failures and warnings)")
    top = sorted((c for c in bad if bad[c]), key=lambda c: (-bad[c], c))[:8]
    if not top:
        return None
    bars = [Bar(p.words.check(c), float(bad[c]), p.fmt.number(bad[c]), "st-fail") for c in top]
    return p.charts.bars(bars, title, maximum=float(bad[top[0]]))


def check_stacks(p: Parts, by_check: Mapping[str, Counter[str]], title: str) -> Markup:
    stacks = []
    for c in order_of(CHECKS, by_check):
        rate = pass_rate(by_check[c])
        text = p.fmt.percent(rate) if rate is not None else p._("undecided")
        stacks.append(Stack(p.words.check(c), _segments(p, by_check[c]), text))
    return p.charts.stacks(stacks, title)


def check_matrix(
    p: Parts,
    by_group: Mapping[str, Mapping[str, Counter[str]]],
    order: Sequence[str],
    name: Callable[[str], str],
    title: str,
) -> Markup | None:
    """Pass rate of each check (rows) in each sector or tier (columns)."""
    if not by_group:
        return None
    checks = order_of(CHECKS, {c for g in by_group.values() for c in g})
    columns = [name(g) for g in order]
    cells = []
    for c in checks:
        line = []
        for g, column in zip(order, columns, strict=True):
            counts = by_group.get(g, {}).get(c, Counter())
            rate = pass_rate(counts)
            decided = sum(counts.get(s, 0) for s in ("pass", "warn", "fail"))
            text = p.fmt.percent(rate) if rate is not None else "–"
            tip = p._(
                "%(row)s · %(column)s: pass rate %(rate)s, %(passed)s of %(decided)s decided",
                row=p.words.check(c),
                column=column,
                rate=text,
                passed=p.fmt.number(counts.get("pass", 0)),
                decided=p.fmt.number(decided),
            )
            line.append(Cell(rate, text, tip))
        cells.append(line)
    return p.charts.heatmap([p.words.check(c) for c in checks], columns, cells, title)


def services_chart(p: Parts, counts: Mapping[str, Counter[str]]) -> Markup | None:
    """How many targets have each service (DNS, web, mail) in each colour."""
    if not counts:
        return None
    stacks = []
    for service in order_of(SERVICES, counts):  # always DNS, web, mail
        c = counts[service]
        segments = [Segment(f"l-{k}", p.words.light(k), c[k], p.fmt.number(c[k])) for k in LIGHTS]
        # share among targets where the service exists and was assessed
        present = sum(n for k, n in c.items() if k not in ("grey", "none"))
        text = p._("%(share)s work", share=p.fmt.percent(c["green"] / present)) if present else "–"
        stacks.append(Stack(p.words.service(service), segments, text))
    return p.charts.stacks(stacks, p._("Services of the targets over IPv6"))


def sector_chart(p: Parts, sectors: Mapping[str, Any]) -> Markup | None:
    if not sectors:
        return None
    bars = []
    for s in order_of(SECTORS, sectors):
        info = _dict(sectors[s])
        score = _num(info.get("score"))
        label = p._(
            "%(name)s (%(count)s)",
            name=p.words.sector(s),
            count=p.fmt.number(info.get("targets", 0)),
        )
        bars.append(Bar(label, score, p.fmt.score(score) or p._("not scored"), score_tone(score)))
    return p.charts.bars(bars, p._("Score by sector"))


def tier_chart(p: Parts, overall: Mapping[str, Any], census: Census) -> Markup | None:
    """The scorer's tier scores over all targets; else the mean of the targets' tier scores."""
    given = _dict(overall.get("tiers"))
    scores: dict[str, tuple[float | None, int]] = {}
    if given:
        for tier, info in given.items():
            info = _dict(info)
            scores[tier] = (_num(info.get("score")), int(info.get("targets") or 0))
    else:
        for tier, n in census.tier_seen.items():
            mean = census.tier_scores.get(tier)
            scores[tier] = (mean.value() if mean is not None else None, n)
    if not scores:
        return None
    bars = []
    for t in order_of(TIERS, scores):
        score, n = scores[t]
        label = p._("%(name)s (%(count)s)", name=p.words.tier(t), count=p.fmt.number(n))
        bars.append(Bar(label, score, p.fmt.score(score) or p._("not scored"), score_tone(score)))
    return p.charts.bars(bars, p._("Score by network tier"))


def milestones(p: Parts, raw: object) -> list[Milestone]:
    out = []
    for m in raw if isinstance(raw, list) else []:
        if not isinstance(m, Mapping):
            continue
        metric = str(m.get("metric") or "")
        value, goal, expected = (_num(m.get(k)) for k in ("value", "target_value", "expected"))
        share = value / goal if value is not None and goal else None
        state = str(m.get("state") or "")
        tone = {"met": "score-good", "on-track": "score-mid", "behind": "score-bad"}
        name = localized(m.get("name"), p.words.lang)
        progress = None
        if share is not None:
            title = p._("%(name)s: %(share)s of the target", name=name, share=p.fmt.percent(share))
            progress = p.charts.progress(share, title, tone.get(state, "score-none"))
        points = series(m.get("history"))
        history = None
        if len(points) > 1:
            history = p.charts.sparkline(
                [v for _d, v in points],
                p._("Trend: %(name)s", name=name),
                trend_desc(p, name, points),
            )
        out.append(
            Milestone(
                name=name,
                measure=_measure(p, metric, m.get("scope")),
                value=_metric_value(p, metric, value),
                target_value=_metric_value(p, metric, goal),
                expected=_metric_value(p, metric, expected),
                by=p.fmt.date(m.get("by")),
                state=state,
                state_name=p.words.milestone_state(state) if state else "",
                progress=progress,
                history=history,
            )
        )
    return out


def _measure(p: Parts, metric: str, scope: object) -> str:
    """ "Pass rate · Government · IPv6 address (AAAA record)": the metric, then its scope."""
    words = p.words
    parts = [words.metric(metric)] if metric else []
    show: dict[str, Callable[[str], str]] = {
        "sector": words.sector,
        "tier": words.tier,
        "target": str,
        "check": words.check,
        "stage": words.stage,
    }
    for key, name in show.items():
        value = _dict(scope).get(key)
        if value is not None:
            parts.append(name(str(value)))
    return " · ".join(parts)


def _metric_value(p: Parts, metric: str, value: float | None) -> str:
    if value is None:
        return ""
    if metric in PERCENT_METRICS:
        return p.fmt.percent(value / 100)
    return p.fmt.score(value)


def trend(
    p: Parts, label: str, points: list[tuple[str, float]], width: int = 240, height: int = 36
) -> Trend | None:
    if len(points) < 2:  # one run is no trend
        return None
    (d0, v0), (d1, v1) = points[0], points[-1]
    change = v1 - v0
    sign = "+" if change > 0 else ""
    chart = p.charts.sparkline(
        [v for _d, v in points],
        p._("Trend: %(name)s", name=label),
        trend_desc(p, label, points),
        width,
        height,
    )
    return Trend(
        label,
        chart,
        p.fmt.date(d0),
        p.fmt.date(d1),
        sign + p.fmt.score(change),
        p.fmt.short_date(d0),
    )


def trend_desc(p: Parts, label: str, points: list[tuple[str, float]]) -> str:
    (d0, v0), (d1, v1) = points[0], points[-1]
    return p._(
        "%(name)s: %(first)s on %(start)s, %(last)s on %(end)s",
        name=label,
        first=p.fmt.score(v0),
        last=p.fmt.score(v1),
        start=p.fmt.date(d0),
        end=p.fmt.date(d1),
    )


def _num(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _dict(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
