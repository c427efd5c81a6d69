"""Everything the template shows, computed once from one pass over the summary's target
rows and one over the results, each in bounded memory. The template only lays it out;
every word here goes through the catalogue.

Parts of the summary that a newer scorer adds (fix_first, services, stage names,
milestones, trends, profile) are shown when present and simply left out when absent.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from ipv6scan.messages import from_stored
from ipv6scan.model import CheckResult
from ipv6scan.report import first_screen as fs
from ipv6scan.report import overview as ov
from ipv6scan.report.charts import Charts
from ipv6scan.report.details import render_detail
from ipv6scan.report.digest import Digest, Kept, Row, digest
from ipv6scan.report.fixes import used_keys
from ipv6scan.report.i18n import Formatter, localized, translations
from ipv6scan.report.labels import CHECKS, SECTORS, STAGES, STATUSES, TIERS, Words, order_of
from ipv6scan.report.targets import (
    Census,
    Ranking,
    SubjectGroup,
    TargetView,
    choose_drill,
    fallback_fix_first,
    groups,
    series,
    survey,
)

Gettext = ov.Gettext
MOVERS = 12  # organisations in the trends, those whose score moved most


@dataclass(frozen=True)
class Drill:
    target: TargetView
    groups: list[SubjectGroup]
    omitted: int
    fix_first: list[dict[str, Any]]
    fix_first_is_ours: bool  # derived here because the summary had none


@dataclass
class Report:
    lang: str
    words: Words
    fmt: Formatter
    generated: str
    scan_started: str  # when the scan ran (from the history's run record), else ""
    profile: str
    overall_score: float | None
    overall_ring: Markup
    targets_total: int
    results_total: int
    findings_total: int
    stage_chart: Markup | None
    stage_kpis: list[tuple[str, str, str]]  # (label, count, share)
    services_chart: Markup | None
    status_chart: Markup | None
    problems_chart: Markup | None
    milestones: list[ov.Milestone]
    overall_trend: ov.Trend | None
    overall_spark: Markup | None  # the same trend, small, beside the overall score
    tier_trends: list[ov.Trend]
    target_trends: list[ov.Trend]  # the organisations that moved most (MOVERS)
    milestone_trends: list[ov.Trend]
    banners: list[fs.Banner]  # a part of a run: interrupted, one shard
    scoreboard: fs.Scoreboard
    changes: fs.Changes | None  # None: no history to compare with
    top_fixes: list[fs.TopFix] | None  # None: the summary does not rank fixes
    sector_chart: Markup | None
    sector_matrix: Markup | None
    sector_checks: list[tuple[str, Markup]]
    sector_trends: list[ov.Trend]
    tier_chart: Markup | None
    tier_matrix: Markup | None
    tier_checks: list[tuple[str, Markup]]
    ranking: Ranking
    drills: list[Drill]
    table: list[Row]
    table_complete: bool
    scanner: Mapping[str, Any]
    sectors_present: list[str]
    tiers_present: list[str]
    stages_present: list[str]
    checks_present: list[str]
    ladder: list[str]
    stage_rank: dict[str, int]  # sort key of a stage: its rung
    status_rank: dict[str, int]  # sort key of a status
    has_services: bool
    target_sparks: dict[int, Markup]  # target index -> trend sparkline, for ranked rows
    anchors: dict[str, str] = field(default_factory=dict)  # target name -> drill anchor
    # summary.json's `vantages` (scoring.vantage): pass rates per vantage point, differences
    vantages: Mapping[str, Any] = field(default_factory=dict)
    fixes: list[str] = field(default_factory=list)  # report.fixes' keys the drill-downs use


@dataclass(frozen=True)
class Ladder:
    stages: list[str]  # lowest first, without not-assessed
    names: dict[str, object]
    descriptions: dict[str, object]


def stage_ladder(summary: Mapping[str, Any]) -> Ladder:
    """The scorer's ladder (ids in order, names, descriptions) if it gives one."""
    raw = summary.get("stages")
    if isinstance(raw, Mapping):  # {id: name} also does
        raw = [{"id": k, "name": v} for k, v in raw.items()]
    items = raw if isinstance(raw, list) else []
    ladder = Ladder([], {}, {})
    for item in items:
        if isinstance(item, str):
            ladder.stages.append(item)
            continue
        if not isinstance(item, Mapping) or item.get("id") is None:
            continue
        key = str(item["id"])
        ladder.stages.append(key)
        if item.get("name") is not None:
            ladder.names[key] = item["name"]
        if item.get("description") is not None:
            ladder.descriptions[key] = item["description"]
    stages = [s for s in ladder.stages if s != "not-assessed"]
    return Ladder(stages or list(STAGES), ladder.names, ladder.descriptions)


