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
from ipv6scan.finish import FinishOptions, Outputs, finish
from ipv6scan.milestones import Milestone, evaluate
from ipv6scan.report.changes import MAX_TARGETS as MAX_CHANGED_TARGETS
from ipv6scan.report.changes import changes_json, coverage, fail_under_gate, regression_gate
from ipv6scan.report.jsonl import read_results
from ipv6scan.report.summary_json import read_fields
from ipv6scan.report.workspace import Workspace
from ipv6scan.scoring import DEFAULT_PROFILE, Profile
from ipv6scan.scoring.summary import with_scanner

if TYPE_CHECKING:
    from ipv6scan.diff import Diff

# report.html's templates (jinja2, babel) and diff load in the functions that use them:
# a scan's command line imports this module, and its scan should not wait for them.

DB_NAME = "ipv6scan.db"
RESULTS = "results.jsonl"
# what a re-render keeps from the scan
CARRIED = ("scanner", "milestones", "trends", "run", "changes", "gates", "coverage")


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
    history_key: str | None = None  # history_key.for_scan; None: schema 1's key only (tests)
    profile: Profile = DEFAULT_PROFILE
    milestones: tuple[Milestone, ...] = ()
    today: dt.date | None = None  # the scan date for milestones; default: the start's date
    fail_on_regression: bool = False
    keep_runs: int | None = None  # --keep-runs: the history's last N runs are kept
    fail_under: float | None = None  # --fail-under: only said in the report (the CLI gates)


@dataclass
class Finished:
    summary: dict[str, Any]
    gate: list[str] = field(default_factory=list)  # --fail-on-regression findings
    gate_passed: list[str] = field(default_factory=list)  # what the gate said, not failing
    notes: list[str] = field(default_factory=list)  # for stderr, not failures
    diff: Diff | None = None  # this run against the previous one, when compared


def finish_scan(
    conn: sqlite3.Connection,
    rec: Recording,
    out: Path,
    lang: str,
    scanner: dict[str, Any] | None,
    started: str,
    complete: bool = True,
    on_step: Callable[[str], None] | None = None,
    outputs: Outputs | None = None,
) -> Finished:
    """Score, record and write a finished scan: one pass over results.jsonl (finish.stage)
    writes the files and hands the history each result and target row as it goes; memory
    does not grow with the run. The returned summary keeps its headline numbers, not its
    target rows. `on_step` hears of each step as it starts (for the terminal: a big run
    takes minutes). `outputs`: which files besides results.jsonl (default: all)."""
    step = on_step or (lambda _what: None)
    done = Finished({})
    names = frozenset(m.target for m in rec.milestones if m.target)
    options = FinishOptions(rec.profile, lang, outputs or Outputs(), scanner, names)
    with tuned_collector():
        step(f"reading the results once: scores, files, and the run recorded in {rec.db}")
        earlier, recorder = _begin(conn, rec, out, started, complete, done)

        def amend(summary: dict[str, Any], watched: list[dict[str, Any]]) -> None:
            done.summary = summary
            summary["coverage"] = coverage(complete, rec.shard)
            step("writing summary.json and report.html")
            _record(conn, rec, started, earlier, recorder, summary, watched, done)
            # before the report is written: it shows what changed and what the gates said
            if earlier and complete and "run" in summary and _worth_comparing(rec, summary):
                step("comparing with the previous run")
                _compare(conn, rec, out, earlier, summary, done)
            _gates(rec, summary, done)

        try:
            finish(out / RESULTS, out, options, recorder, amend)
        except BaseException:
            if recorder is not None:
                recorder.abort()
            raise
        if rec.keep_runs is not None and recorder is not None and "run" in done.summary:
            _keep(conn, rec, done)
    return done


def _keep(conn: sqlite3.Connection, rec: Recording, done: Finished) -> None:
    """--keep-runs: this history's older runs go, with what only they used."""
    assert rec.keep_runs is not None
    lineage = history.Lineage(rec.history_key, history.run_key(rec.target_files, rec.shard))
    try:
        gone = history.prune(conn, lineage, rec.keep_runs)
    except (sqlite3.Error, history.HistoryError) as exc:
        done.notes.append(f"history: --keep-runs {rec.keep_runs} failed in {rec.db}: {exc}")
        return
    if gone:
        done.notes.append(f"history: {gone} older run(s) removed from {rec.db} (--keep-runs)")


