"""The one pass after a scan: results.jsonl is read once, line by line, and every file and
the history's records come from that pass.

Each line is parsed once into a CheckResult, which goes to the sinks that take results in
file order (results.csv, the report's counts and table, the history's results) and to the
grouping (finish.groups), whose target groups go to the sinks that need a target whole:
its score row (summary.json, the history, the report's ranking) and its junit.xml suite.
What waits in memory is the open groups, the sector and overall sums, and the report's
bounded ranking and table; the rest streams to scratch files in the output directory.
For a large file, results.csv and junit.xml are written by a second process fed the
blocks the pass reads (finish.tables_beside), which also makes each result's records for
the history (finish.history_beside), and the history's chunks are written by a thread of
its own (history_stage): both beside the pass, on the second core.

The report drills into a few hundred targets chosen once every target is scored; their
lines are read again by offset (a few hundred targets, not a pass). Should a target's
results lie too far apart for the grouping window (finish.groups), the groups are made
again the slow way, from an index of the file: correct, and the only second read.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol, cast

from ipv6scan.collector import paused
from ipv6scan.finish import groups as window
from ipv6scan.finish import history_beside, tables_beside
from ipv6scan.finish.groups import Group, Span, WindowGroups
from ipv6scan.finish.history_beside import Frame, FrameReader
from ipv6scan.finish.lines import parse_line, results_with_spans
from ipv6scan.finish.outputs import Outputs
from ipv6scan.finish.summary_file import RowSpool, write_summary_file
from ipv6scan.finish.tables_beside import TablesBeside
from ipv6scan.model import CheckResult, fast_dumps, json_text
from ipv6scan.report import digest as bounds
from ipv6scan.report import targets as ranks
from ipv6scan.report.digest import Digest
from ipv6scan.report.grouping import TargetIndex
from ipv6scan.report.tables import CsvWriter, JunitWriter, evidence_text
from ipv6scan.report.targets import Census, Surveyor, choose_drill
from ipv6scan.report.workspace import Workspace
from ipv6scan.report.xlsx import XlsxResults
from ipv6scan.scoring.profile import DEFAULT_PROFILE, Profile
from ipv6scan.scoring.shapes import ShapeScorer
from ipv6scan.scoring.summary import SummaryBuilder, with_scanner
from ipv6scan.scoring.vantage import VantageTally, combine


class RunSink(Protocol):
    """Where the history takes a run's records as the pass makes them (history.Recorder)."""

    def result(self, r: CheckResult, evidence: str | None = None) -> None:
        """`evidence`: r's evidence as report.tables.evidence_text writes it, when known."""

    def row(self, row: Mapping[str, Any], text: str) -> None: ...


class BesideSink(RunSink, Protocol):
    """A sink that can take the results' records from the second process (history_beside)."""

    def results_beside(self) -> bool:
        """Whether it can take them by take_results, rather than by result()."""

    def take_results(self, frame: Frame) -> None: ...

    def restart_results(self) -> None: ...


@dataclass(frozen=True, init=False)
class TargetRow:
    """A target's summary.json row, and its JSON text (written once, stored as is).
    Its own __init__, as model.py's classes: a frozen dataclass's sets each field
    through object.__setattr__, and the pass makes one a target."""

    name: str
    sector: str
    score: float | None
    stage: str
    json: Mapping[str, Any]
    text: str

    def __init__(
        self,
        name: str,
        sector: str,
        score: float | None,
        stage: str,
        json: Mapping[str, Any],
        text: str,
    ) -> None:
        self.__dict__.update(name=name, sector=sector, score=score, stage=stage, json=json,
                             text=text)  # fmt: skip

    @classmethod
    def of(cls, results: Sequence[CheckResult], scorer: ShapeScorer) -> TargetRow:
        """`results`: a target's, vantage points combined (scoring.vantage)."""
        row = scorer.row(results)
        return cls(row["name"], row["sector"], row["score"], row["stage"], row, row_text(row))


def row_text(row: Mapping[str, Any]) -> str:
    """A row as one line of compact JSON: orjson's (a tenth of json's cost), else json's."""
    if fast_dumps is not None:
        try:
            return fast_dumps(row).decode("utf-8")
        except TypeError:  # orjson.JSONEncodeError: a lone surrogate, a key not a string
            pass
    return json_text(row)


@dataclass(frozen=True)
class FinishOptions:
    profile: Profile = DEFAULT_PROFILE
    lang: str = "en"
    outputs: Outputs = field(default_factory=Outputs)
    scanner: Mapping[str, Any] | None = None
    watched: frozenset[str] = frozenset()  # targets whose rows the milestones read
    report_file: Path | None = None  # default: report.html in the output directory


@dataclass
class Pass:
    """What the pass made: `summary` is summary.json without its target rows (which are
    in the file), `scores` its headline, typed."""

    summary: dict[str, Any]
    watched_rows: list[dict[str, Any]] = field(default_factory=list)
    results: int = 0
    regrouped: bool = False  # the grouping window did not hold: grouped from an index
    scores: Summary | None = None


