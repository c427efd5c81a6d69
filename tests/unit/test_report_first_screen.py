"""The report's first screen (report/first_screen.py, _first.html.j2): scores worst first,
what changed since the previous run and what the gates decided, the top fixes by
organisations affected, and a banner for a part of a run; above everything else."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from ipv6scan import audit, history
from ipv6scan.model import CheckResult, Status
from ipv6scan.report.html import render_html
from ipv6scan.scoring import summarize
from ipv6scan.scoring.fix_tally import FixTally

SERVICES = "services"


def _result(target: str, subject: str, check: str, status: str, detail: str = "") -> CheckResult:
    return CheckResult(target, "government", SERVICES, subject, check, Status(status),
                       detail or f"{check} {status}", {}, 1.0)  # fmt: skip


def _run(web_ok: bool = True, extra: bool = False) -> list[CheckResult]:
    """Five organisations with no AAAA on one name each (dns.aaaa fails at all five, one
    of them on three names), one with its web down; `web_ok=False` breaks Alpha's web."""
    out = []
    for name in ("Alpha", "Bravo", "Charlie", "Delta", "Echo"):
        host = f"www.{name.lower()}.example"
        out.append(_result(name, host, "dns.aaaa", "pass"))
        out.append(_result(name, f"old.{name.lower()}.example", "dns.aaaa", "fail"))
        web = "pass" if web_ok or name != "Alpha" else "fail"
        out.append(_result(name, host, "web.http", web))
    for i in range(2):  # Echo fails dns.aaaa on three names: still one organisation
        out.append(_result("Echo", f"x{i}.echo.example", "dns.aaaa", "fail"))
    out.append(_result("Delta", "www.delta.example", "web.reachable", "fail"))
    if extra:
        out.append(_result("Foxtrot", "www.foxtrot.example", "dns.aaaa", "pass"))
    return out


def _write(out: Path, results: list[CheckResult]) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.jsonl").write_text("".join(r.to_line() + "\n" for r in results))
    return out


def _visible(html: str, start: str, end: str) -> str:
    part = html[html.index(start) : html.index(end)]
    return re.sub(r"<[^>]+>", " ", part)


# ------------------------------------------------------------------------- fix tally


def test_fixes_are_counted_by_organisation_not_by_result() -> None:
    # Given five organisations failing dns.aaaa, one of them on three names
    summary = summarize(_run())
    fixes = summary["fixes"]
    top = {item["fix"]: item for item in fixes["top"]}
    # Then the fix concerns five organisations, though seven results need it
    assert top["dns.aaaa.fail"]["targets"] == 5
    assert top["dns.aaaa.fail"]["results"] == 7
    assert fixes["top"][0]["fix"] == "dns.aaaa.fail"  # the most organisations first
    assert top["web.reachable.fail"]["targets"] == 1
    assert fixes["checks"]["dns.aaaa"] == 5
    # and the points are what the targets' own lists say, over the scored targets
    assert top["dns.aaaa.fail"]["points"] > 0
    assert top["dns.aaaa.fail"]["overall_gain"] == pytest.approx(
        top["dns.aaaa.fail"]["points"] / 5, abs=0.01
    )


def test_equal_organisations_rank_by_points() -> None:
    tally = FixTally()
    for name, gain_a, gain_b in (("A", 1.0, 9.0), ("B", 2.0, 9.0)):
        tally.add({
            "name": name, "score": 50.0,
            "tiers": {SERVICES: {"checks": {"web.http": {"fail": 1}, "dns.aaaa": {"fail": 1}}}},
            "fix_first": [
                {"check": "web.http", "status": "fail", "fix": "web.http.fail", "gain": gain_a},
                {"check": "dns.aaaa", "status": "fail", "fix": "dns.aaaa.fail", "gain": gain_b},
            ],
        })  # fmt: skip
    assert [item["fix"] for item in tally.to_json()["top"]] == ["dns.aaaa.fail", "web.http.fail"]


# ------------------------------------------------------------------- the first screen


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_first_screen_comes_before_everything_else(lang: str) -> None:
    results = _run()
    html = render_html(results, summarize(results), lang)
    first, summary = html.index('id="first"'), html.index('id="summary"')
    assert first < summary < html.index('id="ranking"')
    # the worst organisation first, each with its stage
    rows = re.findall(
        r'<td class="tname">(?:<a [^>]*>)?([^<]+).*?</td><td class="num">.*?</td><td>([^<]*)</td>',
        html[first:summary],
    )
    assert rows[0][0] == "Echo"
    assert {name for name, _stage in rows} == {"Alpha", "Bravo", "Charlie", "Delta", "Echo"}
    stages = {t["name"]: t["stage"] for t in summarize(results)["targets"]}
    assert all(stage and stages[name] not in ("", None) for name, stage in rows)
    fixes = _visible(html, 'id="top-fixes"', 'id="summary"')
    assert "dns.aaaa" in fixes and re.search(r"\b5\b", fixes)