def _begin(
    conn: sqlite3.Connection,
    rec: Recording,
    out: Path,
    started: str,
    complete: bool,
    done: Finished,
) -> tuple[list[history.Run], history.Recorder | None]:
    """The earlier runs to compare with, and the run's recorder (None: the history failed,
    which the notes say; the scan's own files matter more than its history)."""
    key = history.run_key(rec.target_files, rec.shard)
    try:
        earlier = history.previous_runs(
            conn, history.Lineage(rec.history_key, key), limit=history.TREND_RUNS - 1
        )
        recorder = history.Recorder(conn, started=started, out_dir=out,
                                    target_files=rec.target_files, key=key, complete=complete,
                                    history_key=rec.history_key)  # fmt: skip
    except (sqlite3.Error, history.HistoryError) as exc:
        _history_failed(rec, done, exc)
        return [], None
    return earlier, recorder


def _history_failed(rec: Recording, done: Finished, exc: Exception) -> None:
    done.notes.append(f"history: run not recorded in {rec.db}: {exc}")
    if rec.fail_on_regression:
        done.gate.append("cannot compare with the previous run: the history failed")


def _record(
    conn: sqlite3.Connection,
    rec: Recording,
    started: str,
    earlier: list[history.Run],
    recorder: history.Recorder | None,
    summary: dict[str, Any],
    watched: list[dict[str, Any]],
    done: Finished,
) -> None:
    """Milestones, then the run's summary recorded, then the run and its trends."""
    today = rec.today or dt.date.fromisoformat(started[:10])
    try:
        past = history.summaries(conn, earlier, [m.target for m in rec.milestones if m.target])
    except (sqlite3.Error, history.HistoryError):
        past = []
    summary["milestones"] = evaluate(rec.milestones, {**summary, "targets": watched}, today, past)
    if recorder is None:
        return
    try:
        run_id = recorder.finish(summary, timestamp(rec.today))
        run = history.get_run(conn, run_id)
        previous = earlier[-1].id if earlier else None
        summary["run"] = {"id": run_id, "started": started, "db": str(rec.db), "previous": previous,
                          "history": rec.history_key}  # fmt: skip
        summary["trends"] = history.trends(conn, run)
    except (sqlite3.Error, history.HistoryError) as exc:
        _history_failed(rec, done, exc)
        done.gate_passed.clear()


def _worth_comparing(rec: Recording, summary: dict[str, Any]) -> bool:
    """A run's changes are worked out for its report unless the run is huge (a second read
    of both runs); --fail-on-regression needs them whatever the size."""
    targets = summary.get("overall", {}).get("targets", 0)
    return rec.fail_on_regression or targets <= MAX_CHANGED_TARGETS


def _compare(
    conn: sqlite3.Connection,
    rec: Recording,
    out: Path,
    earlier: list[history.Run],
    summary: dict[str, Any],
    done: Finished,
) -> None:
    """This run against the previous complete one of its history (diff.py's rules): the
    gate's findings, and summary.json's bounded `changes` for the report."""
    from ipv6scan.diff import compare
    from ipv6scan.diff_stored import compare_runs

    before = earlier[-1]
    # both runs as the history stores them: what changed is read back, not both runs
    # whole; where that shortcut would not give diff's answer, both runs whole
    diff = compare_runs(conn, before.id, summary["run"]["id"], rec.profile)
    if diff is None:
        with Workspace(out) as work:
            diff = compare(lambda: history.load_results(conn, before.id), out / RESULTS,
                           rec.profile, work)  # fmt: skip
    done.diff = diff
    old_names = history.run_target_names(conn, before.id)
    new_names = history.run_target_names(conn, summary["run"]["id"])
    previous = {"id": before.id, "started": before.started}
    summary["changes"] = changes_json(diff, previous, old_names, new_names)


def _gates(rec: Recording, summary: dict[str, Any], done: Finished) -> None:
    """What each gate decided, in done (the terminal, the exit code) and in summary.json's
    `gates` (the report). --fail-under is the command line's to apply; it is only said."""
    gates: list[dict[str, Any]] = []
    if rec.fail_on_regression:
        if done.gate:  # the history failed: nothing could be compared
            reason = "history-failed"
        elif done.diff is not None:
            done.gate.extend(done.diff.gate())
            reason = "regressed" if done.gate else "no-regression"
        elif not summary.get("coverage", {}).get("complete", True):
            reason = "interrupted"  # a part of a run says nothing of what regressed
        else:
            reason = "no-previous-run"
            done.gate_passed.append(
                f"no earlier complete run of history {rec.history_key or 'of these target files'} "
                f"in {rec.db}: nothing to compare; the gate passes"
            )
        gates.append(regression_gate(len(done.gate), reason))
    if rec.fail_under is not None:
        gates.append(fail_under_gate(summary["overall"]["score"], rec.fail_under))
    if gates:
        summary["gates"] = gates


