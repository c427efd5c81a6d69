"""Whether `--out` can hold a run's files, decided before anything is scanned or created.

A scan that runs for an hour and then cannot write its results has lost the hour; a
file named as --out, or a directory we may not write, is bad input (exit 2), said in one
line. Nothing is created here: a run stopped by a later usage error leaves no directory.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path


def problem(path: Path) -> str | None:
    """What keeps `path` from being the output directory, or None when it can be one."""
    try:
        return _problem(path)
    except OSError as exc:  # a directory on the way we may not even look into
        return f"cannot be used: {exc.strerror or exc}"


def _problem(path: Path) -> str | None:
    if path.exists():
        if not path.is_dir():
            return "is a file, not a directory"
        if not os.access(path, os.W_OK | os.X_OK):
            return "directory is not writable"
        return None
    # created later: the nearest existing ancestor must be a directory we can write
    parent = Path(os.path.abspath(path)).parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        return f"cannot be created: {parent} is a file, not a directory"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"cannot be created: {parent} is not writable"
    return None


REPORTS = Path("reports")  # the default home of scan output, under the working directory
LATEST = "latest"


def default_out(targets: list[str], now: dt.datetime | None = None) -> Path:
    """`reports/<list>/<date-time>/` for a scan without --out: <list> is the target
    lists' file names without suffix (joined with `+`), the time is local, to the second."""
    stems = [Path(t).stem or "targets" for t in targets] or ["targets"]
    name = "+".join(dict.fromkeys(_safe(s) for s in stems))[:120]
    moment = (now or dt.datetime.now()).strftime("%Y-%m-%dT%H%M%S")
    return REPORTS / name / moment


def _safe(stem: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in stem).strip(".") or "targets"


def link_latest(out: Path) -> None:
    """Point `latest` beside `out` at it (a relative symbolic link, replaced atomically);
    where links cannot be made, nothing."""
    link = out.parent / LATEST
    spare = out.parent / f".{LATEST}.{os.getpid()}"
    try:
        spare.unlink(missing_ok=True)
        os.symlink(out.name, spare, target_is_directory=True)
        os.replace(spare, link)
    except OSError:
        spare.unlink(missing_ok=True)
