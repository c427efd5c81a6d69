"""Processes the lab starts, each tracked by PID and stopped by PID.

Nothing here looks processes up by name: the lab only ever signals PIDs it
started (or that live inside a namespace it created).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterable, Sequence
from pathlib import Path


def _start_time(pid: int) -> str | None:
    """Field 22 of /proc/PID/stat: tells a process apart from a later one reusing its PID."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may contain spaces; fields after it are plain.
    rest = stat.rsplit(")", 1)[-1].split()
    return rest[19] if len(rest) > 19 else None


def pid_alive(pid: int) -> bool:
    """True while pid runs (a zombie awaiting its reaper no longer counts)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    state = stat.rsplit(")", 1)[-1].split()[0]
    return state not in ("Z", "X")


def descendants(pid: int) -> list[tuple[int, str]]:
    """(pid, start time) of every live descendant of pid, found through /proc ppid links."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            rest = (entry / "stat").read_text().rsplit(")", 1)[-1].split()
        except OSError:
            continue
        parents.setdefault(int(rest[1]), []).append(int(entry.name))
    found: list[tuple[int, str]] = []
    todo = [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            start = _start_time(child)
            if start is not None:
                found.append((child, start))
                todo.append(child)
    return found


def stop_pids(pids: Iterable[tuple[int, str | None]], grace: float = 3.0) -> list[int]:
    """SIGTERM, wait up to grace seconds, then SIGKILL; returns PIDs that would not die.

    A PID is only signalled while its start time still matches, so a PID reused
    by an unrelated process after ours exited is left alone.
    """
    targets = [(pid, start) for pid, start in pids if start is None or _start_time(pid) == start]

    def same(pid: int, start: str | None) -> bool:
        return pid_alive(pid) and (start is None or _start_time(pid) == start)

    for pid, start in targets:
        if same(pid, start):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(same(p, s) for p, s in targets):
        time.sleep(0.02)
    killed = False
    for pid, start in targets:
        if same(pid, start):
            killed = True
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + (1.0 if killed else 0.0)
    while time.monotonic() < deadline and any(same(p, s) for p, s in targets):
        time.sleep(0.02)
    return [pid for pid, start in targets if same(pid, start)]


class ManagedProcess:
    """A long-running server started with Popen, its output in a log file."""

    def __init__(
        self, name: str, argv: Sequence[str], log: Path, *, ready: Path | None = None,
        cwd: Path | None = None,
    ) -> None:  # fmt: skip
        self.name = name
        self.argv = list(argv)
        self.log = log
        # A file the server writes once it listens (None: the lab's probe decides).
        self.ready_file = ready
        self.cwd = cwd
        self._popen: subprocess.Popen[bytes] | None = None
        self._start: str | None = None

    @property
    def pid(self) -> int | None:
        return self._popen.pid if self._popen else None

    def start(self) -> None:
        if self.ready_file is not None:
            self.ready_file.unlink(missing_ok=True)  # a stale one would say ready too early
        with self.log.open("ab") as out:
            # Own session: a Ctrl-C in the terminal reaches pytest, whose teardown
            # then stops the servers in order, instead of killing them mid-run.
            self._popen = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=self.cwd,
            )
        self._start = _start_time(self._popen.pid)

    def ready(self) -> bool:
        return self.ready_file is None or self.ready_file.exists()

    def running(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    def exit_code(self) -> int | None:
        return None if self._popen is None else self._popen.poll()

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, grace: float = 3.0) -> list[int]:
        """Stop the process and any children it forked (NSD forks); idempotent."""
        popen = self._popen
        if popen is None:
            return []
        children = descendants(popen.pid) if popen.poll() is None else []
        # The main process first: it stops and reaps its own children. Only those
        # that outlive it are signalled directly.
        stuck = stop_pids([(popen.pid, self._start)], grace)
        with contextlib.suppress(subprocess.TimeoutExpired):
            popen.wait(timeout=1.0)  # reap, so no zombie is left behind
        stuck += stop_pids(children, grace)
        self._popen = None
        return stuck
