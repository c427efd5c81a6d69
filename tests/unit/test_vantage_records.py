"""Records from several vantage points: one (target, tier, subject, check) has a record per
vantage point, and diff, the gate and the history keep them apart (issue 19)."""

from __future__ import annotations

import json
from pathlib import Path

from ipv6scan.diff import compare
from ipv6scan.history import load_results, open_db, record_run
from ipv6scan.model import CheckResult, Status


def record(status: str, vantage: str | None) -> CheckResult:
    return CheckResult(
        target="Portal",
        sector="government",
        tier="services",
        subject="gov.example",
        check="web.reachable",
        status=Status(status),
        detail=f"{status} from {vantage}",
        evidence={},
        duration_ms=1.0,
        vantage=vantage,
    )


def results_file(path: Path, records: list[CheckResult]) -> Path:
    path.write_text("".join(r.to_line() + "\n" for r in records), encoding="utf-8")
    return path


def test_diff_pairs_each_record_with_the_same_vantage_points_earlier_one(tmp_path: Path) -> None:
    # Given telecom failed and mobile passed last night, and tonight the same again, written
    # in the other order
    old = results_file(
        tmp_path / "old.jsonl", [record("fail", "telecom"), record("pass", "mobile")]
    )
    new = results_file(
        tmp_path / "new.jsonl", [record("pass", "mobile"), record("fail", "telecom")]
    )
    # Then nothing changed: no record is paired with the other vantage point's
    found = compare(old, new)
    assert not found.regressed and not found.improved
    assert not found.appeared and not found.disappeared


def test_a_regression_names_its_vantage_point(tmp_path: Path) -> None:
    old = results_file(
        tmp_path / "old.jsonl", [record("pass", "telecom"), record("pass", "mobile")]
    )
    new = results_file(
        tmp_path / "new.jsonl", [record("pass", "telecom"), record("fail", "mobile")]
    )
    found = compare(old, new)
    assert [(c.vantage, c.old, c.new) for c in found.regressed] == [("mobile", "pass", "fail")]
    assert "(from mobile)" in found.regressed[0].line()
    assert found.regressed[0].to_json()["vantage"] == "mobile"
    assert found.gate() and "mobile" in found.gate()[0]


def test_a_local_scans_diff_has_no_vantage(tmp_path: Path) -> None:
    old = results_file(tmp_path / "old.jsonl", [record("pass", None)])
    new = results_file(tmp_path / "new.jsonl", [record("fail", None)])
    (change,) = compare(old, new).regressed
    assert change.vantage is None and "vantage" not in change.to_json()
    assert "(from" not in change.line()


def test_the_history_keeps_each_records_vantage_point(tmp_path: Path) -> None:
    conn = open_db(tmp_path / "h.db")
    records = [record("fail", "telecom"), record("pass", "mobile"), record("pass", None)]
    run = record_run(conn, started="2026-12-07T00:00:00Z", finished="2026-12-07T00:01:00Z",
                     out_dir=tmp_path, target_files=["one.txt"], key="k", complete=True,
                     summary={"overall": {"score": 50.0}, "targets": []},
                     results=records, history_key="k")  # fmt: skip
    back = list(load_results(conn, run))
    assert [(r.status, r.vantage) for r in back] == [
        (Status.FAIL, "telecom"),
        (Status.PASS, "mobile"),
        (Status.PASS, None),
    ]
    # and each comes back as results.jsonl had it, the local one without the key
    assert [json.loads(r.to_line()).get("vantage") for r in back] == ["telecom", "mobile", None]
