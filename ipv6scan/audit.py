"""After a scan: score it, evaluate milestones, record it in the history database, add
trends, write the output files, and judge the gates. Also re-renders a report from a
result directory or from a recorded run. The command line wires these; no I/O but files.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ipv6scan import history
from ipv6scan.collector import tuned_collector
from ipv6scan.milestones import Milestone, evaluate
from ipv6scan.report.jsonl import ResultWriter, read_results
from ipv6scan.report.outputs import RESULTS, OutputFiles
from ipv6scan.report.summary_json import read_fields, write_summary
from ipv6scan.report.workspace import Workspace
from ipv6scan.scoring import DEFAULT_PROFILE, Profile

if TYPE_CHECKING:
    from ipv6scan.diff import Diff

# report.html's templates (jinja2, babel) and diff load in the functions that use them:
# a scan's command line imports this module, and its scan should not wait for them.

DB_NAME = "ipv6scan.db"
CARRIED = ("scanner", "milestones", "trends", "run")  # what a re-render keeps from the scan


class AuditInputError(Exception):
    """Bad input to a report or diff (no results, no such run): exit 2."""


def default_db(out: Path) -> Path:
    """`ipv6scan.db` beside the output directory, so that nightly runs into dated
    directories under one parent share one history."""
    return Path(os.path.abspath(out)).parent / DB_NAME


def timestamp(today: dt.date | None = None) -> str:
    """Now, local time with its offset; on `today`'s date when given (tests, backfills)."""
    now = dt.datetime.now().astimezone().replace(microsecond=0)
    if today is not None:
        now = now.replace(year=today.year, month=today.month, day=today.day)
    return now.isoformat()


@dataclass(frozen=True)
class Recording:
    """How a scan is scored and recorded."""

    db: Path
    target_files: tuple[str, ...]
    shard: tuple[int, int] | None = None
    profile: Profile = DEFAULT_PROFILE
    milestones: tuple[Milestone, ...] = ()
    today: dt.date | None = None  # the scan date for milestones; default: the start's date
    fail_on_regression: bool = False


@dataclass
class Finished:
    summary: dict[str, Any]
    gate: list[str] = field(default_factory=list)  # --fail-on-regression findings
    notes: list[str] = field(default_factory=list)  # for stderr, not failures


def finish_scan(
    conn: sqlite3.Connection,
    rec: Recording,
    out: Path,
    lang: str,
    scanner: dict[str, Any] | None,
    started: str,
    complete: bool = True,
    on_step: Callable[[str], None] | None = None,
) -> Finished:
    """Score, record and write a finished scan in memory that does not grow with it: the
    target rows wait in a work directory in `out`, removed at the end. The returned
    summary keeps its headline numbers; its target rows are gone by then. `on_step`
    hears of each step as it starts (for the terminal: a big run takes minutes)."""
    step = on_step or (lambda _what: None)
    with tuned_collector(), Workspace(out) as work:
        files = OutputFiles(out, work)
        step("scoring the results, writing junit.xml")
        summary = files.score(rec.profile)  # and junit.xml, in the same pass
        if scanner is not None:
            summary["scanner"] = scanner
        done = Finished(summary)
        step(f"recording the run in {rec.db}")
        earlier = _record(conn, rec, out, started, complete, done)
        step("writing summary.json, results.csv and report.html")
        files.write(summary, lang)
        if rec.fail_on_regression and not done.gate:
            if earlier:
                step("comparing with the previous run")
            _gate(conn, rec, files.results, earlier, done, work)
    return done


