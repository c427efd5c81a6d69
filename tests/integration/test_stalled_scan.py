"""A scanner that is not scheduled for a while gives the verdicts it gives when it runs
freely.

On a busy machine (a CI runner, a crowded VM) the scanner may not run for seconds at a
time. The servers' answers still arrive and wait in the kernel's buffers. A timeout
that fired before the scanner read them would blame the server for the scanner's pause
(stall_clock). A CI run showed this once: two sites' web.links turned `warn`,
"intermittent".

One full scan of the lab runs freely. Then the same scan runs with the scanner's
processes stopped (SIGSTOP) for STALL s at a time, longer than the scan's timeout, with
RUN s between the stops, until it ends. Every verdict must be the same, except the
measured ones (web.latency). And the stalled scan must print nothing on stderr that the
free one did not.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

import ipv6scan
from ipv6scan.lab import Lab
from ipv6scan.lab.process import descendants

pytestmark = pytest.mark.lab

REPO = Path(ipv6scan.__file__).resolve().parent.parent
CHECKS = "dns,web,mail,net,resolver"
TIMEOUT = 2.0
STALL = 2.5  # s stopped: more than TIMEOUT, so any deadline due then would pass
RUN = 1.0  # s running between stops
MEASURED = {"web.latency"}  # verdicts on timings: a stall moves them
Key = tuple[str, str, str, str]


def _tree(pid: int) -> list[int]:
    """`pid` and its descendants (the latency sampler's worker process, say)."""
    return [pid, *(child for child, _ in descendants(pid))]


def _signal(pids: list[int], sig: signal.Signals) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
            os.kill(pid, sig)


def _scan(lab: Lab, out: Path, stall: bool) -> tuple[int, str]:
    argv = lab.scan_argv(lab.full_targets_file, out, checks=CHECKS, timeout=TIMEOUT,
                         extra=["--db", str(out.with_suffix(".db"))])  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    errors = out.with_suffix(".stderr")
    with errors.open("wb") as stderr:
        # `ip netns exec` execs the command: this PID is the scanner's own
        proc = subprocess.Popen(lab.netns_argv(lab.client_ns, argv), cwd=REPO, env=env,
                                stdout=subprocess.DEVNULL, stderr=stderr)  # fmt: skip
        try:
            started = time.monotonic()
            while stall and proc.poll() is None and time.monotonic() - started < 600:
                time.sleep(RUN)
                stopped = _tree(proc.pid)
                _signal(stopped, signal.SIGSTOP)
                time.sleep(STALL)
                _signal(stopped, signal.SIGCONT)
            code = proc.wait(timeout=600)
        finally:
            if proc.poll() is None:
                _signal(_tree(proc.pid), signal.SIGCONT)
                proc.kill()
                proc.wait()
    return code, errors.read_text(encoding="utf-8", errors="replace")


def _verdicts(out: Path) -> dict[Key, dict[str, Any]]:
    lines = (out / "results.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines if line.strip()]
    return {(r["target"], r["tier"], r["subject"], r["check"]): r for r in records}


@pytest.fixture(scope="module")
def scans(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("stalled")
    free_code, free_err = _scan(lab, base / "free", stall=False)
    stalled_code, stalled_err = _scan(lab, base / "stalled", stall=True)
    return {
        "free": (free_code, free_err, _verdicts(base / "free")),
        "stalled": (stalled_code, stalled_err, _verdicts(base / "stalled")),
    }


def test_a_stalled_scanner_gives_the_same_verdicts(scans: dict[str, Any]) -> None:
    (free_code, _, free), (stalled_code, _, stalled) = scans["free"], scans["stalled"]
    assert free_code == stalled_code == 0
    assert sorted(stalled) == sorted(free)
    assert len(free) > 500  # the whole lab: every family
    changed = {
        key: (free[key]["status"], stalled[key]["status"], stalled[key]["detail"][:160])
        for key in free
        if free[key]["status"] != stalled[key]["status"] and key[3] not in MEASURED
    }
    assert not changed, changed
    # and the details say the same (no "intermittent", no "ran out of time"), bar figures
    flaky = [k for k, r in stalled.items() if r["evidence"].get("intermittent")]
    assert flaky == [k for k, r in free.items() if r["evidence"].get("intermittent")]


def test_a_stalled_scanner_prints_nothing_more(scans: dict[str, Any]) -> None:
    (_, free_err, _), (_, stalled_err, _) = scans["free"], scans["stalled"]
    # uvloop's report of a TLS write on a closed transport (engine/loop_faults.py) among them
    assert stalled_err.splitlines() == free_err.splitlines(), stalled_err[-3000:]
