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


class CsvWriter:
    """results.csv a result at a time, so that it can share a pass with another writer."""

    def __init__(self, path: Path) -> None:
        # UTF-8 with a byte-order mark, written once at the start ("utf-8-sig"): without it
        # Excel on a Chinese Windows reads the file in the local code page and garbles names.
        self._fh = path.open("w", encoding="utf-8-sig", newline="")
        self._writer = csv.writer(self._fh)
        self._writer.writerow(CSV_FIELDS)

    def write(self, r: CheckResult, evidence: str | None = None) -> None:
        """`evidence`: the result's evidence as evidence_text gives it, when known."""
        if evidence is None:
            evidence = evidence_text(r.evidence)
        s = _csv_safe
        self._writer.writerow((s(r.target), s(r.sector), s(r.tier), s(r.subject), s(r.check),
                               s(str(r.status)), s(r.detail), s(evidence),
                               s(str(round(r.duration_ms, 3))), s(r.vantage or "")))  # fmt: skip

    def close(self) -> None:
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
        fh = self._body
        f = sum(r.status is Status.FAIL for r in rows)
        e = sum(r.status is Status.ERROR for r in rows)
        s = sum(r.status is Status.SKIP for r in rows)
        t = sum(r.duration_ms for r in rows) / 1000
        self.total += len(rows)
        self.failures += f
        self.errors += e
        fh.write(
            f'  <testsuite name={_xml_attr(rows[0].target)} tests="{len(rows)}" '
            f'failures="{f}" errors="{e}" skipped="{s}" time="{t:.3f}">\n'
        )
        for r in rows:
            name = _xml_attr(f"{r.subject} {r.check}")
            cls = _xml_attr(f"{r.target}.{r.tier}")
            fh.write(
                f'    <testcase classname={cls} name={name} time="{r.duration_ms / 1000:.3f}">'
            )
            if r.status is Status.FAIL or r.status is Status.ERROR:
                tag = "failure" if r.status is Status.FAIL else "error"
                msg = _xml_attr(r.detail[:500])
                body = _xml_text(json_text(r.evidence)[:4000])
                fh.write(f"<{tag} message={msg}>{body}</{tag}>")
            elif r.status is Status.SKIP:
                fh.write(f"<skipped message={_xml_attr(r.detail[:500])}/>")
            elif r.status is Status.WARN:
                fh.write(f"<system-out>{_xml_text('warn: ' + r.detail)}</system-out>")
            fh.write("</testcase>\n")
        fh.write("  </testsuite>\n")

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
