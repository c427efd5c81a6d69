"""An unexpected error inside ipv6scan: exit 3, one line on stderr, the details in a file.

CI tells a crash (3) from a failed gate (1) by the exit code; a person gets one line that
says what failed and where the traceback went, instead of a traceback in the middle of the
progress output. The file goes in the output directory (where the results are collected
anyway); when that cannot be written, in the temporary directory.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import sys
import tempfile
import traceback
from collections.abc import Sequence
from pathlib import Path

from ipv6scan import __version__

EXIT_CRASH = 3
_SUMMARY_CHARS = 200  # the stderr line quotes this much of the error at most


def crash_text(exc: BaseException, argv: Sequence[str], when: dt.datetime) -> str:
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return (
        f"ipv6scan {__version__} crashed at {when.isoformat()}\n"
        f"python {platform.python_version()} on {platform.platform()}\n"
        f"argv: {list(argv)!r}\n"
        f"cwd: {os.getcwd()}\n\n{tb}"
    )


def write_crash_file(text: str, directory: Path | None, when: dt.datetime) -> Path:
    """The crash file in `directory` if it can be written there, else in the temp dir."""
    name = f"crash-{when.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.txt"
    if directory is not None:
        try:
            path = directory / name
            with path.open("x", encoding="utf-8", errors="backslashreplace") as fh:
                fh.write(text)
            return path
        except OSError:
            pass  # a full disk or a read-only --out: the temp dir may still take it
    fd, temp = tempfile.mkstemp(prefix="ipv6scan-crash-", suffix=".txt")
    with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as fh:
        fh.write(text)
    return Path(temp)


def one_line(exc: BaseException) -> str:
    """`Type: message`, on one line and bounded: the message may quote input."""
    message = " ".join(str(exc).split())
    if len(message) > _SUMMARY_CHARS:
        message = message[: _SUMMARY_CHARS - 3] + "..."
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def report_crash(exc: BaseException, argv: Sequence[str], directory: Path | None) -> int:
    """Write the crash file, say so on one line, and give the exit code 3."""
    when = dt.datetime.now().astimezone().replace(microsecond=0)
    text = crash_text(exc, argv, when)
    try:
        path: Path | str = write_crash_file(text, directory, when)
    except OSError as write_error:  # nowhere to write: the line still says what failed
        path = f"nowhere ({one_line(write_error)})"
    print(
        f"ipv6scan: internal error: {one_line(exc)}; details written to {path} "
        "(please attach it to a bug report)",
        file=sys.stderr,
    )
    return EXIT_CRASH
