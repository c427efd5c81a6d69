"""The history stores what changed (schema 4, history_store): an unchanged re-run adds at
most a tenth of what the first run added; schema 1, 2 and 3 databases are migrated in
place with every run still readable; --keep-runs removes old runs and what only they
used."""

from __future__ import annotations

import json
import shutil
import sqlite3
import zlib
from array import array
from pathlib import Path
from typing import Any

import pytest

from ipv6scan import audit, history, history_chunks, history_columns, history_store
from ipv6scan.cli import main as cli_main
from ipv6scan.model import CheckResult, Status
from ipv6scan.report.jsonl import read_results
from ipv6scan.scoring import summarize
from tests.unit import test_history as cli_runs
from tests.unit.sample_results import write_sample
from tests.unit.test_history import GOOD, Scan, changed, db_path
from tests.unit.test_history_key import SCHEMA_1

# the command line's scan with hand-written results, as test_history runs it
run_scan, targets = cli_runs.run_scan, cli_runs.targets

STARTS = [f"2026-03-0{i}T10:00:00+00:00" for i in range(1, 10)]


def dns_results(path: Path, count: int, failing: int = 0) -> Path:
    """A DNS-only run: D and www.D per target; the first `failing` targets fail."""
    with path.open("w", encoding="utf-8") as fh:
        for i in range(count):
            for subject in (f"d{i}.example", f"www.d{i}.example"):
                ok = i >= failing
                r = CheckResult(f"d{i}.example", "enterprise", "services", subject, "dns.aaaa",
                                Status.PASS if ok else Status.FAIL,
                                f"1 global AAAA record: 2001:db8::{i:x}." if ok else "No AAAA.",
                                {"rcode": "NOERROR", "resolver": "2001:db8:53::53",
                                 "addresses": [{"address": f"2001:db8::{i:x}", "global": True}]},
                                1.0 + (i % 7) * 0.25)  # fmt: skip
                fh.write(r.to_line() + "\n")
    return path


def db_bytes(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        free = conn.execute("PRAGMA freelist_count").fetchone()[0]
        return int((pages - free) * conn.execute("PRAGMA page_size").fetchone()[0])
    finally:
        conn.close()


def scan_into(db: Path, out: Path, results: Path, start: str) -> audit.Finished:
    out.mkdir(parents=True)
    shutil.copy(results, out / "results.jsonl")
    conn = history.open_db(db)
    try:
        rec = audit.Recording(db=db, target_files=("list.txt",), history_key="k")
        return audit.finish_scan(conn, rec, out, "en", None, start)
    finally:
        conn.close()


def two_runs_growth(db: Path, tmp_path: Path, first: Path, second: Path) -> tuple[int, int]:
    """What recording `first`, then `second`, each added to the history `db` (bytes in use)."""
    before = db_bytes(db)
    scan_into(db, tmp_path / "a", first, STARTS[0])
    added = db_bytes(db) - before
    scan_into(db, tmp_path / "b", second, STARTS[1])
    return added, db_bytes(db) - before - added


def test_an_unchanged_rerun_adds_at_most_a_tenth_of_the_first(tmp_path: Path) -> None:
    # Given an empty history and a DNS-only run of 3,000 names
    db = tmp_path / "h.db"
    history.open_db(db).close()
    results = dns_results(tmp_path / "r.jsonl", 3000, failing=300)
    # When it is recorded twice, nothing changed but the durations
    first, second = two_runs_growth(db, tmp_path, results, results)
    # Then the second run added at most a tenth of what the first did
    assert second <= first / 10, (first, second)
    # and both runs read back whole, in file order
    conn = history.open_db(db)
    want = list(read_results(results))
    assert list(history.load_results(conn, 1)) == want
    assert list(history.load_results(conn, 2)) == want


def test_a_changed_verdict_is_stored_and_read_back(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    scan_into(db, tmp_path / "a", dns_results(tmp_path / "a.jsonl", 50), STARTS[0])
    worse = dns_results(tmp_path / "b.jsonl", 50, failing=5)
    done = scan_into(db, tmp_path / "b", worse, STARTS[1])
    conn = history.open_db(db)
    assert list(history.load_results(conn, 2)) == list(read_results(worse))
    assert done.summary["trends"]["overall"][0][1] == 100.0
    assert done.summary["trends"]["targets"]["d0.example"] == [[STARTS[0], 100.0],
                                                               [STARTS[1], 0.0]]  # fmt: skip


def _old_db(path: Path, version: int, results: list[CheckResult], runs: int = 2) -> None:
    """A database as the schema-1 or schema-2 code left it: `runs` complete runs."""
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA_1)
    if version == 2:
        for statement in history.MIGRATE_1_TO_2.split(";"):
            if statement.strip():
                conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {version}")
    summary = summarize(results)
    rows = summary.pop("targets")
    with conn:
        for run in range(1, runs + 1):
            conn.execute(
                "INSERT INTO runs (started, finished, out_dir, target_files, run_key, complete,"
                " overall_score, profile, summary) VALUES (?, ?, '/old', ?, ?, 1, ?, 'null', ?)",
                (STARTS[run - 1], STARTS[run - 1], json.dumps(["t.yaml"]),
                 history.run_key(["t.yaml"], None), summary["overall"]["score"],
                 json.dumps(summary)),
            )  # fmt: skip
            conn.executemany(
                "INSERT INTO results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(run, r.target, r.sector, r.tier, r.subject, r.check, str(r.status), r.detail,
                  json.dumps(dict(r.evidence), ensure_ascii=False), r.duration_ms)
                 for r in results],
            )  # fmt: skip
            conn.executemany(
                "INSERT INTO target_scores VALUES (?, ?, ?, ?, ?, ?)",
                [(run, t["name"], t["sector"], t["score"], t["stage"],
                  json.dumps(t, ensure_ascii=False)) for t in rows],
            )  # fmt: skip
            conn.executemany(
                "INSERT INTO sector_scores VALUES (?, ?, ?, ?)",
                [(run, name, s["score"], s["targets"]) for name, s in summary["sectors"].items()],
            )
    conn.close()