def report_dir(directory: Path, out: Path, lang: str, profile: Profile = DEFAULT_PROFILE) -> None:
    """report.html from DIR/results.jsonl, scored again (with `profile`) in one pass; what
    only the scan knew (its connectivity, milestones, trends, run) comes from
    DIR/summary.json. Only `out` is written: DIR may be another's, or read-only."""
    results = directory / RESULTS
    if not results.is_file():
        raise AuditInputError(f"{results}: no results.jsonl in {directory}")
    carried = read_fields(directory / "summary.json", CARRIED)

    def amend(summary: dict[str, Any], _watched: list[dict[str, Any]]) -> None:
        summary.update(carried)
        with_scanner(summary, carried.get("scanner"))

    only_report = Outputs(summary=False, report=True, junit=False, csv=False)
    options = FinishOptions(profile, lang, only_report, report_file=out)
    # scratch files beside the report: that directory is written anyway; DIR may not be
    finish(results, Path(os.path.abspath(out)).parent, options, amend=amend)


def report_run(
    directory: Path,
    out: Path | None,
    lang: str,
    db: Path,
    which: str,
    profile: Profile | None = None,
) -> history.Run:
    """Render a recorded run's report.html into DIR (or --out): that one file, never DIR's
    results or summary, which belong to DIR's own scan. Without a profile the summary is
    the recorded one; with one, it is rescored."""
    from ipv6scan.report.html import write_html

    if not db.is_file():
        raise AuditInputError(f"{db}: no such history database")
    conn = history.open_db(db)
    try:
        try:
            run = history.get_run(conn, which)
        except history.HistoryError as exc:
            raise AuditInputError(f"{db}: {exc}") from None
        target = out or directory / "report.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        # the run's results go to scratch beside the report, never over DIR's results.jsonl
        with Workspace(Path(os.path.abspath(target)).parent) as work:
            spooled = work.spool(history.load_results(conn, run.id))
            results = spooled.results
            if profile is None:
                rows = work.rows()
                for text in history.target_row_texts(conn, run.id):
                    rows.append_text(text)
                summary = {**run.summary, "targets": rows}
            else:
                summary = work.score(spooled, profile)
                summary.update({k: run.summary[k] for k in CARRIED if k in run.summary})
                with_scanner(summary, run.summary.get("scanner"))
            earlier = history.previous_runs(conn, run.lineage, run.id) if run.complete else []
            summary["run"] = {"id": run.id, "started": run.started, "db": str(db),
                              "previous": earlier[-1].id if earlier else None}  # fmt: skip
            summary["trends"] = history.trends(conn, run)
            # the history keeps a run's summary as recorded, before it was compared
            if earlier:
                summary["changes"] = _recorded_changes(conn, earlier[-1], run, profile, work)
            write_html(read_results(results), summary, lang, target)
    finally:
        conn.close()
    return run


def _recorded_changes(
    conn: sqlite3.Connection,
    before: history.Run,
    run: history.Run,
    profile: Profile | None,
    work: Workspace,
) -> dict[str, Any]:
    """summary.json's `changes` of a recorded run against the one before it (diff.py)."""
    from ipv6scan.diff import compare

    diff = compare(lambda: history.load_results(conn, before.id),
                   lambda: history.load_results(conn, run.id), profile or DEFAULT_PROFILE,
                   work)  # fmt: skip
    return changes_json(diff, {"id": before.id, "started": before.started},
                        history.run_target_names(conn, before.id),
                        history.run_target_names(conn, run.id))  # fmt: skip


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


def ensure_results(out: Path) -> None:
    """An interrupted scan may stop before its first result: an empty results.jsonl then,
    so that every file is written and says so, instead of a scan that left nothing."""
    out.mkdir(parents=True, exist_ok=True)
    (out / RESULTS).touch(exist_ok=True)


def stored_targets(files: Sequence[str]) -> tuple[str, ...]:
    """Target files as the history compares them: as given, normalised."""
    return tuple(os.path.normpath(f) for f in files)
