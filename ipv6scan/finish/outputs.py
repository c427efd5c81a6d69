"""Which files a scan writes besides results.jsonl (`--outputs`): all of them by default;
a user scanning a million names may want only the summary, or only the CSV."""

from __future__ import annotations

from dataclasses import dataclass

# the names --outputs takes, and the files they stand for
FILES = {
    "summary": "summary.json",
    "report": "report.html",
    "junit": "junit.xml",
    "csv": "results.csv",
    "xlsx": "results.xlsx",  # only when named: not in `all`, the default (report/xlsx.py)
}


class OutputsError(ValueError):
    """An --outputs list that names no known file."""


@dataclass(frozen=True)
class Outputs:
    summary: bool = True
    report: bool = True
    junit: bool = True
    csv: bool = True
    xlsx: bool = False

    @classmethod
    def parse(cls, text: str) -> Outputs:
        """`summary,report`, `all`, or `none` (results.jsonl and the history only)."""
        names = {part.strip() for part in text.split(",") if part.strip()}
        if names == {"all"}:
            return cls()
        if names == {"none"}:
            return cls(False, False, False, False)
        unknown = sorted(names - set(FILES))
        if unknown or not names:
            known = ", ".join([*FILES, "all", "none"])
            raise OutputsError(f"--outputs: unknown {', '.join(unknown) or 'empty list'}; "
                               f"choose from {known}")  # fmt: skip
        return cls(*(name in names for name in FILES))

    def names(self) -> list[str]:
        return [name for name in FILES if getattr(self, name)]
