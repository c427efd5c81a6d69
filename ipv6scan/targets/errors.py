"""The errors of target lists, and the limits shared by every kind of list.

Every problem names its file and, where known, its line; validation collects them (at most
MAX_ERRORS a file) so that one `ipv6scan validate` run shows everything to fix.
"""

from __future__ import annotations

import os

PathLike = str | os.PathLike[str]

MAX_ERRORS = 100  # per file; past this the rest is noise


class TargetListError(Exception):
    """Base of TargetError and TargetErrors: `errors` lists every problem found."""

    errors: list[TargetError]


class TargetError(TargetListError):
    """One problem in a target file, at a line where known."""

    def __init__(self, path: PathLike, line: int | None, message: str) -> None:
        super().__init__(os.fspath(path), line, message)  # args match __init__: picklable
        self.path = os.fspath(path)
        self.line = line
        self.message = message
        self.errors = [self]

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.message}"


class TargetErrors(TargetListError):
    """Every problem found in a target file (at most MAX_ERRORS, then a note)."""

    def __init__(self, errors: list[TargetError]) -> None:
        super().__init__(errors)
        self.errors = list(errors)

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)


def too_many_errors(path: str) -> TargetError:
    """The note that ends a file's errors once MAX_ERRORS have been found."""
    return TargetError(path, None, f"too many errors; stopped after {MAX_ERRORS}")
