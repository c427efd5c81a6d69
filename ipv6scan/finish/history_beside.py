"""The history's records of each result, made by the second process (finish.tables_beside).

For each result the history keeps its verdict's key and row, its evidence's key and text
(report.tables.evidence_text, which results.csv writes too), its duration, and, for a
detail compared without its measured figures, the run's own text of it (history_store).
Made in the pass's thread, the finish's busiest, that was a quarter of its time. For a
large file the second process parses every line anyway, for results.csv and junit.xml,
so it makes these records too and hands them back on a pipe of their own, a batch at a
time:

    frame = header (entries; bytes of the verdicts', evidence's and details' JSON)
            + the entries' verdict keys, evidence keys (int64) and durations (float64)
            + the verdicts' JSON [[key, target, ...], ...] and the evidence's [[key, text],
              ...], each a chunk of the history (history_chunks), and the details'
              [[index in the frame, text, params], ...]

A thread of the pass's process (FrameReader) hands each frame to the history's writer
(history_store.RunWriter.take_results), whose own thread writes its chunks. Should the
second process end early or send a frame short, every result's records are made again
in the pass's process (the finish's check: one record for each result, in order).

The reader reads the pipe to its end whatever happens: a second process that cannot
write its frames would never end.
"""

from __future__ import annotations

import contextlib
import json
import os
import struct
import threading
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from ipv6scan.finish.pipes import widen
from ipv6scan.history_store import BATCH, Verdict, text_key, verdict_record, verdict_row
from ipv6scan.model import CheckResult, fast_dumps

HEADER = struct.Struct("<IIII")  # entries, then the bytes of each JSON part


@dataclass(frozen=True)
class Frame:
    """A batch of results' records, in results.jsonl's order."""

    count: int
    verdict_keys: bytes  # int64 each
    evidence_keys: bytes  # int64 each
    durations: bytes  # float64 each
    verdicts: bytes  # JSON [[key, target, sector, tier, subject, check, status, ...], ...]
    evidence: bytes  # JSON [[key, text], ...]
    details: bytes  # JSON [[index in the frame, text, params], ...] (json's: NaN kept)


Take = Callable[[Frame], None]


def available() -> bool:
    """Frames are JSON made by orjson, as the history's chunks are."""
    return fast_dumps is not None


def pipe() -> tuple[int, int]:
    """(read end, write end), with the larger buffer where the system allows it."""
    read_end, write_end = os.pipe()
    widen(write_end)
    return read_end, write_end


class HistoryFrames:
    """The second process's side: each result's records, in the order of its lines."""

    def __init__(self, fd: int) -> None:
        self._out: IO[bytes] | None = os.fdopen(fd, "wb")
        self._verdict_keys: array[int] = array("q")
        self._evidence_keys: array[int] = array("q")
        self._durations: array[float] = array("d")
        self._verdicts: list[Verdict] = []
        self._evidence: list[tuple[int, str]] = []
        self._details: list[list[Any]] = []

    def add(self, r: CheckResult, evidence: str) -> None:
        """`evidence`: r's evidence as evidence_text writes it."""
        if self._out is None:
            return  # given up (see _flush): the pass's process makes them all
        key, pending, own = verdict_record(r)
        if own is not None:
            self._details.append([len(self._verdicts), *own])
        self.add_made(key, verdict_row(pending), text_key(evidence), evidence, r.duration_ms)

    def add_made(
        self, key: int, verdict: Verdict, evidence_key: int, evidence: str, duration_ms: float
    ) -> None:
        """A result's records made already (add's, or finish.line_shapes' from its line's
        shape): its verdict's key and row, its evidence's key and text, its duration."""
        if self._out is None:
            return
        self._verdict_keys.append(key)
        self._verdicts.append(verdict)
        self._evidence_keys.append(evidence_key)
        self._evidence.append((evidence_key, evidence))
        self._durations.append(duration_ms)
        if len(self._verdicts) >= BATCH:
            self._flush()

    def _flush(self) -> None:
        if not self._verdicts or self._out is None:
            return
        try:
            assert fast_dumps is not None  # available(): the pass asked for frames
            verdicts, evidence = fast_dumps(self._verdicts), fast_dumps(self._evidence)
            details = json.dumps(self._details, ensure_ascii=False).encode("utf-8", "surrogatepass")
        except (TypeError, ValueError):  # what orjson cannot write: no more frames
            self._give_up()
            return
        try:
            self._out.write(HEADER.pack(len(self._verdicts), len(verdicts), len(evidence),
                                        len(details)))  # fmt: skip
            for values in (self._verdict_keys, self._evidence_keys, self._durations):
                self._out.write(values.tobytes())
            for part in (verdicts, evidence, details):
                self._out.write(part)
        except OSError:  # the pass's reader is gone: results.csv and junit.xml still matter
            self._give_up()
            return
        for values in (self._verdict_keys, self._evidence_keys, self._durations):
            del values[:]
        for batch in (self._verdicts, self._evidence, self._details):
            batch.clear()

    def _give_up(self) -> None:
        out, self._out = self._out, None
        if out is not None:
            with contextlib.suppress(OSError):  # what is buffered cannot go: a short frame
                out.close()

    def close(self) -> None:
        """The last frame, then the end of the pipe."""
        try:
            self._flush()
        finally:
            self._give_up()


class FrameReader:
    """The pass's side: a thread that reads the frames and hands each to `take`, in order,
    until the pipe ends. `results` counts the results whose records it handed on."""

    def __init__(self, fd: int, take: Take) -> None:
        self._in = os.fdopen(fd, "rb")
        self._take = take
        self.results = 0
        self.error: BaseException | None = None  # the first failure of `take`; read on
        self._thread = threading.Thread(target=self._read, name="history-beside", daemon=True)
        self._thread.start()

    def join(self) -> int:
        """Wait for the pipe's end (the second process's); how many results came."""
        self._thread.join()
        return self.results

    def _read(self) -> None:
        try:
            while frame := self._frame():
                if self.error is None:
                    try:
                        self._take(frame)
                        self.results += frame.count
                    except BaseException as exc:  # the history failed: read on, take no more
                        self.error = exc
            self._drain()
        finally:
            self._in.close()

    def _frame(self) -> Frame | None:
        """The next whole frame; None at the pipe's end or a frame cut short."""
        head = self._in.read(HEADER.size)
        if len(head) < HEADER.size:
            return None
        count, *sizes = HEADER.unpack(head)
        wanted = (count * 8, count * 8, count * 8, *sizes)
        parts = [self._in.read(size) for size in wanted]
        if any(len(part) < size for part, size in zip(parts, wanted, strict=True)):
            return None  # its process ended
        return Frame(count, *parts)

    def _drain(self) -> None:
        while self._in.read(1 << 16):
            pass
