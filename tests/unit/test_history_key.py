"""Which history a run continues (INTERFACE.md "History"): the key derived from the lists'
identity, --history-key, the migration of a schema-1 database in place, and
`report --run`, which writes its report and nothing else. No network: the scan is
replaced by one that writes a hand-made results.jsonl."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import ipv6scan.cli as cli
from ipv6scan import history, history_key
from ipv6scan.checks import registry
from ipv6scan.cli import main
from ipv6scan.observations.dns import Connectivity
from ipv6scan.targets import ListReader

YAML = "version: 1\nname: {name}\ntargets:\n  - {{name: Portal, sector: government, domains: [gov.example]}}\n"  # noqa: E501
GOOD = [("one.example", "dns.aaaa", "pass"), ("www.one.example", "dns.aaaa", "pass")]
WORSE = [("one.example", "dns.aaaa", "pass"), ("www.one.example", "dns.aaaa", "fail")]


def _key(paths: list[str], sector: str = "enterprise", checks: str | None = None) -> str:
    chosen = registry.select(None if checks is None else checks.split(","))
    return history_key.for_scan(None, paths, sector, chosen, None, ListReader())


# --------------------------------------------------------------------------- the key


def test_a_plain_list_is_one_history_however_its_path_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "one.txt").write_text("one.example\n")
    monkeypatch.chdir(tmp_path)
    spellings = ["one.txt", "./one.txt", str(tmp_path / "one.txt"), "sub/../one.txt"]
    assert len({_key([p]) for p in spellings}) == 1
    assert json.loads(_key(["one.txt"])) == {
        "lists": ["one.txt"],
        "sector": "enterprise",
        "checks": ["all"],
    }


def test_a_yaml_list_is_known_by_its_name_not_its_path(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    first, moved, other = tmp_path / "a" / "l.yaml", tmp_path / "renamed.yml", tmp_path / "o.yaml"
    first.write_text(YAML.format(name="Audit 2026"))
    moved.write_text(YAML.format(name="Audit 2026"))
    other.write_text(YAML.format(name="Another audit"))
    assert _key([str(first)]) == _key([str(moved)])
    assert _key([str(first)]) != _key([str(other)])
    # the sector of plain lists does not touch a YAML list's history: its targets carry theirs
    assert _key([str(first)], "government") == _key([str(first)], "operator")
    assert "sector" not in json.loads(_key([str(first)]))


def test_the_sector_of_plain_lists_and_the_set_of_checks_are_part_of_it(tmp_path: Path) -> None:
    (tmp_path / "one.txt").write_text("one.example\n")
    one = str(tmp_path / "one.txt")
    assert _key([one], "government") != _key([one], "operator")
    assert _key([one], checks="dns") != _key([one])
    assert _key([one], checks="dns.aaaa") != _key([one], checks="dns")
    # a family is the family however it is spelled, and every family is "all"
    dns_ids = ",".join(c.id for c in registry.CHECKS if c.family == "dns")
    assert _key([one], checks=dns_ids) == _key([one], checks="dns")
    assert _key([one], checks=",".join(registry.FAMILIES)) == _key([one])
    assert json.loads(_key([one], checks="resolver,dns.aaaa"))["checks"] == [
        "resolver",
        "dns.aaaa",
    ]


def test_lists_in_any_order_and_shards_apart(tmp_path: Path) -> None:
    for name in ("a.txt", "b.csv"):
        (tmp_path / name).write_text("1,one.example\n" if name.endswith("csv") else "x.example\n")
    a, b = str(tmp_path / "a.txt"), str(tmp_path / "b.csv")
    assert _key([a, b]) == _key([b, a])
    chosen = registry.select(None)
    whole = history_key.for_scan(None, [a], "enterprise", chosen, None, ListReader())
    shard = history_key.for_scan(None, [a], "enterprise", chosen, (2, 8), ListReader())
    assert shard == f"{whole} [shard 2/8]"
    named = history_key.for_scan(" nightly ", [a], "enterprise", chosen, None, ListReader())
    assert named == "nightly"


@pytest.mark.parametrize("bad", ["", "   ", "a\nb", "x" * 201])
def test_a_bad_history_key_is_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        history_key.explicit(bad)


# --------------------------------------------------------------------------- through the CLI

Scan = Callable[..., tuple[int, str]]


@pytest.fixture
def scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Scan]:
    """`scan(targets, out, rows, *options) -> (exit code, stderr)`, results written by hand."""
    monkeypatch.setattr(cli, "use_fast_loop", lambda: None)

    def run(targets: str, out: Path, rows: list[tuple[str, str, str]], *options: str) -> Any:
        async def fake_scan(config: Any, _targets: Any, _total: Any) -> Any:
            config.out.mkdir(parents=True, exist_ok=True)
            lines = [json.dumps(_record(*row)) for row in rows]
            (config.out / "results.jsonl").write_text("\n".join(lines) + "\n")
            return None, Connectivity(True, True, (), ())

        monkeypatch.setattr(cli, "scan", fake_scan)
        code = main(["scan", targets, "--out", str(out), "--quiet", "--lang", "en",
                     "--db", str(tmp_path / "h.db"), *options])  # fmt: skip
        return code, capsys.readouterr().err

    yield run


def _record(subject: str, check: str, status: str) -> dict[str, Any]:
    return {"target": subject.removeprefix("www."), "sector": "enterprise", "tier": "services",
            "subject": subject, "check": check, "status": status, "detail": f"{check} {status}",
            "evidence": {}, "duration_ms": 1.0}  # fmt: skip


def test_two_path_spellings_continue_one_history_and_the_gate_sees_it(
    tmp_path: Path, scan: Scan, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given one.txt scanned from its own directory, and the same list by its absolute path
    # from elsewhere, where www.one.example has lost its AAAA
    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / "one.txt").write_text("one.example\n")
    monkeypatch.chdir(lists)
    code, err = scan("one.txt", tmp_path / "r1", GOOD, "--fail-on-regression")
    # Then the first run says plainly that there is nothing to compare, and passes
    assert code == 0
    assert "gate: no earlier complete run of history" in err
    assert '"lists":["one.txt"]' in err and "nothing to compare; the gate passes" in err
    monkeypatch.chdir(tmp_path)
    code, err = scan(str(lists / "one.txt"), tmp_path / "r2", WORSE, "--fail-on-regression")
    # Then the second run is compared with the first, and the gate catches the regression
    assert code == 1, err
    assert "gate: regressed: one.example / www.one.example / dns.aaaa: pass -> fail" in err
    summary = json.loads((tmp_path / "r2" / "summary.json").read_text())
    assert summary["run"]["previous"] == 1
    assert [r["id"] for r in summary["trends"]["runs"]] == [1, 2]


def test_history_key_joins_or_parts_histories(tmp_path: Path, scan: Scan) -> None:
    (tmp_path / "one.txt").write_text("one.example\n")
    (tmp_path / "two.txt").write_text("one.example\n")
    one, two = str(tmp_path / "one.txt"), str(tmp_path / "two.txt")
    assert scan(one, tmp_path / "r1", GOOD, "--history-key", "nightly")[0] == 0
    # another list, no key: another history
    code, err = scan(two, tmp_path / "r2", WORSE, "--fail-on-regression")
    assert code == 0 and "nothing to compare" in err
    # another list under the same key: compared with run 1
    code, err = scan(two, tmp_path / "r3", WORSE, "--history-key", "nightly",
                     "--fail-on-regression")  # fmt: skip
    assert code == 1 and "pass -> fail" in err
    code, err = scan(one, tmp_path / "r4", GOOD, "--history-key", "bad\x07key")
    assert code == 2 and "--history-key" in err
    assert not (tmp_path / "r4").exists()


# --------------------------------------------------------------------------- migration

SCHEMA_1 = """
CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, started TEXT NOT NULL,
    finished TEXT NOT NULL, out_dir TEXT NOT NULL, target_files TEXT NOT NULL,
    run_key TEXT NOT NULL, complete INTEGER NOT NULL, overall_score REAL, profile TEXT,
    summary TEXT NOT NULL);
