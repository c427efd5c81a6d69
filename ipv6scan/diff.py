"""What regressed and what improved between two runs, by (target, tier, subject, check).

A decided status getting worse (pass -> warn or fail, warn -> fail) is a regression, and so
is a target score that fell; the reverse is an improvement. A transition from or to `error`
or `skip` says nothing about the site, so it is listed apart as "changed, undecided". Scores
of both runs are computed here with one profile, so a changed profile cannot fake a change.

An intermittent result (checks/intermittent.py: a `warn` only because some tries failed
before a later one succeeded) is compared as the `pass` it would be without those tries:
a result that became intermittent is listed apart, under "intermittent", never as a
regression, and diff's target scores count it as a pass, so intermittence alone never
makes a score fall. A result that was intermittent and now fails has regressed from pass.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ipv6scan.checks.intermittent import is_intermittent, steady_status
from ipv6scan.model import CheckResult, Status
from ipv6scan.report.grouping import TargetIndex
from ipv6scan.report.jsonl import read_results
from ipv6scan.report.workspace import Workspace
from ipv6scan.scoring import DEFAULT_PROFILE, Profile
from ipv6scan.scoring.stream import scored_rows
from ipv6scan.scoring.summary import SummaryBuilder

RANK = {"fail": 0, "warn": 1, "pass": 2}
Results = Callable[[], Iterable[CheckResult]]  # a run's results, read once
Source = Path | Results  # a results.jsonl, or results from elsewhere (the history)


@dataclass(frozen=True)
class Change:
    target: str
    tier: str
    subject: str
    check: str
    old: str | None  # None: the result appeared
    new: str | None  # None: the result disappeared
    detail: str = ""  # the newer result's detail, else the older one's
    old_intermittent: bool = False  # the older result was an intermittent warn
    vantage: str | None = None  # scans from vantage points: each point's record is its own

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "target": self.target,
            "tier": self.tier,
            "subject": self.subject,
            "check": self.check,
            "old": self.old,
            "new": self.new,
            "detail": self.detail,
        }
        if self.old_intermittent:
            out["old_intermittent"] = True
        if self.vantage is not None:
            out["vantage"] = self.vantage
        return out

    def line(self) -> str:
        where = f"{self.target} / {self.subject} / {self.check}"
        if self.tier != "services":
            where = f"{self.target} / {self.tier} / {self.subject} / {self.check}"
        if self.vantage is not None:
            where += f" (from {self.vantage})"
        old = f"{self.old} (intermittent)" if self.old_intermittent else self.old or "-"
        text = f"{where}: {old} -> {self.new or '-'}"
        return f"{text}  ({self.detail})" if self.detail else text


@dataclass(frozen=True)
class ScoreChange:
    target: str
    old: float | None
    new: float | None

    @property
    def fell(self) -> bool:
        return self.old is not None and self.new is not None and self.new < self.old

    @property
    def rose(self) -> bool:
        return self.old is not None and self.new is not None and self.new > self.old

    def line(self) -> str:
        old = "not scored" if self.old is None else f"{self.old:g}"
        new = "not scored" if self.new is None else f"{self.new:g}"
        delta = ""
        if self.old is not None and self.new is not None and self.old != self.new:
            delta = f" ({self.new - self.old:+.1f})"
        return f"{self.target}: {old} -> {new}{delta}"


@dataclass
class Diff:
    regressed: list[Change] = field(default_factory=list)
    improved: list[Change] = field(default_factory=list)
    undecided: list[Change] = field(default_factory=list)
    intermittent: list[Change] = field(default_factory=list)  # became intermittent: no regression
    appeared: list[Change] = field(default_factory=list)
    disappeared: list[Change] = field(default_factory=list)
    scores: list[ScoreChange] = field(default_factory=list)  # targets whose score changed
    overall: ScoreChange = field(default_factory=lambda: ScoreChange("overall", None, None))

    @property
    def fell(self) -> list[ScoreChange]:
        return [s for s in self.scores if s.fell]

    @property
    def has_regression(self) -> bool:
        return bool(self.regressed or self.fell)

    def gate(self) -> list[str]:
        """--fail-on-regression's findings: pass -> warn or fail, and scores that fell. An
        intermittent result counts as the pass it would be without its failed tries."""
        lines = [
            f"regressed: {c.line()}"
            for c in self.regressed
            if c.old == "pass" or c.old_intermittent
        ]
        return lines + [f"score fell: {s.line()}" for s in self.fell]

    def to_json(self) -> dict[str, Any]:
        return {
            "regression": self.has_regression,
            "regressed": [c.to_json() for c in self.regressed],
            "improved": [c.to_json() for c in self.improved],
            "changed_undecided": [c.to_json() for c in self.undecided],
            "intermittent": [c.to_json() for c in self.intermittent],
            "appeared": [c.to_json() for c in self.appeared],
            "disappeared": [c.to_json() for c in self.disappeared],
            "scores": [
                {"target": s.target, "old": s.old, "new": s.new, "fell": s.fell}
                for s in self.scores
            ],
            "overall": {"old": self.overall.old, "new": self.overall.new},
        }

    def to_text(self) -> str:
        parts: list[str] = []
        for title, changes in (
            ("Regressed", self.regressed),
            ("Improved", self.improved),
            ("Changed, undecided", self.undecided),
            ("Intermittent (not regressions)", self.intermittent),
            ("Appeared", self.appeared),
            ("Disappeared", self.disappeared),
        ):
            if changes:
                parts.append(f"{title} ({len(changes)}):")
                parts.extend(f"  {c.line()}" for c in changes)
        if self.scores:
            parts.append(f"Target scores ({len(self.scores)}):")
            for s in self.scores:
                mark = "  fell" if s.fell else ("  rose" if s.rose else "")
                parts.append(f"  {s.line()}{mark}")
        parts.append(f"Overall score: {self.overall.line().split(': ', 1)[1]}")
        verdict = "regression" if self.has_regression else "no regression"
        counts = f"{len(self.regressed)} regressed, {len(self.improved)} improved"
        if self.intermittent:
            counts += f", {len(self.intermittent)} intermittent"
        parts.append(f"{verdict}: {counts}, {len(self.fell)} target score(s) fell")
        return "\n".join(parts)


def _sort(changes: list[Change]) -> list[Change]:
    return sorted(changes, key=lambda c: (c.target, c.tier, c.subject, c.check, c.vantage or ""))


_SCHEMA = """
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
CREATE TABLE before (
    target TEXT, tier TEXT, subject TEXT, check_id TEXT, vantage TEXT, status TEXT,
    detail TEXT, intermittent INTEGER,
    PRIMARY KEY (target, tier, subject, check_id, vantage)
) WITHOUT ROWID;
CREATE TABLE old_scores (name TEXT PRIMARY KEY, score REAL) WITHOUT ROWID;
"""
# '' for a record without a vantage point (a local scan): NULLs would never compare equal
_KEY = "target = ? AND tier = ? AND subject = ? AND check_id = ? AND vantage = ?"


def compare(
    old: Source, new: Source, profile: Profile = DEFAULT_PROFILE, work: Workspace | None = None
) -> Diff:
    """Compare two runs: a results.jsonl path, or a callable that yields the results (the
    history database), copied into the workspace once. Memory does not grow with the
    runs, only with the changes found: the older run's statuses wait in a SQLite table
    and both runs are scored one target at a time. `work`: where the scratch files go
    (default: a new workspace in the system's temporary directory)."""
    with contextlib.ExitStack() as stack:
        if work is None:
            work = stack.enter_context(Workspace())
        old_index, new_index = _indexed(old, work), _indexed(new, work)
        fd, db = tempfile.mkstemp(prefix="diff-", suffix=".sqlite", dir=work.path)
        os.close(fd)
        conn = stack.enter_context(contextlib.closing(sqlite3.connect(db)))
        conn.executescript(_SCHEMA)
        diff = _statuses(conn, read_results(old_index.results), read_results(new_index.results))
        _scores(diff, conn, old_index, new_index, profile)
    return diff


def _indexed(source: Source, work: Workspace) -> TargetIndex:
    return work.index(source) if isinstance(source, Path) else work.spool(source())


def _statuses(
    conn: sqlite3.Connection, old: Iterable[CheckResult], new: Iterable[CheckResult]
) -> Diff:
    """Each new result against the older one of its (target, tier, subject, check) and,
    in scans from vantage points, its vantage point."""
    with conn:
        # a repeated key keeps its last status, as a dict would
        conn.executemany(
            "INSERT OR REPLACE INTO before VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                (
                    r.target,
                    r.tier,
                    r.subject,
                    r.check,
                    r.vantage or "",
                    str(r.status),
                    r.detail,
                    is_intermittent(r.status, r.evidence),
                )
                for r in old
            ),
        )
    diff = Diff()
    for r in new:
        key = (r.target, r.tier, r.subject, r.check, r.vantage or "")
        status = str(r.status)
        # taken out as it is matched: a second new result of the key has appeared
        previous = conn.execute(
            f"DELETE FROM before WHERE {_KEY} RETURNING status, intermittent", key
        ).fetchall()
        if not previous:
            diff.appeared.append(Change(*key[:4], None, status, r.detail, vantage=r.vantage))
            continue
        was, was_intermittent = previous[0][0], bool(previous[0][1])
        now_intermittent = is_intermittent(status, r.evidence)
        if was == status and was_intermittent == now_intermittent:
            continue
        change = Change(*key[:4], was, status, r.detail, was_intermittent, r.vantage)
        steady_was = str(Status.PASS) if was_intermittent else was
        if now_intermittent:
            diff.intermittent.append(change)
        elif was not in RANK or status not in RANK:
            diff.undecided.append(change)
        elif RANK[status] < RANK[steady_was]:
            diff.regressed.append(change)
        else:
            diff.improved.append(change)
    diff.disappeared = [
        Change(
            target, tier, subject, check, was, None, detail, bool(was_intermittent), vantage or None
        )
        for target, tier, subject, check, vantage, was, detail, was_intermittent in conn.execute(
            "SELECT * FROM before"
        )
    ]
    for name in ("regressed", "improved", "undecided", "intermittent", "appeared", "disappeared"):
        setattr(diff, name, _sort(getattr(diff, name)))
    return diff


