"""`ipv6scan merge`: shards' result directories, written by hand, made one."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

from ipv6scan.cli import main
from ipv6scan.merge import MergeError, merge_results, scanner_info
from ipv6scan.report.summary_json import WHOLE_BELOW, write_summary


def _row(target: str, subject: str, check: str, status: str = "pass", **kw: object) -> dict:
    row = {
        "target": target,
        "sector": "enterprise",
        "tier": "services",
        "subject": subject,
        "check": check,
        "status": status,
        "detail": f"{check} {status}",
        "evidence": {},
        "duration_ms": 1.0,
    }
    row.update(kw)
    return row


def _shard(path: Path, rows: list[dict], extra: str = "") -> Path:
    path.mkdir(parents=True)
    text = "".join(json.dumps(r) + "\n" for r in rows) + extra
    (path / "results.jsonl").write_text(text, encoding="utf-8")
    summary = {"schema": 1, "scanner": {"ipv6": True, "ipv4": True, "notes": ["shard"]}}
    (path / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    return path


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_merge_concatenates_and_regenerates_every_file(tmp_path: Path) -> None:
    # Given two shards of different targets
    a = _shard(tmp_path / "a", [_row("a.example", "a.example", "dns.aaaa")])
    b = _shard(tmp_path / "b", [_row("b.example", "b.example", "dns.aaaa", "fail")])
    out = tmp_path / "merged"
    # When they are merged
    code = main(["merge", str(a), str(b), "--out", str(out), "--lang", "en", "--quiet"])
    # Then every result is there once, in directory order, and the other files exist
    assert code == 0
    assert [r["target"] for r in _lines(out / "results.jsonl")] == ["a.example", "b.example"]
    for name in ("summary.json", "report.html", "results.csv", "junit.xml"):
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["overall"]["targets"] == 2
    assert summary["scanner"]["merged_from"] == [str(a), str(b)]
    assert summary["scanner"]["ipv6"] is True
    junit = (out / "junit.xml").read_text(encoding="utf-8")
    assert junit.count("<testcase") == 2


def test_overlapping_shards_keep_each_result_once(tmp_path: Path) -> None:
    # Given a target in both shards (say 1/2 and then 1/1 rerun) and one only in the second
    first = [_row("a.example", "a.example", "dns.aaaa", "pass")]
    second = [
        _row("a.example", "a.example", "dns.aaaa", "fail"),
        _row("a.example", "www.a.example", "dns.aaaa"),
        _row("c.example", "c.example", "dns.aaaa"),
    ]
    a, b = _shard(tmp_path / "a", first), _shard(tmp_path / "b", second)
    stats = merge_results([a, b], tmp_path / "out")
    rows = _lines(tmp_path / "out" / "results.jsonl")
    # Then the first directory's copy wins and nothing else is lost
    assert [(r["subject"], r["status"]) for r in rows] == [
        ("a.example", "pass"),
        ("www.a.example", "pass"),
        ("c.example", "pass"),
    ]
    assert (stats.written, stats.duplicates) == (3, 1)


def test_same_subject_in_two_tiers_is_not_a_duplicate(tmp_path: Path) -> None:
    rows = [
        _row("op", "core1.op.example", "net.ping", tier="backbone"),
        _row("op", "core1.op.example", "net.ping", tier="metro"),
    ]
    stats = merge_results([_shard(tmp_path / "a", rows)], tmp_path / "out")
    assert stats.written == 2


def test_torn_and_foreign_lines_are_skipped(tmp_path: Path) -> None:
    # a killed shard leaves a torn last line; a stray line is not a result
    a = _shard(tmp_path / "a", [_row("a.example", "a.example", "dns.aaaa")],
               extra='["not", "a result"]\n{"target": "b.example", "subj')  # fmt: skip
    stats = merge_results([a], tmp_path / "out")
    assert (stats.written, stats.unreadable) == (1, 2)
    assert len(_lines(tmp_path / "out" / "results.jsonl")) == 1


@pytest.mark.parametrize("problem", ["missing", "file", "no-results", "twice", "out-is-input"])
def test_bad_directories_exit_2(tmp_path: Path, problem: str, capsys) -> None:  # type: ignore[no-untyped-def]
    good = _shard(tmp_path / "good", [_row("a.example", "a.example", "dns.aaaa")])
    out = tmp_path / "out"
    bad = {
        "missing": [str(good), str(tmp_path / "nowhere")],
        "file": [str(good), str(good / "results.jsonl")],
        "no-results": [str(good), str(tmp_path)],
        "twice": [str(good), str(good)],
        "out-is-input": [str(good)],
    }[problem]
    if problem == "out-is-input":
        out = good
    code = main(["merge", *bad, "--out", str(out), "--quiet"])
    assert code == 2
    assert "ipv6scan:" in capsys.readouterr().err
    assert problem == "out-is-input" or not (out / "results.jsonl").exists()


def test_nothing_given_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(MergeError):
        merge_results([], tmp_path / "out")
    with pytest.raises(SystemExit) as exc:
        main(["merge", "--out", str(tmp_path / "out")])
    assert exc.value.code == 2


def test_the_scanner_is_read_from_a_big_summary_without_its_target_rows(tmp_path: Path) -> None:
    # Given a shard whose summary.json holds 60,000 target rows, as a scan writes them
    shard = tmp_path / "big"
    shard.mkdir()
    rows = ({"name": f"site-{i}.example", "sector": "government", "score": 50.0}
            for i in range(60_000))  # fmt: skip
    scanner = {"ipv6": True, "ipv4": True, "notes": ["shard 1/2"]}
    write_summary({"schema": 1, "scanner": scanner, "targets": rows}, shard / "summary.json")
    assert (shard / "summary.json").stat().st_size > WHOLE_BELOW
    # When the merge takes the scanner's description from it
    tracemalloc.start()
    try:
        info = scanner_info([shard])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # Then it has it, and the rows were never held (loaded whole: 25 MB here)
    assert info == {**scanner, "merged_from": [str(shard)]}
    assert peak < 1 << 20
