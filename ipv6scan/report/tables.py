"""results.csv and junit.xml, streamed from the results so size never matters."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple, TextIO

from ipv6scan.model import CheckResult, Status, json_encoder, json_text

COPY_CHUNK = 1 << 16  # characters copied at a time
JUNIT_BATCH = 256  # suites written at once
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


# A cell starting with one of these is a formula in spreadsheets: scanned servers choose our
# text, so such a cell gets a leading "'" (_csv_safe).
_FORMULA_FIRST = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_INSIDE = re.compile(",[" + re.escape("".join(_FORMULA_FIRST)) + "]")  # of a joined row


def _csv_safe(text: str) -> str:
    return "'" + text if text[:1] in _FORMULA_FIRST else text


# csv.writer's default dialect (QUOTE_MINIMAL, "\r\n") quotes a field holding one of these
_NEEDS_QUOTES = re.compile('[,"\r\n]')


def _csv_cell(text: str) -> str:
    """A field as csv.writer writes it in a row of several, made safe (_csv_safe) first."""
    text = _csv_safe(text)
    if '"' in text:  # quoted whatever else it holds: evidence (JSON) always, no search
        return '"' + text.replace('"', '""') + '"'
    return '"' + text + '"' if _NEEDS_QUOTES.search(text) else text


def _csv_line(row: Sequence[str]) -> str:
    return ",".join([_csv_cell(field) for field in row]) + "\r\n"


def write_csv(results: Iterable[CheckResult], path: Path) -> None:
    with CsvWriter(path) as writer:
        for r in results:
            writer.write(r)


CSV_BATCH = 1024  # rows written at once


def csv_duration(ms: float) -> str:
    """A duration as results.csv writes it."""
    return str(round(ms, 3))


def csv_row(r: CheckResult, evidence: str) -> str:
    """A result's row of results.csv; `evidence` as evidence_text gives it. Written as
    csv.writer would write it (_csv_cell: the rule, once), but most rows' fields need
    nothing done: they are joined as they are and checked together. Only the evidence
    (JSON: always quoted) goes through _csv_cell each time."""
    # join() reads a str subclass (Status, Detail) as its text, as csv.writer does
    head = ",".join((r.target, r.sector, r.tier, r.subject, r.check, r.status, r.detail))
    duration = csv_duration(r.duration_ms)
    if (  # _csv_cell would leave all these fields as they are: join them as they are
        not r.vantage
        and head.count(",") == 6  # no comma of their own
        and '"' not in head  # nor the rest of _NEEDS_QUOTES
        and "\r" not in head
        and "\n" not in head
        and head[:1] not in _FORMULA_FIRST
        and duration[:1] not in _FORMULA_FIRST
        and _FORMULA_INSIDE.search(head) is None  # a false alarm costs only the slow way
    ):
        return f"{head},{_csv_cell(evidence)},{duration},\r\n"
    return _csv_line((r.target, r.sector, r.tier, r.subject, r.check, str(r.status), r.detail,
                      evidence, duration, r.vantage or ""))  # fmt: skip


class CsvWriter:
    """results.csv a result at a time (csv_row), so that it can share a pass with another
    writer."""

    def __init__(self, path: Path) -> None:
        # UTF-8 with a byte-order mark, written once at the start ("utf-8-sig"): without it
        # Excel on a Chinese Windows reads the file in the local code page and garbles names.
        self._fh = path.open("w", encoding="utf-8-sig", newline="")
        self._fh.write(_csv_line(CSV_FIELDS))
        self._lines: list[str] = []

    def write(self, r: CheckResult, evidence: str | None = None) -> None:
        """`evidence`: the result's evidence as evidence_text gives it, when known."""
        self.write_row(csv_row(r, evidence_text(r.evidence) if evidence is None else evidence))

    def write_row(self, row: str) -> None:
        """A row made already (csv_row's, or finish.line_shapes' from one)."""
        self._lines.append(row)
        if len(self._lines) >= CSV_BATCH:
            self._flush()

    def _flush(self) -> None:
        self._fh.write("".join(self._lines))
        self._lines.clear()

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


