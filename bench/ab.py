"""Two trees of ipv6scan, interleaved in one benchmark lab: the DNS-only and net.ping ratios.

    python -m bench.ab --other /tmp/old-tree [--names 100000] [--ping 10000] [--turns 5]

`--other` is a second checkout (for example `git worktree add /tmp/old-tree HEAD`, with
its own lane built in place). Each turn runs dnsperf, the DNS-only scan of this tree and of
the other (their order swapped every turn), then fping and net.ping of both, unpaced, so
that each figure has its limit measured beside it; a change's effect is then the spread of
the two trees' ratios over the turns, not the machine's mood between two whole
benchmarks. Both trees run with the same interpreter (this one): compiled or pure Python
alike. Nothing is written but the workdir and the JSON of --json.
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
from ipv6scan.checks.options import CheckOptions
from ipv6scan.context import MAX_PING_RATE, PING_RATE_ENV


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.ab", description=__doc__.split("\n")[0])
    p.add_argument("--other", type=Path, required=True, help="the other tree's checkout")
    p.add_argument("--names", type=int, default=100_000)
    p.add_argument("--ping", type=int, default=10_000)
    p.add_argument("--turns", type=int, default=5)
    p.add_argument("--seconds", type=float, default=5.0, help="dnsperf's duration")
    p.add_argument("--workdir", type=Path)
    p.add_argument("--json", type=Path)
    return p


def _scan(net: BenchNet, tree: Path, *args: object, **kw: object) -> measure.ScanRun:
    measure.REPO = tree  # the scan runs `python -m ipv6scan` from the tree's directory
    return measure.scan(net, *args, **kw)  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    here = measure.REPO
    trees = {"this": here, "other": args.other.resolve()}
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="v6ab-"))
    workdir.mkdir(parents=True, exist_ok=True)
    sizes = zone.Sizes(args.names, 0, args.ping)
    names, queries = workdir / "names.txt", workdir / "dnsperf.txt"
    zone.write_name_list(names, args.names)
    zone.write_dnsperf_queries(queries, args.names)
    yaml_path, text_path = workdir / "ping.yaml", workdir / "ping.txt"
    zone.write_ping_targets(yaml_path, text_path, args.ping)
    expected = sizes.expected_dns_results
    echoes = CheckOptions().ping_count
    rows: list[dict[str, object]] = []
    lab = argparse.Namespace(names=args.names, web_hosts=0, ping=args.ping)
    with BenchNet(workdir) as net:
        _servers(net, workdir, sizes, lab)
        for turn in range(args.turns):
            order = ["this", "other"] if turn % 2 == 0 else ["other", "this"]
            dnsperf = measure.dnsperf(net, zone.DNS6, queries, args.seconds).qps
            for side in order:
                run = _scan(net, trees[side], names, workdir / f"dns-{side}-{turn}", "dns.aaaa",
                            expected, resolver=zone.DNS6, allow=zone.ALLOW,
                            timeout_s=120 + args.names / 200, scan_phase_only=True)  # fmt: skip
                qps = run.dns_packets / run.scan_s
                rows.append({"turn": turn, "side": side, "what": "dns", "rate": qps,
                             "limit": dnsperf, "ratio": qps / dnsperf})  # fmt: skip
            fping, _ = measure.fping(net, text_path, args.ping)
            for side in order:
                run = _scan(net, trees[side], yaml_path, workdir / f"ping-{side}-{turn}",
                            "net.ping", args.ping, resolver=zone.DNS6, allow=zone.ALLOW,
                            timeout_s=120 + args.ping / 50, scan_phase_only=True,
                            env={PING_RATE_ENV: f"{MAX_PING_RATE:.0f}"})  # fmt: skip
                rate = echoes * args.ping / run.scan_s
                rows.append({"turn": turn, "side": side, "what": "ping", "rate": rate,
                             "limit": fping, "ratio": rate / fping})  # fmt: skip
            print(json.dumps(rows[-4:]), file=sys.stderr, flush=True)
    measure.REPO = here
    for what in ("dns", "ping"):
        for side in trees:
            ratios = [
                float(str(r["ratio"])) for r in rows if r["what"] == what and r["side"] == side
            ]
            listed = ", ".join(f"{x:.0%}" for x in ratios)
            print(f"{what} {side}: median {statistics.median(ratios):.0%} ({listed})")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
