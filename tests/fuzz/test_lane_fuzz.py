"""The fuzz loop of tests/fuzz/lane_fuzz.py, for a bounded time, on an ASan and UBSan lane.

IPV6SCAN_FUZZ_SECONDS lengthens (or shortens) the run; scripts/fuzz-lane.sh is the long
one. Under CI a missing compiler or sanitizer runtime fails the test instead of skipping.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

from tests.fuzz import lane_fuzz, sanitized

SECONDS = float(os.environ.get("IPV6SCAN_FUZZ_SECONDS", "45"))


def _sanitized(tmp_path: Path, source: Path = sanitized.LANE_SOURCE) -> Path:
    return sanitized.build_for_test(tmp_path / "asan", source, "_lane")


def test_the_lane_survives_the_fuzzer_under_asan_and_ubsan(tmp_path: Path) -> None:
    lane = _sanitized(tmp_path)
    seed = random.randrange(1 << 30)
    outcome = lane_fuzz.run(SECONDS, seed, 1, tmp_path, lane)
    assert outcome.ok, f"seed {seed}: {outcome.report}"
    (stats,) = outcome.stats
    # the run reached every part: lines the lane wrote itself, replies it handed back,
    # and replies dnswire and dnspython both read
    assert stats["lines"] > 0 and stats["punted"] > 0 and stats["done"] > 0, stats
    assert stats["compared"] > 0 and stats["replies"] > 1000, stats


def test_the_fuzzer_finds_a_read_past_the_datagram(tmp_path: Path) -> None:
    # the same lane with one bound check taken out: the answer's RDLENGTH is trusted
    check = "        if (end > n || klass != 1)\n            return -1;\n        r->type = type;"
    planted = sanitized.planted(sanitized.LANE_SOURCE, check, "end > n || ",
                                tmp_path / "_lane_planted.c")  # fmt: skip
    lane = _sanitized(tmp_path, planted)
    outcome = lane_fuzz.run(30, 1, 1, tmp_path, lane)
    assert not outcome.ok, "30 s of fuzzing missed a read past the end of a datagram"
    assert "heap-buffer-overflow" in outcome.report, outcome.report
    assert outcome.crash_dir is not None
    saved = lane_fuzz.read_saved(outcome.crash_dir)
    assert saved and all(query and reply for query, reply in saved)
