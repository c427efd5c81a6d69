"""A re-run of a history looks its texts up before staging them (history_store.RunWriter):
what it stores, and what reads back, is what storing every text would give; an unchanged
re-run stages nothing. The evidence a run repeats is hashed and staged once."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from ipv6scan import history, history_chunks, history_stage, history_store
from ipv6scan.checks.dns import GLOBAL_ONE, NO_AAAA
from ipv6scan.messages import Detail, word
from ipv6scan.model import CheckResult, Status
from ipv6scan.report.jsonl import read_results
from tests.unit.stored_history import contents
from tests.unit.test_history_compact import STARTS, dns_results, scan_into

TEXT_TABLES = ("verdicts", "evidence", "target_rows")


_contents = contents


def _three_runs(tmp_path: Path, db: Path) -> list[Path]:
    """The same 40 names three times: unchanged, then five failing (new verdicts, rows)."""
    tmp_path.mkdir()
    first = dns_results(tmp_path / "1.jsonl", 40)
    worse = dns_results(tmp_path / "3.jsonl", 40, failing=5)
    for i, results in enumerate((first, first, worse)):
        scan_into(db, tmp_path / f"out{i}", results, STARTS[i])
    return [first, first, worse]


def test_looking_up_stores_what_storing_everything_stores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given three runs recorded with lookups (the default for a re-run)
    runs = _three_runs(tmp_path / "a", tmp_path / "a.db")
    # and the same three recorded storing every text (merge's INSERT OR IGNORE alone)
    monkeypatch.setattr(history_stage, "unstored", lambda conn, table, batch: batch)
    _three_runs(tmp_path / "b", tmp_path / "b.db")
    # Then both databases hold the same texts and runs
    assert _contents(tmp_path / "a.db") == _contents(tmp_path / "b.db")
    # and each run reads back as it was recorded
    conn = history.open_db(tmp_path / "a.db")
    for run_id, path in enumerate(runs, start=1):
        assert list(history.load_results(conn, run_id)) == list(read_results(path))
    conn.close()


def test_an_unchanged_rerun_stages_no_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "h.db"
    results = dns_results(tmp_path / "r.jsonl", 60, failing=10)
    scan_into(db, tmp_path / "a", results, STARTS[0])
    staged: dict[str, int] = dict.fromkeys(TEXT_TABLES, 0)
    write = history_chunks.write

    def counting(conn: sqlite3.Connection, table: str, *args: Any, **kw: Any) -> None:
        staged[table] += kw["count"]  # what goes into a chunk, in the thread or not
        write(conn, table, *args, **kw)

    monkeypatch.setattr(history_chunks, "write", counting)
    # When the same results are recorded again
    scan_into(db, tmp_path / "b", results, STARTS[1])
    # Then no verdict, evidence or target row was staged again: each was found stored
    assert staged == dict.fromkeys(TEXT_TABLES, 0)
    conn = history.open_db(db)
    assert list(history.load_results(conn, 2)) == list(read_results(results))
    conn.close()
    # while a changed run writes its new verdicts (what is counted is what is written)
    scan_into(db, tmp_path / "c", dns_results(tmp_path / "c.jsonl", 60, failing=20), STARTS[2])
    assert staged["verdicts"] == 20 and staged["target_rows"] == 10


def _result(i: int, evidence: dict[str, Any]) -> CheckResult:
    return CheckResult(f"t{i}.example", "enterprise", "services", f"t{i}.example", "dns.aaaa",
                       Status.FAIL, NO_AAAA(), evidence, 1.0)  # fmt: skip


@pytest.mark.parametrize(
    "detail",
    [
        NO_AAAA(),
        GLOBAL_ONE(count=1, addresses=["2001:db8::1"]),
        Detail(
            "é, 1.5e-07",
            "x.key",
            {
                "name": 'é\u2028"\\',
                "n": 1.5e-7,
                "big": 10**20,
                "nested": [word("refused").stored(), None, True],
            },
        ),
    ],
)
def test_a_details_data_is_the_json_it_always_was(detail: Detail) -> None:
    want = json.dumps([detail.key, detail.params], ensure_ascii=False, separators=(",", ":"))
    assert history_store._detail_data(detail) == want
    # numbers orjson writes otherwise, and what it cannot write: json's text still
    odds = (1e-7, 1e-5, -1.5e-5, 1e16, 2.5e-300, float("nan"), float("inf"), 10**20, "\ud800")
    for odd in (*odds, {1: 2}):
        params = {**detail.params, "odd": odd}
        want = json.dumps([detail.key, params], ensure_ascii=False, separators=(",", ":"))
        assert history_store._detail_data(Detail(detail, detail.key, params)) == want
    assert history_store._detail_data("plain text") is None


def test_only_a_rerun_looks_texts_up(tmp_path: Path) -> None:
    conn = history.open_db(tmp_path / "h.db")

    def recorder(key: str) -> history.Recorder:
        return history.Recorder(conn, started=STARTS[0], out_dir=tmp_path, target_files=["l"],
                                key="files", complete=True, history_key=key)  # fmt: skip

    first = recorder("one")
    assert not first._writer.look_up  # nothing of this history stored: nothing to find
    first.finish({}, STARTS[0])
    again, other = recorder("one"), None
    assert again._writer.look_up
    again.finish({}, STARTS[1])
    other = recorder("two")
    assert not other._writer.look_up
    other.abort()
    conn.close()


def test_a_runs_target_names_are_those_of_its_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # (looked up a few keys at a time, in key order: several queries)
    monkeypatch.setattr(history_store, "LOOKUP", 7)
    db = tmp_path / "h.db"
    scan_into(db, tmp_path / "a", dns_results(tmp_path / "a.jsonl", 30), STARTS[0])
    scan_into(db, tmp_path / "b", dns_results(tmp_path / "b.jsonl", 45, failing=3), STARTS[1])
    conn = history.open_db(db)
    for run_id, count in ((1, 30), (2, 45)):
        names = list(history.run_target_names(conn, run_id))
        assert sorted(names) == sorted(r["name"] for r in history.all_target_rows(conn, run_id))
        assert len(names) == count
    conn.close()


def test_a_verdict_s_key_does_not_depend_on_the_judges_a_process_imported(
    tmp_path: Path,
) -> None:
    """The finish's second process, or a merge, imports no judge; the messages' measured
    figures must still be left out of the verdict's key (messages.identity)."""
    import subprocess
    import sys

    from tests.unit.test_finish_fast import _ping_results

    results = _ping_results(tmp_path / "pings.jsonl", 3, ms=12.0)
    here = [history_store.verdict_record(r)[0] for r in read_results(results)]
    code = (
        "import sys; from ipv6scan.history_store import verdict_record;"
        " from ipv6scan.report.jsonl import read_results;"
        " assert 'ipv6scan.checks.net' not in sys.modules;"
        " from pathlib import Path;"
        " print([verdict_record(r)[0] for r in read_results(Path(sys.argv[1]))])"
    )
    elsewhere = subprocess.run([sys.executable, "-c", code, str(results)], check=True,
                               capture_output=True, text=True).stdout  # fmt: skip
    assert elsewhere.strip() == str(here)
