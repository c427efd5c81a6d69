"""Scratch files for making the outputs of a large run in bounded memory: the index that
groups results.jsonl by target, spools of target rows, copies of results read from the
history. They live in a directory of their own, by default inside the output directory
(the disk the results are on, not a /tmp that may be RAM), and go with it at the end.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ipv6scan.model import CheckResult
from ipv6scan.report.grouping import TargetIndex
from ipv6scan.scoring.profile import DEFAULT_PROFILE, Profile
from ipv6scan.scoring.rows import TargetRows
from ipv6scan.scoring.stream import Group, score_grouped

PREFIX = ".ipv6scan-work-"


class Workspace:
    def __init__(self, parent: Path | None = None) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix=PREFIX, dir=parent)
        self.path = Path(self._dir.name)
        self._rows: list[TargetRows] = []
        self._indexes: dict[Path, TargetIndex] = {}

    def rows(self) -> TargetRows:
        """An empty spool of target rows, removed with the workspace."""
        rows = TargetRows(self.path / f"rows-{len(self._rows)}.jsonl")
        self._rows.append(rows)
        return rows

    def index(self, results: Path) -> TargetIndex:
        """results.jsonl grouped by target; built once, however often it is asked for."""
        key = Path(results).resolve()
        if key not in self._indexes:
            self._indexes[key] = TargetIndex.build(results, self.path)
        return self._indexes[key]

    def spool(self, results: Iterable[CheckResult]) -> TargetIndex:
        """Results from elsewhere (the history database), copied here and grouped."""
        index = TargetIndex.spool(results, self.path)
        self._indexes[index.results] = index
        return index

    def score(
        self,
        results: Path | TargetIndex,
        profile: Profile = DEFAULT_PROFILE,
        also: Callable[[Group], None] | None = None,
    ) -> dict[str, Any]:
        """summary.json's content, its target rows in a spool here."""
        index = results if isinstance(results, TargetIndex) else self.index(results)
        return score_grouped(index.groups(), self.rows(), profile, also)

    def close(self) -> None:
        try:
            for rows in self._rows:
                rows.close()
            for index in self._indexes.values():
                index.close()
        finally:
            self._dir.cleanup()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