@dataclass(frozen=True)
class Summary:
    """The headline of a finished run: what the gates and the terminal read."""

    overall: float | None
    targets: int
    results: int
    sectors: Mapping[str, float | None]

    @classmethod
    def of(cls, summary: Mapping[str, Any], results: int) -> Summary:
        overall = summary["overall"]  # SummaryBuilder's: its shape is known
        sectors = {name: group["score"] for name, group in summary["sectors"].items()}
        return cls(overall["score"], overall["targets"], results, sectors)


Amend = Callable[[dict[str, Any], list[dict[str, Any]]], None]


def finish(
    results: Path,
    out: Path,
    options: FinishOptions,
    sink: RunSink | None = None,
    amend: Amend | None = None,
) -> Pass:
    """Write the chosen files of `out` from `results` in one pass; `sink` hears every
    result and row on the way; `amend(summary, watched rows)` adds what the history knows
    (milestones, run, trends) before summary.json and report.html are written."""
    with ExitStack() as stack:
        work = stack.enter_context(Workspace(out))
        files = _Files(out, work, options, stack, results, sink)
        done = _one_pass(results, files)
        if files.beside is not None:
            files.beside.end(done.regrouped)
        files.settle_records(results, done.results)
        if done.regrouped:
            _regroup(results, work, files)
        summary = files.builder.summary([])
        with_scanner(summary, options.scanner)
        files.vantages.into(summary)
        done.summary = summary
        done.scores = Summary.of(summary, done.results)
        if amend is not None:
            amend(summary, done.watched_rows)
        files.write(summary, results)
    return done


class _Files:
    """The writers the chosen outputs need, each fed by the pass."""

    def __init__(
        self,
        out: Path,
        work: Workspace,
        options: FinishOptions,
        stack: ExitStack,
        results: Path,
        sink: RunSink | None,
    ) -> None:
        self.out = out
        self.options = options
        self.sink = sink
        self.builder = SummaryBuilder(options.profile)
        self.scorer = ShapeScorer(options.profile)
        chosen = options.outputs
        # results.csv and junit.xml: a second process's for a large file (tables_beside),
        # and then the history's records of each result too, from the lines it parses
        # (history_beside)
        taker = cast(BesideSink, sink) if hasattr(sink, "results_beside") else None
        wants = taker is not None and history_beside.available() and taker.results_beside()
        self.records: FrameReader | None = None
        self._taker = taker if wants else None
        stack.callback(self._end_records)  # on the way out: after the process is stopped
        self.beside, records_fd = _beside(results, out, options, stack, wants)
        if self._taker is not None:
            if records_fd is not None:
                self.records = FrameReader(records_fd, self._taker.take_results)
            else:  # no second process after all: the records come from the pass
                self._taker = None
        chosen = replace(chosen, csv=False, junit=False) if self.beside else chosen
        self.csv = stack.enter_context(CsvWriter(out / "results.csv")) if chosen.csv else None
        # XlsxWriter is imported only when results.xlsx is asked for
        self.xlsx = stack.enter_context(XlsxResults(out / "results.xlsx")) if chosen.xlsx else None
        self.junit = stack.enter_context(JunitWriter(out / "junit.xml")) if chosen.junit else None
        self.rows = RowSpool(work.path / "targets.part") if chosen.summary else None
        self.digest = _digest() if chosen.report else None
        self.surveyor = Surveyor(ranks.RANK_LIMIT) if chosen.report else None
        self.watched: list[dict[str, Any]] = []
        self.vantages = VantageTally()  # scans from several vantage points only

    def settle_records(self, results: Path, count: int) -> None:
        """The history's records of the results whole, once the pass is over: the second
        process's, when its pipe has ended with one for each of the pass's `count`
        results, or else every result given here again (its frames: history_beside)."""
        reader, self.records = self.records, None
        if reader is None or self._taker is None:
            return
        if reader.join() == count and reader.error is None:
            return
        self._taker.restart_results()
        for r, _span in results_with_spans(results):
            self._taker.result(r)

    def _end_records(self) -> None:
        """A pass given up: the reader ends with the second process's pipe (stopped first)."""
        if self.records is not None:
            self.records.join()
            self.records = None

    def reset_groups(self) -> None:
        """Forget what the groups gave (a straggler): they are made again."""
        self.builder = SummaryBuilder(self.options.profile)
        if self.junit is not None:
            self.junit.discard()
            self.junit = JunitWriter(self.out / "junit.xml")
        if self.rows is not None:
            self.rows.discard()
            self.rows = RowSpool(self.rows.path)
        if self.surveyor is not None:
            self.surveyor = Surveyor(ranks.RANK_LIMIT)
        self.watched.clear()
        self.vantages.reset_groups()

    def group(self, group: Group, spans: list[Span] | None = None) -> None:
        # one per (target, subject, check), vantage points made one: as scored, as in junit.xml
        results = combine(group.results, self.options.profile.vantage_share)
        row = TargetRow.of(results, self.scorer)
        self.vantages.group(group.results)
        self.builder.add(row.json, self.scorer.shape)
        if self.junit is not None:
            self.junit.add(results)
        if self.rows is not None:
            self.rows.add(row.text)
        if self.sink is not None:
            self.sink.row(row.json, row.text)
        if self.surveyor is not None:
            self.surveyor.add(row.json, spans)
        if row.name in self.options.watched:
            self.watched.append(dict(row.json))

    def write(self, summary: dict[str, Any], results: Path) -> None:
        if self.junit is not None:
            self.junit.close()
        if self.options.outputs.summary:
            write_summary_file(summary, self.rows, self.out / "summary.json")
        if self.digest is not None and self.surveyor is not None:
            from ipv6scan.report.html import write_html_from  # jinja2, babel: only now

            trends = summary.get("trends")
            targets = trends.get("targets") if isinstance(trends, Mapping) else None
            census = self.surveyor.result(targets if isinstance(targets, Mapping) else {})
            _drill(census, self.digest, results)
            path = self.options.report_file or self.out / "report.html"
            write_html_from(census, self.digest, summary, self.options.lang, path)
        beside, self.beside = self.beside, None
        if beside is not None:
            beside.finish()  # the last: its files were made while these were


