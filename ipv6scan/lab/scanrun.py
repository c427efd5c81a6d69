"""Running the real CLI inside a lab namespace and reading back its results."""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Key = tuple[str, str, str]  # (target, subject, check)


class ScanFailed(RuntimeError):
    """The scan exited with a status other than 0 or 1; the message has its output."""


@dataclass
class ScanRun:
    records: list[dict[str, Any]]
    argv: list[str]
    started: float  # time.time() before and after: the window to read the canary's log in
    ended: float
    seconds: float  # wall time of the scan
    returncode: int

    def by_key(self) -> dict[Key, dict[str, Any]]:
        return {(r["target"], r["subject"], r["check"]): r for r in self.records}

    def get(self, target: str, subject: str, check: str) -> dict[str, Any]:
        """The record of (target, subject, check); KeyError lists what the target has."""
        found = self.by_key().get((target, subject, check))
        if found is None:
            seen = sorted(k[1:] for k in self.by_key() if k[0] == target)
            raise KeyError(f"no result for {(target, subject, check)}; {target} has {seen}")
        return found


def run_scan(argv: list[str], netns_argv: list[str], out: Path, cwd: Path) -> ScanRun:
    """Run `netns_argv` (the scan wrapped in `ip netns exec`), then read out/results.jsonl."""
    path = [str(cwd), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
    started, clock = time.time(), time.monotonic()
    proc = subprocess.run(netns_argv, capture_output=True, text=True, timeout=600, cwd=cwd,
                          env=env, check=False)  # fmt: skip
    seconds = time.monotonic() - clock
    if proc.returncode not in (0, 1):
        raise ScanFailed(
            f"scan exited {proc.returncode}\n{' '.join(argv)}\n"
            f"stdout: {proc.stdout[-3000:]}\nstderr: {proc.stderr[-3000:]}"
        )
    lines = (out / "results.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines if line.strip()]
    return ScanRun(records, argv, started, time.time(), seconds, proc.returncode)