def build(
    results: Iterable[CheckResult],
    summary: Mapping[str, Any],
    lang: str,
    gettext: Gettext,
    now: dt.datetime | None = None,
) -> Report:
    """The report from the summary's target rows and a pass over the results."""
    census = survey(summary)
    drilled = choose_drill(census.ranking)
    d = digest(results, (v.name for v in drilled))
    return build_from(census, d, summary, lang, gettext, now=now)


def build_from(
    census: Census,
    d: Digest,
    summary: Mapping[str, Any],
    lang: str,
    gettext: Gettext,
    now: dt.datetime | None = None,
) -> Report:
    """The report from a census whose drill-downs are chosen (choose_drill) and a digest
    that kept their results: the finish stage makes both in its one pass. Each part of the
    page is built by its own function below, in the page's order."""
    _ = gettext
    fmt = Formatter(lang)
    ladder = stage_ladder(summary)
    words = Words(gettext, lang, ladder.names, ladder.descriptions)
    # the placeholders map to themselves: the chart module fills them per label
    pair = _("%(label)s: %(value)s", label="%(label)s", value="%(value)s")
    p = ov.Parts(gettext, words, fmt, Charts(pair=pair, sep=_("; ")))
    drills = _drills(p, census, d)
    return Report(
        lang=lang,
        words=words,
        fmt=fmt,
        generated=fmt.timestamp(now or dt.datetime.now(dt.UTC)),
        scan_started=_started(fmt, _dict(summary.get("run")).get("started")),
        profile=localized(_dict(summary.get("profile")).get("name"), lang),
        targets_total=census.total,
        results_total=d.results,
        findings_total=d.finding_count,
        **_first_screen(p, census, summary),
        **_summary_part(p, census, d, summary, ladder),
        **_trends_part(p, census, summary),
        **_sectors_part(p, d, summary),
        **_tiers_part(p, census, d, summary),
        **_ranking_part(p, census, d, ladder, drills),
        scanner=_scanner(p, _dict(summary.get("scanner"))),
        vantages=_dict(summary.get("vantages")),
    )


def _scanner(p: ov.Parts, scanner: Mapping[str, Any]) -> Mapping[str, Any]:
    """summary.json's `scanner`, with `notes_shown`: its notes in the report's language,
    each rebuilt from `note_details` (the same order) where it has a key."""
    notes = scanner.get("notes")
    if not isinstance(notes, list) or not notes:
        return scanner
    stored = scanner.get("note_details")
    keyed = stored if isinstance(stored, list) and len(stored) == len(notes) else []
    raw = translations(p.words.lang).gettext  # templates as they are: render_detail fills them
    shown = []
    for i, note in enumerate(notes):
        said = _dict(keyed[i]) if keyed else {}
        detail = from_stored(str(note), said.get("key"), said.get("params"))
        shown.append(render_detail(detail, raw, p.words.lang))
    return {**scanner, "notes_shown": shown}


Part = dict[str, Any]  # some of Report's fields, by name


def _first_screen(p: ov.Parts, census: Census, summary: Mapping[str, Any]) -> Part:
    """The three questions and the banner (first_screen.py)."""
    return {
        "banners": fs.banners(p, summary),
        "scoreboard": fs.scoreboard(p, summary, census.ranking),
        "changes": fs.changes(p, summary),
        "top_fixes": fs.top_fixes(p, summary),
    }


