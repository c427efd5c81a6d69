"""results.xlsx (--outputs ...,xlsx): the records of results.csv as a spreadsheet, with a
frozen, filtered header; hostile text stays text, never a formula."""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from ipv6scan.finish import FinishOptions, Outputs, finish
from ipv6scan.finish.outputs import OutputsError
from ipv6scan.model import CheckResult, Status
from ipv6scan.report import xlsx
from ipv6scan.report.tables import CSV_FIELDS, evidence_text
from tests.unit.sample_results import write_sample

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


def sheet(path: Path, number: int = 1) -> ET.Element:
    with zipfile.ZipFile(path) as z:
        return ET.fromstring(z.read(f"xl/worksheets/sheet{number}.xml"))


def cells(root: ET.Element) -> list[list[str]]:
    """Each row's cell texts (inline strings, or the number as written)."""
    rows = []
    for row in root.iterfind(".//m:sheetData/m:row", NS):
        texts = []
        for c in row.iterfind("m:c", NS):
            assert c.find("m:f", NS) is None, "a formula"
            t = c.find("m:is/m:t", NS)
            v = c.find("m:v", NS)
            texts.append(t.text or "" if t is not None else v.text or "" if v is not None else "")
        rows.append(texts)
    return rows


def result(target: str, detail: str) -> CheckResult:
    return CheckResult(
        target, "government", "services", "gov.example", "dns.aaaa", Status.FAIL, detail,
        {"title": "门户"}, 12.3456,
    )  # fmt: skip


def test_rows_header_frozen_and_filtered_text_never_a_formula(tmp_path: Path) -> None:
    path = tmp_path / "results.xlsx"
    hostile = "=cmd|' /C calc'!A0"
    with xlsx.XlsxResults(path) as book:
        book.write(result("示范省人民政府", "No AAAA record."))
        book.write(result("Evil\x01Corp", hostile))
    root = sheet(path)
    rows = cells(root)
    assert rows[0] == list(CSV_FIELDS)
    assert rows[1][:7] == ["示范省人民政府", "government", "services", "gov.example", "dns.aaaa",
                           "fail", "No AAAA record."]  # fmt: skip
    assert rows[1][7] == evidence_text({"title": "门户"})
    assert float(rows[1][8]) == pytest.approx(12.346)
    assert rows[2][6] == hostile  # a string cell: shown, never run
    pane = root.find(".//m:sheetView/m:pane", NS)
    assert pane is not None and pane.get("ySplit") == "1" and pane.get("state") == "frozen"
    found = root.find("m:autoFilter", NS)
    assert found is not None and found.get("ref") == "A1:J3"  # the vantage column too


def test_a_full_sheet_says_what_it_left_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(xlsx, "MAX_ROWS", 3)
    path = tmp_path / "results.xlsx"
    with xlsx.XlsxResults(path) as book:
        for i in range(5):
            book.write(result(f"t{i}", "x" * (xlsx.MAX_CELL + 10)))
    rows = cells(sheet(path))
    assert len(rows) == 3 and len(rows[1][6]) == xlsx.MAX_CELL
    assert "3 more results" in cells(sheet(path, 2))[0][0]


def test_the_finish_stage_writes_it_only_when_named(tmp_path: Path) -> None:
    results = write_sample(tmp_path / "results.jsonl", targets=20)
    assert Outputs.parse("all").xlsx is False and Outputs().xlsx is False
    with pytest.raises(OutputsError):
        Outputs.parse("xls")
    finish(results, tmp_path, FinishOptions(scanner={}, outputs=Outputs.parse("csv,xlsx")))
    with (tmp_path / "results.csv").open(encoding="utf-8-sig", newline="") as fh:
        from_csv = list(csv.reader(fh))
    rows = cells(sheet(tmp_path / "results.xlsx"))
    assert len(rows) == len(from_csv)
    # the same records; the CSV's guard quote (') is a spreadsheet's formula escape only
    assert [r[:6] for r in rows] == [[c.removeprefix("'") for c in r[:6]] for r in from_csv]
