"""How to fix every fail and warn (report/fixes.py): every check and outcome has a
text in both languages with its role and references; summary.json's "what to fix first"
items carry the stable key; the report shows the text in its language, escaped."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from ipv6scan.checks.registry import CHECK_IDS
from ipv6scan.finish import FinishOptions, finish
from ipv6scan.model import CheckResult, Status
from ipv6scan.report import fixes
from ipv6scan.report.html import render_html
from ipv6scan.report.i18n import translations
from ipv6scan.report.packed import unpack_page
from ipv6scan.scoring import summarize
from tests.unit.sample_results import write_sample

DOCS = Path(__file__).resolve().parents[2] / "docs" / "checks.md"
REFERENCE = re.compile(r"^(RFC \d{3,5}|YD/T 3118-2016|NIST SP 800-119)$")
CJK = re.compile(r"[\u4e00-\u9fff]")


def catalogue_warns() -> dict[str, bool]:
    """check id -> whether its catalogue row (docs/checks.md) has a warn case of its own."""
    rows: dict[str, bool] = {}
    for line in DOCS.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 6 and re.fullmatch(r"`[a-z]+\.[a-z_0-9]+`", cells[0]):
            rows[cells[0].strip("`")] = bool(cells[3])
    return rows


def expected_outcomes() -> set[tuple[str, str]]:
    """Every (check, outcome) a scan can give: fail for every check, intermittent for
    every check (any probe may need tries), warn where the catalogue has one."""
    warns = catalogue_warns()
    assert set(CHECK_IDS) <= set(warns), f"docs/checks.md lacks {set(CHECK_IDS) - set(warns)}"
    wanted = {(c, o) for c in CHECK_IDS for o in (fixes.FAIL, fixes.INTERMITTENT)}
    return wanted | {(c, fixes.WARN) for c in CHECK_IDS if warns[c]}


def test_every_check_and_outcome_has_a_fix_and_no_other() -> None:
    have = {tuple(key.rsplit(".", 1)) for key in fixes.FIXES}
    assert expected_outcomes() - have == set(), "write a fix text in report/fixes.py"
    assert have - expected_outcomes() == set(), "a fix for an outcome the check cannot give"


@pytest.mark.parametrize("key", sorted(fixes.FIXES))
def test_a_fix_says_what_for_whom_and_why_in_both_languages(key: str) -> None:
    fix = fixes.FIXES[key]
    assert fix.key == key
    assert fix.role in fixes.ROLES
    assert fix.references and all(REFERENCE.match(r) for r in fix.references), fix.references
    assert 40 <= len(fix.text) <= 260, "one or two sentences"
    assert "%" not in fix.text  # the report's gettext %-formats every message
    zh = translations("zh-CN").gettext(fix.text)
    assert zh != fix.text and CJK.search(zh), "translate it in locale/zh_CN"
    role_zh = translations("zh-CN").gettext(fixes.ROLES[fix.role])
    assert role_zh.endswith("管理员")


@pytest.mark.parametrize(
    ("status", "evidence", "outcome"),
    [
        ("fail", {}, "fail"),
        ("warn", {}, "warn"),
        ("warn", {"intermittent": True, "attempts": 3, "failed_attempts": 1}, "intermittent"),
        ("fail", {"intermittent": True}, "fail"),  # only a warn is intermittent
        ("pass", {}, None),
        ("error", {}, None),
        ("skip", {}, None),
    ],
)
def test_the_key_of_a_result(status: str, evidence: dict[str, Any], outcome: str | None) -> None:
    got = fixes.fix_key("web.reachable", status, evidence)
    assert got == (None if outcome is None else f"web.reachable.{outcome}")


def test_no_key_for_an_unknown_check_and_the_fail_fix_for_an_unforeseen_warn() -> None:
    assert fixes.fix_key("web.future", "fail", {}) is None
    assert fixes.fix_key("net.ping", "warn", {}) == "net.ping.fail"  # no warn of its own
    assert fixes.fix_key("net.ping", "warn", {"intermittent": True}) == "net.ping.intermittent"


def result(check: str, status: str, subject: str = "www.gov.example", **evidence: Any) -> Any:
    return CheckResult(
        "示范省人民政府", "government", "services", subject, check, Status(status),
        f"{check} is {status}.", evidence, 1.0,
    )  # fmt: skip


def test_summary_items_carry_the_key() -> None:
    # Given failures, a plain warn, an intermittent warn and the name-server pair
    results = [
        result("dns.aaaa", "fail"),
        result("web.reachable", "warn", intermittent=True, attempts=3, failed_attempts=2),
        result("dns.ns_ipv6", "warn", subject="gov.example"),
        result("dns.ns_reachable", "fail", subject="gov.example"),
        result("web.http", "pass"),
    ]
    # When they are scored
    (target,) = summarize(results)["targets"]
    # Then each "what to fix first" item names its fix
    got = {(i["check"], i["fix"]) for i in target["fix_first"]}
    assert got == {
        ("dns.aaaa", "dns.aaaa.fail"),
        ("web.reachable", "web.reachable.intermittent"),
        ("dns.ns_ipv6", "dns.ns_ipv6.warn"),
        ("dns.ns_reachable", "dns.ns_reachable.fail"),
    }


def test_summary_json_written_by_the_finish_stage_carries_the_keys(tmp_path: Path) -> None:
    results = write_sample(tmp_path / "results.jsonl", targets=40)
    finish(results, tmp_path, FinishOptions(scanner={"ipv6": True, "ipv4": True}))
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    items = [i for t in summary["targets"] for i in t["fix_first"]]
    assert items
    for item in items:
        assert item["fix"] in fixes.FIXES, item
        assert item["fix"].startswith(f"{item['check']}.")


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_the_report_shows_every_fix_in_its_language(lang: str) -> None:
    # Given one finding for every (check, outcome) with a fix
    results = []
    for key in sorted(fixes.FIXES):
        check, outcome = key.rsplit(".", 1)
        status = "fail" if outcome == "fail" else "warn"
        extra = {"intermittent": True} if outcome == "intermittent" else {}
        results.append(result(check, status, subject=f"{outcome}.gov.example", **extra))
    # When the report is written
    html = render_html(results, summarize(results), lang)
    # Then each finding's drill-down row carries its fix: text, role and references
    gettext = translations(lang).gettext
    doc = unpack_page(html)  # the rows, packed; report.js links each row to its fix's text
    linked = {doc["s"][row[7]] for row in doc["r"] if row[7] >= 0}
    for key, fix in fixes.FIXES.items():
        # a row refers to the fix's text, written once in the report's list of fixes
        assert key in linked and html.count(f'id="fix-{key}"') == 1, key
        shown = fixes.shown_fix(key, gettext)
        assert shown is not None
        text = shown.text.replace("'", "&#39;")
        assert text in html, key
        assert shown.role in html and fix.references[0] in html
    assert ("整改建议" in html) is (lang == "zh-CN")
    assert ("How to fix" in html) is (lang == "en")


def test_a_summary_from_before_fix_keys_still_shows_fixes() -> None:
    results = [result("dns.aaaa", "fail")]
    summary = summarize(results)
    for item in summary["targets"][0]["fix_first"]:
        del item["fix"]
    html = render_html(results, summary, "en")
    items = html[html.index('<ol class="fix">') :]
    assert 'data-fix="dns.aaaa.fail"' in items[: items.index("</ol>")]


def test_an_unknown_key_shows_nothing() -> None:
    assert fixes.shown_fix("<script>", str) is None
    assert fixes.shown_fix(None, str) is None


def test_docs_list_every_fix_with_its_texts() -> None:
    """docs/fixes.md is the table's page for programs and readers: the same keys and texts."""
    text = (DOCS.parent / "fixes.md").read_text(encoding="utf-8")
    zh = translations("zh-CN").gettext
    rows = {line.split("|")[1].strip(" `"): line for line in text.splitlines()
            if line.startswith("| `")}  # fmt: skip
    assert set(rows) == set(fixes.FIXES)
    for key, fix in fixes.FIXES.items():
        assert fix.text in rows[key] and zh(fix.text) in rows[key], key