@pytest.mark.parametrize("version", [1, 2])
def test_an_old_database_is_migrated_in_place(
    tmp_path: Path, version: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # (texts are inserted a few at a time: while the old results are still being read)
    monkeypatch.setattr(history_store, "BATCH", 7)
    # Given a schema-1 or schema-2 database with two runs of a sample
    sample = write_sample(tmp_path / "s.jsonl", targets=60)
    results = list(read_results(sample))
    db = tmp_path / "h.db"
    _old_db(db, version, results)
    # When it is opened by this version
    conn = history.open_db(db)
    # Then it is schema 4, the full tables are gone, and each run reads back as recorded
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 4
    tables = {n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "results" not in tables and "target_scores" not in tables
    rows = list(summarize(results)["targets"])
    for run_id in (1, 2):
        assert list(history.load_results(conn, run_id)) == results
        assert list(history.all_target_rows(conn, run_id)) == rows
    # and the runs still serve trends and milestones
    run = history.get_run(conn, 2)
    trends = history.trends(conn, run)
    assert [r["id"] for r in trends["runs"]] == [1, 2]
    name = rows[0]["name"]
    assert trends["targets"][name] == [[STARTS[0], rows[0]["score"]], [STARTS[1], rows[0]["score"]]]
    assert history.target_rows(conn, 1, [name]) == [rows[0]]
    conn.close()
    # and opening it again changes nothing
    again = history.open_db(db)
    assert list(history.load_results(again, 2)) == results
    again.close()


SCHEMA_3_TEXTS = """
CREATE TABLE verdicts (
    key INTEGER PRIMARY KEY,
    target TEXT NOT NULL, sector TEXT NOT NULL, tier TEXT NOT NULL, subject TEXT NOT NULL,
    check_id TEXT NOT NULL, status TEXT NOT NULL, detail TEXT NOT NULL,
    vantage TEXT, detail_data TEXT
);
CREATE TABLE evidence (key INTEGER PRIMARY KEY, text TEXT NOT NULL);
CREATE TABLE target_rows (
    key INTEGER PRIMARY KEY,
    target TEXT NOT NULL, sector TEXT NOT NULL, score REAL, stage TEXT NOT NULL,
    row TEXT NOT NULL
);
CREATE INDEX target_rows_by_name ON target_rows (target);
"""


def as_schema_3(db: Path, *, early: bool = False) -> dict[str, list[tuple[object, ...]]]:
    """Rewrite a database as schema 3 kept it (a row and its text each, each run's array the
    zlib of its values); `early`: before verdicts.detail_data and run_details. Gives its
    contents as the readers see them, to compare with what its migration gives."""
    from tests.unit.stored_history import contents

    want = contents(db)
    conn = sqlite3.connect(db)
    with conn:
        for table in ("verdicts", "evidence", "target_rows", "chunks", "run_blocks"):
            conn.execute(f"DROP TABLE {table}")
        conn.executescript(SCHEMA_3_TEXTS)
        width = {"verdicts": 10, "evidence": 2, "target_rows": 6}
        for table, rows in want.items():
            if table in width:
                marks = ", ".join("?" * width[table])
                conn.executemany(f"INSERT INTO {table} VALUES ({marks})",
                                 [row[: width[table]] for row in rows])  # fmt: skip
        for run_id, _count, *arrays in want["run_results"]:
            blobs = [zlib.compress(array(code, values).tobytes())
                     for code, values in zip("qqd", arrays, strict=True)]  # fmt: skip
            conn.execute("UPDATE run_results SET verdicts = ?, evidence = ?, durations = ?"
                         " WHERE run_id = ?", (*blobs, run_id))  # fmt: skip
        for run_id, _count, values in want["run_targets"]:
            blob = zlib.compress(array("q", values).tobytes())
            conn.execute("UPDATE run_targets SET rows = ? WHERE run_id = ?", (blob, run_id))
        if early:
            conn.execute("ALTER TABLE verdicts DROP COLUMN detail_data")
            conn.execute("DROP TABLE run_details")
        conn.execute("PRAGMA user_version = 3")
    conn.close()
    return want


@pytest.mark.parametrize("early", [False, True])
def test_a_schema_3_database_is_migrated_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, early: bool
) -> None:
    # (chunks of 7 texts: many of them)
    monkeypatch.setattr(history_store, "BATCH", 7)
    # Given a history of three runs, one of them changed, kept as schema 3 kept it
    db = tmp_path / "h.db"
    same = dns_results(tmp_path / "1.jsonl", 40, failing=2)
    worse = dns_results(tmp_path / "2.jsonl", 40, failing=9)
    for i, results in enumerate((same, same, worse)):
        scan_into(db, tmp_path / f"r{i}", results, STARTS[i])
    conn = history.open_db(db)
    rows = [list(history.all_target_rows(conn, run_id)) for run_id in (1, 2, 3)]
    conn.close()
    want = as_schema_3(db, early=early)
    old_size = db.stat().st_size
    # When this version opens it
    conn = history.open_db(db)
    # Then it is schema 4 and holds what it held, run by run
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 4
    from tests.unit.stored_history import contents

    got = contents(db)
    if early:  # the details of detail_data, and the runs' own details, were not kept then
        want["verdicts"] = [(*row[:9], None, *row[10:]) for row in want["verdicts"]]
        want["run_details"] = []
    assert got == want
    for run_id, results in ((1, same), (2, same), (3, worse)):
        assert list(history.load_results(conn, run_id)) == list(read_results(results))
        assert list(history.all_target_rows(conn, run_id)) == rows[run_id - 1]
    # and compares and trends as before
    assert history.target_rows(conn, 3, ["d3.example"]) == [
        r for r in rows[2] if r["name"] == "d3.example"]  # fmt: skip
    names = ["d5.example", "nobody.example", "d3.example"]  # (d3 fails in run 3 only)
    runs = [history.get_run(conn, run_id) for run_id in (1, 2, 3)]
    assert [past["targets"] for _date, past in history.summaries(conn, runs, names)] == [
        [next(r for r in rows[i] if r["name"] == name) for name in ("d5.example", "d3.example")]
        for i in range(3)
    ]
    assert rows[0] != rows[2]  # the runs' rows do differ
    conn.close()
    assert db.stat().st_size < old_size  # its space given back (VACUUM)
    # and a re-run of it stores no text again
    before = db_bytes(db)
    scan_into(db, tmp_path / "r3", worse, STARTS[3])
    assert db_bytes(db) - before < before / 10


def test_keep_runs_removes_older_runs_and_what_only_they_used(tmp_path: Path) -> None:
    # Given four runs of one history, each with another failing target
    db = tmp_path / "h.db"
    for i in range(4):
        results = dns_results(tmp_path / f"{i}.jsonl", 40, failing=i + 1)
        scan_into(db, tmp_path / f"r{i}", results, STARTS[i])
    conn = history.open_db(db)
    before = conn.execute("SELECT COUNT(*) FROM verdicts").fetchone()[0]
    # When the history keeps its last two runs
    deleted = history.prune(conn, history.Lineage("k", history.run_key(["list.txt"], None)), 2)
    # Then the two older runs are gone with the verdicts only they had
    assert deleted == 2
    assert [r for (r,) in conn.execute("SELECT id FROM runs ORDER BY id")] == [3, 4]
    after = conn.execute("SELECT COUNT(*) FROM verdicts").fetchone()[0]
    assert after < before
    # and the runs kept read back whole, and compare as before
    assert list(history.load_results(conn, 3)) == list(read_results(tmp_path / "2.jsonl"))
    assert list(history.load_results(conn, 4)) == list(read_results(tmp_path / "3.jsonl"))
    run = history.get_run(conn, 4)
    assert [r["id"] for r in history.trends(conn, run)["runs"]] == [3, 4]
    for table in ("run_results", "run_targets", "sector_scores", "tier_scores"):
        ids = {r for (r,) in conn.execute(f"SELECT DISTINCT run_id FROM {table}")}
        assert ids <= {3, 4}, table
    # and the chunks hold the texts kept and no other, each once; the blocks, the runs'
    for table in history_chunks.KINDS:
        held = conn.execute("SELECT sum(entries) FROM chunks WHERE tbl = ?", (table,))
        keys = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        assert held.fetchone()[0] == keys == len(history_chunks.stored(conn, table)), table
    kept = set()
    for packed in conn.execute("SELECT verdicts, evidence, durations FROM run_results"):
        kept.update(k for blob in packed for k in history_columns.block_keys(blob))
    for (blob,) in conn.execute("SELECT rows FROM run_targets"):
        kept.update(history_columns.block_keys(blob))
    stored = {k for (k,) in conn.execute("SELECT key FROM run_blocks")}
    assert stored == kept
    conn.close()


# ------------------------------------------------------------------- the command line


def test_outputs_chooses_the_files_and_keep_runs_prunes(tmp_path: Path, run_scan: Scan) -> None:
    # Given three runs, the last two with --keep-runs 2 and only some files asked for
    worse = changed(GOOD, "gov.example", "dns.aaaa", "fail")
    assert run_scan("a", GOOD) == 0
    assert run_scan("b", worse, "--outputs", "summary,csv") == 0
    assert run_scan("c", GOOD, "--outputs", "none", "--keep-runs", "2") == 0
    # Then each run wrote the files asked for
    assert sorted(p.name for p in (tmp_path / "runs" / "b").iterdir()) == [
        "results.csv", "results.jsonl", "summary.json"]  # fmt: skip
    assert [p.name for p in (tmp_path / "runs" / "c").iterdir()] == ["results.jsonl"]
    # and the history holds the last two runs, which still read back and render
    conn = history.open_db(db_path(tmp_path))
    assert [r for (r,) in conn.execute("SELECT id FROM runs ORDER BY id")] == [2, 3]
    statuses = [str(r.status) for r in history.load_results(conn, 2)]
    assert statuses == [st for _s, _c, st in worse]
    conn.close()
    out = tmp_path / "two.html"
    code = cli_main(["report", str(tmp_path / "runs" / "b"), "--db", str(db_path(tmp_path)),
                     "--run", "2", "--out", str(out), "--lang", "en"])  # fmt: skip
    assert code == 0 and "gov.example" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize("bad", [["--outputs", "pdf"], ["--keep-runs", "0"]])
def test_bad_outputs_or_keep_runs_is_a_usage_error(run_scan: Scan, bad: list[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        run_scan("x", GOOD, *bad)
    assert stop.value.code == 2


def test_a_stored_run_keeps_its_details_keys_and_its_own_figures(tmp_path: Path) -> None:
    """A run read back from the history renders in the report's language: each detail keeps
    its message key and parameters, and a detail compared without its measured figures
    keeps the figures that run measured."""
    from ipv6scan.checks.dns import GLOBAL_ONE
    from ipv6scan.checks.net import MEDIAN

    def run(path: Path, ms: str) -> Path:
        results = [
            CheckResult("T", "enterprise", "services", "t.example", "dns.aaaa", Status.PASS,
                        GLOBAL_ONE(count=1, addresses=["2001:db8::1"])),
            CheckResult("T", "enterprise", "services", "2001:db8::1", "net.ping", Status.PASS,
                        MEDIAN(address="2001:db8::1", ms=ms)),
        ]  # fmt: skip
        path.write_text("".join(r.to_line() + "\n" for r in results), encoding="utf-8")
        return path

    db = tmp_path / "h.db"
    first, second = run(tmp_path / "1.jsonl", "1.5"), run(tmp_path / "2.jsonl", "9.25")
    scan_into(db, tmp_path / "a", first, STARTS[0])
    scan_into(db, tmp_path / "b", second, STARTS[1])
    conn = history.open_db(db)
    for run_id, path in ((1, first), (2, second)):
        stored = [r.to_line() for r in history.load_results(conn, run_id)]
        assert stored == path.read_text(encoding="utf-8").splitlines()


def test_an_old_database_that_cannot_be_written_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a schema-3 database that SQLite may only read (query_only: as a read-only
    # file would, whoever runs the test)
    db = tmp_path / "h.db"
    scan_into(db, tmp_path / "r", dns_results(tmp_path / "1.jsonl", 5), STARTS[0])
    as_schema_3(db)
    connect = sqlite3.connect

    def read_only(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn = connect(*args, **kwargs)
        conn.execute("PRAGMA query_only = ON")
        return conn

    monkeypatch.setattr(history.sqlite3, "connect", read_only)
    # When this version opens it, Then the error names the file, the schema and why
    with pytest.raises(history.HistoryError, match=r"h\.db: history schema 3 .* writes"):
        history.open_db(db)
    monkeypatch.undo()
    assert sqlite3.connect(db).execute("PRAGMA user_version").fetchone()[0] == 3  # as it was
