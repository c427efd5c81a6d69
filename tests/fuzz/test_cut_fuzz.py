"""finish/_cut.c under ASan and UBSan against line_shapes' own _cut, for a bounded time
(IPV6SCAN_FUZZ_SECONDS). Under CI a missing compiler or sanitizer runtime fails the test
instead of skipping it."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

from tests.fuzz import sanitized

SECONDS = float(os.environ.get("IPV6SCAN_FUZZ_SECONDS", "45")) / 3


def _sanitized(tmp_path: Path, source: Path = sanitized.CUT_SOURCE) -> Path:
    return sanitized.build_for_test(tmp_path / "asan", source, "_cut")


def _fuzz(so: Path, seconds: float, seed: int, crash: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tests.fuzz.cut_fuzz", str(seconds), str(seed), str(so),
         str(crash)],
        capture_output=True, text=True, env=sanitized.child_env(), cwd=sanitized.ROOT,
        timeout=seconds + 120, check=False,
    )  # fmt: skip


def test_the_cut_survives_the_fuzzer_under_asan_and_ubsan(tmp_path: Path) -> None:
    so = _sanitized(tmp_path)
    seed = random.randrange(1 << 30)
    done = _fuzz(so, SECONDS, seed, tmp_path / "crash")
    assert done.returncode == 0, f"seed {seed}: {done.stderr[-4000:]}"
    stats = json.loads(done.stdout.strip().splitlines()[-1])
    # many lines, and some of them cut (the rest the slow way, as in Python)
    assert stats["lines"] > 10_000 and stats["cut"] > 100, stats


def test_the_fuzzer_finds_a_read_past_the_line(tmp_path: Path) -> None:
    # the cut with one bound check taken out: an address's digits read past the body
    check = "        while (e < n && (is_hex((unsigned char)s[e]) || s[e] == ':'))"
    planted = sanitized.planted(sanitized.CUT_SOURCE, check, "e < n && ", tmp_path / "_cut.c")
    so = _sanitized(tmp_path, planted)
    done = _fuzz(so, 20, 1, tmp_path / "crash")
    assert done.returncode != 0, "20 s of fuzzing missed a read past the end of the line"
    assert any(mark in done.stderr for mark in sanitized.SANITIZER_MARKS), done.stderr[-4000:]
