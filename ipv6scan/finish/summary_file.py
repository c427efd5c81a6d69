"""summary.json with its target rows streamed: each row is one compact line, written to a
scratch file as its target is scored, and copied in between the keys before and after
`targets` at the end (when the overall and sector scores are known). Parsed, the file is
what json.dumps of the whole summary gives; it is not pretty-printed row by row any more
(that was most of its size and of its cost), so `read_fields` still finds the top-level
keys: a line that opens one is indented by exactly one space, a row's by two.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from ipv6scan.report.pretty import pretty

ROWS_KEY = "targets"
COPY_CHUNK = 1 << 20  # bytes copied at a time


class RowSpool:
    """The `targets` array of summary.json, a row at a time, in a scratch file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: TextIO | None = path.open("w", encoding="utf-8")
        self.count = 0

    def add(self, text: str) -> None:
        """One row as a line of JSON (json_text's)."""
        assert self._fh is not None
        self._fh.write(",\n  " if self.count else "[\n  ")
        self._fh.write(text)
        self.count += 1

    def close(self) -> None:
        if self._fh is not None:
            self._fh.write("\n ]" if self.count else "[]")
            self._fh.close()
            self._fh = None

    def discard(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        self.path.unlink(missing_ok=True)


def write_summary_file(summary: Mapping[str, Any], rows: RowSpool | None, path: Path) -> None:
    """summary.json: `summary`'s keys in order; at `targets`, the spooled rows."""
    if rows is not None:
        rows.close()
    # bytes: the spooled rows (most of the file) are copied as they are, not decoded and
    # encoded again
    with path.open("wb") as fh:
        separator = "{\n "
        for key, value in summary.items():
            fh.write(separator.encode())
            separator = ",\n "
            fh.write((json.dumps(key, ensure_ascii=False) + ": ").encode("utf-8"))
            if key == ROWS_KEY and rows is not None:
                with rows.path.open("rb") as part:
                    shutil.copyfileobj(part, fh, COPY_CHUNK)
            else:
                fh.write(pretty(value, 1).encode("utf-8"))
        fh.write(b"\n}\n" if separator != "{\n " else b"{}\n")