def _one_pass(results: Path, files: _Files) -> Pass:
    groups = WindowGroups(lambda g: files.group(g, g.spans), window.WINDOW)
    csv, digest, xlsx, sink = files.csv, files.digest, files.xlsx, files.sink
    tee = files.beside.feed if files.beside is not None else None
    if files.records is not None:  # the history takes its records from beside
        sink = None
    texts = csv is not None or sink is not None or xlsx is not None  # the evidence's text
    count = 0
    with paused():  # the pass makes no reference cycles (collector.py)
        for r, span in results_with_spans(results, tee):
            count += 1
            if texts:
                evidence = evidence_text(r.evidence)  # once, for all
                if csv is not None:
                    csv.write(r, evidence)
                if xlsx is not None:
                    xlsx.write(r, evidence)
                if sink is not None:
                    sink.result(r, evidence)
            if digest is not None:
                digest.count(r)
            files.vantages.count(r)
            groups.add(r, span)
        groups.close()
    done = Pass({}, files.watched, count, regrouped=groups.broken)
    return done


def _beside(
    results: Path, out: Path, options: FinishOptions, stack: ExitStack, records: bool
) -> tuple[TablesBeside | None, int | None]:
    """The second process for results.csv and junit.xml, when they are chosen and the
    file is large enough to be worth a process (tables_beside.BESIDE_BYTES); with
    `records`, the read end of the pipe it sends the history's records on."""
    chosen = options.outputs
    if not (chosen.csv or chosen.junit):
        return None, None
    try:
        if results.stat().st_size < tables_beside.BESIDE_BYTES:
            return None, None
    except OSError:
        return None, None
    read_end = write_end = None
    if records:
        with suppress(OSError):  # no descriptors to be had: the records are made in the pass
            read_end, write_end = history_beside.pipe()
    try:
        beside = TablesBeside(results, out / "results.csv" if chosen.csv else None,
                              out / "junit.xml" if chosen.junit else None,
                              options.profile.vantage_share, write_end)  # fmt: skip
    except (OSError, ValueError):  # no process to be had (pass_fds is POSIX's): in the pass
        if read_end is not None:
            os.close(read_end)
        return None, None
    stack.callback(beside.stop)  # a failed or interrupted pass: the process goes too
    return beside, read_end


def _regroup(results: Path, work: Workspace, files: _Files) -> None:
    """The slow way, for a file whose groups did not fit the window: an index of every
    line by target (report.grouping), the groups read back by offset. The history keeps
    the rows it was given so far: it is told to drop them first."""
    files.reset_groups()
    drop = getattr(files.sink, "drop_rows", None)
    if drop is not None:
        drop()
    index: TargetIndex = work.index(results)
    for group in index.groups():
        files.group(Group(list(group), []), None)


def _digest() -> Digest:
    """The report's counts and table; its bounds are read now (tests make them small)."""
    d = Digest.for_targets(())
    d.table_limit = bounds.TABLE_LIMIT
    return d


def _drill(census: Census, digest: Digest, results: Path) -> None:
    """The drilled targets' results, kept for the report: their lines read by offset
    (known from the pass), or, after a regrouping, from a read of the whole file."""
    drilled = [v.name for v in choose_drill(census.ranking, ranks.DRILL_LIMIT)]
    digest.drill = Digest.for_targets(drilled, bounds.DRILL_BUDGET).drill
    spans: list[Span] = []
    for v in census.ranking.rows:
        if v.drill:
            extra = census.extras.get(v.index)
            if extra is None:
                spans = []
                break
            spans.extend(extra)  # type: ignore[arg-type]
    if drilled and not spans:
        for r, _span in results_with_spans(results):
            digest.offer(r)
        return
    spans.sort()
    with results.open("rb") as fh:
        for pos, size in spans:
            fh.seek(pos)
            drilled_result = parse_line(fh.read(size))
            if drilled_result is not None:
                digest.offer(drilled_result)
