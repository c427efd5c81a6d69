"""report.html: one self-contained file that fetches nothing, in English or Chinese.

The page carries its own CSS and a small script inline, and a Content-Security-Policy
that forbids every fetch and runs only that script and that stylesheet (by hash): even
if some scanned text ever slipped past escaping, the browser would not run it. Jinja
autoescapes everything; SVG charts are drawn in Python with every text escaped. The
ranking's rows, the drill-downs' checks and the result table are compressed data inside
the page (report/packed.py), which the script shows as text when a reader comes to them.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from ipv6scan.model import CheckResult
from ipv6scan.report import i18n, view
from ipv6scan.report.digest import Digest
from ipv6scan.report.fixes import used_keys
from ipv6scan.report.labels import STATUSES
from ipv6scan.report.packed import DrillRows, Packed, pack
from ipv6scan.report.targets import Census

LANGS: tuple[str, ...] = tuple(i18n.LOCALES)
TEMPLATES = Path(__file__).with_name("templates")


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


@lru_cache(maxsize=1)
def _assets() -> tuple[str, str, str]:
    """(css, js, csp). Hashes must match the bytes between the tags exactly."""
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    js = (TEMPLATES / "report.js").read_text(encoding="utf-8")
    for name, text, tag in (("report.css", css, "</style"), ("report.js", js, "</script")):
        if tag in text.lower():  # it would end the inline element early
            raise ValueError(f"{name} must not contain {tag}")
    csp = (
        f"default-src 'none'; style-src {_sha256(css)}; script-src {_sha256(js)}; "
        "img-src 'none'; font-src 'none'; connect-src 'none'; media-src 'none'; "
        "object-src 'none'; frame-src 'none'; worker-src 'none'; manifest-src 'none'; "
        "base-uri 'none'; form-action 'none'"
    )
    return css, js, csp


def _newstyle(translations: Any) -> view.Gettext:
    """Python-side gettext that formats like Jinja's newstyle gettext does."""

    def gettext(message: str, **variables: object) -> str:
        return str(translations.gettext(message)) % variables

    return gettext


@lru_cache(maxsize=len(LANGS))
def _env(lang: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,  # every string from a scanned server is hostile until escaped
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(i18n.translations(lang), newstyle=True)  # type: ignore[attr-defined]
    return env


def render_html(results: Iterable[CheckResult], summary: Mapping[str, Any], lang: str) -> str:
    lang = lang if lang in LANGS else "en"
    gettext = _newstyle(i18n.translations(lang))
    return _render(view.build(results, summary, lang, gettext, now=dt.datetime.now(dt.UTC)), lang)


def write_html_from(
    census: Census, d: Digest, summary: Mapping[str, Any], lang: str, path: Path
) -> None:
    """report.html from the finish stage's census and digest (view.build_from)."""
    lang = lang if lang in LANGS else "en"
    gettext = _newstyle(i18n.translations(lang))
    report = view.build_from(census, d, summary, lang, gettext, now=dt.datetime.now(dt.UTC))
    path.write_text(_render(report, lang), encoding="utf-8")


def _render(report: view.Report, lang: str) -> str:
    gettext = _newstyle(i18n.translations(lang))
    css, js, csp = _assets()
    data = _pack(report, lang)
    # every fix a row names is written once in the list (#fixes), where report.js finds it
    report.fixes = used_keys({*report.fixes, *(row.fix for row in report.table)})
    template = _env(lang).get_template("report.html.j2")
    return template.render(
        r=report,
        lang=lang,
        statuses=STATUSES,
        css=Markup(css),  # our own files, never data
        js=Markup(js),
        csp=csp,
        js_text=_js_text(gettext),
        data=data,
    )


def _pack(report: view.Report, lang: str) -> Packed:
    """The table's rows, the drill-downs' checks and the ranking, compressed (packed.py)."""
    fmt = report.fmt
    drills = [
        DrillRows(
            d.target.anchor,
            d.target.name,
            [(g.tier, g.subject, fmt.score(g.score), g.results) for g in d.groups],
        )
        for d in report.drills
    ]
    details = i18n.translations(lang).gettext
    return pack(report.table, drills, report.words, details, lang, ranking=_ranking(report))


def _ranking(report: view.Report) -> dict[str, Any]:
    """The ranking's rows as report.js draws them (rankingSpec), each a list:
    [name, sector, score, score shown, stage, [[service, light]...], [[tier score, shown]
    per column of tiers], trend scores, first date, last date, first score shown, last
    score shown, failures, drill-down anchor or "", rank]."""
    fmt, words = report.fmt, report.words
    date = lru_cache(maxsize=None)(fmt.date)  # a history's dates repeat on every row
    # and so do scores (100.0, 0.0): formatted once each; typed, as True is not 1
    shown = lru_cache(maxsize=None, typed=True)(fmt.score)
    rows: list[list[Any]] = []
    for v in report.ranking.rows:
        trend = v.trend if len(v.trend) > 1 else []
        ends = (trend[0], trend[-1]) if trend else (("", None), ("", None))
        rows.append([
            v.name, v.sector, v.score, shown(v.score), v.stage,
            [[service, light] for service, light in v.services.items()],
            [[v.tiers.get(t), shown(v.tiers.get(t)) or "–"] for t in report.tiers_present],
            [round(score, 1) for _date, score in trend],
            date(ends[0][0]) if trend else "", date(ends[1][0]) if trend else "",
            shown(ends[0][1]), shown(ends[1][1]),
            v.counts.get("fail", 0), v.anchor if v.drill else "", v.rank,
        ])  # fmt: skip
    stages = {row[4] for row in rows}
    services = {service for row in rows for service, _light in row[5]}
    lights = {light for row in rows for _service, light in row[5]}
    return {
        "rows": rows,
        "tiers": list(report.tiers_present),
        "sector": {k: words.sector(k) for k in sorted({row[1] for row in rows})},
        "stage": {k: [words.stage(k), report.stage_rank.get(k, -1)] for k in sorted(stages)},
        "service": {k: words.service(k) for k in sorted(services)},
        "light": {k: words.light(k) for k in sorted(lights)},
    }


def _js_text(_: view.Gettext) -> dict[str, str]:
    """The few words the script writes itself; it fills the {braces} in."""
    return {
        "shown": _("Showing {from}–{to} of {total} rows"),
        "none": _("No rows match the filters."),
        "prev": _("Previous page"),
        "next": _("Next page"),
        # the drill-downs' tables, which the script builds from the compressed rows
        "check": _("Check"),
        "status": _("Status"),
        "detail": _("Detail and evidence"),
        "evidence": _("Evidence"),
        "score": _("score %(score)s", score="{score}"),
        "loading": _("Loading…"),
        # the ranking's rows and their trend lines, which the script builds too
        "trend": _("Trend: %(name)s", name="{name}"),
        "trend_desc": _(
            "%(name)s: %(first)s on %(start)s, %(last)s on %(end)s",
            name="{name}",
            first="{first}",
            last="{last}",
            start="{start}",
            end="{end}",
        ),
        "unscored": _("not scored"),
        "pair": _("%(label)s: %(value)s", label="{label}", value="{value}"),
        "failed": _(
            "This browser cannot open the compressed rows; every result is in results.csv."
        ),
    }


def write_html(
    results: Iterable[CheckResult], summary: Mapping[str, Any], lang: str, path: Path
) -> None:
    path.write_text(render_html(results, summary, lang), encoding="utf-8")
