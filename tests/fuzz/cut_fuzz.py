"""A fuzzer for finish/_cut.c: results lines, real ones mutated (bytes cut, doubled, put in,
quotes, colons, addresses, names, NUL, the duration's tail), each cut in C and by
line_shapes' own _cut, which must answer the same. Run under ASan and UBSan by
tests/fuzz/test_cut_fuzz.py, in a process of its own (the sanitizers' runtime is
preloaded); a mismatch exits 1 with the line saved, a sanitizer's report exits 86.

    python -m tests.fuzz.cut_fuzz SECONDS SEED SANITIZED_SO CRASH_DIR
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

from tests.fuzz.sanitized import load

PIECES = (
    b'"', b":", b"::", b'"2001:db8::1"', b'"::"', b'"a:"', b'"abcde:1"', b'"0:0:0:0:0:0:0:1"',
    b"n1.bench.example", b"www.n1.bench.example", b', "duration_ms": 1.5}', b"}\n", b"}",
    b"\x00", b"\x01", b"\x80", b"\\", b"-", b"=", b'{"target": "', b', "subject": "', b"1e9",
    b"9" * 20, b"." * 3, b'"2001:db8', b'"a:', b'"1:',
)  # fmt: skip
DURATION = b', "duration_ms": '


def seeds() -> list[bytes]:
    """Lines as the scan writes them: a pass with a CNAME chain, one with 70 addresses, an
    NXDOMAIN failure."""
    base = {
        "target": "n1.bench.example", "sector": "enterprise", "tier": "services",
        "subject": "www.n1.bench.example", "check": "dns.aaaa", "status": "pass",
        "detail": "1 global AAAA record: 2001:db8:100::1.", "detail_key": "dns.aaaa.global_one",
        "detail_params": {"count": 1, "addresses": ["2001:db8:100::1"]},
        "evidence": {"rcode": "NOERROR", "cname_chain": ["n1.bench.example"],
                     "resolver": "2001:db8:5353::53",
                     "addresses": [{"address": "2001:db8:100::1", "global": True}]},
        "duration_ms": 2.337,
    }  # fmt: skip
    many = dict(base, evidence={"a": [f"2001:db8::{i:x}" for i in range(70)]})
    failed = dict(base, status="fail", detail="n1.bench.example does not exist (NXDOMAIN).")
    return [(json.dumps(x, ensure_ascii=False) + "\n").encode() for x in (base, many, failed)]


def mutate(rng: random.Random, line: bytes) -> bytes:
    out = bytearray(line)
    for _ in range(rng.randrange(1, 8)):
        at = rng.randrange(len(out) + 1)
        op = rng.randrange(6)
        if op == 5:  # at a hole's edge: just before the duration, or after the subject
            ends = [out.rfind(DURATION), out.find(b'", "check"')]
            at = rng.choice([end for end in ends if end >= 0] or [at])
            op = rng.choice((0, 1, 1))
        if op == 0 and out:
            del out[at : at + rng.randrange(1, 8)]
        elif op == 1:
            out[at:at] = rng.choice(PIECES)
        elif op == 2:
            out[at:at] = bytes([rng.randrange(256)])
        elif op == 3:
            del out[at:]
        else:
            out[at:at] = out[at : at + rng.randrange(1, 40)]
    return bytes(out)


def main(argv: list[str]) -> int:
    seconds, seed, so, crash_dir = float(argv[0]), int(argv[1]), Path(argv[2]), Path(argv[3])
    cut = load(so, "ipv6scan.finish._cut").cut
    from ipv6scan.finish.line_shapes import _cut

    rng = random.Random(seed)
    lines = seeds()
    done = made = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        line = mutate(rng, rng.choice(lines))
        got, want = cut(line), _cut(line)
        done += 1
        made += got is not None
        if got != want:
            crash_dir.mkdir(parents=True, exist_ok=True)
            (crash_dir / "line.bin").write_bytes(line)
            print(f"mismatch on {line!r}: C {got!r}, Python {want!r}", file=sys.stderr)
            return 1
        if rng.random() < 0.01:
            lines.append(line)  # a mutant's mutants: deeper into odd lines
            if len(lines) > 500:
                del lines[3]
    print(json.dumps({"lines": done, "cut": made}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