# saxutils.escape and quoteattr, as chains of str.replace (what saxutils does): each scan
# is a C loop, where a str.translate to entities looks every character up in a dict, five
# times the cost on a failure's evidence. junit.xml escapes a few strings a test case.
def _xml_text(text: str) -> str:
    return _xml_clean(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# what an attribute's text may hold and need no escaping: XML 1.0's Char but & < > " ' and
# the tab, newline and return that quoteattr writes as references
_NEEDS_ESCAPE = re.compile(
    "[^\x20\x21\x23-\x25\x28-\x3b\x3d\x3f-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)


def _plain_names(target: str, rows: Sequence[CheckResult | MadeCase]) -> bool:
    """Whether the target, and every tier, subject and check of `rows`, needs no escaping:
    then each attribute made of them is itself in double quotes."""
    names = [target]
    for r in rows:
        names += (r.tier, r.subject, r.check)
    return _NEEDS_ESCAPE.search(" ".join(names)) is None


def _xml_attr(text: str) -> str:
    """quoteattr's output: in double quotes, unless the text holds one and no single."""
    data = _xml_text(text).replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
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


MEMO_CHARS = 400  # longer texts are escaped each time: the memo stays a few hundred KB
MEMO_SIZE = 512


class _Memo:
    """Texts escaped once: a big run's failures repeat a few details, and evidence too."""

    def __init__(self, escape: Callable[[str], str]) -> None:
        self.escape = escape
        self.done: dict[str, str] = {}

    def __call__(self, text: str) -> str:
        found = self.done.get(text)
        if found is None:
            found = self.escape(text)
            if len(text) <= MEMO_CHARS:
                if len(self.done) >= MEMO_SIZE:
                    self.done.clear()
                self.done[text] = found
        return found


def junit_time(ms: float) -> str:
    """A duration as junit.xml's time attributes write it (seconds)."""
    return f"{ms / 1000:.3f}"


MESSAGE_CHARS, BODY_CHARS = 500, 4000  # of a detail, of the evidence, in a test case


def junit_case(
    r: CheckResult,
    plain: bool,
    attr: Callable[[str], str] = _xml_attr,
    text: Callable[[str], str] = _xml_text,
) -> str:
    """A result's test case; `plain`: its suite's names need no escaping (_plain_names);
    `attr`, `text`: _xml_attr and _xml_text, or memos of them."""
    target, status = r.target, r.status
    if plain:
        cls, name = f'"{target}.{r.tier}"', f'"{r.subject} {r.check}"'
    else:
        cls, name = _xml_attr(f"{target}.{r.tier}"), _xml_attr(f"{r.subject} {r.check}")
    head = f'    <testcase classname={cls} name={name} time="{junit_time(r.duration_ms)}">'
    if status is Status.FAIL or status is Status.ERROR:
        tag = "failure" if status is Status.FAIL else "error"
        msg = attr(r.detail[:MESSAGE_CHARS])
        body = text(json_text(r.evidence)[:BODY_CHARS])
        return f"{head}<{tag} message={msg}>{body}</{tag}></testcase>\n"
    if status is Status.SKIP:
        return f"{head}<skipped message={attr(r.detail[:MESSAGE_CHARS])}/></testcase>\n"
    if status is Status.WARN:
        return f"{head}<system-out>{text('warn: ' + r.detail)}</system-out></testcase>\n"
    return head + "</testcase>\n"


class MadeCase(NamedTuple):
    """A result's test case made already (finish.line_shapes), standing in for the result
    in its target's group: what JunitWriter.add and scoring.vantage.combine read of it. A
    named tuple: made for most lines of a large run, at a tenth of a frozen dataclass's
    cost."""

    target: str
    tier: str
    subject: str
    check: str
    status: Status
    duration_ms: float
    text: str  # junit_case's
    vantage: None = None


class JunitWriter:
    """junit.xml a suite at a time. The totals open the file but are known only at the
    end, so the suites go to a scratch file beside it and are copied in after them."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._body_path = path.with_name(path.name + ".part")
        self._body: TextIO | None = self._body_path.open("w", encoding="utf-8")
        self.total = self.failures = self.errors = 0
        self._suites: list[str] = []  # written JUNIT_BATCH at a time
        self._attr, self._text = _Memo(_xml_attr), _Memo(_xml_text)

    def add(self, rows: Sequence[CheckResult | MadeCase]) -> None:
        """A target's suite: its results, or test cases made already (MadeCase), or both."""
        if not rows or self._body is None:
            return
        f = e = s = 0
        target = rows[0].target
        # a suite's names need escaping only when they hold one of the few characters
        # that need it: most suites are written with no escaping call for them at all
        plain = _plain_names(target, rows)
        parts = [""]  # [0]: the suite's opening tag, once its counts are known
        attr, text = self._attr, self._text
        times: list[float] = []
        for r in rows:
            status = r.status
            times.append(r.duration_ms)
            if status is Status.FAIL:
                f += 1
            elif status is Status.ERROR:
                e += 1
            elif status is Status.SKIP:
                s += 1
            if type(r) is MadeCase:
                parts.append(r.text)
            else:
                parts.append(junit_case(r, plain, attr, text))  # type: ignore[arg-type]
        seconds = sum(times) / 1000  # sum(): its rounding, as before
        self.total += len(rows)
        self.failures += f
        self.errors += e
        suite = f'"{target}"' if plain else _xml_attr(target)
        parts[0] = (
            f'  <testsuite name={suite} tests="{len(rows)}" '
            f'failures="{f}" errors="{e}" skipped="{s}" time="{seconds:.3f}">\n'
        )
        parts.append("  </testsuite>\n")
        self._suites.append("".join(parts))
        if len(self._suites) >= JUNIT_BATCH:
            self._flush()

    def _flush(self) -> None:
        if self._body is not None:
            self._body.write("".join(self._suites))
        self._suites.clear()

    def close(self) -> None:
        """Write junit.xml: the totals, then the suites."""
        if self._body is None:
            return
        self._flush()
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
        self._suites.clear()
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
