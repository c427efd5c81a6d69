"""The report's first screen: the three questions an official has, answered above
everything else (INTERFACE.md "The report").

- How is each sector, network tier and organisation doing? Scores worst first, each
  organisation with its stage, each with its change since the previous run.
- What changed since the previous run of the same history, and what did the gates
  decide? From summary.json's `changes` and `gates` (report/changes.py, diff.py's rules).
- What to fix first? summary.json's `fixes` (scoring/fix_tally.py): the fixes that concern
  the most organisations, then the most points, each with its text (report/fixes.py).

And a banner when the report covers only part of a run (interrupted, one shard).
Each builder returns None or an empty list when the summary lacks its part.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ipv6scan.messages import Detail
from ipv6scan.report import overview as ov
from ipv6scan.report.details import render_detail
from ipv6scan.report.fixes import ShownFix
from ipv6scan.report.i18n import translations
from ipv6scan.report.labels import SECTORS, TIERS, order_of
from ipv6scan.report.targets import Ranking, series

WORST = 10  # organisations on the first screen; the ranking has them all
CHANGES_SHOWN = 8  # changes of each kind on the first screen (summary.json has more)
FIXES_SHOWN = 5


@dataclass(frozen=True)
class Banner:
    tone: str  # CSS: "alert" (a part of a run) or "" (a note)
    text: str


@dataclass(frozen=True)
class ScoreRow:
    name: str
    score: float | None
    change: str  # "+3.1" since the previous run, "" when unknown or unchanged
    falling: bool
    stage: str = ""  # organisations only: the stage's name
    anchor: str = ""  # organisations with a drill-down


@dataclass(frozen=True)
class Scoreboard:
    sectors: list[ScoreRow]
    tiers: list[ScoreRow]
    targets: list[ScoreRow]  # the WORST lowest scores, worst first
    targets_total: int


@dataclass(frozen=True)
class ChangeLine:
    target: str
    where: str  # tier and subject
    check: str  # the check's name
    check_id: str
    old: str  # a status id, "" for none
    new: str
    old_intermittent: bool
    detail: str  # in the report's language


@dataclass(frozen=True)
class Gate:
    name: str  # the option, as typed
    passed: bool
    text: str


@dataclass(frozen=True)
class Changes:
    previous: str  # the previous run's date, "" when there was none
    state: str  # "compared", "first-run" (nothing before) or "not-compared" (too large)
    counts: list[tuple[str, str, str]]  # (kind, label, count) of each kind with any
    regressed: list[ChangeLine]
    improved: list[ChangeLine]
    intermittent: list[ChangeLine]
    scores: list[tuple[str, str, str, bool]]  # (target, old, new, fell)
    added: list[str]
    removed: list[str]
    overall: str  # "62.0 → 58.5", "" when unknown
    more: dict[str, int]  # kind -> changes not listed here
    gates: list[Gate]


@dataclass(frozen=True)
class TopFix:
    fix: ShownFix
    check: str  # its name
    targets: str  # organisations affected, formatted
    gain: str  # points the overall score would gain, "" when unknown


def banners(p: ov.Parts, summary: Mapping[str, Any]) -> list[Banner]:
    _, fmt = p._, p.fmt
    out = []
    coverage = _dict(summary.get("coverage"))
    targets = _dict(summary.get("overall")).get("targets", 0)
    if coverage.get("complete") is False:
        out.append(Banner("alert", _(
            "This scan was interrupted: the report covers only the %(num)s targets whose"
            " checks had finished. Scores and changes are of that part; scan again for"
            " the whole picture.", num=fmt.number(targets))))  # fmt: skip
    shard = coverage.get("shard")
    if isinstance(shard, list) and len(shard) == 2:
        out.append(Banner("alert", _(
            "This report covers shard %(k)s of %(n)s: a part of the target lists."
            " Merge the shards (ipv6scan merge) for a report of the whole.",
            k=fmt.number(shard[0]), n=fmt.number(shard[1]))))  # fmt: skip
    merged = _dict(summary.get("scanner")).get("merged_from")
    if isinstance(merged, list) and merged:
        out.append(Banner("", _(
            "This report is merged from %(num)s result directories (shards of one scan).",
            num=fmt.number(len(merged)))))  # fmt: skip
    return out


def scoreboard(p: ov.Parts, summary: Mapping[str, Any], ranking: Ranking) -> Scoreboard:
    trends = _dict(summary.get("trends"))
    sectors = _dict(summary.get("sectors"))
    sector_rows = [
        _row(p, p.words.sector(s), _num(_dict(sectors[s]).get("score")),
             series(_dict(trends.get("sectors")).get(s)))
        for s in order_of(SECTORS, sectors)
    ]  # fmt: skip
    tiers = _dict(_dict(summary.get("overall")).get("tiers"))
    tier_rows = [
        _row(p, p.words.tier(t), _num(_dict(tiers[t]).get("score")),
             series(_dict(trends.get("tiers")).get(t)))
        for t in order_of(TIERS, tiers)
    ]  # fmt: skip
    worst = sorted(ranking.rows, key=lambda v: (v.score is not None, v.score or 0.0, v.name))
    target_rows = [
        _row(p, v.name, v.score, v.trend, stage=p.words.stage(v.stage),
             anchor=v.anchor if v.drill else "")
        for v in worst[:WORST]
    ]  # fmt: skip
    total = int(_dict(summary.get("overall")).get("targets") or len(ranking.rows))
    return Scoreboard(_worst_first(sector_rows), _worst_first(tier_rows), target_rows, total)


def _worst_first(rows: list[ScoreRow]) -> list[ScoreRow]:
    return sorted(rows, key=lambda r: (r.score is None, r.score or 0.0))


def _row(
    p: ov.Parts,
    name: str,
    score: float | None,
    points: Sequence[tuple[str, float]],
    stage: str = "",
    anchor: str = "",
) -> ScoreRow:
    change, falling = "", False
    if len(points) > 1 and points[-1][1] != points[-2][1]:
        delta = points[-1][1] - points[-2][1]
        change, falling = ("+" if delta > 0 else "") + p.fmt.score(delta), delta < 0
    return ScoreRow(name, score, change, falling, stage, anchor)


def changes(p: ov.Parts, summary: Mapping[str, Any]) -> Changes | None:
    """None when the run has no previous run to compare with."""
    _, fmt = p._, p.fmt
    raw = _dict(summary.get("changes"))
    run = _dict(summary.get("run"))
    gates = _gates(p, summary)
    if not raw:
        if not run and not gates:
            return None  # a report without a history: nothing to say
        state = "first-run" if run.get("previous") is None else "not-compared"
        return Changes("", state, [], [], [], [], [], [], [], "", {}, gates)
    counts = _dict(raw.get("counts"))
    labels = {
        "regressed": _("Regressed"),
        "improved": _("Improved"),
        "intermittent": _("Intermittent"),
        "undecided": _("Changed to or from error or skip"),
        "appeared": _("New results"),
        "disappeared": _("Results gone"),
        "scores_fell": _("Scores fell"),
        "scores_rose": _("Scores rose"),
        "targets_added": _("Targets added"),
        "targets_removed": _("Targets removed"),
    }
    shown = [(k, labels[k], fmt.number(counts[k])) for k in labels if _int(counts.get(k))]
    lines = {k: _lines(p, raw.get(k)) for k in ("regressed", "improved", "intermittent")}
    more = {
        k: _int(counts.get(k)) - len(v) for k, v in lines.items() if _int(counts.get(k)) > len(v)
    }
    scores = [
        (str(s.get("target", "")), fmt.score(s.get("old")) or "–", fmt.score(s.get("new")) or "–",
         _num(s.get("new")) is not None and (_num(s.get("old")) or 0) > (_num(s.get("new")) or 0))
        for s in _list(raw.get("scores"))[:CHANGES_SHOWN]
        if isinstance(s, Mapping)
    ]  # fmt: skip
    overall = _dict(raw.get("overall"))
    old, new = fmt.score(overall.get("old")), fmt.score(overall.get("new"))
    return Changes(
        previous=fmt.date(_dict(raw.get("previous")).get("started")),
        state="compared",
        counts=shown,
        regressed=lines["regressed"],
        improved=lines["improved"],
        intermittent=lines["intermittent"],
        scores=scores,
        added=[str(n) for n in _list(raw.get("targets_added"))[:CHANGES_SHOWN]],
        removed=[str(n) for n in _list(raw.get("targets_removed"))[:CHANGES_SHOWN]],
        overall=f"{old} → {new}" if old and new else "",
        more=more,
        gates=gates,
    )


def _lines(p: ov.Parts, raw: object) -> list[ChangeLine]:
    out = []
    for c in _list(raw)[:CHANGES_SHOWN]:
        if not isinstance(c, Mapping):
            continue
        tier, subject, check = (str(c.get(k, "")) for k in ("tier", "subject", "check"))
        where = subject if tier == "services" else f"{p.words.tier(tier)} · {subject}"
        out.append(ChangeLine(
            target=str(c.get("target", "")),
            where=where,
            check=p.words.check(check),
            check_id=check,
            old=str(c.get("old") or ""),
            new=str(c.get("new") or ""),
            old_intermittent=bool(c.get("old_intermittent")),
            detail=_detail(p, c),
        ))  # fmt: skip
    return out


def _detail(p: ov.Parts, change: Mapping[str, Any]) -> str:
    """A change's detail in the report's language, from its key when it has one."""
    text = str(change.get("detail") or "")
    key = change.get("detail_key")
    if isinstance(key, str):
        params = change.get("detail_params")
        text = Detail(text, key, params if isinstance(params, Mapping) else None)
    # the catalogue's templates as they are (p._ formats): render_detail fills them in
    return render_detail(text, translations(p.words.lang).gettext, p.words.lang)


def _gates(p: ov.Parts, summary: Mapping[str, Any]) -> list[Gate]:
    _, fmt = p._, p.fmt
    out = []
    for g in _list(summary.get("gates")):
        if not isinstance(g, Mapping):
            continue
        passed = g.get("passed") is True
        if g.get("gate") == "fail-on-regression":
            reason = str(g.get("reason") or "")
            texts = {
                "regressed": _("failed: %(num)s results went from pass to warn or fail, or"
                               " scores fell", num=fmt.number(g.get("findings", 0))),
                "no-regression": _("passed: nothing regressed since the previous run"),
                "no-previous-run": _("passed: no previous run to compare with"),
                "interrupted": _("not judged: the scan was interrupted"),
                "history-failed": _("failed: the history could not be read or written"),
            }  # fmt: skip
            out.append(Gate("--fail-on-regression", passed, texts.get(reason, "")))
        elif g.get("gate") == "fail-under":
            words = dict(threshold=fmt.score(g.get("threshold")), score=fmt.score(g.get("score")))
            if g.get("score") is None:
                text = _("failed: the scan is not scored")
            elif passed:
                text = _("passed: overall score %(score)s, at least %(threshold)s", **words)
            else:
                text = _("failed: overall score %(score)s, below %(threshold)s", **words)
            out.append(Gate("--fail-under", passed, text))
    return out


def top_fixes(p: ov.Parts, summary: Mapping[str, Any]) -> list[TopFix] | None:
    """None for a summary without `fixes` (an older scorer): nothing to rank by."""
    if "fixes" not in summary:
        return None
    out = []
    for item in _list(_dict(summary.get("fixes")).get("top")):
        if not isinstance(item, Mapping):
            continue
        fix = p.words.fix(item.get("fix"))
        if fix is None:
            continue
        gain = _num(item.get("overall_gain"))
        out.append(TopFix(
            fix,
            p.words.check(fix.check),
            p.fmt.number(item.get("targets", 0)),
            p._("+%(gain)s points", gain=p.fmt.score(gain)) if gain else "",
        ))  # fmt: skip
        if len(out) == FIXES_SHOWN:
            break
    return out


def _num(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
