"""results.csv and junit.xml written by a second process beside the pass (finish.stage).

The pass is Python a result at a time, and the machine has a second core that the
history's thread uses only in part. results.csv and junit.xml need nothing the pass
computes: each result's line, and its target's lines together. So, for a results.jsonl of
some size (BESIDE_BYTES), the pass hands each block it reads to a Python process of its
own (CHILD, main() below), which parses the lines again and writes the two files with
the same writers, the same grouping and the same vantage rule, so the same bytes; the
pass waits for it at the very end. The file is still read once; what is done twice, in
parallel, is the parsing. A smaller file is written in the pass itself: a process's start
(some 0.07 s and 18 MB: it imports its writers and no more) would cost more than it saves.
It also makes the history's records of each result (its verdict, the evidence text it
makes for results.csv) and sends them back on a pipe of their own (finish.history_beside),
so that the pass does not make them.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO

from ipv6scan.collector import paused
from ipv6scan.finish import groups as window
from ipv6scan.finish.history_beside import HistoryFrames
from ipv6scan.finish.line_shapes import LineShapes
from ipv6scan.finish.lines import parse_line, read_lines
from ipv6scan.finish.pipes import widen
from ipv6scan.model import CheckResult
from ipv6scan.report.tables import CsvWriter, JunitWriter, MadeCase, evidence_text
from ipv6scan.scoring.vantage import combine

BESIDE_BYTES = 8 << 20  # results.jsonl's size from which the two files are written beside
HELD, REGROUP = b"0", b"1"  # the pass's verdict on its grouping
# not `-m` this module: the package imports it first, and runpy would warn of that
CHILD = "import sys; from ipv6scan.finish.tables_beside import main; sys.exit(main())"
Row = CheckResult | MadeCase  # a line's result, or its test case made from its shape


class TablesBeside:
    """The parent's side: the process, fed the blocks of results.jsonl as they are read,
    then told whether the pass found a target's lines too far apart (its verdict)."""

    def __init__(
        self,
        results: Path,
        csv: Path | None,
        junit: Path | None,
        vantage_share: float,
        records_fd: int | None = None,
    ) -> None:
        """`records_fd`: the write end of a pipe for the history's records of each result
        (finish.history_beside), the process's from now on (closed here)."""
        fds = [records_fd] if records_fd is not None else []
        try:
            verdict_read, self._verdict = os.pipe()
        except BaseException:
            _close(fds)
            raise
        fds.append(verdict_read)
        argv = [sys.executable, "-c", CHILD, "--results", str(results),
                "--share", repr(vantage_share), "--verdict-fd", str(verdict_read)]  # fmt: skip
        if csv is not None:
            argv += ["--csv", str(csv)]
        if junit is not None:
            argv += ["--junit", str(junit)]
        if records_fd is not None:
            argv += ["--records-fd", str(records_fd)]
        # its stderr, read when it ends (a pipe nobody reads could fill and stop it)
        self._errors: IO[bytes] = tempfile.TemporaryFile(prefix="ipv6scan-tables-")  # noqa: SIM115
        try:
            self._proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=self._errors,
                pass_fds=tuple(fds),
            )
        except BaseException:
            os.close(self._verdict)
            self._errors.close()
            raise
        finally:
            _close(fds)  # the child's ends
        assert self._proc.stdin is not None
        self._stdin = self._proc.stdin
        self._paths = (results, csv, junit, vantage_share)
        self._regrouped = False
        widen(self._stdin.fileno())

    def feed(self, block: bytes) -> None:
        with contextlib.suppress(BrokenPipeError):  # it failed: finish() says why
            self._stdin.write(block)

    def end(self, regrouped: bool) -> None:
        """The last block was fed; `regrouped`: the pass's grouping did not hold (the
        process then groups junit.xml's suites again from an index of the file)."""
        self._regrouped = regrouped
        with contextlib.suppress(BrokenPipeError):
            self._stdin.close()
        with contextlib.suppress(OSError):
            os.write(self._verdict, REGROUP if regrouped else HELD)
        self._close_verdict()

    def finish(self) -> None:
        """Wait for the files. Should the process have failed (a Python that cannot run
        it, say), they are written here instead, from the file; an error doing that (a
        full disk) is raised, with the process's own words."""
        code = self._proc.wait()
        self._errors.seek(0)
        said = self._errors.read()[-2000:].decode("utf-8", "replace").strip()
        self._errors.close()
        if code == 0:
            return
        results, csv, junit, share = self._paths
        try:
            write_from_file(results, csv, junit, share, self._regrouped)
        except OSError as exc:
            raise OSError(f"results.csv and junit.xml were not written: {exc}"
                          f" (the second process, exit {code}: {said})") from exc  # fmt: skip

    def stop(self) -> None:
        """The pass failed or was interrupted: the process goes too (by its PID)."""
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        self._close_verdict()
        self._errors.close()

    def _close_verdict(self) -> None:
        if self._verdict >= 0:
            os.close(self._verdict)
            self._verdict = -1


def _close(fds: list[int]) -> None:
    for fd in fds:
        os.close(fd)


