"""After a scan: score it, evaluate milestones, record it in the history database, add
trends, write the output files, and judge the gates. Also re-renders a report from a
result directory or from a recorded run. The command line wires these; no I/O but files.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ipv6scan import history
from ipv6scan.diff import Diff, compare
from ipv6scan.milestones import Milestone, evaluate
from ipv6scan.report.jsonl import ResultWriter, read_results
from ipv6scan.run import write_outputs
from ipv6scan.scoring import DEFAULT_PROFILE, Profile, summarize

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
) -> Finished:
    results = out / "results.jsonl"
    summary = summarize(read_results(results), profile=rec.profile)
    if scanner is not None:
        summary["scanner"] = scanner
    key = history.run_key(rec.target_files, rec.shard)
    done = Finished(summary)
    earlier: list[history.Run] = []
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
            results=read_results(results),
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
        earlier = []
    write_outputs(out, lang, summary=summary)
    if rec.fail_on_regression and not done.gate:
        if not earlier:
            done.notes.append(
                f"no earlier complete run of these target files in {rec.db}; nothing to compare"
            )
        else:
            before = earlier[-1].id
            diff = compare(
                lambda: history.load_results(conn, before),
                lambda: read_results(results),
                rec.profile,
            )
            done.gate.extend(diff.gate())
    return done


def _old_summary(directory: Path) -> dict[str, Any]:
    try:
        data = json.loads((directory / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def report_dir(directory: Path, out: Path, lang: str, profile: Profile = DEFAULT_PROFILE) -> None:
    """report.html from DIR/results.jsonl, scored again (with `profile`); what only the
    scan knew (its connectivity, milestones, trends, run) comes from DIR/summary.json."""
    from ipv6scan.report.html import write_html

    results = directory / "results.jsonl"
    if not results.is_file():
        raise AuditInputError(f"{results}: no results.jsonl in {directory}")
    summary = summarize(read_results(results), profile=profile)
    old = _old_summary(directory)
    summary.update({k: old[k] for k in CARRIED if k in old})
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
        results = directory / "results.jsonl"
        with ResultWriter(results) as writer:
            for result in history.load_results(conn, run.id):
                writer.write(result)
        if profile is None:
            summary = {**run.summary, "targets": list(history.all_target_rows(conn, run.id))}
        else:
            summary = summarize(read_results(results), profile=profile)
            summary.update({k: run.summary[k] for k in CARRIED if k in run.summary})
        summary["run"] = {"id": run.id, "started": run.started, "db": str(db)}
        summary["trends"] = history.trends(conn, run)
    finally:
        conn.close()
    text = json.dumps(summary, ensure_ascii=False, indent=1) + "\n"
    (directory / "summary.json").write_text(text, encoding="utf-8")
    write_html(read_results(results), summary, lang, out or directory / "report.html")
    return run


def result_dir(path: Path) -> Path:
    """A result directory for diff: it must hold results.jsonl."""
    if not path.is_dir():
        raise AuditInputError(f"{path}: not a directory")
    if not (path / "results.jsonl").is_file():
        raise AuditInputError(f"{path}: no results.jsonl in it")
    return path / "results.jsonl"


def diff_dirs(old: Path, new: Path, profile: Profile = DEFAULT_PROFILE) -> Diff:
    old_results, new_results = result_dir(old), result_dir(new)
    return compare(lambda: read_results(old_results), lambda: read_results(new_results), profile)


def stored_targets(files: Sequence[str]) -> tuple[str, ...]:
    """Target files as the history compares them: as given, normalised."""
    return tuple(os.path.normpath(f) for f in files)