def _summary_part(
    p: ov.Parts, census: Census, d: Digest, summary: Mapping[str, Any], ladder: Ladder
) -> Part:
    _ = p._
    overall = _dict(summary.get("overall"))
    score = overall.get("score") if isinstance(overall.get("score"), (int, float)) else None
    stage_counts = census.stages
    order = _stage_order(ladder, stage_counts)
    assessed = census.total - stage_counts.get("not-assessed", 0)
    points = series(_dict(summary.get("trends")).get("overall"))
    return {
        "overall_score": score,
        "overall_ring": p.charts.ring(score, p.fmt.score(score) or "–", _("Overall score")),
        "stage_chart": ov.stage_chart(p, order, stage_counts, census.total),
        "stage_kpis": ov.stage_kpis(p, ladder.stages, stage_counts, assessed),
        "services_chart": ov.services_chart(p, census.services),
        "status_chart": ov.status_chart(p, d),
        "problems_chart": ov.problems_chart(p, d, _dict(summary.get("fixes")).get("checks")),
        "milestones": ov.milestones(p, summary.get("milestones")),
        "overall_spark": _chart(ov.trend(p, _("Overall score"), points, 170, 34)),
    }


def _trends_part(p: ov.Parts, census: Census, summary: Mapping[str, Any]) -> Part:
    """Overall, sector and tier scores over the history's runs, the organisations that
    moved most, and the milestones' values over time."""
    words = p.words
    trends = _dict(summary.get("trends"))

    def lines(raw: object, name: Callable[[str], str], known: tuple[str, ...]) -> list[ov.Trend]:
        found = _dict(raw)
        return [
            t for key in order_of(known, found)
            if (t := ov.trend(p, name(str(key)), series(found[key]))) is not None
        ]  # fmt: skip

    movers = sorted(
        (v for v in census.ranking.rows if len(v.trend) > 1),
        key=lambda v: (-abs(v.trend[-1][1] - v.trend[0][1]), v.name),
    )[:MOVERS]
    return {
        "overall_trend": ov.trend(p, p._("Overall score"), series(trends.get("overall"))),
        "sector_trends": lines(trends.get("sectors"), words.sector, SECTORS),
        "tier_trends": lines(trends.get("tiers"), words.tier, TIERS),
        "target_trends": [
            t for v in movers if (t := ov.trend(p, v.name, v.trend, 120, 28)) is not None
        ],
        "milestone_trends": [
            t
            for m in summary.get("milestones") or []
            if isinstance(m, Mapping)
            and (t := ov.trend(p, localized(m.get("name"), words.lang), series(m.get("history"))))
        ],
    }


def _sectors_part(p: ov.Parts, d: Digest, summary: Mapping[str, Any]) -> Part:
    words, order = p.words, order_of(SECTORS, d.by_sector)
    return {
        "sector_chart": ov.sector_chart(p, _dict(summary.get("sectors"))),
        "sector_matrix": ov.check_matrix(
            p, d.by_sector, order, words.sector, p._("Pass rate per check and sector")
        ),
        "sector_checks": [
            (words.sector(s), ov.check_stacks(p, d.by_sector[s], _pass_rates(p, words.sector(s))))
            for s in order
        ],
    }


def _tiers_part(p: ov.Parts, census: Census, d: Digest, summary: Mapping[str, Any]) -> Part:
    words, order = p.words, order_of(TIERS, d.by_tier)
    return {
        "tier_chart": ov.tier_chart(p, _dict(summary.get("overall")), census),
        "tier_matrix": ov.check_matrix(
            p, d.by_tier, order, words.tier, p._("Pass rate per check and network tier")
        ),
        "tier_checks": [
            (words.tier(t), ov.check_stacks(p, d.by_tier[t], _pass_rates(p, words.tier(t))))
            for t in order
        ],
    }


