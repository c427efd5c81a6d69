"""The files of a result directory besides results.jsonl (summary.json, junit.xml,
results.csv, report.html), all made from results.jsonl in bounded memory: results are
streamed, in file order or grouped by target, and target rows come from a spool.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from ipv6scan.model import CheckResult
from ipv6scan.report.jsonl import read_results
from ipv6scan.report.summary_json import write_summary
from ipv6scan.report.tables import CsvWriter, JunitWriter, write_junit_groups
from ipv6scan.report.workspace import Workspace
from ipv6scan.scoring.profile import DEFAULT_PROFILE, Profile

RESULTS = "results.jsonl"


class OutputFiles:
    def __init__(self, out: Path, work: Workspace) -> None:
        self.out = out
        self.results = out / RESULTS
        self.work = work
        self._junit_written = False

    def score(self, profile: Profile = DEFAULT_PROFILE) -> dict[str, Any]:
        """The summary; junit.xml, which needs the same grouping, is written on the way."""
        with JunitWriter(self.out / "junit.xml") as junit:
            summary = self.work.score(self.results, profile, also=junit.add)
        self._junit_written = True
        return summary

    def write(self, summary: dict[str, Any], lang: str) -> None:
        """summary.json, junit.xml (unless score wrote it), results.csv and report.html."""
        # jinja2 and babel load here, after a scan, not with the scan's command line
        from ipv6scan.report.html import write_html

        write_summary(summary, self.out / "summary.json")
        if not self._junit_written:
            write_junit_groups(self.work.index(self.results).groups(), self.out / "junit.xml")
            self._junit_written = True
        with CsvWriter(self.out / "results.csv") as csv_out:
            # the report reads every result once for its counts: the CSV rides along
            results = _passing(read_results(self.results), csv_out.write)
            write_html(results, summary, lang, self.out / "report.html")
            for _ in results:  # whatever the report left unread
                pass


def _passing(
    results: Iterable[CheckResult], sink: Callable[[CheckResult], None]
) -> Iterator[CheckResult]:
    """The results, each handed to `sink` on its way through."""
    for r in results:
        sink(r)
        yield r
