"""What web.pmtu costs: a 1,000-domain list of the bench zone's web hosts (each one host
with an AAAA and an A, nginx on port 80), scanned with `--checks web.http` and with
`--checks web.http,web.pmtu`, in turns; the whole command's wall time from process start
to exit, and web.pmtu's requests per domain, read from its evidence.

    python -m bench.pmtu [--hosts 1000] [--turns 3] [--workdir DIR]

A healthy path costs web.pmtu one request per host (its own GET of web.http's page, read
to the end or 64 KiB); only a stall adds the clamped request and the tries. The bench's
nginx answers a 3-byte page, so every result here is `skip` (nothing above 1,280 bytes):
the request is made all the same, so this is the per-host cost. What a black hole costs
(a timeout and the backoffs of the tries, then the clamped request) is in the lab's
figures (tests/integration/test_pmtu.py), not here: the bench has no narrow link.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

from bench import measure, zone
from bench.netns import BenchNet
from bench.phases import _servers

HOSTS = 1_000
TURNS = 3
SETS = {"web.http": 1, "web.http,web.pmtu": 2}  # checks -> result lines per host


def requests_of(results: Path) -> tuple[int, dict[str, int]]:
    """(web.pmtu's requests, its statuses) in one scan's results.jsonl: one per try of its
    unclamped and (after a stall) clamped request."""
    made, statuses = 0, dict.fromkeys(("pass", "fail", "skip", "error", "warn"), 0)
    for line in results.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["check"] != "web.pmtu":
            continue
        statuses[row["status"]] = statuses.get(row["status"], 0) + 1
        ev = row["evidence"]
        tried = {t["probe"]: t["attempts"] for t in ev.get("tries", [])}
        singles = [k for k in ("request", "clamped") if k in ev]
        made += sum(tried.values()) + max(0, len(singles) - len(tried))
    return made, statuses


def measure_pmtu(
    net: BenchNet, workdir: Path, hosts: int = HOSTS, turns: int = TURNS
) -> dict[str, list[measure.ScanRun]]:
    listing = workdir / "pmtu-web.txt"
    zone.write_web_list(listing, hosts)
    runs: dict[str, list[measure.ScanRun]] = {checks: [] for checks in SETS}
    for turn in range(turns):
        for checks, per_host in SETS.items():
            out = workdir / f"pmtu-{checks.replace(',', '+')}-{turn}"
            runs[checks].append(measure.scan(
                net, listing, out, checks, hosts * per_host, resolver=zone.DNS6,
                allow=zone.ALLOW, timeout_s=300 + hosts / 5,
            ))  # fmt: skip
    return runs


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.pmtu", description=__doc__.split("\n")[0])
    p.add_argument("--hosts", type=int, default=HOSTS)
    p.add_argument("--turns", type=int, default=TURNS)
    p.add_argument("--workdir", type=Path)
    args = p.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-pmtu-"))
    workdir.mkdir(parents=True, exist_ok=True)
    sizes = zone.Sizes(1, args.hosts, 0)  # n0: the servers' readiness question asks it
    with BenchNet(workdir) as net:
        _servers(net, workdir, sizes, argparse.Namespace(names=1))
        runs = measure_pmtu(net, workdir, args.hosts, args.turns)
        problems = net.down()
    for checks, done in runs.items():
        walls = [r.wall_s for r in done]
        scans = [r.scan_s for r in done]
        print(f"{checks}: wall {', '.join(f'{w:.1f}' for w in walls)} s "
              f"(median {statistics.median(walls):.1f}); scan phase median "
              f"{statistics.median(scans):.1f} s; peak RSS "
              f"{max(r.peak_rss_mb for r in done):.0f} MB")  # fmt: skip
    last = workdir / f"pmtu-web.http+web.pmtu-{args.turns - 1}" / "results.jsonl"
    made, statuses = requests_of(last)
    print(f"web.pmtu requests: {made} for {args.hosts} domains "
          f"({made / args.hosts:.2f} per domain); statuses {statuses}")  # fmt: skip
    if problems:
        print("teardown: " + "; ".join(problems), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
