"""report.html: escaping of hostile scanned text, no fetches, both languages, charts,
the optional summary parts, and a bounded page for a 100k-target run."""

from __future__ import annotations

import base64
import hashlib
import re
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from ipv6scan.model import CheckResult, Status
from ipv6scan.report import digest as digest_module
from ipv6scan.report.html import LANGS, render_html, write_html
from ipv6scan.report.i18n import LOCALE_DIR
from ipv6scan.report.packed import unpack_page
from ipv6scan.scoring import summarize

REPORT = Path(__file__).resolve().parents[2] / "ipv6scan" / "report"

SCRIPT = "<script>alert(1)</script>"
ATTR = '"><img src=x onerror=alert(1)>'
CLOSE = "</script><script>alert(2)</script>"


def result(
    status: str = "pass",
    *,
    target: str = "Portal",
    sector: str = "government",
    tier: str = "services",
    subject: str = "www.gov.example",
    check: str = "dns.aaaa",
    detail: str = "1 global AAAA record: 2001:db8::1.",
    evidence: dict[str, Any] | None = None,
) -> CheckResult:
    return CheckResult(
        target,
        sector,
        tier,
        subject,
        check,
        Status(status),
        detail,
        evidence if evidence is not None else {"addresses": ["2001:db8::1"]},
        5.0,
    )


MIXED = [
    result("pass"),
    result("warn", check="dns.ns_ipv6", subject="gov.example", detail="Only one NS has AAAA."),
    result("fail", check="dns.mx_ipv6", subject="gov.example", detail="No MX host has AAAA."),
    result("error", check="dns.ns_reachable", subject="gov.example", detail="SERVFAIL."),
    result("skip", check="mail.smtp", subject="gov.example", detail="No MX has AAAA."),
    result(
        "pass",
        target="Operator",
        sector="operator",
        tier="metro",
        subject="2001:db8:53::53",
        check="resolver.ipv6",
        detail="Answered over IPv6.",
    ),
    result(
        "fail",
        target="Operator",
        sector="operator",
        tier="backbone",
        subject="core1.op.example",
        detail="No AAAA.",
    ),
]

HOSTILE = [
    result(
        "fail",
        target=f"Evil {SCRIPT} Corp",
        subject=ATTR,
        detail=f"Server said {SCRIPT}",
        evidence={"banner": CLOSE, "title": "<b>bold</b>", "url": "https://evil.example/x"},
    ),
    result(
        "pass",
        target=f"Evil {SCRIPT} Corp",
        subject="https://evil.example/login",
        check="web.http",
        detail="HTTP 200 from https://evil.example/login",
    ),
]


def full_summary(results: list[CheckResult]) -> dict[str, Any]:
    """The scorer's summary plus the parts another run's history adds."""
    summary = summarize(results)
    summary["scanner"] = {"ipv6": True, "ipv4": True, "dns64_prefixes": [], "notes": []}
    summary["milestones"] = [
        {
            "name": "Government web 90",
            "metric": "score",
            "value": 45.0,
            "target_value": 90,
            "by": "2026-12-31",
            "state": "behind",
            "expected": 60.0,
            "scope": {"sector": "government", "tier": "services"},
            "history": [["2025-01-01", 20.0], ["2025-06-01", 45.0]],
        },
        {
            "name": "Operators resolvers",
            "metric": "pass_share",
            "value": 100.0,
            "target_value": 100,
            "by": "2025-12-31",
            "state": "met",
        },
        {
            "name": f"Hostile {SCRIPT}",
            "metric": "stage_share",
            "value": 10.0,
            "target_value": 50,
            "by": "2027-06-30",
            "state": "on-track",
        },
    ]
    summary["trends"] = {
        "overall": [["2025-01-01", 30.0], ["2025-03-01", 41.5], ["2025-06-01", 52.0]],
        "sectors": {"government": [["2025-01-01", 25.0], ["2025-06-01", 48.0]]},
        "targets": {"Portal": [["2025-01-01", 40.0], ["2025-06-01", 60.0]]},
    }
    return summary


# ------------------------------------------------------------------------------ escaping


