"""report.html in a real browser: Debian's headless Chromium, driven by Playwright, opens
the file from file:// and is used the way a reader would use it.

Needs `apt-get install chromium` (scripts/setup.sh does it) and the `playwright` pip
package; no Playwright browser download is used. Without Chromium the tests skip,
except under CI (CI=true) where they fail.

IPV6SCAN_SCREENSHOT=docs/report-screenshot.png also writes the screenshot that the README
and docs/report.md show.
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ipv6scan.model import CheckResult, Status
from ipv6scan.report.html import write_html
from ipv6scan.scoring import summarize

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HOSTILE = "<script>alert('pwned')</script>\"><img src=x onerror=alert(2)>"


def _unavailable() -> str | None:
    if not Path(CHROMIUM).is_file():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install playwright)"
    return None


# ------------------------------------------------------------------------ a sample run

GOVERNMENT = [
    ("示范省人民政府", "gov.example", 0.9),
    ("东山市人民政府", "dongshan.gov.example", 0.8),
    ("西岭市人民政府", "xiling.gov.example", 0.65),
    ("南湖市人民政府", "nanhu.gov.example", 0.5),
    ("北川市人民政府", "beichuan.gov.example", 0.35),
    ("青石市人民政府", "qingshi.gov.example", 0.2),
    ("白沙市人民政府", "baisha.gov.example", 0.05),
]
OPERATORS = [
    ("示范电信", "telecom.example", 0.85),
    ("示范移动", "mobile.example", 0.7),
    ("示范联通", "unicom.example", 0.55),
]
ENTERPRISES = [
    ("示范银行", "bank.example", 0.6),
    ("示范电网", "grid.example", 0.3),
]
EVIL = (f"Evil {HOSTILE} Corp", "evil.example", 0.1)


@dataclass
class Run:
    """Results of a made-up scan: each target passes each check with its `maturity`."""

    rng: random.Random
    results: list[CheckResult] = field(default_factory=list)

    def add(self, where: tuple[str, str, str, str], check: str, status: str, detail: str,
            evidence: dict[str, Any]) -> None:  # fmt: skip
        duration = self.rng.uniform(5, 900)
        self.results.append(CheckResult(*where, check, Status(status), detail, evidence, duration))

    def outcome(self, maturity: float) -> str:
        roll = self.rng.random()
        if roll < 0.03:
            return "error"
        return "pass" if roll < maturity else "warn" if roll < maturity + 0.12 else "fail"

    def domain(self, target: str, sector: str, domain: str, m: float) -> None:
        zone = (target, sector, "services", domain)
        for check in ("dns.ns_ipv6", "dns.ns_reachable", "dns.mx_ipv6", "mail.smtp"):
            status = "skip" if check == "mail.smtp" and m < 0.3 else self.outcome(m)
            self.add(zone, check, status, f"{check} {status} for {domain}.", {"zone": domain})
        for host in (domain, "www." + domain):
            where = (target, sector, "services", host)
            page = {"url": f"https://{host}/", "title": f"{target} 门户网站"}
            aaaa = self.outcome(m + 0.1)
            found = "no global AAAA" if aaaa == "fail" else "a global AAAA: 2001:db8::80"
            self.add(where, "dns.aaaa", aaaa, f"{host} has {found}.", page)
            for check in ("web.reachable", "web.http", "web.parity", "web.links", "web.latency"):
                status = "skip" if aaaa == "fail" else self.outcome(m)
                self.add(where, check, status, f"{check} {status} on https://{host}/.", page)

    def systems(self, target: str, domain: str, m: float) -> None:
        tiers = {
            "backbone": [("net.ping", "2001:db8:1::1"), ("net.trace", "2001:db8:1::1"),
                         ("dns.aaaa", f"core1.{domain}")],
            "metro": [("resolver.ipv6", "2001:db8:53::53"), ("dns.aaaa", f"bras1.{domain}")],
            "access": [("web.http", f"https://selfcare.{domain}/"),
                       ("web.reachable", f"selfcare.{domain}")],
            "support": [("dns.aaaa", f"oss.{domain}"), ("dns.aaaa", f"crm.{domain}")],
        }  # fmt: skip
        for tier, checks in tiers.items():
            for check, subject in checks:
                status = self.outcome(m - 0.1 if tier == "access" else m)
                where = (target, "operator", tier, subject)
                self.add(where, check, status, f"{check} {status} for {subject}.", {})


def sample_run(hostile: bool = True) -> tuple[list[CheckResult], dict[str, Any]]:
    """A provincial audit in miniature; `hostile` adds a target and a milestone whose
    names carry markup, as a scanned or configured string might."""
    run = Run(random.Random(6))
    enterprises = [*ENTERPRISES, EVIL if hostile else ("示范航空", "air.example", 0.1)]
    for sector, group in (
        ("government", GOVERNMENT),
        ("operator", OPERATORS),
        ("enterprise", enterprises),
    ):
        for target, domain, m in group:
            run.domain(target, sector, domain, m)
            if sector == "operator":
                run.systems(target, domain, m)
    summary = summarize(run.results)
    summary["scanner"] = {"ipv6": True, "ipv4": True, "dns64_prefixes": [], "notes": []}
    overall = summary["overall"]["score"] or 0.0
    dates = ["2025-01-15", "2025-04-15", "2025-07-15", "2025-10-15"]

    def rising(score: float | None, *steps: float) -> list[list[Any]]:
        """A history that climbs to today's score."""
        return [[d, round((score or 0.0) * f, 1)] for d, f in zip(dates, steps, strict=False)]

    summary["trends"] = {
        "overall": rising(overall, 0.55, 0.7, 0.85, 1),
        "sectors": {
            n: rising(s["score"], 0.6, 0.75, 0.9, 1) for n, s in summary["sectors"].items()
        },
        "targets": {t["name"]: rising(t["score"], 0.5, 0.8, 1) for t in summary["targets"]},
    }
    summary["milestones"] = [
        {
            "name": "政务外网门户 IPv6 就绪",
            "metric": "score",
            "scope": {"sector": "government"},
            "value": summary["sectors"]["government"]["score"],
            "target_value": 90,
            "by": "2026-06-30",
            "state": "behind",
            "expected": 72.0,
        },
        {
            "name": "骨干网双栈改造",
            "metric": "pass_share",
            "scope": {"tier": "backbone"},
            "value": 80.0,
            "target_value": 80,
            "by": "2025-12-31",
            "state": "met",
        },
        {
            "name": f"Hostile {HOSTILE}" if hostile else "IPv6 就绪单位过半",
            "metric": "stage_share",
            "scope": {"stage": "ipv6-ready"},
            "value": 20.0,
            "target_value": 50,
            "by": "2027-12-31",
            "state": "on-track",
        },
    ]
    return run.results, summary


