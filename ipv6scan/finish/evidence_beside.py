"""The history's evidence texts, made by the second process (finish.tables_beside).

Every result's evidence is written as one text (report.tables.evidence_text) for two
readers: results.csv and the history, which stores it under the key of that text. For a
large file the second process writes results.csv, so it makes every such text anyway, and
the pass's thread, the finish's busiest, made each one a second time for the history
(with its key and its batch: 0.8-1 s at 100,000 names). So the second process also hands
each text and its key back, on a pipe of their own, a batch at a time:

    frame = header (entries, payload bytes) + the entries' keys (int64, in order)
            + the payload: the JSON array [[key, text], ...], a chunk of the history

and a thread of the pass's process (EvidenceReader) hands each frame to the history's
writer (history_store.RunWriter.take_evidence), whose own thread stages it. Should the
second process end early or send a frame short, the texts are made again in the pass's
process, all of them (the finish's check: one key for each result, in order).

The reader reads the pipe to its end whatever happens: a second process that cannot
write its frames would never end.
"""

from __future__ import annotations

import contextlib
import os
import struct
import threading
from array import array
from collections.abc import Callable
from typing import IO

from ipv6scan.finish.pipes import widen
from ipv6scan.history_store import BATCH, text_key
from ipv6scan.model import fast_dumps

HEADER = struct.Struct("<II")  # entries, payload bytes

# (keys as int64 bytes, payload, entries): what the history's writer takes
Take = Callable[[bytes, bytes, int], None]


def available() -> bool:
    """Frames are JSON made by orjson, as history_stage's batches are."""
    return fast_dumps is not None


def pipe() -> tuple[int, int]:
    """(read end, write end), with the larger buffer where the system allows it."""
    read_end, write_end = os.pipe()
    widen(write_end)
    return read_end, write_end


class EvidenceFrames:
    """The second process's side: each result's evidence text, in the order of its lines."""

    def __init__(self, fd: int) -> None:
        self._out: IO[bytes] | None = os.fdopen(fd, "wb")
        self._keys: array[int] = array("q")
        self._batch: list[tuple[int, str]] = []

    def add(self, text: str) -> None:
        if self._out is None:
            return  # given up (see _flush): the pass's process makes them all
        key = text_key(text)
        self._keys.append(key)
        self._batch.append((key, text))
        if len(self._batch) >= BATCH:
            self._flush()

    def _flush(self) -> None:
        if not self._batch or self._out is None:
            return
        try:
            assert fast_dumps is not None  # available(): the pass asked for frames
            payload = fast_dumps(self._batch)
        except TypeError:  # a text orjson cannot write (a lone surrogate): no more frames
            self._give_up()
            return
        try:
            self._out.write(HEADER.pack(len(self._batch), len(payload)))
            self._out.write(self._keys.tobytes())
            self._out.write(payload)
        except OSError:  # the pass's reader is gone: results.csv and junit.xml still matter
            self._give_up()
            return
        self._batch.clear()
        del self._keys[:]

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


class EvidenceReader:
    """The pass's side: a thread that reads the frames and hands each to `take`, in order,
    until the pipe ends. `results` counts the results whose evidence it handed on."""

    def __init__(self, fd: int, take: Take) -> None:
        self._in = os.fdopen(fd, "rb")
        self._take = take
        self.results = 0
        self.error: BaseException | None = None  # the first failure of `take`; read on
        self._thread = threading.Thread(target=self._read, name="evidence-beside", daemon=True)
        self._thread.start()

    def join(self) -> int:
        """Wait for the pipe's end (the second process's); how many results came."""
        self._thread.join()
        return self.results

    def _read(self) -> None:
        try:
            while head := self._in.read(HEADER.size):
                if len(head) < HEADER.size:
                    break
                entries, size = HEADER.unpack(head)
                keys = self._in.read(entries * 8)
                payload = self._in.read(size)
                if len(keys) < entries * 8 or len(payload) < size:
                    break  # a frame cut short: its process ended
                if self.error is None:
                    try:
                        self._take(keys, payload, entries)
                        self.results += entries
                    except BaseException as exc:  # the history failed: read on, take no more
                        self.error = exc
            self._drain()
        finally:
            self._in.close()

    def _drain(self) -> None:
        while self._in.read(1 << 16):
            pass
