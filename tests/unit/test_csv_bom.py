"""results.csv is UTF-8 with a byte-order mark (INTERFACE.md "The report"), once, at the
start: Excel on a Chinese Windows then reads the target names right."""

from __future__ import annotations

import csv
from pathlib import Path

from ipv6scan.finish import FinishOptions, Outputs, finish
from ipv6scan.model import CheckResult, Status
from ipv6scan.report.tables import CSV_FIELDS, write_csv
from tests.unit.sample_results import write_sample

BOM = b"\xef\xbb\xbf"


def result(target: str, check: str) -> CheckResult:
    return CheckResult(
        target, "government", "services", "gov.example", check, Status.FAIL, "没有 AAAA 记录。",
        {"title": "示范省人民政府门户网站"}, 1.0,
    )  # fmt: skip


def test_results_csv_starts_with_one_bom_and_reads_back(tmp_path: Path) -> None:
    # Given results of Chinese-named targets written as results.csv
    path = tmp_path / "results.csv"
    write_csv([result("示范省人民政府", "dns.aaaa"), result("东山市人民政府", "web.http")], path)
    data = path.read_bytes()
    # Then the file opens with the mark, and only there
    assert data[:3] == BOM
    assert data.count(BOM) == 1
    # and the csv module, reading utf-8-sig, gets the header and the names back
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert tuple(rows[0]) == CSV_FIELDS
    assert [r[0] for r in rows[1:]] == ["示范省人民政府", "东山市人民政府"]
    assert rows[1][6] == "没有 AAAA 记录。"


def test_the_finish_stage_writes_the_bom_once(tmp_path: Path) -> None:
    results = write_sample(tmp_path / "results.jsonl", targets=30)
    finish(results, tmp_path, FinishOptions(scanner={}, outputs=Outputs.parse("csv")))
    data = (tmp_path / "results.csv").read_bytes()
    assert data.startswith(BOM) and data.count(BOM) == 1
    with (tmp_path / "results.csv").open(encoding="utf-8-sig", newline="") as fh:
        header, *rows = list(csv.reader(fh))
    assert tuple(header) == CSV_FIELDS and len(rows) > 30
