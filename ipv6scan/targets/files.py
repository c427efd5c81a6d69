"""The front door: the targets of several files (YAML and plain lists) read as one run.

A target name may stand only once across all the files of a run; a file given twice is an
error too.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from ipv6scan.model import Target
from ipv6scan.safetext import quote
from ipv6scan.targets.entries import check_sector
from ipv6scan.targets.errors import (
    MAX_ERRORS,
    PathLike,
    TargetError,
    TargetErrors,
    too_many_errors,
)
from ipv6scan.targets.plain_lists import plain_items
from ipv6scan.targets.seen_names import SeenNames, UncheckedNames
from ipv6scan.targets.yaml_list import TargetList, load_yaml_targets

YAML_SUFFIXES = (".yaml", ".yml")
PLAIN_SUFFIXES = (".txt", ".csv")


def _file_kind(path: str) -> str:
    suffix = os.path.splitext(path)[1].lower()
    if suffix in YAML_SUFFIXES:
        return "yaml"
    if suffix in PLAIN_SUFFIXES:
        return "plain"
    raise TargetError(
        path,
        None,
        f"unknown target file type {suffix or '(no suffix)'!r}; "
        f"expected one of {', '.join(YAML_SUFFIXES + PLAIN_SUFFIXES)}",
    )


def _files(
    paths: Iterable[PathLike], seen: SeenNames
) -> Iterator[tuple[str, int, str | TargetError]]:
    """(path, file number, kind) per file; kind is a TargetError for a bad suffix or a repeat."""
    real: set[str] = set()
    for path in paths:
        spath = os.fspath(path)
        kind: str | TargetError
        try:
            kind = _file_kind(spath)
        except TargetError as exc:
            kind = exc
        if os.path.realpath(spath) in real:
            kind = TargetError(spath, None, "file given more than once")
        real.add(os.path.realpath(spath))
        yield spath, seen.add_file(spath), kind


def _duplicate(seen: SeenNames, target: Target, file_no: int) -> TargetError | None:
    first = seen.first(target.name, file_no, target.line)
    if first is None:
        return None
    return TargetError(
        target.source, target.line, f"duplicate target name {quote(target.name)} (first at {first})"
    )


class ListReader:
    """The YAML target lists of one run, each read and checked once: validation, the
    milestones and the scan share them (each read of a 10,000-address list took 0.3 s).
    A list that does not validate is not kept."""

    def __init__(self) -> None:
        self._lists: dict[str, TargetList] = {}

    def load(self, path: PathLike) -> TargetList:
        spath = os.fspath(path)  # the path as given: it names the targets' source
        found = self._lists.get(spath)
        if found is None:
            found = self._lists[spath] = load_yaml_targets(spath)
        return found


def _load(lists: ListReader | None, path: str) -> TargetList:
    return lists.load(path) if lists is not None else load_yaml_targets(path)


@dataclass(frozen=True)
class TargetSource:
    """Target files and the plain lists' sector: iterable again and again (each pass reads
    the plain lists anew; YAML lists come from `lists` when given), and small enough to
    hand to a worker process (which gets the paths only)."""

    paths: tuple[str, ...]
    sector: str = "enterprise"
    lists: ListReader | None = field(default=None, compare=False, repr=False)

    def __iter__(self) -> Iterator[Target]:
        return iter_targets(self.paths, self.sector, lists=self.lists)


def iter_targets(
    paths: Iterable[PathLike],
    default_sector: str = "enterprise",
    *,
    validated: bool = False,
    lists: ListReader | None = None,
    keep: Callable[[str], bool] | None = None,
) -> Iterator[Target]:
    """Every target of `paths` in order, streaming plain lists.

    Raises TargetErrors for a YAML file that does not validate, TargetError for anything else
    (both are TargetListError). Targets already yielded stay valid: call `validate_files` first
    when nothing may start before everything has been checked. `validated`: that was done
    in this run, so duplicates need no second look (and no memory). `lists`: YAML lists
    already read in this run. `keep(name)`: only the targets it accepts, asked with a YAML
    target's name or a plain line's domain as written, before that line is checked.
    """
    check_sector(default_sector)
    seen = UncheckedNames() if validated else SeenNames()
    for path, file_no, kind in _files(paths, seen):
        if isinstance(kind, TargetError):
            raise kind
        if kind == "yaml":
            for target in _load(lists, path).targets:
                if error := _duplicate(seen, target, file_no):
                    raise error
                if keep is None or keep(target.name):
                    yield target
        else:
            for item in plain_items(path, default_sector, seen, file_no, keep):
                if isinstance(item, TargetError):
                    raise item
                yield item


def validate_files(
    paths: Iterable[PathLike], sector: str = "enterprise", lists: ListReader | None = None
) -> list[TargetError]:
    """Read every file and return every problem (at most MAX_ERRORS a file); [] means valid.
    `lists` keeps the YAML lists read, for the rest of the run."""
    check_sector(sector)
    seen = SeenNames()
    errors: list[TargetError] = []
    for path, file_no, kind in _files(paths, seen):
        if isinstance(kind, TargetError):
            errors.append(kind)
        else:
            errors.extend(_file_errors(path, file_no, kind, sector, seen, lists))
    return errors


def _file_errors(
    path: str, file_no: int, kind: str, sector: str, seen: SeenNames, lists: ListReader | None
) -> list[TargetError]:
    errors: list[TargetError] = []
    if kind == "yaml":
        try:
            targets: Iterable[Target | TargetError] = _load(lists, path).targets
        except TargetErrors as exc:
            return exc.errors
    else:
        targets = plain_items(path, sector, seen, file_no)
    items = 0
    for item in targets:
        items += 1
        error = item if isinstance(item, TargetError) else None
        if kind == "yaml" and isinstance(item, Target):
            error = _duplicate(seen, item, file_no)
        if error is None:
            continue
        errors.append(error)
        if len(errors) >= MAX_ERRORS:
            errors.append(too_many_errors(path))
            break
    if items == 0 and kind != "yaml":
        # as a YAML list with no targets is an error: an empty download is not a clean scan
        errors.append(
            TargetError(path, None, "no domains in it (only blank lines, comments or a header)")
        )
    return errors
