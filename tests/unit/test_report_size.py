"""report.html small enough to send (issue 16, INTERFACE.md "The report"): under 2 MB for
1,000 targets and under 5 MB at any size. The result rows, the drill-downs' checks and the
ranking are one compressed block in the page (report/packed.py), each string once."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any

import pytest

from ipv6scan.checks import catalogue
from ipv6scan.finish.outputs import Outputs
from ipv6scan.finish.stage import FinishOptions, finish
from ipv6scan.messages import MESSAGES
from ipv6scan.model import CheckResult, Status
from ipv6scan.report import packed
from ipv6scan.report.digest import PRIORITY, Digest, Row, Shown
from ipv6scan.report.html import render_html
from ipv6scan.report.i18n import translations
from ipv6scan.report.labels import Words
from ipv6scan.report.packed import DrillRows, pack, unpack, unpack_page
from ipv6scan.report.targets import RANK_LIMIT
from ipv6scan.scoring import summarize
from tests.unit.sample_results import write_sample

MB = 1_000_000
HISTORY = 30  # history.TREND_RUNS: the longest trend a target's sparkline draws


def _report(out: Path, targets: int, lang: str = "zh-CN") -> tuple[str, int]:
    """The synthetic run's report.html, made the way a scan makes it (finish), with a
    full history's trend for every target; its text and how many results went in."""
    out.mkdir()
    write_sample(out / "results.jsonl", targets=targets)
    names = set()
    with (out / "results.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            try:
                names.add(json.loads(line)["target"])
            except ValueError:
                continue  # the sample's torn last line

    def with_history(summary: dict[str, Any], _rows: list[dict[str, Any]]) -> None:
        days = [f"2026-{1 + d // 28:02d}-{1 + d % 28:02d}" for d in range(HISTORY)]
        summary["trends"] = {
            "overall": [[d, 40.0 + i] for i, d in enumerate(days)],
            "targets": {
                n: [[d, float((i * 7 + len(n)) % 101)] for i, d in enumerate(days)] for n in names
            },
        }

    outputs = Outputs(summary=True, report=True, junit=False, csv=False)
    done = finish(
        out / "results.jsonl", out, FinishOptions(lang=lang, outputs=outputs), amend=with_history
    )
    return (out / "report.html").read_text(encoding="utf-8"), done.results


@pytest.mark.parametrize(("targets", "bound"), [(1000, 2 * MB), (5000, 5 * MB)])
def test_synthetic_runs_stay_small(tmp_path: Path, targets: int, bound: int) -> None:
    html, results = _report(tmp_path / "out", targets)
    size = len(html.encode("utf-8"))
    assert size < bound, size
    doc = unpack_page(html)
    # every target is ranked (up to the ranking's limit), each with its history's trend
    assert len(doc["k"]["rows"]) == min(targets, RANK_LIMIT)
    assert all(len(row[7]) == HISTORY for row in doc["k"]["rows"])
    # the table holds every result (both runs are under the table's limit), each once
    assert doc["t"] == results and len(doc["r"]) == results
    # and the drill-downs point into it rather than repeat it
    drilled = [item for groups in doc["d"].values() for g in groups for item in g[3]]
    assert drilled and all(0 <= i < len(doc["r"]) for i, _ev in drilled)
    assert len(doc["s"]) == len(set(doc["s"]))  # each string once


def test_details_are_in_the_reports_language() -> None:
    catalogue.load()
    timeout = MESSAGES["engine.deadline"]
    results = [
        CheckResult("T", "government", "services", "a.example", "dns.aaaa", Status.FAIL,
                    timeout(seconds="5"), {}, 1.0),
    ]  # fmt: skip
    summary = summarize(results)
    zh_html, en_html = render_html(results, summary, "zh-CN"), render_html(results, summary, "en")
    zh, en = unpack_page(zh_html), unpack_page(en_html)
    # the rows (table and drill-down) and the drill-down's "what to fix first"
    assert "检测超时（5 秒）。" in zh["s"] and "检测超时（5 秒）。" not in en["s"]
    assert "The check ran out of time (5 s)." in en["s"]
    fix_first = zh_html[zh_html.index('<ol class="fix">') :]
    assert "检测超时（5 秒）。" in fix_first[: fix_first.index("</ol>")]


# ------------------------------------------------------------------------ any size


def _noise(rng: random.Random, n: int) -> str:
    """Text that does not compress: the worst a server's words can do to the budget."""
    return rng.randbytes(n // 2).hex()


def test_the_block_keeps_to_its_budget_worst_rows_first() -> None:
    # Given 60,000 results whose details do not compress at all, and drill-downs with
    # incompressible evidence
    rng = random.Random(3)
    statuses = ("pass", "fail", "warn", "error", "skip")
    table = [
        Row(
            f"t{i // 20}",
            "enterprise",
            "services",
            f"h{i}.example",
            "dns.aaaa",
            statuses[i % 5],
            _noise(rng, 120),
        )
        for i in range(60_000)
    ]
    drills = [
        DrillRows(
            f"t{k}",
            f"t{k}",
            [
                (
                    "services",
                    "x.example",
                    "",
                    [Shown(table[k * 20 + j], _noise(rng, 900), 1.0) for j in range(20)],
                )
            ],
        )
        for k in range(100)
    ]
    words = Words(lambda s, **kw: s % kw if kw else s, "en", {}, {})
    started = time.monotonic()
    got = pack(table, drills, words, lambda s: s, "en", limit=3 * MB)
    assert time.monotonic() - started < 30
    # Then the block fits, and says it was cut
    assert len(got.text) <= 3 * MB and got.cut
    doc = unpack(got.text)
    kept = [doc["s"][r[5]] for r in doc["r"][: doc["t"]]]
    assert 0 < len(kept) == got.table_rows < len(table)
    # the worst statuses first: no pass or skip while a failure was left out
    worst_left_out = min(PRIORITY[s] for s in kept)
    assert all(PRIORITY[s] >= worst_left_out for s in kept)
    assert "pass" not in kept and kept.count("fail") == 12_000
    # and the drill-downs keep their rows
    assert sum(len(g[3]) for groups in doc["d"].values() for g in groups) == 2000


def test_a_cut_table_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(5)
    results = [
        CheckResult(
            f"t{i}",
            "enterprise",
            "services",
            f"t{i}.example",
            "dns.aaaa",
            Status("fail" if i % 2 else "pass"),
            _noise(rng, 200),
            {},
            1.0,
        )
        for i in range(400)
    ]
    monkeypatch.setattr(packed, "BYTES_LIMIT", 40_000)
    html = render_html(results, summarize(results), "en")
    doc = unpack_page(html)
    assert doc["t"] < 400
    assert f"The table lists {doc['t']} of the 200 problems found" in html


def test_the_block_cannot_end_its_element() -> None:
    hostile = "</script><script>alert(1)</script><!--"
    results = [
        CheckResult(
            hostile,
            "enterprise",
            "services",
            hostile,
            "dns.aaaa",
            Status.FAIL,
            hostile,
            {"banner": hostile},
            1.0,
        )
    ]
    html = render_html(results, summarize(results), "en")
    start = html.index('id="report-data"')
    element = html[start : html.index("</script>", start)]
    assert "<" not in element.split(">", 1)[1]  # base64 only
    assert hostile in unpack_page(html)["s"]  # kept as it was: report.js shows it as text


def test_a_zh_cn_report_of_a_huge_run_stays_under_5_mb() -> None:
    # Given 100,000 results in Chinese (longer in UTF-8: the limit counts bytes), whose
    # details and evidence do not compress, and their 50,000 targets' summary rows
    rng = random.Random(7)
    n = 50_000
    results = (
        CheckResult(
            f"单位{i // 2}",
            "government",
            "services",
            f"www.d{i}.example",
            "web.http",
            Status("fail" if i % 3 else "warn"),
            f"{_noise(rng, 60)} 没有响应",
            {"title": _noise(rng, 300)},
            1.0,
        )
        for i in range(2 * n)
    )
    rows = [
        {
            "name": f"单位{i}",
            "sector": "government",
            "score": float(i % 101),
            "stage": "ipv4-only",
            "tiers": {"services": {"score": float(i % 101)}},
        }
        for i in range(n)
    ]
    summary = {"schema": 1, "overall": {"score": 50.0, "targets": n}, "targets": rows}
    started = time.monotonic()
    html = render_html(results, summary, "zh-CN")
    # Then the page stays under 5 MB, in seconds
    assert time.monotonic() - started < 60
    assert len(html.encode("utf-8")) < 5 * MB
    doc = unpack_page(html)
    assert 0 < doc["t"] < 2 * n and len(doc["k"]["rows"]) == RANK_LIMIT
    assert translations("zh-CN").gettext("All results") in html


def test_a_large_runs_table_is_its_worst_findings_in_bounded_memory() -> None:
    # Given more results than the table's limit, the failures coming last
    d = Digest.for_targets(())
    d.table_limit = 10
    statuses = ["pass"] * 30 + ["error"] * 8 + ["warn"] * 5 + ["fail"] * 6
    for i, status in enumerate(statuses):
        d.count(CheckResult("t", "enterprise", "services", f"h{i}", "dns.aaaa", Status(status),
                            status, {}, 1.0))  # fmt: skip
    # Then the table is the ten worst, failures first, the earliest of each status kept,
    # and no more than ten rows were ever held
    assert not d.table_is_complete and d.first_rows == []
    table = d.table_rows()
    assert [r.status for r in table] == ["fail"] * 6 + ["warn"] * 4
    assert [r.subject for r in table[6:]] == ["h38", "h39", "h40", "h41"]
    assert sum(len(rows) for rows in d.findings.values()) == 10
