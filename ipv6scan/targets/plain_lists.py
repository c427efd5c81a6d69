"""Plain .txt and .csv domain lists, streamed line by line.

A million-line Tranco list costs the memory of its set of names, nothing more. A .txt list
holds one domain a line; a .csv list holds `rank,domain` rows, after an optional header.
`#` starts a comment (in a .csv list, only at the start of a line).
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Callable, Iterator
from typing import IO

from ipv6scan.model import Target
from ipv6scan.names import is_normal_name
from ipv6scan.safetext import quote
from ipv6scan.targets.entries import check_domain, check_sector
from ipv6scan.targets.errors import PathLike, TargetError
from ipv6scan.targets.seen_names import SeenNames

MAX_LINE_BYTES = 4096  # a plain-list line this long cannot hold a 253-octet name
# A .txt line of nothing but a name's characters: if names.is_normal_name holds for it,
# it skips the general checks (6 us a line, a fraction here).
_READY_LINE = re.compile(rb"([a-z0-9.-]+)\r?\n?")


def iter_plain_targets(path: PathLike, sector: str) -> Iterator[Target]:
    """Stream the targets of one .txt or .csv list; raise TargetError at the first bad line."""
    check_sector(sector)
    seen = SeenNames()
    spath = os.fspath(path)
    for item in plain_items(spath, sector, seen, seen.add_file(spath)):
        if isinstance(item, TargetError):
            raise item
        yield item


def plain_items(
    path: str,
    sector: str,
    seen: SeenNames,
    file_no: int,
    keep: Callable[[str], bool] | None = None,
) -> Iterator[Target | TargetError]:
    """The targets of one plain list, and a TargetError in the place of each bad line.
    `keep(domain)`, on the domain as written: False skips the line before it is checked
    (a bulk worker's share of a list already validated)."""
    is_csv = path.lower().endswith(".csv")
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed by the with below, after the error path
    except OSError as exc:
        yield TargetError(path, None, f"cannot read file: {exc.strerror or exc}")
        return
    header_possible = is_csv  # until the first line that is not blank or a comment
    with fh:
        for number, raw in _numbered_lines(fh):
            name = None if is_csv else _ready_name(raw)
            if name is not None:
                if keep is not None and not keep(name):
                    continue
            else:
                try:
                    if raw is None:
                        raise ValueError(f"line longer than {MAX_LINE_BYTES} bytes")
                    text = _decode_line(raw, number)
                    if is_csv:
                        row = _csv_row(text)
                        if row is None:
                            continue
                        skip_header, header_possible = header_possible and _is_header(row), False
                        domain: str | None = None if skip_header else _csv_domain(row)
                    else:
                        domain = _txt_domain(text)
                    if domain is None or (keep is not None and not keep(domain)):
                        continue
                    name = check_domain(domain)
                except ValueError as exc:
                    header_possible = False
                    yield TargetError(path, number, str(exc))
                    continue
            first = seen.first(name, file_no, number)
            if first is not None:
                what = "domain" if first.startswith("line ") else "target name"
                message = f"duplicate {what} {quote(name)} (first at {first})"
                yield TargetError(path, number, message)
                continue
            yield Target(name, sector, (name,), source=path, line=number)


def _ready_name(raw: bytes | None) -> str | None:
    """The name on a .txt line that holds nothing but a name already in its normal form
    (what check_domain would return unchanged), else None: the general checks decide."""
    if raw is None or (match := _READY_LINE.fullmatch(raw)) is None:
        return None
    name = match.group(1).decode("ascii")
    return name if is_normal_name(name) else None


def _numbered_lines(fh: IO[bytes]) -> Iterator[tuple[int, bytes | None]]:
    """(line number, bytes) for each line; bytes is None for an over-long line, skipped whole."""
    number = 0
    while raw := fh.readline(MAX_LINE_BYTES):
        number += 1
        if len(raw) >= MAX_LINE_BYTES and not raw.endswith(b"\n"):
            while (rest := fh.readline(MAX_LINE_BYTES)) and not rest.endswith(b"\n"):
                pass
            yield number, None
        else:
            yield number, raw


def _decode_line(raw: bytes, number: int) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not valid UTF-8 (byte 0x{raw[exc.start]:02x})") from None
    return text.removeprefix("\ufeff") if number == 1 else text


def _txt_domain(text: str) -> str | None:
    text = text.split("#", 1)[0].strip()
    if not text:
        return None
    if len(text.split()) > 1:
        raise ValueError(f"expected one domain a line, got {quote(text)}")
    return text


def _csv_row(text: str) -> list[str] | None:
    """The stripped fields of a CSV line; None for a blank or `#` comment line."""
    if not text.strip() or text.lstrip().startswith("#"):
        return None
    try:
        # strict: an unterminated quote (`1,"example.com`) is an error, not a field that
        # silently runs to the end of the line
        return [field.strip() for field in next(csv.reader([text], strict=True))]
    except csv.Error as exc:
        raise ValueError(f"bad CSV: {exc}") from None


def _is_header(row: list[str]) -> bool:
    # A header is a first line whose first field is a word, such as `rank,domain`.
    return row[0].replace("_", "").replace(" ", "").isalpha()


def _csv_domain(row: list[str]) -> str:
    """The domain of a `rank,domain` row."""
    rank = row[0]
    if len(row) != 2:
        raise ValueError(f"expected 'rank,domain', got {len(row)} fields")
    if not (rank.isascii() and rank.isdecimal()) or int(rank) < 1:
        raise ValueError(f"rank {quote(rank)} is not a positive integer")
    if not row[1]:
        raise ValueError("empty domain")
    return row[1]
