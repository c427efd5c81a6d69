"""The SQLite history: what a run stores, which run is "previous", trends, re-rendering a
recorded run, and the --fail-on-regression gate over two recorded runs. No network: the
scan itself is replaced by one that writes a hand-made results.jsonl."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import ipv6scan.cli as cli
from ipv6scan import history, history_chunks
from ipv6scan.cli import main
from ipv6scan.model import CheckResult, Status, json_text
from ipv6scan.observations.dns import Connectivity
from ipv6scan.report import html
from ipv6scan.report.jsonl import read_results
from ipv6scan.scoring import summarize
from ipv6scan.scoring.rows import TargetRows

TARGETS = """\
version: 1
name: History
targets:
  - name: Portal
    sector: government
    domains: [gov.example]
milestones:
  - {name: "Portal score 90", metric: score, target: Portal, at_least: 90, by: 2026-12-31}
"""

Row = tuple[str, str, str]  # subject, check, status
GOOD: list[Row] = [
    ("gov.example", "dns.aaaa", "pass"),
    ("www.gov.example", "dns.aaaa", "pass"),
    ("gov.example", "dns.ns_ipv6", "pass"),
    ("gov.example", "dns.mx_ipv6", "warn"),
]


def record(subject: str, check: str, status: str, target: str = "Portal") -> dict[str, Any]:
    return {
        "target": target,
        "sector": "government",
        "tier": "services",
        "subject": subject,
        "check": check,
        "status": status,
        "detail": f"{check} is {status}",
        "evidence": {"why": status},
        "duration_ms": 1.5,
    }


def changed(rows: list[Row], subject: str, check: str, status: str) -> list[Row]:
    return [(s, c, status if (s, c) == (subject, check) else st) for s, c, st in rows]


Scan = Callable[..., int]


@pytest.fixture
def targets(tmp_path: Path) -> Path:
    path = tmp_path / "targets.yaml"
    path.write_text(TARGETS, encoding="utf-8")
    return path


@pytest.fixture
def run_scan(tmp_path: Path, targets: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Scan]:
    """`run_scan(name, rows, *options)`: the CLI's scan, with results written by hand."""
    monkeypatch.setattr(cli, "use_fast_loop", lambda: None)

    def run(name: str, rows: list[Row], *options: str, interrupt: bool = False) -> int:
        async def fake_scan(config: Any, _targets: Any, _total: Any) -> Any:
            config.out.mkdir(parents=True, exist_ok=True)
            lines = [json.dumps(record(*row)) for row in rows]
            (config.out / "results.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
            if interrupt:
                raise KeyboardInterrupt
            return None, Connectivity(True, True, (), ())

        monkeypatch.setattr(cli, "scan", fake_scan)
        out = tmp_path / "runs" / name
        return main(["scan", str(targets), "--out", str(out), "--quiet", "--lang", "en", *options])

    yield run


def db_path(tmp_path: Path) -> Path:
    return tmp_path / "runs" / "ipv6scan.db"  # the default: beside --out


def summary_of(tmp_path: Path, name: str) -> dict[str, Any]:
    return json.loads((tmp_path / "runs" / name / "summary.json").read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- recording


def test_a_scan_is_recorded_beside_out(tmp_path: Path, run_scan: Scan) -> None:
    assert run_scan("n1", GOOD, "--today", "2026-03-01") == 0
    conn = sqlite3.connect(db_path(tmp_path))
    (run,) = conn.execute(
        "SELECT id, started, out_dir, target_files, complete, overall_score FROM runs"
    ).fetchall()
    assert run[0] == 1 and run[1].startswith("2026-03-01T")
    assert run[2] == str(tmp_path / "runs" / "n1")
    assert json.loads(run[3]) == [str(tmp_path / "targets.yaml")]
    assert run[4] == 1 and run[5] == summary_of(tmp_path, "n1")["overall"]["score"]
    rows = [
        (r.target, r.sector, r.tier, r.subject, r.check, str(r.status))
        for r in history.load_results(conn, 1)
    ]
    assert rows == [("Portal", "government", "services", s, c, st) for s, c, st in GOOD]
    scores = [
        (t["name"], t["sector"], t["score"], t["stage"]) for t in history.all_target_rows(conn, 1)
    ]
    assert scores == [("Portal", "government", 94.4, "aaaa-published")]  # (3+3+2+0.5) / 9
    assert conn.execute("SELECT sector, score, targets FROM sector_scores").fetchall() == [
        ("government", 94.4, 1)
    ]
    summary = summary_of(tmp_path, "n1")
    assert summary["run"] == {
        "id": 1,
        "started": run[1],
        "db": str(db_path(tmp_path)),
        "previous": None,
        "history": '{"checks":["all"],"lists":["History"]}',
    }
    assert summary["milestones"][0]["state"] == "met"


def _record(
    conn: sqlite3.Connection, out: Path, summary: dict[str, Any], results: list[CheckResult]
) -> int:
    """One complete run of t.yaml in the history."""
    return history.record_run(
        conn,
        started="2026-01-01T00:00:00+00:00",
        finished="2026-01-01T00:01:00+00:00",
        out_dir=out,
        target_files=["t.yaml"],
        key=history.run_key(["t.yaml"], None),
        complete=True,
        summary=summary,
        results=iter(results),
    )


def test_results_round_trip_through_the_database(tmp_path: Path) -> None:
    conn = history.open_db(tmp_path / "h.db")
    results = [
        CheckResult(
            "T",
            "operator",
            "backbone",
            "2001:db8::1",
            "net.ping",
            Status.FAIL,
            "lost",
            {"rtt": [1, 2], "名": "值"},
            2.5,
        ),
        CheckResult("T", "operator", "services", "t.example", "dns.aaaa", Status.SKIP, "n/a"),
    ]
    run_id = _record(conn, tmp_path, summarize(results), results)
    assert list(history.load_results(conn, run_id)) == results


@pytest.mark.parametrize("spooled", [False, True], ids=["list", "spool"])
def test_target_rows_are_stored_as_json_text_writes_them(tmp_path: Path, spooled: bool) -> None:
    # Given a summary whose target rows are a list, or a spool of rows as a scan leaves them
    results = [
        CheckResult("甲", "government", "services", "a.example", "dns.aaaa", Status.PASS, "ok"),
        CheckResult("B", "operator", "services", "b.example", "dns.aaaa", Status.FAIL, "none"),
    ]
    summary = summarize(results)
    rows = list(summary["targets"])
    if spooled:
        spool = TargetRows(tmp_path / "rows.jsonl")
        spool.extend(rows)
        summary["targets"] = spool
    conn = history.open_db(tmp_path / "h.db")
    run_id = _record(conn, tmp_path, summary, results)
    # Then each row is stored as json_text writes it, its columns filled from it
    assert list(history.target_row_texts(conn, run_id)) == [json_text(r) for r in rows]
    assert list(history.all_target_rows(conn, run_id)) == rows
    stored = [tuple(e[1:5]) for e in history_chunks.stored(conn, "target_rows").values()]
    assert sorted(stored, key=str) == sorted(
        [(r["name"], r["sector"], r["score"], r["stage"]) for r in rows], key=str
    )


def test_run_key_ignores_order_but_not_files_or_shards() -> None:
    assert history.run_key(["b.yaml", "./a.yaml"], None) == history.run_key(
        ["a.yaml", "b.yaml"], None
    )
    assert history.run_key(["a.yaml"], None) != history.run_key(["a.yaml", "b.yaml"], None)
    assert history.run_key(["a.yaml"], (1, 2)) != history.run_key(["a.yaml"], (2, 2))


def test_open_db_refuses_what_is_not_ours(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(history.HistoryError, match="cannot use as history database"):
        history.open_db(junk)
    newer = tmp_path / "newer.db"
    sqlite3.connect(newer).execute("PRAGMA user_version = 7").connection.close()
    with pytest.raises(history.HistoryError, match="history schema 7"):
        history.open_db(newer)


def test_an_unusable_db_is_bad_input_before_scanning(
    tmp_path: Path, run_scan: Scan, capsys: pytest.CaptureFixture[str]
) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not sqlite" * 200)
    assert run_scan("n1", GOOD, "--db", str(junk)) == 2
    assert "--db" in capsys.readouterr().err
    assert not (tmp_path / "runs" / "n1").exists()


# --------------------------------------------------------------------------- trends


def test_trends_cover_the_last_30_runs_of_the_same_target_files(
    tmp_path: Path, run_scan: Scan
) -> None:
    for day in range(1, 33):
        rows = GOOD if day % 2 else changed(GOOD, "gov.example", "dns.aaaa", "fail")
        assert run_scan(f"d{day}", rows, "--today", f"2026-01-{min(day, 28):02d}") == 0
    trends = summary_of(tmp_path, "d32")["trends"]
    assert [r["id"] for r in trends["runs"]] == list(range(3, 33))
    assert len(trends["overall"]) == len(trends["targets"]["Portal"]) == 30
    assert [p[1] for p in trends["overall"][-2:]] == [94.4, 61.1]  # day 31, day 32
    assert trends["sectors"]["government"] == trends["targets"]["Portal"]
    assert trends["overall"][-1][0] == trends["runs"][-1]["started"]


def test_trends_leave_out_per_target_series_of_huge_runs(
    tmp_path: Path, run_scan: Scan, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history, "TREND_TARGETS", 0)
    assert run_scan("n1", GOOD) == 0
    trends = summary_of(tmp_path, "n1")["trends"]
    assert trends["targets"] == {} and trends["targets_omitted"] == 1
    assert len(trends["overall"]) == 1


def test_milestones_use_the_history(tmp_path: Path, run_scan: Scan) -> None:
    low = changed(GOOD, "www.gov.example", "dns.aaaa", "fail")  # 61.1
    assert run_scan("n1", low, "--today", "2026-01-01") == 0
    assert summary_of(tmp_path, "n1")["milestones"][0]["state"] == "on-track"  # first run
    assert run_scan("n2", low, "--today", "2026-07-02") == 0
    (m,) = summary_of(tmp_path, "n2")["milestones"]
    assert m["state"] == "behind"  # no progress, half the time gone
    assert m["baseline"] == {"date": "2026-01-01", "value": 61.1}
    assert [p[1] for p in m["history"]] == [61.1, 61.1]


# --------------------------------------------------------------------------- --fail-on-regression


def test_first_run_has_nothing_to_compare(
    run_scan: Scan, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_scan("n1", GOOD, "--fail-on-regression") == 0
    assert "nothing to compare" in capsys.readouterr().err


def test_pass_to_fail_against_the_previous_run_exits_1(
    run_scan: Scan, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_scan("n1", GOOD, "--fail-on-regression") == 0
    capsys.readouterr()
    worse = changed(GOOD, "www.gov.example", "dns.aaaa", "fail")
    assert run_scan("n2", worse, "--fail-on-regression") == 1
    err = capsys.readouterr().err
    assert "gate: regressed: Portal / www.gov.example / dns.aaaa: pass -> fail" in err
    assert "gate: score fell: Portal: 94.4 -> 61.1 (-33.3)" in err
    # without the option the same run is no failure
    assert run_scan("n3", worse) == 0


def test_pass_to_warn_is_a_regression_warn_to_fail_only_through_the_score(
    run_scan: Scan, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_scan("n1", GOOD) == 0
    assert (
        run_scan("n2", changed(GOOD, "gov.example", "dns.ns_ipv6", "warn"), "--fail-on-regression")
        == 1
    )
    assert "pass -> warn" in capsys.readouterr().err
    # warn -> fail on mx, offset by an improvement elsewhere: the score does not fall
    base = changed(GOOD, "gov.example", "dns.ns_ipv6", "warn")
    assert run_scan("n3", base) == 0
    offset = changed(
        changed(base, "gov.example", "dns.mx_ipv6", "fail"), "gov.example", "dns.ns_ipv6", "pass"
    )
    capsys.readouterr()
    assert run_scan("n4", offset, "--fail-on-regression") == 0
    assert "gate:" not in capsys.readouterr().err


def test_undecided_and_improvements_pass_the_gate(run_scan: Scan) -> None:
    assert run_scan("n1", changed(GOOD, "gov.example", "dns.mx_ipv6", "fail")) == 0
    better = changed(GOOD, "gov.example", "dns.ns_ipv6", "error")  # undecided, mx improved
    assert run_scan("n2", better, "--fail-on-regression") == 0


def test_an_interrupted_run_is_not_the_previous_run(
    tmp_path: Path, run_scan: Scan, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_scan("n1", GOOD) == 0
    partial = changed(GOOD, "gov.example", "dns.aaaa", "pass")[:1]
    assert run_scan("n2", partial, interrupt=True) == 130
    conn = sqlite3.connect(db_path(tmp_path))
    assert conn.execute("SELECT id, complete FROM runs").fetchall() == [(1, 1), (2, 0)]
    worse = changed(GOOD, "www.gov.example", "dns.aaaa", "warn")
    assert run_scan("n3", worse, "--fail-on-regression") == 1  # compared with run 1
    assert summary_of(tmp_path, "n3")["run"]["previous"] == 1


def test_runs_of_other_target_files_are_not_compared(
    tmp_path: Path, run_scan: Scan, targets: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_scan("n1", GOOD, "--shard", "1/1") == 0
    worse = changed(GOOD, "www.gov.example", "dns.aaaa", "fail")
    assert run_scan("n2", worse, "--fail-on-regression") == 0  # no shard: another key
    assert "nothing to compare" in capsys.readouterr().err


# --------------------------------------------------------------------------- report --db


def test_report_rerenders_a_recorded_run(
    tmp_path: Path,
    run_scan: Scan,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert run_scan("n1", GOOD, "--today", "2026-01-01") == 0
    assert run_scan("n2", changed(GOOD, "gov.example", "dns.aaaa", "fail")) == 0
    again = tmp_path / "again"
    db = str(db_path(tmp_path))
    rendered: list[dict[str, Any]] = []

    def render(results: Any, summary: dict[str, Any], lang: str) -> str:
        rendered.append({**summary, "results": list(results), "targets": list(summary["targets"])})
        return "<html></html>"

    monkeypatch.setattr(html, "render_html", render)
    assert main(["report", str(again), "--db", db, "--run", "1", "--lang", "en"]) == 0
    assert "from run 1" in capsys.readouterr().out
    # Then the report is the one file written: no results.jsonl or summary.json beside it
    assert sorted(p.name for p in again.iterdir()) == ["report.html"]
    original = tmp_path / "runs" / "n1"
    rebuilt = rendered[-1]
    assert rebuilt["results"] == list(read_results(original / "results.jsonl"))
    assert rebuilt["targets"] == summary_of(tmp_path, "n1")["targets"]
    assert rebuilt["milestones"] == summary_of(tmp_path, "n1")["milestones"]
    assert [r["id"] for r in rebuilt["trends"]["runs"]] == [1]
    # latest is the default run; a profile rescores it
    profile = tmp_path / "p.yaml"
    profile.write_text("weights: {dns.mx_ipv6: 0}\n", encoding="utf-8")
    assert main(["report", str(again), "--db", db, "--profile", str(profile), "--lang", "en"]) == 0
    rebuilt = rendered[-1]
    assert rebuilt["run"]["id"] == 2
    assert rebuilt["targets"][0]["score"] == 62.5  # (3 + 2) / 8 without mx


@pytest.mark.parametrize(
    ("extra", "words"),
    [(["--run", "9"], "no run 9"), (["--run", "first"], "'latest'")],
)
def test_report_of_a_missing_run_exits_2(
    tmp_path: Path, run_scan: Scan, capsys: pytest.CaptureFixture[str], extra: list[str], words: str
) -> None:
    assert run_scan("n1", GOOD) == 0
    assert main(["report", str(tmp_path / "x"), "--db", str(db_path(tmp_path)), *extra]) == 2
    assert words in capsys.readouterr().err


def test_report_without_a_database_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", str(tmp_path / "x"), "--db", str(tmp_path / "none.db")]) == 2
    assert "none.db" in capsys.readouterr().err
    assert not (tmp_path / "none.db").exists()