def _record(
    conn: sqlite3.Connection,
    rec: Recording,
    out: Path,
    started: str,
    complete: bool,
    done: Finished,
) -> list[history.Run]:
    """Milestones, the history record and trends; the earlier runs to compare with."""
    summary = done.summary
    key = history.run_key(rec.target_files, rec.shard)
    try:
        earlier = history.previous_runs(conn, key, limit=history.TREND_RUNS - 1)
        today = rec.today or dt.date.fromisoformat(started[:10])
        names = [m.target for m in rec.milestones if m.target]
        past = history.summaries(conn, earlier, names)
        summary["milestones"] = evaluate(rec.milestones, summary, today, past)
        run_id = history.record_run(
            conn,
            started=started,
            finished=timestamp(rec.today),
            out_dir=out,
            target_files=rec.target_files,
            key=key,
            complete=complete,
            summary=summary,
            results=read_results(out / RESULTS),
        )
        run = history.get_run(conn, run_id)
        previous = earlier[-1].id if earlier else None
        summary["run"] = {"id": run_id, "started": started, "db": str(rec.db), "previous": previous}
        summary["trends"] = history.trends(conn, run)
    except (sqlite3.Error, history.HistoryError) as exc:
        # the scan's own files matter more than its history: write them, say what failed
        done.notes.append(f"history: run not recorded in {rec.db}: {exc}")
        if rec.fail_on_regression:
            done.gate.append("cannot compare with the previous run: the history failed")
        return []
    return earlier


def _gate(
    conn: sqlite3.Connection,
    rec: Recording,
    results: Path,
    earlier: list[history.Run],
    done: Finished,
    work: Workspace,
) -> None:
    """--fail-on-regression: this run against the previous complete one."""
    if not earlier:
        done.notes.append(
            f"no earlier complete run of these target files in {rec.db}; nothing to compare"
        )
        return
    from ipv6scan.diff import compare

    before = earlier[-1].id
    diff = compare(lambda: history.load_results(conn, before), results, rec.profile, work)
    done.gate.extend(diff.gate())


def report_dir(directory: Path, out: Path, lang: str, profile: Profile = DEFAULT_PROFILE) -> None:
    """report.html from DIR/results.jsonl, scored again (with `profile`); what only the
    scan knew (its connectivity, milestones, trends, run) comes from DIR/summary.json."""
    from ipv6scan.report.html import write_html

    results = directory / RESULTS
    if not results.is_file():
        raise AuditInputError(f"{results}: no results.jsonl in {directory}")
    # scratch files beside the report: that directory is written anyway; DIR may not be
    with Workspace(Path(os.path.abspath(out)).parent) as work:
        summary = work.score(results, profile)
        summary.update(read_fields(directory / "summary.json", CARRIED))
        write_html(read_results(results), summary, lang, out)


def report_run(
    directory: Path,
    out: Path | None,
    lang: str,
    db: Path,
    which: str,
    profile: Profile | None = None,
) -> history.Run:
    """Re-render a recorded run into DIR: results.jsonl, summary.json and report.html (or
    --out). Without a profile the summary is the recorded one; with one, it is rescored."""
    from ipv6scan.report.html import write_html

    if not db.is_file():
        raise AuditInputError(f"{db}: no such history database")
    conn = history.open_db(db)
    try:
        try:
            run = history.get_run(conn, which)
        except history.HistoryError as exc:
            raise AuditInputError(f"{db}: {exc}") from None
        directory.mkdir(parents=True, exist_ok=True)
        results = directory / RESULTS
        with ResultWriter(results) as writer:
            for result in history.load_results(conn, run.id):
                writer.write(result)
        with Workspace(directory) as work:
            if profile is None:
                rows = work.rows()
                for text in history.target_row_texts(conn, run.id):
                    rows.append_text(text)
                summary = {**run.summary, "targets": rows}
            else:
                summary = work.score(results, profile)
                summary.update({k: run.summary[k] for k in CARRIED if k in run.summary})
            summary["run"] = {"id": run.id, "started": run.started, "db": str(db)}
            summary["trends"] = history.trends(conn, run)
            write_summary(summary, directory / "summary.json")
            write_html(read_results(results), summary, lang, out or directory / "report.html")
    finally:
        conn.close()
    return run


def result_dir(path: Path) -> Path:
    """A result directory for diff: it must hold results.jsonl."""
    if not path.is_dir():
        raise AuditInputError(f"{path}: not a directory")
    if not (path / "results.jsonl").is_file():
        raise AuditInputError(f"{path}: no results.jsonl in it")
    return path / "results.jsonl"


def diff_dirs(old: Path, new: Path, profile: Profile = DEFAULT_PROFILE) -> Diff:
    from ipv6scan.diff import compare

    return compare(result_dir(old), result_dir(new), profile)


def stored_targets(files: Sequence[str]) -> tuple[str, ...]:
    """Target files as the history compares them: as given, normalised."""
    return tuple(os.path.normpath(f) for f in files)