# ------------------------------------------------------------------------------ browser


@dataclass
class Seen:
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    results, summary = sample_run()
    out = tmp_path_factory.mktemp("report")
    paths = {}
    for lang in ("en", "zh-CN"):
        paths[lang] = out / f"report-{lang}.html"
        write_html(results, summary, lang, paths[lang])
    return paths


@pytest.fixture(scope="module")
def browser_context() -> Iterator[Any]:
    reason = _unavailable()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the browser test cannot run under CI: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with (
        tempfile.TemporaryDirectory(prefix="ipv6scan-chromium-") as profile,
        sync_playwright() as p,
    ):
        # a persistent context on a fresh directory is Chromium's --user-data-dir
        context = p.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
            viewport={"width": 1280, "height": 900},
            locale="en-US",
        )
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def opened(browser_context: Any, reports: dict[str, Path], request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """A page on one report with everything the browser does recorded."""
    lang = getattr(request, "param", "en")
    url = reports[lang].as_uri()
    seen = Seen()
    page = browser_context.new_page()

    def console(message: Any) -> None:
        if message.type == "error":
            seen.console_errors.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda e: seen.page_errors.append(str(e)))
    page.on("request", lambda r: seen.requests.append(r.url))

    def dialog(d: Any) -> None:
        seen.dialogs.append(d.message)
        d.dismiss()

    page.on("dialog", dialog)
    page.goto(url, wait_until="load")
    page.wait_for_timeout(100)  # let anything deferred (it should not exist) happen
    yield page, seen, url
    page.close()


def visible_texts(page: Any, table: str, column: int) -> list[str]:
    return page.eval_on_selector_all(
        f"#{table} tbody tr:not([hidden])",
        f"rows => rows.map(r => r.cells[{column}].textContent.trim())",
    )


@pytest.mark.parametrize("opened", ["en", "zh-CN"], indirect=True)
def test_opens_with_no_errors_and_no_requests(opened: Any) -> None:
    page, seen, url = opened
    assert seen.console_errors == []  # a CSP violation would be logged here too
    assert seen.page_errors == []
    assert seen.requests == [url]  # the file itself, nothing else
    assert seen.dialogs == []
    assert page.locator("h1").inner_text() in ("IPv6 readiness report", "IPv6 就绪度报告")