def _scores(
    diff: Diff, conn: sqlite3.Connection, old: TargetIndex, new: TargetIndex, profile: Profile
) -> None:
    """Target scores of both runs with one profile; the changed ones, and the overall."""
    old_total, new_total = SummaryBuilder(profile), SummaryBuilder(profile)
    with conn:
        for row in scored_rows(_steady(old.groups()), profile):
            old_total.add(row)
            conn.execute(
                "INSERT OR REPLACE INTO old_scores VALUES (?, ?)", (row["name"], row["score"])
            )
    for row in scored_rows(_steady(new.groups()), profile):
        new_total.add(row)
        found = conn.execute(
            "SELECT score FROM old_scores WHERE name = ?", (row["name"],)
        ).fetchall()
        if found and found[0][0] != row["score"]:
            diff.scores.append(ScoreChange(row["name"], found[0][0], row["score"]))
    diff.scores.sort(key=lambda s: (not s.fell, s.target))
    diff.overall = ScoreChange("overall", old_total.overall_score(), new_total.overall_score())


def _steady(groups: Iterable[list[CheckResult]]) -> Iterator[list[CheckResult]]:
    """Each target's results with an intermittent result scored as the pass it would be
    without its failed tries: diff's scores (and the gate's "score fell") see no
    intermittence. summary.json keeps scoring it as the warn it is."""
    for group in groups:
        yield [
            r
            if not is_intermittent(r.status, r.evidence)
            else CheckResult(
                r.target,
                r.sector,
                r.tier,
                r.subject,
                r.check,
                Status(steady_status(r.status, r.evidence)),
                r.detail,
                r.evidence,
                r.duration_ms,
            )
            for r in group
        ]
