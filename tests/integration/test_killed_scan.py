"""A scan killed in the middle keeps every finished result intact.

SIGKILL gives the scanner no chance to clean up: every line already in
results.jsonl must still parse; only a line being written at that instant may be
cut short (Linux stops a write at a page boundary for SIGKILL), and only at the end.
SIGINT and SIGTERM end the scan early but still summarise what finished (exit 130).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml

import ipv6scan
from ipv6scan.lab import Lab

pytestmark = pytest.mark.lab

REPO = Path(ipv6scan.__file__).resolve().parent.parent
FIELDS = {"target", "sector", "tier", "subject", "check", "status", "detail", "evidence",
          "duration_ms"}  # fmt: skip
SLOW_TARGETS = 40


def _slow_list(path: Path) -> Path:
    """Many targets whose name servers' IPv6 addresses stay silent: each costs a timeout."""
    targets = [{"name": f"slow {i:02d}", "sector": "government",
                "domains": ["allnsdead.example", "deadns.example"]}
               for i in range(SLOW_TARGETS)]  # fmt: skip
    path.write_text(yaml.safe_dump({"version": 1, "name": "slow", "targets": targets}))
    return path


def _start(lab: Lab, tmp_path: Path) -> tuple[subprocess.Popen[bytes], Path]:
    out = tmp_path / "out"
    argv = lab.scan_argv(_slow_list(tmp_path / "slow.yaml"), out, checks="dns", timeout=2,
                         extra=["--concurrency", "4"])  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    # `ip netns exec` execs the command, so this PID is the scanner's own.
    proc = subprocess.Popen(lab.netns_argv(lab.client_ns, argv), cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    return proc, out / "results.jsonl"


def _wait_for_lines(proc: subprocess.Popen[bytes], results: Path, want: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the scan ended before it could be interrupted"
        if results.exists() and results.read_bytes().count(b"\n") >= want:
            return
        time.sleep(0.05)
    pytest.fail("no results appeared within 60 s")


def _records(results: Path, *, killed: bool = False) -> list[dict[str, object]]:
    raw = results.read_bytes()
    if killed:
        raw = raw[: raw.rfind(b"\n") + 1]  # the torn end a kill may leave (read_results skips it)
    assert raw.endswith(b"\n"), "the last line was cut in the middle"
    records = [json.loads(line) for line in raw.decode("utf-8").splitlines()]
    for record in records:  # detail_key and detail_params come together, beside detail
        assert set(record) - {"detail_key", "detail_params"} == FIELDS
        assert ("detail_key" in record) == ("detail_params" in record)
    return records


def test_sigkill_leaves_every_finished_line_whole(lab: Lab, tmp_path: Path) -> None:
    # Given a long scan that has written some results
    proc, results = _start(lab, tmp_path)
    try:
        _wait_for_lines(proc, results, 5)
        # When it is killed without warning
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # Then every line it wrote parses, and it really was stopped part-way
    records = _records(results, killed=True)
    assert 5 <= len(records) < SLOW_TARGETS * 2 * 4


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupt_summarises_what_finished(lab: Lab, tmp_path: Path, sig: signal.Signals) -> None:
    proc, results = _start(lab, tmp_path)
    try:
        _wait_for_lines(proc, results, 5)
        proc.send_signal(sig)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, stderr.decode(errors="replace")[-2000:]
    assert b"interrupted" in stderr
    records = _records(results)
    assert 5 <= len(records) < SLOW_TARGETS * 2 * 4
    summary = json.loads((results.parent / "summary.json").read_text(encoding="utf-8"))
    assert summary["overall"]["targets"] == len({r["target"] for r in records})
    assert (results.parent / "report.html").stat().st_size > 0
