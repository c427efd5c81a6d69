"""results.csv and junit.xml, streamed from the results so size never matters."""

from __future__ import annotations

import csv
import re
import shutil
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from ipv6scan.model import CheckResult, Status, json_encoder, json_text

COPY_CHUNK = 1 << 16  # characters copied at a time
CSV_FIELDS = (
    "target",
    "sector",
    "tier",
    "subject",
    "check",
    "status",
    "detail",
    "evidence",
    "duration_ms",
    "vantage",  # scans from vantage points (distributed/); empty for a local scan
)


def _csv_safe(text: str) -> str:
    # A cell starting with = + - @ is a formula in spreadsheets: scanned servers choose our text.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_csv(results: Iterable[CheckResult], path: Path) -> None:
    with CsvWriter(path) as writer:
        for r in results:
            writer.write(r)


# a field that starts with one of these is made safe (_csv_safe); the test looks at all
# of a row's fields at once, joined with NUL (a false alarm only costs the slow way)
_RISKY = re.compile("(?:^|\x00)[=+\\-@\t\r]")
CSV_BATCH = 1024  # rows written at once


class CsvWriter:
    """results.csv a result at a time, so that it can share a pass with another writer."""

    def __init__(self, path: Path) -> None:
        # UTF-8 with a byte-order mark, written once at the start ("utf-8-sig"): without it
        # Excel on a Chinese Windows reads the file in the local code page and garbles names.
        self._fh = path.open("w", encoding="utf-8-sig", newline="")
        self._writer = csv.writer(self._fh)
        self._writer.writerow(CSV_FIELDS)
        self._rows: list[tuple[str, ...]] = []

    def write(self, r: CheckResult, evidence: str | None = None) -> None:
        """`evidence`: the result's evidence as evidence_text gives it, when known."""
        if evidence is None:
            evidence = evidence_text(r.evidence)
        row = (r.target, r.sector, r.tier, r.subject, r.check, str(r.status), r.detail,
               evidence, str(round(r.duration_ms, 3)), r.vantage or "")  # fmt: skip
        if _RISKY.search("\x00".join(row)) is None:
            self._rows.append(row)
        else:
            self._rows.append(tuple(_csv_safe(field) for field in row))
        if len(self._rows) >= CSV_BATCH:
            self._flush()

    def _flush(self) -> None:
        self._writer.writerows(self._rows)
        self._rows.clear()

    def close(self) -> None:
        if not self._fh.closed:
            self._flush()
            self._fh.close()

    def __enter__(self) -> CsvWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_sorted_json = json_encoder(sort_keys=True)  # results.csv's evidence


def evidence_text(evidence: Mapping[str, Any]) -> str:
    """Evidence as results.csv and the history write it: JSON, keys sorted."""
    return _sorted_json(dict(evidence))


# Not in XML 1.0's Char production; a banner or page may carry anything.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text) if _NOT_XML.search(text) else text


# saxutils.escape and quoteattr, as one str.translate each: junit.xml escapes three
# strings a test case, a million test cases in a big run
_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_ATTR = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}
)


def _xml_text(text: str) -> str:
    return _xml_clean(text).translate(_TEXT)


