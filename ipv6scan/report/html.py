"""report.html: one self-contained file that fetches nothing, in English or Chinese.

The page carries its own CSS and a small script inline, and a Content-Security-Policy
that forbids every fetch and runs only that script and that stylesheet (by hash): even
if some scanned text ever slipped past escaping, the browser would not run it. Jinja
autoescapes everything; SVG charts are drawn in Python with every text escaped.
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
from ipv6scan.report.labels import STATUSES
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
    template = _env(lang).get_template("report.html.j2")
    return template.render(
        r=report,
        lang=lang,
        statuses=STATUSES,
        css=Markup(css),  # our own files, never data
        js=Markup(js),
        csp=csp,
        js_text=_js_text(gettext),
    )


def _js_text(_: view.Gettext) -> dict[str, str]:
    """The few words the script writes itself; it fills the {braces} in."""
    return {
        "shown": _("Showing {from}–{to} of {total} rows"),
        "none": _("No rows match the filters."),
        "prev": _("Previous page"),
        "next": _("Next page"),
    }


def write_html(
    results: Iterable[CheckResult], summary: Mapping[str, Any], lang: str, path: Path
) -> None:
    path.write_text(render_html(results, summary, lang), encoding="utf-8")
