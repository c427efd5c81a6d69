"""results.csv and junit.xml, streamed from the results so size never matters."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from ipv6scan.model import CheckResult, Status

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
)


def _csv_safe(text: str) -> str:
    # A cell starting with = + - @ is a formula in spreadsheets: scanned servers choose our text.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_csv(results: Iterable[CheckResult], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(CSV_FIELDS)
        for r in results:
            row = r.to_json()
            row["evidence"] = json.dumps(row["evidence"], ensure_ascii=False, sort_keys=True)
            writer.writerow([_csv_safe(str(row[f])) for f in CSV_FIELDS])


def _xml_ok(ch: str) -> bool:
    # XML 1.0's Char production; a banner or page may carry anything else.
    o = ord(ch)
    return (o >= 0x20 and o <= 0xD7FF) or ch in "\t\n\r" or 0xE000 <= o <= 0xFFFD or o >= 0x10000


def _xml_clean(text: str) -> str:
    return "".join(ch if _xml_ok(ch) else "\ufffd" for ch in text)


def _xml_text(text: str) -> str:
    return escape(_xml_clean(text))


def _xml_attr(text: str) -> str:
    return quoteattr(_xml_clean(text))


def write_junit(results: Iterable[CheckResult], path: Path) -> None:
    """One test case per (target, subject, check); suites per target."""
    by_target: dict[str, list[CheckResult]] = {}
    for r in results:
        by_target.setdefault(r.target, []).append(r)
    with path.open("w", encoding="utf-8") as fh:
        total = sum(len(v) for v in by_target.values())
        fails = sum(r.status is Status.FAIL for v in by_target.values() for r in v)
        errors = sum(r.status is Status.ERROR for v in by_target.values() for r in v)
        fh.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        fh.write(
            f'<testsuites name="ipv6scan" tests="{total}" failures="{fails}" errors="{errors}">\n'
        )
        for target, rows in by_target.items():
            f = sum(r.status is Status.FAIL for r in rows)
            e = sum(r.status is Status.ERROR for r in rows)
            s = sum(r.status is Status.SKIP for r in rows)
            t = sum(r.duration_ms for r in rows) / 1000
            fh.write(
                f'  <testsuite name={_xml_attr(target)} tests="{len(rows)}" '
                f'failures="{f}" errors="{e}" skipped="{s}" time="{t:.3f}">\n'
            )
            for r in rows:
                name = _xml_attr(f"{r.subject} {r.check}")
                cls = _xml_attr(f"{r.target}.{r.tier}")
                fh.write(
                    f'    <testcase classname={cls} name={name} time="{r.duration_ms / 1000:.3f}">'
                )
                msg = _xml_attr(r.detail[:500])
                body = _xml_text(json.dumps(r.evidence, ensure_ascii=False)[:4000])
                if r.status is Status.FAIL:
                    fh.write(f"<failure message={msg}>{body}</failure>")
                elif r.status is Status.ERROR:
                    fh.write(f"<error message={msg}>{body}</error>")
                elif r.status is Status.SKIP:
                    fh.write(f"<skipped message={msg}/>")
                elif r.status is Status.WARN:
                    fh.write(f"<system-out>{_xml_text('warn: ' + r.detail)}</system-out>")
                fh.write("</testcase>\n")
            fh.write("  </testsuite>\n")
        fh.write("</testsuites>\n")