class OpenGroups:
    """The pass's grouping (finish.groups) without its memory of every target: the pass
    tells this process at the end whether a target's lines lay too far apart (its ids
    cost 32 MB at a million targets, a second time here). Groups keyed by name, closed
    in order of first appearance once more than `window` are open: as the pass's, so long
    as no target comes back after its group closed, which is what the pass checks."""

    def __init__(self, on_group: Callable[[list[Row]], None], window: int) -> None:
        self._on_group = on_group
        self._window = window
        self._open: dict[str, list[Row]] = {}
        # the open names in order of first appearance: next(iter(self._open)) would step
        # over every slot popped since the dict last grew (2.2 s more at a million names)
        self._order: deque[str] = deque()

    def add(self, r: Row) -> None:
        group = self._open.get(r.target)
        if group is not None:
            group.append(r)
            return
        self._open[r.target] = [r]
        self._order.append(r.target)
        if len(self._order) > self._window:
            self._on_group(self._open.pop(self._order.popleft()))

    def close(self) -> None:
        for name in self._order:
            self._on_group(self._open[name])
        self._open.clear()
        self._order.clear()


def write_tables(
    lines: Iterable[bytes],
    csv: CsvWriter | None,
    junit: JunitWriter | None,
    share: float,
    records: HistoryFrames | None = None,
) -> None:
    """The child's work, as the pass does it: each result to results.csv in order, each
    target's results, vantage points made one, to junit.xml in order of first appearance;
    each result, with its evidence text, to `records` (the history's: history_beside). A
    line of a shape seen before is not parsed: its texts are its shape's (line_shapes)."""

    def suite(group: list[Row]) -> None:
        if junit is not None:
            junit.add(combine(group, share))

    groups = OpenGroups(suite, window.WINDOW)
    shapes = LineShapes()
    with paused():  # as the pass's (collector.py)
        for line in lines:
            made = shapes.make(line)
            if made is not None:
                row, key, verdict, evidence_key, evidence, ms, case = made
                if csv is not None:
                    csv.write_row(row)
                if records is not None:
                    records.add_made(key, verdict, evidence_key, evidence, ms)
                groups.add(case)
                continue
            r = parse_line(line)
            if r is None:
                continue
            if csv is not None or records is not None:
                text = evidence_text(r.evidence)
                if csv is not None:
                    csv.write(r, text)
                if records is not None:
                    records.add(r, text)
            groups.add(r)
        groups.close()
    if records is not None:
        records.close()  # before junit.xml is done: the pass's history waits for it


def regroup_junit(results: Path, junit: JunitWriter, share: float) -> None:
    """junit.xml's suites made again from an index of the file (as the pass's _regroup)."""
    from ipv6scan.report.workspace import Workspace  # here: it brings the scoring along

    junit.discard()
    again = JunitWriter(junit.path)
    with Workspace(results.parent) as work:
        for group in work.index(results).groups():
            again.add(combine(list(group), share))
    again.close()


def write_both(
    lines: Iterable[bytes], results: Path, csv: Path | None, junit: Path | None, share: float,
    regrouped: Callable[[], bool], records: HistoryFrames | None = None,
) -> None:  # fmt: skip
    """The two files from `lines`; `regrouped()`, asked once the lines are written, says
    whether the pass's grouping did not hold (junit.xml's suites are then made again)."""
    with contextlib.ExitStack() as stack:
        csv_writer = stack.enter_context(CsvWriter(csv)) if csv else None
        junit_writer = stack.enter_context(JunitWriter(junit)) if junit else None
        if records is not None:
            stack.callback(records.close)  # whatever happens: the pass's reader ends
        write_tables(lines, csv_writer, junit_writer, share, records)
        if regrouped() and junit_writer is not None:
            regroup_junit(results, junit_writer, share)


def write_from_file(
    results: Path, csv: Path | None, junit: Path | None, share: float, regrouped: bool
) -> None:
    """The two files written in this process, as the second would have (its fallback)."""
    write_both(read_lines(results), results, csv, junit, share, lambda: regrouped)


def _verdict(fd: int) -> bool:
    """The pass's word on its grouping, read from `fd` once it has sent the last block."""
    with os.fdopen(fd, "rb") as verdict:
        said = verdict.read(1)
    if said not in (HELD, REGROUP):  # the pass ended without a word: it failed
        raise SystemExit("the pass ended before its last block")
    return said == REGROUP


def _stdin_lines() -> Iterator[bytes]:
    yield from sys.stdin.buffer


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="ipv6scan.finish.tables_beside")
    p.add_argument("--results", type=Path, required=True)
    p.add_argument("--share", type=float, default=1.0)
    p.add_argument("--verdict-fd", type=int, required=True)
    p.add_argument("--csv", type=Path)
    p.add_argument("--junit", type=Path)
    p.add_argument("--records-fd", type=int)
    args = p.parse_args(argv)
    records = HistoryFrames(args.records_fd) if args.records_fd is not None else None
    write_both(_stdin_lines(), args.results, args.csv, args.junit, args.share,
               lambda: _verdict(args.verdict_fd), records)  # fmt: skip
    return 0