@pytest.mark.parametrize("opened", ["en", "zh-CN"], indirect=True)
def test_charts_are_visible(opened: Any) -> None:
    page, _seen, _url = opened
    for kind in ("ring", "bars", "heatmap", "stacks"):
        chart = page.locator(f"svg.chart.{kind}").first
        assert chart.is_visible(), kind
        box = chart.bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 40, kind
    assert page.locator("svg.chart").count() >= 8
    assert page.locator("svg.chart.spark").first.is_visible()  # trends


def test_drill_down_opens_from_the_ranking(opened: Any) -> None:
    page, seen, _url = opened
    link = page.locator("#ranking-table a.drill-link").last  # the lowest score: work to do
    anchor = link.get_attribute("href")
    details = page.locator(f"details{anchor}")
    assert details.evaluate("d => d.open") is False
    link.click()
    assert details.evaluate("d => d.open") is True
    assert details.locator("table.checks").first.is_visible()
    assert details.locator("h3", has_text="What to fix first").is_visible()
    evidence = details.locator("details.evidence").first
    evidence.locator("summary").click()
    assert evidence.locator("pre").is_visible()
    assert seen.page_errors == [] and seen.console_errors == []


def test_sorting_changes_the_visible_rows(opened: Any) -> None:
    page, _seen, _url = opened
    before = visible_texts(page, "ranking-table", 1)
    page.locator("#ranking-table th button", has_text="Target").click()
    ascending = visible_texts(page, "ranking-table", 1)
    assert ascending != before and sorted(ascending) == sorted(before)
    assert page.locator("#ranking-table th[aria-sort=ascending]").count() == 1
    page.locator("#ranking-table th button", has_text="Target").click()
    assert visible_texts(page, "ranking-table", 1) == list(reversed(ascending))

    page.locator("#results-table th button", has_text="Status").click()
    statuses = page.eval_on_selector_all(
        "#results-table tbody tr:not([hidden])", "rows => rows.map(r => r.dataset.status)"
    )
    assert statuses[0] == "pass"


def test_filters_change_the_visible_rows(opened: Any) -> None:
    page, _seen, _url = opened
    rows = "#results-table tbody tr:not([hidden])"
    total = page.locator("#results-table tbody tr").count()
    assert page.locator(rows).count() == min(100, total)  # first page
    page.select_option("#results .filters select[data-key=status]", "fail")
    statuses = page.eval_on_selector_all(rows, "rows => rows.map(r => r.dataset.status)")
    assert statuses and set(statuses) == {"fail"}
    page.select_option("#results .filters select[data-key=sector]", "operator")
    page.select_option("#results .filters select[data-key=tier]", "backbone")
    shown = page.eval_on_selector_all(
        rows, "rows => rows.map(r => [r.dataset.sector, r.dataset.tier, r.dataset.status])"
    )
    assert shown and all(s == ["operator", "backbone", "fail"] for s in shown)
    page.select_option("#results .filters select[data-key=tier]", "")
    page.select_option("#results .filters select[data-key=sector]", "")
    page.select_option("#results .filters select[data-key=status]", "")
    page.fill("#results .filters input[data-key=text]", "xiling")
    texts = page.eval_on_selector_all(rows, "rows => rows.map(r => r.textContent)")
    assert texts and all("xiling" in t for t in texts)
    page.fill("#results .filters input[data-key=text]", "no-such-thing")
    assert page.locator(rows).count() == 0
    assert "No rows" in page.locator("#results .filters .count").inner_text()

    page.select_option("#ranking .filters select[data-key=sector]", "operator")
    names = visible_texts(page, "ranking-table", 1)
    assert set(names) == {"示范电信", "示范移动", "示范联通"}


def test_pages_of_the_result_table(opened: Any) -> None:
    page, _seen, _url = opened
    first = visible_texts(page, "results-table", 3)
    page.locator(".pager[data-table=results-table] button").last.click()
    second = visible_texts(page, "results-table", 3)
    assert second and second != first
    assert "101" in page.locator("#results .filters .count").inner_text()


def test_hostile_text_is_shown_not_run(opened: Any) -> None:
    page, seen, _url = opened
    assert page.locator("#ranking-table", has_text=f"Evil {HOSTILE} Corp").count() == 1
    names = page.eval_on_selector_all(
        "table.milestones tbody tr", "rows => rows.map(r => r.cells[0].textContent)"
    )
    assert f"Hostile {HOSTILE}" in names
    assert page.locator("img").count() == 0
    assert page.locator("script").count() == 2
    assert seen.dialogs == []


