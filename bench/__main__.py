"""`python -m bench`: bring the benchmark lab up, measure, write bench/RESULTS.md, tear down.

DNS path (documented choice): the scanner's --resolver is NSD itself, not a
recursive resolver in front of it. NSD ignores RD and answers authoritatively,
so the figure measures our client path alone, and dnsperf against the same
server from the same namespace is the physical limit of that path. (An Unbound in
front would measure Unbound's cache as much as us.)

Exit codes: 0 figures written; 2 the lab cannot run here (not root, a tool
missing), with the reason on stderr; 1 the lab ran but a measurement failed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path

from bench.report import console, machine, render
from ipv6scan.lab.availability import find_binary

HERE = Path(__file__).resolve().parent
NEEDED = {"ip": "iproute2", "nsd": "nsd", "nft": "nftables", "dnsperf": "dnsperf"}
SMOKE = {"names": 2_000, "web_hosts": 200, "ping": 1_000, "seconds": 2.0, "baseline": 300}


def unavailable() -> str | None:
    if not sys.platform.startswith("linux"):
        return "the benchmark needs Linux network namespaces"
    if os.geteuid() != 0:
        return "the benchmark needs root (network namespaces, servers on port 53)"
    for tool, package in NEEDED.items():
        if find_binary(tool) is None:
            return f"missing {tool} (Debian package {package})"
    return None


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    p.add_argument("--names", type=int, default=100_000, help="names in the zone and the list")
    p.add_argument("--web-hosts", type=int, default=2_000)
    p.add_argument("--ping", type=int, default=10_000, help="addresses for net.ping and fping")
    p.add_argument("--seconds", type=float, default=10.0, help="dnsperf and wrk duration")
    p.add_argument("--baseline", type=int, default=2_000,
                   help="names also scanned with the dnspython transport (0: none)")  # fmt: skip
    p.add_argument("--smoke", action="store_true", help="CI size: a few thousand names, seconds")
    p.add_argument("--scan-phase-only", action="store_true",
                   help="stop the DNS-only scan once its results are written, before scoring "
                   "and reports (for --names 1000000: the scan's own time and memory)")  # fmt: skip
    p.add_argument("--results", type=Path, help="Markdown out (default bench/RESULTS.md; "
                   "with --smoke, WORKDIR/RESULTS.md)")  # fmt: skip
    p.add_argument("--json", type=Path, help="also write the figures as JSON here")
    p.add_argument("--workdir", type=Path, help="keep the files here (default: a temp dir)")
    return p


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through the finally blocks: teardown runs


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.smoke:
        args.names, args.web_hosts, args.ping = SMOKE["names"], SMOKE["web_hosts"], SMOKE["ping"]
        args.seconds, args.baseline = SMOKE["seconds"], SMOKE["baseline"]
    reason = unavailable()
    if reason:
        print(f"bench: {reason}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _terminate)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="v6bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        from bench.phases import run_all

        figures, extra, failed = run_all(args, workdir)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    command = "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:])
    console(figures, extra)
    text = render("ipv6scan benchmark", machine(), figures, extra, command.strip())
    results = args.results or (workdir / "RESULTS.md" if args.smoke else HERE / "RESULTS.md")
    if args.smoke and args.results is None and args.workdir is None:
        results = None  # smoke in a temp dir: the console and --json are the record
    if results is not None:
        results.write_text(text, encoding="utf-8")
        print(f"bench: wrote {results}", file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps({
            "figures": [{**f.__dict__, "ratio": f.ratio} for f in figures],
            "extra": dict(extra), "failed": failed,
        }, indent=1))  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
