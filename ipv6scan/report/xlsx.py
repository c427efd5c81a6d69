"""results.xlsx: the records of results.csv as a spreadsheet, for readers who live in
Excel or WPS (`--outputs ...,xlsx`; not written unless named: it costs more than the CSV).

Written with XlsxWriter in constant-memory mode: each row goes to disk as it comes, so the
file streams like results.csv. Every text is a string cell, never a formula, so a scanned
server's "=cmd|..." stays text. The header row is frozen and carries filters. A sheet
holds at most 1,048,576 rows and a cell 32,767 characters: beyond, a second sheet says
what was left out (results.csv and results.jsonl hold everything).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ipv6scan.model import CheckResult
from ipv6scan.report.tables import CSV_FIELDS, evidence_text

MAX_ROWS = 1_048_576  # Excel's rows per sheet, the header included
MAX_CELL = 32_767  # characters in a cell
WIDTHS = (28, 12, 10, 32, 16, 8, 60, 40, 12, 12)  # of CSV_FIELDS, in characters
DURATION = CSV_FIELDS.index("duration_ms")


def _cell(text: str) -> str:
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


class XlsxResults:
    """results.xlsx a result at a time, beside results.csv in the finish stage's pass."""

    def __init__(self, path: Path) -> None:
        import xlsxwriter  # type: ignore[import-untyped]  # only when the file is asked for

        self._book: Any = xlsxwriter.Workbook(
            str(path),
            {
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
            },
        )
        self._sheet: Any = self._book.add_worksheet("results")
        header = self._book.add_format({"bold": True})
        for column, (name, width) in enumerate(zip(CSV_FIELDS, WIDTHS, strict=True)):
            self._sheet.set_column(column, column, width)
            self._sheet.write_string(0, column, name, header)
        self._sheet.freeze_panes(1, 0)
        self._row = 1
        self.left_out = 0

    def write(self, r: CheckResult, evidence: str | None = None) -> None:
        """`evidence`: the result's evidence as evidence_text gives it, when known."""
        if self._row >= MAX_ROWS:
            self.left_out += 1
            return
        if evidence is None:
            evidence = evidence_text(r.evidence)
        texts = (r.target, r.sector, r.tier, r.subject, r.check, str(r.status), r.detail, evidence)
        put = self._sheet.write_string
        for column, text in enumerate(texts):
            put(self._row, column, _cell(text))
        self._sheet.write_number(self._row, DURATION, round(r.duration_ms, 3))
        if r.vantage is not None:
            put(self._row, DURATION + 1, _cell(r.vantage))
        self._row += 1

    def close(self) -> None:
        self._sheet.autofilter(0, 0, max(self._row - 1, 0), len(CSV_FIELDS) - 1)
        if self.left_out:
            note = self._book.add_worksheet("note")
            note.write_string(
                0,
                0,
                f"{self.left_out} more results than a sheet holds are left out here;"
                " every result is in results.csv and results.jsonl.",
            )
        self._book.close()

    def __enter__(self) -> XlsxResults:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
