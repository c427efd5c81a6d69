"""summary.json's target rows kept on disk: one compact JSON line each, written once while
scoring, then read as often as the outputs need them (summary.json, the history, the
report), one row at a time. A million rows would take gigabytes as dicts in memory.

A spool stands where a list of rows stood (`summary["targets"]`): it iterates, has a
length and is true when not empty. Rows come back as JSON gave them, which is what they
were: scores, counts, strings and None.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from ipv6scan.model import json_loads, json_text


class SpoolClosed(RuntimeError):
    """The rows were read after their work directory was removed."""


class TargetRows:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh = path.open("w", encoding="utf-8")
        self._count = 0
        self._closed = False

    def append(self, row: Mapping[str, Any]) -> None:
        self.append_text(json_text(row))

    def append_text(self, text: str) -> None:
        """A row already serialised as one line of JSON (the history stores them so)."""
        self._fh.write(text)
        self._fh.write("\n")
        self._count += 1

    def extend(self, rows: Iterable[Mapping[str, Any]]) -> None:
        for row in rows:
            self.append(row)

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for row, _text in self.with_texts():
            yield row

    def with_texts(self) -> Iterator[tuple[dict[str, Any], str]]:
        """Each row with its line as written (json_text's): what the history stores, so
        it need not encode the row again."""
        if self._closed:
            raise SpoolClosed(f"{self.path}: the target rows were read after the run ended")
        self._fh.flush()
        with self.path.open(encoding="utf-8") as fh:
            for line in fh:
                text = line.rstrip("\n")
                yield json_loads(text), text

    def close(self) -> None:
        """Stop writing and remove the file; the length stays known."""
        if not self._closed:
            self._fh.close()
            self.path.unlink(missing_ok=True)
            self._closed = True

    def __repr__(self) -> str:
        return f"TargetRows({self.path}, {self._count} rows)"
