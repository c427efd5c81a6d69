"""summary.json from results grouped by target (report.grouping), in bounded memory.

One target is scored at a time and its row goes to a spool on disk; what stays in memory
is the sector and overall sums. The rows, their order (the order the targets first
appear) and the sums are what `summarize` makes of the same results.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from ipv6scan.model import CheckResult
from ipv6scan.scoring.profile import DEFAULT_PROFILE, Profile
from ipv6scan.scoring.rows import TargetRows
from ipv6scan.scoring.summary import SummaryBuilder
from ipv6scan.scoring.tally import TargetScore
from ipv6scan.scoring.vantage import combine

Group = Sequence[CheckResult]  # one target's results, in the order they were written


def score_target(results: Group, profile: Profile = DEFAULT_PROFILE) -> dict[str, Any]:
    """The summary.json row of one target from all of its results (those of several
    vantage points made one each: scoring.vantage)."""
    first = results[0]
    ts = TargetScore(first.target, first.sector, profile)
    for result in combine(results, profile.vantage_share):
        ts.add(result)
    return ts.row()


def scored_rows(
    groups: Iterable[Group], profile: Profile = DEFAULT_PROFILE
) -> Iterator[dict[str, Any]]:
    """One row per target, in the order of the groups."""
    for group in groups:
        if group:
            yield score_target(group, profile)


def score_grouped(
    groups: Iterable[Group],
    rows: TargetRows,
    profile: Profile = DEFAULT_PROFILE,
    also: Callable[[Group], None] | None = None,
) -> dict[str, Any]:
    """The summary of grouped results, its target rows written to `rows`. `also` sees
    every group too, so that another writer (junit.xml) shares the pass."""
    builder = SummaryBuilder(profile)
    for group in groups:
        if not group:
            continue
        row = score_target(group, profile)
        builder.add(row)
        rows.append(row)
        if also is not None:
            also(group)
    return builder.summary(rows)