def test_the_first_screen_ranks_fixes_with_their_text() -> None:
    results = _run()
    html = render_html(results, summarize(results), "zh-CN")
    part = html[html.index('id="top-fixes"') : html.index('id="summary"')]
    keys = re.findall(r'class="howto" data-fix="([^"]+)"', part)
    assert keys[0] == "dns.aaaa.fail"
    assert "发布" in part  # the fix text, in Chinese (dns.aaaa.fail: publish an AAAA record)
    assert "整改" in part


def test_an_old_summary_without_history_or_fixes_still_renders() -> None:
    html = render_html([], {"schema": 1, "overall": {"score": None}, "sectors": {}}, "en")
    assert 'id="first"' in html and 'id="top-fixes"' not in html
    assert "no history to compare with" in html


def test_what_fails_most_often_counts_organisations() -> None:
    results = _run()
    html = render_html(results, summarize(results), "en")
    assert "Organisations with a failure or warning, per check" in html
    assert "IPv6 address (AAAA record): 5" in html  # five organisations, seven results


# ----------------------------------------------------------- three runs in a history


@pytest.fixture
def three_runs(tmp_path: Path) -> tuple[Path, list[audit.Finished]]:
    """Three runs into one --db; the third breaks Alpha's web and adds Foxtrot."""
    db = tmp_path / "h.db"
    done = []
    for i, results in enumerate((_run(), _run(), _run(web_ok=False, extra=True))):
        out = _write(tmp_path / f"r{i}", results)
        conn = history.open_db(db)
        rec = audit.Recording(db=db, target_files=("t.yaml",), fail_on_regression=True,
                              fail_under=99.0)  # fmt: skip
        done.append(audit.finish_scan(conn, rec, out, "en", None,
                                      f"2026-03-0{i + 1}T10:00:00+00:00"))  # fmt: skip
        conn.close()
    return tmp_path, done


def test_the_report_says_what_changed_and_what_the_gates_decided(three_runs: Any) -> None:
    root, done = three_runs
    summary = json.loads((root / "r2" / "summary.json").read_text())
    changes = summary["changes"]
    assert changes["previous"]["id"] == 2
    assert changes["counts"]["regressed"] == 1 and changes["counts"]["targets_added"] == 1
    assert changes["regressed"][0]["target"] == "Alpha"
    assert changes["targets_added"] == ["Foxtrot"]
    assert [g["gate"] for g in summary["gates"]] == ["fail-on-regression", "fail-under"]
    assert summary["gates"][0] == {"gate": "fail-on-regression", "passed": False,
                                   "reason": "regressed", "findings": 2}  # fmt: skip
    assert done[2].gate  # the exit code's findings are the same comparison
    assert (
        summary["trends"]["tiers"][SERVICES][-1][1]
        == summary["overall"]["tiers"][SERVICES]["score"]
    )
    for lang in ("en", "zh-CN"):
        audit.report_dir(root / "r2", root / f"{lang}.html", lang)
        html = (root / f"{lang}.html").read_text(encoding="utf-8")
        part = html[html.index('id="changes"') : html.index('id="ranking"')]
        regressed = part[part.index('class="changes regressed"') :]
        assert "Alpha" in regressed[: regressed.index("</ul>")]
        assert "Foxtrot" in part
        assert "--fail-on-regression" in part and "--fail-under" in part
        assert ("退步" in part) is (lang == "zh-CN")
    # and the first run says there was nothing to compare with
    first = (root / "r0" / "report.html").read_text(encoding="utf-8")
    assert "first run of its history" in first


def test_a_recorded_run_shows_its_changes_too(three_runs: Any) -> None:
    root, _done = three_runs
    audit.report_run(root / "r2", root / "run3.html", "en", root / "h.db", "3")
    html = (root / "run3.html").read_text(encoding="utf-8")
    part = html[html.index('id="changes"') : html.index('id="ranking"')]
    assert 'class="changes regressed"' in part and "Alpha" in part


def test_an_interrupted_or_sharded_run_says_so_in_a_banner(tmp_path: Path) -> None:
    out = _write(tmp_path / "r", _run())
    conn = history.open_db(tmp_path / "h.db")
    rec = audit.Recording(db=tmp_path / "h.db", target_files=("t.yaml",), shard=(2, 4))
    audit.finish_scan(conn, rec, out, "zh-CN", None, "2026-03-01T10:00:00+00:00", complete=False)
    conn.close()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["coverage"] == {"complete": False, "shard": [2, 4]}
    html = (out / "report.html").read_text(encoding="utf-8")
    banners = re.findall(r'<p class="note banner alert" role="alert">([^<]+)', html)
    assert len(banners) == 2
    assert "中断" in banners[0] and "第 2 个分片（共 4 个）" in banners[1]
    assert html.index("note banner") < html.index('id="scores"')
