"""Fan a bulk DNS-only scan out over the CPU cores: one worker process per share.

One event loop is one core, and the bulk path is CPU-bound (encoding, decoding,
judging, writing), so a long list is split by a stable hash of each target's name
(the hash of --shard, another slice of it, so both combine) over worker processes.
Each worker (`python -m ipv6scan.engine.worker`) reads the target files itself, scans
its share with DnsOnlyScan and writes its result lines to its stdout, a pipe. The
parent copies whole lines from the pipes into results.jsonl as they arrive, so the
file is written as results finish, and a killed scan leaves its finished lines whole.

A worker also writes a line `#progress TARGETS RESULTS` now and then, for the
progress display; the parent keeps those out of results.jsonl.

Stopping (SIGINT, SIGTERM): the parent's scan is cancelled, it sends SIGTERM to each
worker, whose scan ends as a cancelled one does (finished lines flushed), and copies
what the pipes still hold until they close. The workers ignore SIGINT: a Ctrl-C reaches
the whole process group, and the parent alone decides how they stop (a worker hit by it
while starting up would print a KeyboardInterrupt traceback). They start with SIGINT
blocked, so that not even their interpreter's first instructions can be hit, and ignore
it before they unblock it (worker.py). Whatever ends the parent's scan, no worker outlives
it: the last of them are killed and each is waited for by its PID. A worker whose parent
dies (SIGKILL) gets SIGTERM from the kernel (worker.py) and stops as well.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pickle
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ipv6scan.engine.scheduler import ScanStats

WORKERS_ENV = "IPV6SCAN_WORKERS"  # a number: that many workers; 1: none
AUTO_MIN_LINES = 20_000  # shorter lists: one process (a worker costs ~0.5 s to start)
MAX_WORKERS = 8
PROGRESS = b"#progress "
_STOP_GRACE = 10.0  # seconds a worker has to flush after SIGTERM before SIGKILL


def worker_count(paths: Sequence[str]) -> int:
    """How many workers for these target files: IPV6SCAN_WORKERS, else one per core but
    one, and at least two, for a long list (counted in lines: a read of the files, no
    parsing). The core left over runs the parent, the kernel's share of the packets and
    whatever else the machine does. On 2 cores two workers still beat one process by a
    quarter, with the resolver beside the scanner (bench/, four interleaved runs)."""
    forced = os.environ.get(WORKERS_ENV, "").strip()
    if forced:
        return max(1, min(int(forced), MAX_WORKERS))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if not cores or cores < 2:
        return 1
    lines = 0
    for path in paths:
        with contextlib.suppress(OSError), open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                lines += chunk.count(b"\n")
    return min(max(2, cores - 1), MAX_WORKERS) if lines >= AUTO_MIN_LINES else 1


@dataclass
class WorkerSpec:
    """What a worker needs, pickled to its stdin: the scan's settings and the parent's
    preflight (so each worker does not probe its own connectivity again)."""

    config: Any  # run.ScanConfig
    connectivity: Any  # observations.Connectivity
    paths: list[str]
    sector: str
    share: tuple[int, int]  # (k, n), 0-based k

    # The checks travel by id: their functions may be compiled (mypyc), and pickle cannot
    # carry a compiled function.
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["config"] = replace(self.config, checks=())
        state["check_ids"] = [check.id for check in self.config.checks]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        from ipv6scan.checks.registry import BY_ID

        checks = tuple(BY_ID[check_id] for check_id in state.pop("check_ids"))
        state["config"] = replace(state["config"], checks=checks)
        self.__dict__.update(state)


class WorkerFailed(Exception):
    """A worker ended with an error: the scanner failed (exit 3), not its input."""


@dataclass
class _Worker:
    proc: subprocess.Popen[bytes]
    buffer: bytearray = field(default_factory=bytearray)
    targets: int = 0
    results: int = 0
    closed: bool = False


async def fan_out(
    specs: list[WorkerSpec],
    write_lines: Callable[[bytes], None],
    stats: ScanStats,
    on_progress: Callable[[ScanStats], None] | None = None,
) -> ScanStats:
    """Run one worker per spec; copy their lines through `write_lines` (whole lines,
    several at once) until every worker is done."""
    loop = asyncio.get_running_loop()
    workers: list[_Worker] = []
    all_closed = loop.create_future()
    try:
        for spec in specs:
            proc = _spawn()
            assert proc.stdin is not None and proc.stdout is not None
            workers.append(_Worker(proc))
            proc.stdin.write(pickle.dumps(spec))
            proc.stdin.close()
            os.set_blocking(proc.stdout.fileno(), False)
        for worker in workers:
            fd = worker.proc.stdout.fileno()  # type: ignore[union-attr]
            loop.add_reader(fd, _drain, worker, workers, write_lines, stats, on_progress,
                            all_closed)  # fmt: skip
        await asyncio.shield(all_closed)
    except asyncio.CancelledError:
        await _stop(workers, all_closed)
        raise
    finally:
        for worker in workers:
            with contextlib.suppress(Exception):
                loop.remove_reader(worker.proc.stdout.fileno())  # type: ignore[union-attr]
        _reap(workers)
    failed = [w.proc.returncode for w in workers]
    if any(failed):
        codes = ", ".join(str(c) for c in failed)
        raise WorkerFailed(f"a scan worker failed (exit codes {codes}); see the messages above")
    return stats


def _spawn() -> subprocess.Popen[bytes]:
    """One worker, started with SIGINT blocked (the mask is inherited through exec; the
    parent's is put back at once, and a Ctrl-C that came meanwhile is delivered then)."""
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "ipv6scan.engine.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=os.getcwd(),
        )
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