def test_print_expands_the_drill_downs_and_hides_controls(opened: Any) -> None:
    page, _seen, _url = opened
    page.emulate_media(media="print")
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    assert page.eval_on_selector_all("details.target", "ds => ds.every(d => d.open)")
    assert not page.locator("nav.toc").is_visible()
    assert not page.locator("#results .filters").is_visible()
    page.evaluate("window.dispatchEvent(new Event('afterprint'))")
    page.emulate_media(media="screen")
    assert page.eval_on_selector_all("details.target", "ds => ds.every(d => !d.open)")


def test_screenshot_for_the_readme(browser_context: Any, tmp_path: Path) -> None:
    """The Chinese report's first screen: the summary lays out in one 1280-wide view.
    Writes the README's picture (docs/report-screenshot.png) when asked
    (IPV6SCAN_SCREENSHOT=PATH)."""
    results, summary = sample_run(hostile=False)
    path = tmp_path / "report.html"
    write_html(results, summary, "zh-CN", path)
    page = browser_context.new_page()
    page.set_viewport_size({"width": 1280, "height": 1000})
    page.goto(path.as_uri(), wait_until="load")
    box = page.locator("#summary").bounding_box()
    assert box is not None and box["height"] > 400
    assert page.locator(".exec .card").first.bounding_box()["y"] < 400  # type: ignore[index]
    target = os.environ.get("IPV6SCAN_SCREENSHOT")
    if target:
        page.screenshot(path=target, clip={"x": 0, "y": 0, "width": 1280, "height": 1000})
    page.close()


# ------------------------------------------------------------------------- how to fix

FAILING = "示范整改单位"  # a target that fails every check of the registry


@pytest.fixture(scope="module")
def fix_reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The sample run plus a target with a `fail` for every check id, and an intermittent
    and a plain `warn`: each must carry its "how to fix" text in the drill-down."""
    from ipv6scan.checks.registry import CHECK_IDS

    results, _summary = sample_run()
    where = (FAILING, "government", "services")
    for check in CHECK_IDS:
        results.append(CheckResult(*where, f"{check}.fail.example", check, Status.FAIL,
                                   f"{check} failed.", {}, 1.0))  # fmt: skip
    results.append(CheckResult(*where, "flaky.example", "web.reachable", Status.WARN,
                               "intermittent", {"intermittent": True}, 1.0))  # fmt: skip
    results.append(CheckResult(*where, "one-ns.example", "dns.ns_ipv6", Status.WARN,
                               "one NS", {}, 1.0))  # fmt: skip
    summary = summarize(results)
    out = tmp_path_factory.mktemp("fixes")
    paths = {}
    for lang in ("en", "zh-CN"):
        paths[lang] = out / f"report-{lang}.html"
        write_html(results, summary, lang, paths[lang])
    return paths


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_every_failing_check_shows_how_to_fix(
    browser_context: Any, fix_reports: dict[str, Path], lang: str
) -> None:
    from ipv6scan.checks.registry import CHECK_IDS
    from ipv6scan.report.fixes import FIXES, shown_fix
    from ipv6scan.report.i18n import translations

    seen = Seen()
    page = browser_context.new_page()
    page.on("console", lambda m: seen.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen.page_errors.append(str(e)))
    page.on("request", lambda r: seen.requests.append(r.url))
    url = fix_reports[lang].as_uri()
    page.goto(url, wait_until="load")
    # Given the drill-down of the target that fails everything, opened as a reader does
    target = page.locator("details.target", has_text=FAILING)
    target.locator("summary").first.click()
    assert target.evaluate("d => d.open") is True
    # Then every fail and warn row shows its fix: what, for whom, and the reference
    rows = target.locator("table.checks tbody tr")
    shown: dict[str, str] = {}
    for i in range(rows.count()):
        row = rows.nth(i)
        status = row.locator(".badge").get_attribute("class") or ""
        if "s-fail" not in status and "s-warn" not in status:
            continue
        howto = row.locator(".howto")
        assert howto.is_visible(), row.inner_text()
        shown[howto.get_attribute("data-fix") or ""] = howto.inner_text()
    gettext = translations(lang).gettext
    for check in CHECK_IDS:
        key = f"{check}.fail"
        fix = shown_fix(key, gettext)
        assert fix is not None and key in shown, check
        for part in (fix.text, fix.role, fix.references):
            assert part in shown[key], (key, part)
    assert "web.reachable.intermittent" in shown and "dns.ns_ipv6.warn" in shown
    assert set(shown) <= set(FIXES)
    # and "what to fix first" carries them too, in the report's language
    first = target.locator("ol.fix .howto").first
    assert first.is_visible()
    assert ("整改建议" in first.inner_text()) is (lang == "zh-CN")
    assert seen.console_errors == [] and seen.page_errors == []
    assert seen.requests == [url]
    page.close()
