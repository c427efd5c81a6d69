"""The drill-down's budget (report/digest.py Kept): which results a target keeps."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ipv6scan.report import digest as digest_module
from ipv6scan.report.digest import PRIORITY, Kept, Row

STATUSES = sorted(PRIORITY)


def _row(i: int, status: str) -> Row:
    return Row("t", "operator", "access", f"2001:db8::{i:x}", "net.ping", status, "")


def _kept_by_scanning(cap: int, statuses: list[str]) -> tuple[list[str], int]:
    """The rule as first written: once full, the first kept result of the lowest
    priority gives way to a result of a higher one."""
    items: list[Row] = []
    omitted = 0
    for i, status in enumerate(statuses):
        row = _row(i, status)
        if len(items) < cap:
            items.append(row)
            continue
        omitted += 1
        worst = min(range(len(items)), key=lambda k: PRIORITY[items[k].status])
        if PRIORITY[status] > PRIORITY[items[worst].status]:
            items[worst] = row
    return [r.subject for r in items], omitted


@given(
    cap=st.integers(min_value=1, max_value=12),
    statuses=st.lists(st.sampled_from(STATUSES), max_size=80),
)
def test_kept_results_follow_the_scanning_rule(cap: int, statuses: list[str]) -> None:
    # Given any run of statuses offered to a target's budget
    kept = Kept(cap)
    for i, status in enumerate(statuses):
        kept.offer(_row(i, status), {"i": i}, 1.0)
    # Then the same results stay, in the same slots, as under the scanning rule
    assert ([s.row.subject for s in kept.items], kept.omitted) == _kept_by_scanning(cap, statuses)


def test_evidence_is_made_readable_only_for_kept_results(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[Any] = []

    def counting(evidence: Any) -> str:
        made.append(evidence)
        return "{}"

    monkeypatch.setattr(digest_module, "evidence_text", counting)
    # Given a full budget of passes
    kept = Kept(20)
    for i in range(1000):
        kept.offer(_row(i, "pass"), {"i": i}, 1.0)
    # Then only the kept twenty had their evidence pretty-printed
    assert len(made) == 20 and kept.omitted == 980
    # When a failure comes, it takes the first pass's slot, and its evidence is printed
    kept.offer(_row(5000, "fail"), {"i": 5000}, 1.0)
    assert made[-1] == {"i": 5000} and len(made) == 21
    assert kept.items[0].row.status == "fail"
