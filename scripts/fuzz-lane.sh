#!/usr/bin/env bash
# The long fuzz run of the DNS decoders: the fast lane (engine/_lane.c) built with ASan and
# UBSan into a directory of its own, fed mutated and random replies, with dnswire held to
# dnspython on a sample (tests/fuzz/lane_fuzz.py says what is fed and what fails a run).
# CI runs the same loop for 45 s (tests/fuzz/test_lane_fuzz.py).
#
#   scripts/fuzz-lane.sh [SECONDS] [JOBS]     default: 1800 s, one job per core
#
# A finding exits 1 and leaves the inputs of the round being read (query-N.bin,
# reply-N.bin) and the sanitizer's report in $FUZZ_DIR/crash-seedS; feed them again with
#   .venv/bin/python -m tests.fuzz.lane_fuzz --replay $FUZZ_DIR/crash-seedS
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TO_RUN=${1:-1800}
JOBS=${2:-$(nproc)}
FUZZ_DIR=${FUZZ_DIR:-$(mktemp -d /tmp/lane-fuzz.XXXXXX)}
exec .venv/bin/python -m tests.fuzz.lane_fuzz --seconds "$SECONDS_TO_RUN" --jobs "$JOBS" \
  --crash-dir "$FUZZ_DIR" ${FUZZ_SEED:+--seed "$FUZZ_SEED"}