def _ranking_part(
    p: ov.Parts, census: Census, d: Digest, ladder: Ladder, drills: list[Drill]
) -> Part:
    """The ranking, the drill-downs and the result table, with what their filters offer."""
    ranking = census.ranking
    order = _stage_order(ladder, census.stages)
    return {
        "ranking": ranking,
        "drills": drills,
        "table": d.table_rows(),
        "table_complete": d.table_is_complete,
        "sectors_present": order_of(SECTORS, census.sectors | set(d.by_sector)),
        "tiers_present": order_of(TIERS, census.tiers | set(d.by_tier)),
        "stages_present": [s for s in order if census.stages.get(s)],
        "checks_present": order_of(CHECKS, d.by_check),
        "ladder": ladder.stages,
        "stage_rank": {s: i for i, s in enumerate(order) if s != "not-assessed"},
        "status_rank": {s: i for i, s in enumerate(STATUSES)},
        "has_services": any(v.services for v in ranking.rows),
        "target_sparks": {
            v.index: p.charts.sparkline(
                [x for _d, x in v.trend],
                p._("Trend: %(name)s", name=v.name),
                ov.trend_desc(p, v.name, v.trend),
            )
            for v in ranking.rows
            if len(v.trend) > 1
        },
        "anchors": {dr.target.name: dr.target.anchor for dr in drills},
        "fixes": _fix_keys(drills),
    }


def _drills(p: ov.Parts, census: Census, d: Digest) -> list[Drill]:
    drills = []
    for v in census.ranking.rows:
        if v.drill:
            kept = d.drill.get(v.name)
            ours = v.fix_first is None  # an older summary: derive the list from the results
            fix = fallback_fix_first(kept) if ours else v.fix_first or []
            fix = _rendered_items(p, fix, kept)
            drills.append(Drill(v, groups(kept, v), kept.omitted if kept else 0, fix, ours))
    return drills


def _rendered_items(
    p: ov.Parts, items: list[dict[str, Any]], kept: Kept | None
) -> list[dict[str, Any]]:
    """ "What to fix first" with each detail in the report's language: summary.json keeps
    the English text only, so the detail is taken from the kept result it names."""
    found = {
        (s.row.tier, s.row.subject, s.row.check): s.row.detail for s in (kept.items if kept else [])
    }
    raw = translations(p.words.lang).gettext  # templates as they are: render_detail fills them
    out = []
    for item in items:
        where = (item.get("tier"), item.get("subject"), item.get("check"))
        detail = found.get(where, item.get("detail"))  # type: ignore[arg-type]
        if isinstance(detail, str) and detail:
            item = {**item, "detail": render_detail(detail, raw, p.words.lang)}
        out.append(item)
    return out


def _stage_order(ladder: Ladder, counts: Counter[str]) -> list[str]:
    """The ladder's stages, then any other stage seen, then not-assessed when present."""
    order = ladder.stages + sorted(set(counts) - set(ladder.stages) - {"not-assessed"})
    if counts.get("not-assessed"):
        order.append("not-assessed")
    return order


def _pass_rates(p: ov.Parts, name: str) -> str:
    return p._("Pass rate per check: %(name)s", name=name)


def _fix_keys(drills: list[Drill]) -> list[str]:
    """The fixes the drill-downs name, each written once in the report's list of them."""
    keys: set[object] = set()
    for dr in drills:
        keys.update(item.get("fix") for item in dr.fix_first)
        keys.update(s.row.fix for g in dr.groups for s in g.results)
    return used_keys(keys)


def _chart(trend: ov.Trend | None) -> Markup | None:
    return trend.chart if trend is not None else None


def _started(fmt: Formatter, value: object) -> str:
    if not isinstance(value, str):
        return ""
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return ""
    if moment.tzinfo is None:  # the history records UTC
        moment = moment.replace(tzinfo=dt.UTC)
    return fmt.timestamp(moment)


def _dict(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
