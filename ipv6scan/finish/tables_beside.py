"""results.csv and junit.xml written by a second process beside the pass (finish.stage).

The pass is Python a result at a time, and the machine has a second core that the
history's thread uses only in part. results.csv and junit.xml need nothing the pass
computes: each result's line, and its target's lines together. So, for a results.jsonl of
some size (BESIDE_BYTES), the pass hands each block it reads to a Python process of its
own (CHILD, main() below), which parses the lines again and writes the two files with
the same writers, the same grouping and the same vantage rule, so the same bytes; the
pass waits for it at the very end. The file is still read once; what is done twice, in
parallel, is the parsing. A smaller file is written in the pass itself: a process's start
(some 0.25 s and 33 MB) would cost more than it saves.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from ipv6scan.finish import groups as window
from ipv6scan.finish.groups import Group, WindowGroups
from ipv6scan.finish.lines import parse_line
from ipv6scan.report.tables import CsvWriter, JunitWriter, evidence_text
from ipv6scan.report.workspace import Workspace
from ipv6scan.scoring.vantage import combine

BESIDE_BYTES = 8 << 20  # results.jsonl's size from which the two files are written beside
PIPE_BYTES = 1 << 20  # the pipe's buffer: a block the pass reads fits whole
F_SETPIPE_SZ = 1031  # fcntl's, Linux only (elsewhere the default buffer)
# not `-m` this module: the package imports it first, and runpy would warn of that
CHILD = "import sys; from ipv6scan.finish.tables_beside import main; sys.exit(main())"


class TablesBeside:
    """The parent's side: the process, fed the blocks of results.jsonl as they are read."""

    def __init__(
        self, results: Path, csv: Path | None, junit: Path | None, vantage_share: float
    ) -> None:
        argv = [sys.executable, "-c", CHILD, "--results", str(results),
                "--share", repr(vantage_share)]  # fmt: skip
        if csv is not None:
            argv += ["--csv", str(csv)]
        if junit is not None:
            argv += ["--junit", str(junit)]
        # its stderr, read when it ends (a pipe nobody reads could fill and stop it)
        self._errors: IO[bytes] = tempfile.TemporaryFile(prefix="ipv6scan-tables-")  # noqa: SIM115
        self._proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                      stderr=self._errors)  # fmt: skip
        assert self._proc.stdin is not None
        self._stdin = self._proc.stdin
        with contextlib.suppress(OSError):  # not Linux, or a smaller pipe-max-size
            fcntl.fcntl(self._stdin.fileno(), F_SETPIPE_SZ, PIPE_BYTES)

    def feed(self, block: bytes) -> None:
        with contextlib.suppress(BrokenPipeError):  # it failed: finish() says why
            self._stdin.write(block)

    def finish(self) -> None:
        """Wait for the files; OSError naming the process's own error if it failed."""
        with contextlib.suppress(BrokenPipeError):
            self._stdin.close()
        code = self._proc.wait()
        self._errors.seek(0)
        said = self._errors.read()[-2000:].decode("utf-8", "replace").strip()
        self._errors.close()
        if code != 0:
            raise OSError(f"results.csv and junit.xml were not written (exit {code}): {said}")

    def stop(self) -> None:
        """The pass failed or was interrupted: the process goes too (by its PID)."""
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        self._errors.close()


def write_tables(
    lines: Iterable[bytes], results: Path, csv: CsvWriter | None, junit: JunitWriter | None,
    share: float,
) -> None:  # fmt: skip
    """The child's work, as the pass does it: each result to results.csv in order, each
    target's results, vantage points made one, to junit.xml in order of first appearance;
    regrouped through an index of results.jsonl should a target's lines lie too far apart."""

    def suite(group: Group) -> None:
        if junit is not None:
            junit.add(combine(group.results, share))

    groups = WindowGroups(suite, window.WINDOW)
    for line in lines:
        r = parse_line(line)
        if r is None:
            continue
        if csv is not None:
            csv.write(r, evidence_text(r.evidence))
        groups.add(r, (0, 0))
    groups.close()
    if groups.broken and junit is not None:
        junit.discard()
        junit = JunitWriter(junit.path)
        with Workspace(results.parent) as work:
            for group in work.index(results).groups():
                junit.add(combine(list(group), share))
        junit.close()


def _stdin_lines() -> Iterator[bytes]:
    yield from sys.stdin.buffer


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="ipv6scan.finish.tables_beside")
    p.add_argument("--results", type=Path, required=True)
    p.add_argument("--share", type=float, default=1.0)
    p.add_argument("--csv", type=Path)
    p.add_argument("--junit", type=Path)
    args = p.parse_args(argv)
    with contextlib.ExitStack() as stack:
        csv = stack.enter_context(CsvWriter(args.csv)) if args.csv else None
        junit = stack.enter_context(JunitWriter(args.junit)) if args.junit else None
        write_tables(_stdin_lines(), args.results, csv, junit, args.share)
    return 0
