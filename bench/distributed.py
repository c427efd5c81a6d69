"""`python -m bench.distributed`: a DNS-only scan through the broker with 1, 2 and 3
workers, beside the same scan run locally, and what a shard costs.

The benchmark's own two namespaces (bench/netns.py): NSD and a redis-server in the server
namespace, the coordinator and the workers in the client namespace, every process started
and stopped by PID. Figures go to bench/DISTRIBUTED.md (or --results).

Throughput is names a second over the scan phase (until the last expected line is in
results.jsonl). The overhead per shard is measured apart: the same small list in one
shard and in many shards of one worker; the difference over the extra shards is what a
shard adds (queueing, a worker's preflight and loop, the result's round trip).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from bench import measure, zone
from bench.netns import SRV4, BenchNet, netns_argv
from bench.phases import _servers  # the benchmark's NSD, as the main benchmark starts it
from ipv6scan.distributed.plan import SIZE_ENV
from ipv6scan.lab.process import ManagedProcess

HERE = Path(__file__).resolve().parent
PORT = 6391
BROKER = f"redis://{SRV4}:{PORT}/0"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.distributed")
    p.add_argument("--names", type=int, default=100_000)
    p.add_argument("--workers", default="1,2,3", help="worker counts to measure")
    p.add_argument("--shard-targets", type=int, help="names a shard (default: the scan's own)")
    p.add_argument("--overhead-names", type=int, default=2_000)
    p.add_argument("--overhead-shards", type=int, default=100)
    p.add_argument("--results", type=Path, default=HERE / "DISTRIBUTED.md")
    p.add_argument("--workdir", type=Path)
    return p


class Cluster:
    """redis-server in the server namespace and workers in the client one."""

    def __init__(self, net: BenchNet, workdir: Path) -> None:
        self.net, self.workdir = net, workdir
        self.workers: list[ManagedProcess] = []
        argv = ["redis-server", "--bind", SRV4, "--port", str(PORT), "--save", "",
                "--appendonly", "no", "--dir", str(workdir), "--protected-mode", "no"]  # fmt: skip
        self.redis = net.start("redis", argv)

    def scale(self, count: int) -> None:
        while len(self.workers) > count:
            self.workers.pop().stop(grace=10)
        while len(self.workers) < count:
            argv = [sys.executable, "-m", "ipv6scan", "worker", "--broker", BROKER,
                    "--resolver", zone.DNS6, "--destination-rate", "0"]  # fmt: skip
            name = f"worker-{len(self.workers)}"
            proc = ManagedProcess(
                name, netns_argv(self.net.cli, argv), self.workdir / f"{name}.log"
            )
            proc.start()
            self.workers.append(proc)
        time.sleep(3)  # a worker's start: Celery, its imports, its first poll

    def stop(self) -> None:
        self.scale(0)


def _scan(net: BenchNet, names: Path, out: Path, expected: int, extra: tuple[str, ...] = (),
          env: dict[str, str] | None = None) -> measure.ScanRun:  # fmt: skip
    run = measure.scan(net, names, out, "dns.aaaa", expected, resolver=zone.DNS6,
                       allow=zone.ALLOW, timeout_s=600, env=env, extra=extra,
                       scan_phase_only=True)  # fmt: skip
    if run.lines != expected:
        raise RuntimeError(f"{out.name}: {run.lines} of {expected} lines")
    return run


def measure_all(args: argparse.Namespace, workdir: Path) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    sizes = zone.Sizes(args.names, 0, 0)
    with BenchNet(workdir) as net:
        _servers(net, workdir, sizes, argparse.Namespace(names=args.names))
        names = workdir / "names.txt"
        zone.write_name_list(names, args.names)
        expected = sizes.expected_dns_results
        local = _scan(net, names, workdir / "local", expected)
        local_rate = args.names / local.scan_s
        rows.append(("local scan", f"{local_rate:,.0f} names/s ({local.scan_s:,.1f} s)"))
        cluster = Cluster(net, workdir)
        sized = {SIZE_ENV: str(args.shard_targets)} if args.shard_targets else None
        try:
            for count in (int(c) for c in args.workers.split(",")):
                cluster.scale(count)
                run = _scan(net, names, workdir / f"broker-{count}", expected,
                            ("--broker", BROKER), sized)  # fmt: skip
                rate = args.names / run.scan_s
                rows.append((f"through the broker, {count} worker(s)",
                             f"{rate:,.0f} names/s ({run.scan_s:,.1f} s), "
                             f"{rate / local_rate:.2f} of the local scan"))  # fmt: skip
            cluster.scale(1)
            small = workdir / "small.txt"
            zone.write_name_list(small, args.overhead_names)
            want = zone.Sizes(args.overhead_names, 0, 0).expected_dns_results
            one = _scan(net, small, workdir / "one-shard", want, ("--broker", BROKER),
                        {"IPV6SCAN_SHARD_TARGETS": str(args.overhead_names)})  # fmt: skip
            size = max(1, args.overhead_names // args.overhead_shards)
            many = _scan(net, small, workdir / "many-shards", want, ("--broker", BROKER),
                         {"IPV6SCAN_SHARD_TARGETS": str(size)})  # fmt: skip
            shards = -(-args.overhead_names // size)
            per = (many.scan_s - one.scan_s) / max(1, shards - 1)
            rows.append(("overhead per shard (1 worker)",
                         f"{per * 1000:,.0f} ms: {args.overhead_names:,} names in 1 shard "
                         f"{one.scan_s:,.2f} s, in {shards} shards "
                         f"{many.scan_s:,.2f} s"))  # fmt: skip
        finally:
            cluster.stop()
    return rows


def main(argv: list[str] | None = None) -> int:
    from bench.__main__ import unavailable

    args = _parser().parse_args(argv)
    reason = unavailable()
    if reason:
        print(f"bench: {reason}", file=sys.stderr)
        return 2
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="v6bench-dist-"))
    workdir.mkdir(parents=True, exist_ok=True)
    rows = measure_all(args, workdir)
    text = [f"# Distributed scan benchmark\n\n`python -m bench.distributed "
            f"{' '.join(argv if argv is not None else sys.argv[1:])}`: {args.names:,} names, "
            "dns.aaaa, NSD as the resolver, workers and coordinator in one client namespace "
            "of this machine (they share its cores).\n\n"
            "| what | figure |\n|---|---|\n"]  # fmt: skip
    text += [f"| {what} | {figure} |\n" for what, figure in rows]
    args.results.write_text("".join(text), encoding="utf-8")
    print("".join(text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
