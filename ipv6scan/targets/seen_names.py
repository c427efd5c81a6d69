"""Duplicate detection across the files of one run: the target names seen so far, and where."""

from __future__ import annotations


class SeenNames:
    """Target names seen in this run and where, for duplicate detection across files.

    One int per name (file number << 32 | line) keeps a million-name list cheap.
    """

    def __init__(self) -> None:
        self._where: dict[str, int] = {}
        self._paths: list[str] = []

    def add_file(self, path: str) -> int:
        self._paths.append(path)
        return len(self._paths) - 1

    def first(self, name: str, file_no: int, line: int | None) -> str | None:
        """Record `name`; if it was seen before, return where ('line N' or 'PATH:N')."""
        code = self._where.setdefault(name, file_no << 32 | (line or 0))
        if code == file_no << 32 | (line or 0):
            return None
        first_file, first_line = code >> 32, code & 0xFFFFFFFF
        if first_file == file_no:
            return f"line {first_line}"
        return f"{self._paths[first_file]}:{first_line}"


class UncheckedNames(SeenNames):
    """For a list already validated in this run (a bulk worker reads it again): keeps no
    names, so a million-name list does not cost its memory a second time."""

    def first(self, name: str, file_no: int, line: int | None) -> str | None:
        return None