# what an attribute's text may hold and need no escaping: XML 1.0's Char but & < > " ' and
# the tab, newline and return that quoteattr writes as references
_NEEDS_ESCAPE = re.compile(
    "[^\x20\x21\x23-\x25\x28-\x3b\x3d\x3f-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)


def _plain_names(target: str, rows: Sequence[CheckResult]) -> bool:
    """Whether the target, and every subject and check of `rows`, needs no escaping."""
    return (
        _NEEDS_ESCAPE.search(" ".join([target, *(f"{r.subject} {r.check}" for r in rows)])) is None
    )


def _xml_attr(text: str) -> str:
    """quoteattr's output: in double quotes, unless the text holds one and no single."""
    data = _xml_clean(text).translate(_ATTR)
    if '"' not in data:
        return f'"{data}"'
    if "'" in data:
        return '"' + data.replace('"', "&quot;") + '"'
    return f"'{data}'"


def write_junit(results: Iterable[CheckResult], path: Path) -> None:
    """One test case per (target, subject, check); suites per target, in the order the
    targets first appear. Groups in memory: for a results.jsonl of any size, give
    write_junit_groups the groups of report.grouping."""
    by_target: dict[str, list[CheckResult]] = {}
    for r in results:
        by_target.setdefault(r.target, []).append(r)
    write_junit_groups(by_target.values(), path)


def write_junit_groups(groups: Iterable[Sequence[CheckResult]], path: Path) -> None:
    with JunitWriter(path) as junit:
        for rows in groups:
            junit.add(rows)


class JunitWriter:
    """junit.xml a suite at a time. The totals open the file but are known only at the
    end, so the suites go to a scratch file beside it and are copied in after them."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._body_path = path.with_name(path.name + ".part")
        self._body: TextIO | None = self._body_path.open("w", encoding="utf-8")
        self.total = self.failures = self.errors = 0

    def add(self, rows: Sequence[CheckResult]) -> None:
        if not rows or self._body is None:
            return
        f = e = s = 0
        target = rows[0].target
        # a suite's names need escaping only when they hold one of the few characters
        # that need it: most suites are written with no escaping call at all
        plain = _plain_names(target, rows)
        cls_of: dict[str, str] = {}
        parts: list[str] = []
        for r in rows:
            status = r.status
            cls = cls_of.get(r.tier)
            if cls is None:
                cls = cls_of[r.tier] = _xml_attr(f"{target}.{r.tier}")
            name = f'"{r.subject} {r.check}"' if plain else _xml_attr(f"{r.subject} {r.check}")
            head = f'    <testcase classname={cls} name={name} time="{r.duration_ms / 1000:.3f}">'
            if status is Status.PASS:
                parts.append(head + "</testcase>\n")
            elif status is Status.FAIL or status is Status.ERROR:
                if status is Status.FAIL:
                    f += 1
                    tag = "failure"
                else:
                    e += 1
                    tag = "error"
                msg = _xml_attr(r.detail[:500])
                body = _xml_text(json_text(r.evidence)[:4000])
                parts.append(f"{head}<{tag} message={msg}>{body}</{tag}></testcase>\n")
            elif status is Status.SKIP:
                s += 1
                parts.append(f"{head}<skipped message={_xml_attr(r.detail[:500])}/></testcase>\n")
            elif status is Status.WARN:
                parts.append(f"{head}<system-out>{_xml_text('warn: ' + r.detail)}"
                             "</system-out></testcase>\n")  # fmt: skip
            else:
                parts.append(head + "</testcase>\n")
        seconds = sum(r.duration_ms for r in rows) / 1000  # sum(): its rounding, as before
        self.total += len(rows)
        self.failures += f
        self.errors += e
        self._body.write(
            f'  <testsuite name={_xml_attr(target)} tests="{len(rows)}" '
            f'failures="{f}" errors="{e}" skipped="{s}" time="{seconds:.3f}">\n'
            + "".join(parts)
            + "  </testsuite>\n"
        )

    def close(self) -> None:
        """Write junit.xml: the totals, then the suites."""
        if self._body is None:
            return
        self._body.close()
        self._body = None
        try:
            with self.path.open("w", encoding="utf-8") as fh:
                fh.write('<?xml version="1.0" encoding="UTF-8"?>\n')
                fh.write(
                    f'<testsuites name="ipv6scan" tests="{self.total}" '
                    f'failures="{self.failures}" errors="{self.errors}">\n'
                )
                with self._body_path.open(encoding="utf-8") as body:
                    shutil.copyfileobj(body, fh, COPY_CHUNK)
                fh.write("</testsuites>\n")
        finally:
            self._body_path.unlink(missing_ok=True)

    def discard(self) -> None:
        """Give up (the pass failed): no half-counted junit.xml."""
        if self._body is not None:
            self._body.close()
            self._body = None
        self._body_path.unlink(missing_ok=True)

    def __enter__(self) -> JunitWriter:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.discard()
