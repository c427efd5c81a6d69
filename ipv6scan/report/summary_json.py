"""summary.json written one part at a time: byte for byte what
`json.dumps(summary, ensure_ascii=False, indent=1) + "\\n"` gives, without the text of a
million target rows (or the rows themselves: `targets` may be a spool) in memory.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TextIO

from ipv6scan.report.pretty import pretty

STREAMED = "targets"  # the one key whose value grows with the run
WHOLE_BELOW = 4 << 20  # read_fields parses a summary.json up to this size the plain way
_decode = json.JSONDecoder().raw_decode


def write_summary(summary: Mapping[str, Any], path: Path) -> None:
    with path.open("w", encoding="utf-8") as fh:
        write_summary_to(summary, fh)


def write_summary_to(summary: Mapping[str, Any], fh: TextIO) -> None:
    if not summary:
        fh.write("{}\n")
        return
    separator = "{\n "
    for key, value in summary.items():
        if not isinstance(key, str):
            raise TypeError(f"summary.json keys are strings, not {key!r}")
        fh.write(separator)
        separator = ",\n "
        fh.write(json.dumps(key, ensure_ascii=False) + ": ")
        if key == STREAMED and not isinstance(value, Mapping):
            _write_rows(value, fh)
        else:
            fh.write(pretty(value, 1))
    fh.write("\n}\n")


def _write_rows(rows: Iterable[Any], fh: TextIO) -> None:
    separator = "[\n  "
    for row in rows:
        fh.write(separator)
        separator = ",\n  "
        fh.write(pretty(row, 2))
    fh.write("[]" if separator == "[\n  " else "\n ]")


def read_fields(path: Path, keys: Iterable[str], whole_below: int = WHOLE_BELOW) -> dict[str, Any]:
    """The top-level `keys` of a summary.json, without loading its target rows: a big file
    is read line by line, in the layout write_summary gives it (a line that opens a
    top-level key is indented by exactly one space; deeper lines by more). In the order of
    `keys`; {} when the file is missing or not ours."""
    wanted = list(dict.fromkeys(keys))
    try:
        if path.stat().st_size <= whole_below:
            data = json.loads(path.read_text(encoding="utf-8"))
        else:
            with path.open(encoding="utf-8") as fh:
                data = _fields(fh, set(wanted))
    except (OSError, ValueError):
        return {}
    return {k: data[k] for k in wanted if k in data} if isinstance(data, dict) else {}


def _fields(fh: TextIO, wanted: set[str]) -> dict[str, Any]:
    if fh.readline() != "{\n":
        return {}
    found: dict[str, Any] = {}
    key: str | None = None
    parts: list[str] = []

    def close() -> None:
        if key is not None:
            found[key] = json.loads("".join(parts).rstrip().removesuffix(","))

    for line in fh:
        if line.startswith(' "'):
            close()
            name, end = _decode(line, 1)
            key = name if name in wanted else None
            parts = [line[end + 2 :]] if key is not None else []  # after '": '
        elif line == "}\n" or line == "}":
            break
        elif key is not None:
            parts.append(line)
    close()
    return found
