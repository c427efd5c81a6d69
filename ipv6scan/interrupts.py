"""SIGTERM ends a command as Ctrl-C does, at any moment (INTERFACE.md: exit 130).

A CI timeout or `systemctl stop` sends SIGTERM; left to its default, it kills the process
wherever it is (before the first result, or while the report is written) with no word and
no summary. Forwarding it to the SIGINT handler of the moment gives it Ctrl-C's path:
inside `asyncio.run`, the runner's handler cancels the scan (its finally blocks stop the
workers and flush the lines); anywhere else, KeyboardInterrupt, which the command line
turns into exit 130.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from types import FrameType


def as_sigint(_signum: int, frame: FrameType | None) -> None:
    handler = signal.getsignal(signal.SIGINT)
    if callable(handler):
        handler(signal.SIGINT, frame)
    else:  # SIGINT ignored (a background job of a script): SIGTERM still ends the run
        raise KeyboardInterrupt


def forwarded(handler: object) -> bool:
    """Whether `handler` (a signal.getsignal value) is this module's: the loop then leaves
    SIGTERM alone (run._stop_on_sigterm), since a loop's own handler is reset to the
    default when the loop closes, and a SIGTERM during the report would kill the process."""
    return handler is as_sigint


@contextlib.contextmanager
def sigterm_as_sigint() -> Iterator[None]:
    """While the block runs, SIGTERM is Ctrl-C; the previous handler is put back after
    (tests call the command line in-process)."""
    try:
        previous = signal.signal(signal.SIGTERM, as_sigint)
    except ValueError:  # not the main thread: signals are not ours to handle
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
