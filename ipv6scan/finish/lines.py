"""results.jsonl's lines as the finish reads them: a block at a time (which may also go to
a second reader: finish.tables_beside), each line parsed once into a CheckResult."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from ipv6scan.finish.groups import Span
from ipv6scan.model import CheckResult, json_loads

BLOCK = 1 << 18  # bytes read at a time (one held, with the line it makes)
BUFFER = 1 << 20  # the file's buffer (as iterating it read it before)


def parse_line(line: bytes) -> CheckResult | None:
    """The line's result; None for a blank line and for what report.jsonl.read_results skips (a torn
    or foreign line)."""
    if line.isspace() or not line:  # isspace stops at the first byte that is not
        return None
    try:
        return CheckResult.from_json(json_loads(line), owned=True)
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def read_lines(path: Path, tee: Callable[[bytes], None] | None = None) -> Iterator[bytes]:
    """Each line with its newline (the last may have none), as iterating the file gives
    them; `tee` is handed every block read, in order, before its lines. One line is made
    at a time: a block's lines at once would hold another megabyte."""
    rest = b""  # a line the last block began
    with path.open("rb", buffering=BUFFER) as fh:
        while block := fh.read(BLOCK):
            if tee is not None:
                tee(block)
            start, end = 0, block.find(b"\n")
            if rest:
                if end < 0:
                    rest += block
                    continue
                yield rest + block[: end + 1]
                rest, start = b"", end + 1
                end = block.find(b"\n", start)
            while end >= 0:
                yield block[start : end + 1]
                start = end + 1
                end = block.find(b"\n", start)
            rest = block[start:]
    if rest:
        yield rest


def results_with_spans(
    path: Path, tee: Callable[[bytes], None] | None = None
) -> Iterator[tuple[CheckResult, Span]]:
    """Each whole result with where its line lies; what report.jsonl.read_results skips,
    skipped."""
    pos = 0
    for line in read_lines(path, tee):
        size = len(line)
        r = parse_line(line)
        if r is not None:
            yield r, (pos, size)
        pos += size
