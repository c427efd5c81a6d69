"""One measurement each: a tool of the limit, or ipv6scan, run in the client namespace.

Every run is bounded in time (a timeout kills it by PID) and returns figures, or
raises; the caller records a failure as that measurement's result, not a crash.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.netns import BenchNet
from ipv6scan.lab.availability import binary, find_binary
from ipv6scan.lab.process import stop_pids

REPO = Path(__file__).resolve().parent.parent


def _bounded(argv: list[str], timeout: float) -> str:
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"{argv[0]} ran longer than {timeout:g} s") from exc
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[-6:])}: exit {proc.returncode}: {proc.stderr[-500:]}")
    return proc.stdout


def _number(pattern: str, text: str) -> float:
    found = re.search(pattern, text)
    if found is None:
        raise RuntimeError(f"no {pattern!r} in the output: {text[-500:]}")
    return float(found.group(1))


@dataclass
class Dnsperf:
    qps: float
    completed: int
    lost: int


def dnsperf(net: BenchNet, server: str, queries: Path, seconds: float) -> Dnsperf:
    # one thread: the other core serves NSD, as it does when the scanner runs
    argv = [binary("dnsperf"), "-s", server, "-d", str(queries), "-l", f"{seconds:g}",
            "-c", "8", "-T", "1", "-q", "512", "-t", "2"]  # fmt: skip
    out = _bounded(net.in_client(argv), seconds + 30)
    return Dnsperf(
        qps=_number(r"Queries per second:\s+([\d.]+)", out),
        completed=int(_number(r"Queries completed:\s+(\d+)", out)),
        lost=int(_number(r"Queries lost:\s+(\d+)", out)),
    )


@dataclass
class ScanRun:
    wall_s: float  # the whole command: scan, scoring, reports, history
    scan_s: float  # until the last expected result line was on disk
    lines: int
    peak_rss_mb: float  # of the whole command
    # peak until the scan phase ended (before scoring and reports), summed over the
    # process and its bulk workers
    scan_rss_mb: float
    exit_code: int
    dns_packets: int = 0  # queries that reached the name server during the scan phase
    notes: list[str] = field(default_factory=list)


def scan(
    net: BenchNet,
    targets: Path,
    out: Path,
    checks: str,
    expected_lines: int,
    *,
    resolver: str,
    allow: tuple[str, ...],
    timeout_s: float,
    concurrency: int = 256,
    env: dict[str, str] | None = None,
    scan_phase_only: bool = False,
    extra: tuple[str, ...] = (),
) -> ScanRun:
    """`ipv6scan scan` in the client namespace; peak RSS from wait4(), the scan phase from
    watching results.jsonl grow to the expected number of lines. `scan_phase_only`: stop
    the command there (SIGTERM), before its scoring, reports and history."""
    db = out.parent / f"{out.name}.db"
    argv = [sys.executable, "-m", "ipv6scan", "scan", str(targets), "--out", str(out),
            "--resolver", resolver, "--checks", checks, "--quiet", "--timeout", "2",
            "--concurrency", str(concurrency), "--db", str(db), *extra]  # fmt: skip
    for prefix in allow:
        argv += ["--allow-prefix", prefix]
    out.mkdir(parents=True, exist_ok=True)
    results = out / "results.jsonl"
    results.unlink(missing_ok=True)  # a --workdir used before: count this run's lines only
    packets_before = net.dns_packets()
    log = (out.parent / f"{out.name}.log").open("wb")
    started = time.monotonic()
    proc = subprocess.Popen(
        net.in_client(argv), cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, **(env or {})},
    )  # fmt: skip
    lines, offset, scan_done, packets = 0, 0, None, 0
    scan_rss: float | None = None
    tree_peaks: dict[int, float] = {}  # pid -> VmHWM: the bulk path's workers are processes
    # after the scan phase, the finish's own child (finish/tables_beside.py): pid -> VmHWM
    finish_peaks: dict[int, float] = {}
    status, rusage = 0, None
    try:
        while True:
            pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
            if not pid:
                peaks = tree_peaks if scan_done is None else finish_peaks
                for member in _tree(proc.pid):
                    if scan_done is not None and member in tree_peaks:
                        continue  # the parent, and workers not gone yet: counted already
                    peak = _peak_rss_mb(member)
                    if peak is not None:
                        peaks[member] = max(peak, peaks.get(member, 0.0))
            if results.exists():
                with results.open("rb") as fh:
                    fh.seek(offset)
                    chunk = fh.read()
                offset += len(chunk)
                lines += chunk.count(b"\n")
            if scan_done is None and (lines >= expected_lines or pid):
                scan_done = time.monotonic()
                for member in _tree(proc.pid) if not pid else ():
                    peak = _peak_rss_mb(member)
                    if peak is not None:
                        tree_peaks[member] = max(peak, tree_peaks.get(member, 0.0))
                # the sum of each process's own peak: never below the tree's real peak
                scan_rss = sum(tree_peaks.values()) if tree_peaks else None
                packets = net.dns_packets() - packets_before
            if pid:
                break
            if scan_done is not None and scan_phase_only:
                # the figures wanted are in; scoring and reports of this size are not
                stop_pids([(proc.pid, None)], grace=5.0)
                pid, status, rusage = os.wait4(proc.pid, 0)
                break
            if time.monotonic() - started > timeout_s:
                stop_pids([(proc.pid, None)], grace=2.0)
                raise RuntimeError(f"the scan ran longer than {timeout_s:g} s")
            time.sleep(0.05)
    finally:
        log.close()
    wall = time.monotonic() - started
    assert rusage is not None and scan_done is not None
    code = os.waitstatus_to_exitcode(status)
    return ScanRun(
        wall_s=wall,
        scan_s=scan_done - started,
        lines=lines,
        # kilobytes on Linux; the workers are gone after the scan phase, so the command's
        # peak is the larger of the scan's (summed) and the parent's own with the finish's
        # child's added (both their peaks: never below the two's real peak together)
        peak_rss_mb=max(rusage.ru_maxrss / 1024 + sum(finish_peaks.values()), scan_rss or 0.0),
        scan_rss_mb=scan_rss if scan_rss is not None else rusage.ru_maxrss / 1024,
        exit_code=code,
        dns_packets=packets,
    )


def _tree(pid: int) -> list[int]:
    """pid and its descendants, now."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                queue += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def _peak_rss_mb(pid: int) -> float | None:
    """VmHWM of a running process: its peak resident set so far."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def wrk(net: BenchNet, url: str, seconds: float) -> float:
    """Requests a second, a new connection each (`Connection: close`)."""
    if find_binary("wrk") is None:
        raise RuntimeError("wrk is not installed (apt-get install wrk)")
    argv = [binary("wrk"), "-t1", "-c64", f"-d{seconds:g}s", "-H", "Connection: close", url]
    return _number(r"Requests/sec:\s+([\d.]+)", _bounded(net.in_client(argv), seconds + 30))


def fping(net: BenchNet, addresses: Path, count: int) -> tuple[float, int]:
    """(echo replies a second, addresses that answered) for one echo per address."""
    argv = [binary("fping"), "-6", "-a", "-r", "0", "-t", "1000", "-i", "0", "-f", str(addresses)]
    started = time.monotonic()
    try:
        out = subprocess.run(net.in_client(argv), capture_output=True, text=True,
                             timeout=60 + count / 1000, check=False).stdout  # fmt: skip
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError("fping ran too long") from exc
    elapsed = time.monotonic() - started
    alive = sum(1 for line in out.splitlines() if line.strip())
    return alive / elapsed, alive
