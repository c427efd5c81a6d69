"""The writers of junit.xml and results.csv as they were before the finish was made fast
(issue 17, commit fe809ed): a test holds the new ones to these, byte for byte."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path

from ipv6scan.model import CheckResult, Status, json_text
from ipv6scan.report.tables import CSV_FIELDS, _csv_safe, _xml_attr, _xml_text, evidence_text


def old_csv(results: Iterable[CheckResult], path: Path) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(CSV_FIELDS)
        s = _csv_safe
        for r in results:
            evidence = evidence_text(r.evidence)
            writer.writerow((s(r.target), s(r.sector), s(r.tier), s(r.subject), s(r.check),
                             s(str(r.status)), s(r.detail), s(evidence),
                             s(str(round(r.duration_ms, 3))), s(r.vantage or "")))  # fmt: skip


def old_junit(groups: Iterable[Sequence[CheckResult]], path: Path) -> None:
    body: list[str] = []
    total = failures = errors = 0
    for rows in groups:
        if not rows:
            continue
        f = sum(r.status is Status.FAIL for r in rows)
        e = sum(r.status is Status.ERROR for r in rows)
        s = sum(r.status is Status.SKIP for r in rows)
        t = sum(r.duration_ms for r in rows) / 1000
        total += len(rows)
        failures += f
        errors += e
        body.append(
            f'  <testsuite name={_xml_attr(rows[0].target)} tests="{len(rows)}" '
            f'failures="{f}" errors="{e}" skipped="{s}" time="{t:.3f}">\n'
        )
        for r in rows:
            name = _xml_attr(f"{r.subject} {r.check}")
            cls = _xml_attr(f"{r.target}.{r.tier}")
            body.append(
                f'    <testcase classname={cls} name={name} time="{r.duration_ms / 1000:.3f}">'
            )
            if r.status is Status.FAIL or r.status is Status.ERROR:
                tag = "failure" if r.status is Status.FAIL else "error"
                msg = _xml_attr(r.detail[:500])
                text = _xml_text(json_text(r.evidence)[:4000])
                body.append(f"<{tag} message={msg}>{text}</{tag}>")
            elif r.status is Status.SKIP:
                body.append(f"<skipped message={_xml_attr(r.detail[:500])}/>")
            elif r.status is Status.WARN:
                body.append(f"<system-out>{_xml_text('warn: ' + r.detail)}</system-out>")
            body.append("</testcase>\n")
        body.append("  </testsuite>\n")
    with path.open("w", encoding="utf-8") as fh:
        fh.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        fh.write(f'<testsuites name="ipv6scan" tests="{total}" '
                 f'failures="{failures}" errors="{errors}">\n')  # fmt: skip
        # the suites went through a scratch file, read back in text mode (a raw \r in a
        # warn's text comes back as \n): so here too
        part = path.with_name(path.name + ".part")
        part.write_text("".join(body), encoding="utf-8")
        with part.open(encoding="utf-8") as back:
            fh.write(back.read())
        part.unlink()
        fh.write("</testsuites>\n")