def _reap(workers: list[_Worker]) -> None:
    """Kill any worker still running (the scan ended some other way than by _stop) and
    wait for each by its PID: none outlives the scan, none is left a zombie."""
    for worker in workers:
        if worker.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                worker.proc.kill()
        worker.proc.wait()


def _drain(
    worker: _Worker,
    workers: list[_Worker],
    write_lines: Callable[[bytes], None],
    stats: ScanStats,
    on_progress: Callable[[ScanStats], None] | None,
    all_closed: asyncio.Future[None],
) -> None:
    out = worker.proc.stdout
    assert out is not None
    try:
        chunk = os.read(out.fileno(), 1 << 20)
    except BlockingIOError:
        return
    if chunk:
        worker.buffer += chunk
        end = worker.buffer.rfind(b"\n") + 1
        if not end:
            return
        lines = bytes(worker.buffer[:end])
        del worker.buffer[:end]
        if PROGRESS in lines:
            lines = _take_progress(worker, lines)
        else:
            worker.results += lines.count(b"\n")
        if lines:
            write_lines(lines)
    else:  # end of the pipe: the worker is done (or gone); a torn last line is dropped
        worker.closed = True
        asyncio.get_running_loop().remove_reader(out.fileno())
    stats.results = sum(w.results for w in workers)
    stats.targets_done = sum(w.targets for w in workers)
    if on_progress:
        on_progress(stats)
    if all(w.closed for w in workers) and not all_closed.done():
        all_closed.set_result(None)


def _take_progress(worker: _Worker, lines: bytes) -> bytes:
    kept = []
    for line in lines.splitlines(keepends=True):
        if line.startswith(PROGRESS):
            targets, results = line[len(PROGRESS) :].split()
            worker.targets, worker.results = int(targets), int(results)
        else:
            kept.append(line)
    return b"".join(kept)


async def _stop(workers: list[_Worker], all_closed: asyncio.Future[None]) -> None:
    """SIGTERM each worker, then keep copying until their pipes close (SIGKILL late ones)."""
    for worker in workers:
        if worker.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                worker.proc.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(asyncio.shield(all_closed), _STOP_GRACE)
    except TimeoutError:
        for worker in workers:
            if worker.proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    worker.proc.kill()