@pytest.mark.parametrize("lang", LANGS)
def test_hostile_text_is_shown_as_text(lang: str, tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    write_html(HOSTILE, full_summary(HOSTILE), lang, path)
    html = path.read_text(encoding="utf-8")
    for raw in (SCRIPT, ATTR, CLOSE, "<b>bold</b>", "<img"):
        assert raw not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    # the rows are compressed data, which report.js shows as text: base64, no markup
    blob = re.search(r'id="report-data"[^>]*>(.*?)</script>', html, re.S)
    assert blob is not None and re.fullmatch(r"[A-Za-z0-9+/=]*", blob.group(1))
    assert any(CLOSE in text for text in unpack_page(html)["s"])  # the banner, as it was
    # exactly our three script elements: the word list, the rows (never run) and the code
    assert html.lower().count("<script") == 3
    assert html.lower().count("</script") == 3


def test_evidence_is_escaped_readable_json() -> None:
    results = [result("fail", evidence={"title": "湖南省人民政府", "banner": CLOSE})]
    html = render_html(results, summarize(results), "en")
    doc = unpack_page(html)
    (group,) = next(iter(doc["d"].values()))
    (item,) = group[3]
    evidence = doc["s"][item[1]]  # report.js puts it in a <pre> as text
    assert "湖南省人民政府" in evidence  # Chinese page titles stay legible
    assert '"banner": "</script><script>alert(2)</script>"' in evidence
    assert "</script" not in html[html.index('id="report-data"') :].split("</script>")[0]


def test_script_data_is_tojson_escaped() -> None:
    html = render_html(MIXED, summarize(MIXED), "en")
    data = re.search(r'<script type="application/json" id="report-text">(.*?)</script>', html, re.S)
    assert data is not None and "<" not in data.group(1)


# -------------------------------------------------------------------------- no fetches


class Attributes(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


URL_ATTRS = (
    "src",
    "href",
    "action",
    "formaction",
    "data",
    "poster",
    "srcset",
    "xlink:href",
    "background",
    "ping",
    "manifest",
    "icon",
    "codebase",
    "cite",
    "longdesc",
)


@pytest.mark.parametrize("lang", LANGS)
def test_nothing_points_outside_the_page(lang: str) -> None:
    results = HOSTILE + MIXED
    html = render_html(results, full_summary(results), lang)
    parser = Attributes()
    parser.feed(html)
    for tag, attrs in parser.tags:
        assert tag not in ("img", "link", "iframe", "object", "embed", "base", "form", "audio")
        for name in URL_ATTRS:
            value = attrs.get(name)
            if value is not None:
                assert value.startswith("#"), (tag, name, value)
        assert not any(k.startswith("on") for k in attrs), (tag, attrs)  # no inline handlers
    lowered = html.lower()
    assert "@import" not in lowered and "url(" not in lowered
    # scanned URLs are there, but only as text (in the compressed rows)
    assert "https://evil.example/login" in unpack_page(html)["s"]
    assert 'href="https://' not in lowered and "href='http" not in lowered


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def test_content_security_policy_forbids_fetches_and_foreign_code() -> None:
    html = render_html(MIXED, summarize(MIXED), "en")
    meta = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', html)
    assert meta is not None
    policy = meta.group(1).replace("&#39;", "'")
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'none'"
    for fetch in ("img-src", "connect-src", "font-src", "media-src", "object-src", "frame-src"):
        assert directives[fetch] == "'none'"
    assert "unsafe-eval" not in policy and "http" not in policy
    code = re.search(r"<script>(.*?)</script>", html, re.S)
    style = re.search(r"<style>(.*?)</style>", html, re.S)
    assert code is not None and style is not None
    assert directives["script-src"] == _hash(code.group(1))  # only our script runs
    assert directives["style-src"] == _hash(style.group(1))
    assert html.index("Content-Security-Policy") < html.index("<style>")


# ------------------------------------------------------------------------------- charts


def test_charts_are_inline_svg_with_titles() -> None:
    results = MIXED + HOSTILE
    html = render_html(results, full_summary(results), "en")
    svgs = re.findall(r"<svg [^>]*>", html)
    assert len(svgs) >= 8
    for svg in svgs:
        assert 'role="img"' in svg and "aria-labelledby" in svg
    assert html.count("<svg") == html.count("</svg>")
    for kind in ("ring", "bars", "stacks", "heatmap", "spark", "progress"):
        assert f'class="chart {kind}"' in html, kind
    # every bar carries its value in text, not only as a length
    assert re.search(r'<text [^>]*class="val">51\.|<text [^>]*class="val">', html)
    assert "Pass rate per check and sector" in html
    assert "Score by network tier" in html


# ----------------------------------------------------------------------------- languages


def test_english() -> None:
    html = render_html(MIXED, full_summary(MIXED), "en")
    assert '<html lang="en">' in html
    assert "<title>IPv6 readiness report</title>" in html
    assert 'class="badge s-error">error<' in html
    strings = unpack_page(html)["s"]
    for r in MIXED:
        assert r.subject in strings and r.check in strings
    assert "IPv6 address (AAAA record)" in html
    assert "Government web 90" in html and "Behind" in html and "Met" in html
    assert "Jun 1, 2025" in html  # dates in the reader's format


def test_chinese_reads_chinese() -> None:
    html = render_html(MIXED, full_summary(MIXED), "zh-CN")
    assert '<html lang="zh-CN">' in html
    assert "<title>IPv6 就绪度报告</title>" in html
    for word in (
        "通过",
        "警告",
        "不通过",
        "错误",
        "跳过",
        "总体得分",
        "单位排名",
        "优先整改事项",
        "已达成",
        "进度滞后",
        "按期推进",
        "2025年6月1日",
        "各领域检测项通过率",
    ):
        assert word in html, word
    # no English interface text: every translated msgid of some length is absent
    catalog = _zh_catalog()
    for message in catalog:
        long = isinstance(message.id, str) and len(message.id) > 14
        if long and message.string and message.string != message.id:
            assert message.id not in html, message.id


def test_unknown_language_falls_back_to_english() -> None:
    assert "IPv6 readiness report" in render_html(MIXED, summarize(MIXED), "fr")


def test_numbers_use_the_locale() -> None:
    summary = summarize(MIXED)
    summary["overall"]["score"] = 1234.5  # no real score is this big; it shows grouping
    assert "1,234.5" in render_html(MIXED, summary, "en")
    assert "1,234.5" in render_html(MIXED, summary, "zh-CN")


def _zh_catalog() -> Any:
    with (LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh)


def _extracted() -> set[str]:
    method_map = [("templates/**.j2", "jinja2"), ("**.py", "python")]
    options = {"templates/**.j2": {"extensions": "jinja2.ext.i18n"}}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(REPORT), method_map, options_map=options
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    # the checks' names, which the registry declares (babel.cfg reads it too)
    registry = [("registry.py", "python")]
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(REPORT.parent / "checks"), registry
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_every_message_has_a_chinese_translation() -> None:
    catalog = _zh_catalog()
    translated = {}
    for m in catalog:
        if not m.id:
            continue
        key = m.id[0] if isinstance(m.id, tuple) else m.id
        text = m.string[0] if isinstance(m.string, tuple) else m.string
        assert text and not m.fuzzy, key
        # the same placeholders, or formatting fails at run time
        assert set(re.findall(r"%\(\w+\)s|\{\w+\}", key)) == set(
            re.findall(r"%\(\w+\)s|\{\w+\}", text)
        ), key
        translated[key] = text
    extracted = _extracted()
    assert extracted - set(translated) == set(), "run pybabel extract/update (see i18n.py)"
    assert set(translated) - extracted == set(), "obsolete entries in messages.po"


class TextNodes(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.skip += tag in ("style", "script")
        for name, value in attrs:
            if name in ("title", "placeholder", "aria-label", "alt") and value:
                self.texts.append(value)

    def handle_endtag(self, tag: str) -> None:
        self.skip -= tag in ("style", "script")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.texts.append(data)


@pytest.mark.parametrize("name", ["report.html.j2", "_macros.html.j2"])
def test_templates_have_no_words_outside_the_catalogue(name: str) -> None:
    source = (REPORT / "templates" / name).read_text(encoding="utf-8")
    bare = re.sub(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", " ", source, flags=re.S)
    parser = TextNodes()
    parser.feed(bare)
    words = [t.strip() for t in parser.texts if re.search(r"[A-Za-z\u4e00-\u9fff]", t)]
    assert words == [], words


# ------------------------------------------------------------------------ summary parts


def test_minimal_summary_renders() -> None:
    """The v1 contract's summary alone: no counts, no colours, no stages, no history."""
    summary = {
        "schema": 1,
        "overall": {"score": 50.0},
        "sectors": {"government": {"score": 50.0, "targets": 1}},
        "targets": [
            {
                "name": "Portal",
                "sector": "government",
                "score": 50.0,
                "stage": "ipv4-only",
                "tiers": {"services": {"score": 50.0}},
            }
        ],
    }
    html = render_html(MIXED[:3], summary, "zh-CN")
    assert "仅IPv4" in html and "www.gov.example" in unpack_page(html)["s"]  # scorer's name
    assert "阶段目标" not in html and 'id="trends"' not in html


def test_empty_run_renders() -> None:
    html = render_html([], summarize([]), "en")
    assert "IPv6 readiness report" in html and "not scored" in html


def test_broken_optional_parts_are_ignored() -> None:
    summary = summarize(MIXED)
    summary.update(
        milestones="soon", trends={"overall": [["x"], "y", [None, "z"]]}, stages=7, scanner=[]
    )
    summary["targets"][0].update(fix_first=[1, "a"], services="green", subjects=None)
    assert "IPv6 readiness report" in render_html(MIXED, summary, "en")


def test_optional_parts_are_shown() -> None:
    summary = full_summary(MIXED)
    html = render_html(MIXED, summary, "en")
    assert 'id="trends"' in html and 'class="chart spark"' in html
    assert "+22.0" in html  # overall change since the first point
    assert "Milestones" in html and "expected by now: 60.0" in html
    portal = next(t for t in summary["targets"] if t["name"] == "Portal")
    if portal.get("fix_first"):
        assert f"+{portal['fix_first'][0]['gain']:.1f} points" in html
    if portal.get("services"):
        assert 'class="light l-' in html


def test_what_to_fix_first_without_the_scorers_list() -> None:
    summary = summarize(MIXED)
    for t in summary["targets"]:
        t.pop("fix_first", None)
    html = render_html(MIXED, summary, "en")
    fix = html[html.index("What to fix first") :]
    assert fix.index("Mail servers have IPv6 addresses") < fix.index("Name servers have IPv6")


def test_scanner_without_ipv6_is_flagged() -> None:
    summary = summarize(MIXED)
    summary["scanner"] = {
        "ipv6": False,
        "ipv4": True,
        "dns64_prefixes": ["64:ff9b::/96"],
        "notes": ["no IPv6 route"],
    }
    html = render_html(MIXED, summary, "zh-CN")
    assert 'role="alert"' in html and "64:ff9b::/96" in html and "检测节点" in html


def test_drill_down_lists_every_check_with_evidence() -> None:
    html = render_html(MIXED, summarize(MIXED), "en")
    drills = html[html.index('id="details"') : html.index('id="results"')]
    assert drills.count('<details class="target"') == 2
    assert drills.count('<div class="drill-rows" data-drill="') == 2
    doc = unpack_page(html)
    s, rows = doc["s"], doc["r"]
    assert set(doc["d"]) == set(re.findall(r'data-drill="(t\d+)"', drills))
    items = [item for groups in doc["d"].values() for g in groups for item in g[3]]
    assert sorted(s[rows[i][6]] for i, _ev in items) == sorted(r.detail for r in MIXED)
    assert all(ev >= 0 and s[ev].startswith("{") for _i, ev in items)  # each with evidence
    # each result once: the drill-downs point at the table's rows
    assert len(rows) == doc["t"] == len(MIXED) and {i for i, _ev in items} == set(range(7))


def test_ranking_is_best_first() -> None:
    html = render_html(MIXED, summarize(MIXED), "en")
    rows = unpack_page(html)["k"]["rows"]  # report.js draws them (html.py _ranking)
    scores = [row[2] for row in rows]
    assert len(scores) == 2 and scores == sorted(scores, reverse=True)
    assert [row[14] for row in rows] == [1, 2]


# --------------------------------------------------------------------------- huge runs

N = 100_000


def huge_run() -> tuple[Iterator[CheckResult], dict[str, Any]]:
    stages = ("ipv4-only", "aaaa-published", "reachable", "dual-stack", "ipv6-ready")
    targets = [
        {
            "name": f"site{i}.example",
            "sector": "enterprise",
            "score": float(i % 101),
            "stage": stages[i % 5],
            "tiers": {"services": {"score": float(i % 101), "counts": {"pass": 1}}},
        }
        for i in range(N)
    ]
    summary = {
        "schema": 1,
        "overall": {"score": 50.0, "targets": N},
        "sectors": {"enterprise": {"score": 50.0, "targets": N}},
        "targets": targets,
    }

    # web.links-sized evidence on every result: the drill-downs must cut it
    evidence = {"failing": [f"https://site.example/page/{k}" for k in range(300)]}

    def results() -> Iterator[CheckResult]:
        for i in range(N):
            status = Status.FAIL if i % 3 else Status.PASS
            for check in ("dns.aaaa", "web.links"):
                yield CheckResult(
                    f"site{i}.example",
                    "enterprise",
                    "services",
                    f"site{i}.example",
                    check,
                    status,
                    "Detail " * 20,
                    evidence,
                    1.0,
                )

    return results(), summary


def test_a_huge_run_stays_small_and_says_where_the_rest_is() -> None:
    results, summary = huge_run()
    started = time.monotonic()
    html = render_html(results, summary, "en")
    elapsed = time.monotonic() - started
    size = len(html.encode("utf-8"))
    assert size < 5 * 1000 * 1000, size
    assert elapsed < 60
    rows = html.count("<tr data-sector=")
    assert rows < 10_000  # the ranking, never 100k
    assert "100,000" in html and "results.csv" in html and "summary.json" in html
    doc = unpack_page(html)
    table = doc["r"][: doc["t"]]
    assert len(table) == digest_module.TABLE_LIMIT
    assert "pass" not in {doc["s"][r[5]] for r in table}  # a huge run's table: the problems
    assert html.count('<details class="target"') <= 300
    assert next(results, None) is None  # streamed through once


def test_a_small_run_lists_every_result() -> None:
    html = render_html(MIXED, summarize(MIXED), "en")
    assert unpack_page(html)["t"] == len(MIXED)
