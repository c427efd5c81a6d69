"""Each target's results together, from one pass over results.jsonl in file order.

Scoring and junit.xml need a target's results together, targets in the order they first
appear. A scan writes a target's results close together: the bulk paths write a domain's
lines at once, the engine has a bounded number of targets in flight. So a group stays open
while its target is among the WINDOW most recent targets to appear, and closes (is handed
on, in order of first appearance) when it falls out of that window. A result whose target
has closed already (a straggler, far from its target's others) makes the grouping unusable:
`broken` says so, and the caller groups the file again the slow way (report.grouping).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ipv6scan.model import CheckResult
from ipv6scan.report.grouping import _Ids

WINDOW = 4096  # open targets: a few MB for DNS-only targets, tens for full ones

Span = tuple[int, int]  # (offset, length) of a line in results.jsonl


@dataclass(slots=True)
class Group:
    results: list[CheckResult] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)
    mixed: bool = False  # holds two names that share a hash (see _Ids): split when closed


OnGroup = Callable[[Group], None]


class WindowGroups:
    def __init__(self, on_group: OnGroup, window: int = WINDOW) -> None:
        self._on_group = on_group
        self._window = window
        self._ids = _Ids()
        self._open: dict[int, Group] = {}  # in order of first appearance
        self._closed_below = 0  # every target id below this has been handed on
        # The group of the last result's target: a target's results mostly come in a row,
        # and this spares them the id lookup.
        self._last_name: str | None = None
        self._last: Group | None = None
        self.broken = False

    def add(self, r: CheckResult, span: Span) -> None:
        if self.broken:
            return
        name = r.target
        group = self._last
        if group is None or name != self._last_name:
            tid = self._ids.get(name)
            group = self._open.get(tid)
            if group is None:
                if tid < self._closed_below:  # its group was handed on already
                    self.broken = True
                    self._open.clear()
                    self._last = None
                    return
                group = self._open[tid] = Group()
                if len(self._open) > self._window:
                    self._close_first()
            elif group.results[0].target != name:
                group.mixed = True
            self._last_name, self._last = name, group
        group.results.append(r)
        group.spans.append(span)

    def _close_first(self) -> None:
        # The open ids are those from _closed_below on, one per new name in order: the
        # first is _closed_below (next(iter(...)) would step over every popped slot).
        tid = self._closed_below
        group = self._open.pop(tid)
        self._closed_below = tid + 1
        if group is self._last:
            self._last = None
        for part in _split(group):
            self._on_group(part)

    def close(self) -> None:
        """Hand on the groups still open (the end of the file)."""
        while self._open and not self.broken:
            self._close_first()


def _split(group: Group) -> list[Group]:
    """A group as it is, or one per name for two names that share a hash (see _Ids)."""
    if not group.mixed:
        return [group]
    by_name: dict[str, Group] = {}
    for r, span in zip(group.results, group.spans, strict=True):
        part = by_name.setdefault(r.target, Group())
        part.results.append(r)
        part.spans.append(span)
    return list(by_name.values())