CREATE INDEX runs_by_key ON runs (run_key, id);
CREATE TABLE results (run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    target TEXT NOT NULL, sector TEXT NOT NULL, tier TEXT NOT NULL, subject TEXT NOT NULL,
    check_id TEXT NOT NULL, status TEXT NOT NULL, detail TEXT NOT NULL,
    evidence TEXT NOT NULL, duration_ms REAL NOT NULL);
CREATE INDEX results_by_run ON results (run_id);
CREATE TABLE target_scores (run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    target TEXT NOT NULL, sector TEXT NOT NULL, score REAL, stage TEXT NOT NULL,
    row TEXT NOT NULL, PRIMARY KEY (run_id, target));
CREATE TABLE sector_scores (run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    sector TEXT NOT NULL, score REAL, targets INTEGER NOT NULL, PRIMARY KEY (run_id, sector));
PRAGMA user_version = 1;
"""


def _schema_1_db(path: Path, target_file: str) -> None:
    """A database as the schema-1 code left it: one complete run of `target_file`."""
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA_1)
    summary = {"schema": 1, "overall": {"score": 100.0}}
    with conn:
        conn.execute(
            "INSERT INTO runs (started, finished, out_dir, target_files, run_key, complete,"
            " overall_score, profile, summary) VALUES (?, ?, ?, ?, ?, 1, 100.0, 'null', ?)",
            ("2026-01-01T00:00:00+00:00", "2026-01-01T00:01:00+00:00", "/old/out",
             json.dumps([target_file]), history.run_key([target_file], None),
             json.dumps(summary)),
        )  # fmt: skip
        conn.executemany(
            "INSERT INTO results VALUES (1, ?, 'enterprise', 'services', ?, ?, ?, ?, '{}', 1.0)",
            [(r["target"], r["subject"], r["check"], r["status"], r["detail"])
             for r in (_record(*row) for row in GOOD)],
        )  # fmt: skip
    conn.close()


def test_a_schema_1_database_is_migrated_in_place_and_its_runs_still_compare(
    tmp_path: Path, scan: Scan, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a database written by the schema-1 code, with a run of one.txt from this directory
    monkeypatch.chdir(tmp_path)
    (tmp_path / "one.txt").write_text("one.example\n")
    _schema_1_db(tmp_path / "h.db", "one.txt")
    # When the same list is scanned again, worse, with the gate
    code, err = scan("one.txt", tmp_path / "r2", WORSE, "--fail-on-regression")
    # Then the old run is the previous run (found by its path key), and the gate fails
    assert code == 1, err
    assert "pass -> fail" in err
    conn = sqlite3.connect(tmp_path / "h.db")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == history.SCHEMA_VERSION
    rows = conn.execute("SELECT id, run_key, history_key FROM runs ORDER BY id").fetchall()
    # the old run keeps its path key, and joins the history its successor continued
    assert rows[0] == (1, history.run_key(["one.txt"], None), rows[1][2])
    assert rows[1][2] == _key([str(tmp_path / "one.txt")])
    # and from then on the list may move: a third run by absolute path compares with run 2
    monkeypatch.chdir("/")
    code, err = scan(str(tmp_path / "one.txt"), tmp_path / "r3", WORSE, "--fail-on-regression")
    assert code == 0, err
    summary = json.loads((tmp_path / "r3" / "summary.json").read_text())
    assert summary["run"]["previous"] == 2
    assert [r["id"] for r in summary["trends"]["runs"]] == [1, 2, 3]


def test_opening_a_migrated_database_again_changes_nothing(tmp_path: Path) -> None:
    _schema_1_db(tmp_path / "h.db", "one.txt")
    history.open_db(tmp_path / "h.db").close()
    conn = history.open_db(tmp_path / "h.db")
    (old,) = history.previous_runs(conn, history.Lineage("x", history.run_key(["one.txt"], None)))
    assert old.id == 1 and old.history_key is None
    assert history.previous_runs(conn, history.Lineage("x", "other")) == []


# --------------------------------------------------------------------------- report --run


def _hashes(directory: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.iterdir())
        if p.is_file()
    }


def test_report_of_a_recorded_run_never_rewrites_dir(
    tmp_path: Path, scan: Scan, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given two scans in the history, the second's directory being DIR
    (tmp_path / "one.txt").write_text("one.example\n")
    assert scan(str(tmp_path / "one.txt"), tmp_path / "r1", GOOD)[0] == 0
    assert scan(str(tmp_path / "one.txt"), tmp_path / "r2", WORSE)[0] == 0
    directory = tmp_path / "r2"
    before = _hashes(directory)
    # When run 1's report is rendered from DIR, to another file and to the default one
    elsewhere = tmp_path / "old-report.html"
    db = str(tmp_path / "h.db")
    assert main(["report", str(directory), "--db", db, "--run", "1", "--out", str(elsewhere)]) == 0
    assert elsewhere.stat().st_size > 0
    assert _hashes(directory) == before
    assert main(["report", str(directory), "--db", db, "--run", "1"]) == 0
    # Then only report.html changed in DIR; its results and summary are still run 2's
    after = _hashes(directory)
    assert {k for k in after if after[k] != before.get(k)} == {"report.html"}
    assert set(after) == set(before)
    assert "from run 1" in capsys.readouterr().out
    assert not [p for p in directory.iterdir() if p.name.startswith(".ipv6scan-work-")]
