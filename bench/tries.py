"""The cost of tries (--attempts): a web.reachable scan of a list where a tenth of the
hosts are silent (every packet to their IPv6 address dropped by nft in the server
namespace), with --attempts 1 and --attempts 3, in turns, the whole command's wall time
from process start to exit. The goal: three tries cost far less than three times the
wall time (probes/tries.py overlaps a silent host's tries; engine/window.py lets other
targets start while one waits for its retries)."""

from __future__ import annotations

import statistics
from pathlib import Path

from bench import measure, zone
from bench.netns import BenchNet, netns_argv, run
from ipv6scan.lab.availability import binary

TURNS = 3
HOSTS = 1_000
TABLE = "bench_silent"


def silent_hosts(count: int) -> list[int]:
    """Every tenth host, spread over the list."""
    return [i for i in range(count) if i % 10 == 9]


def _silence(net: BenchNet, workdir: Path, hosts: list[int]) -> None:
    addresses = ", ".join(zone.web_v6(i) for i in hosts)
    rules = workdir / "silent-web.nft"
    rules.write_text(
        f"table inet {TABLE} {{\n  chain input {{\n"
        "    type filter hook input priority -10; policy accept;\n"
        f"    ip6 daddr {{ {addresses} }} drop\n  }}\n}}\n"
    )
    run(netns_argv(net.srv, [binary("nft"), "-f", str(rules)]))


def _unsilence(net: BenchNet) -> None:
    run(netns_argv(net.srv, [binary("nft"), "delete", "table", "inet", TABLE]))


def measure_tries(
    net: BenchNet, workdir: Path, hosts: int = HOSTS, turns: int = TURNS
) -> dict[int, list[measure.ScanRun]]:
    """{attempts: runs}, the runs of --attempts 1 and 3 taking turns."""
    listing = workdir / "tries-web.txt"
    zone.write_web_list(listing, hosts)
    silent = silent_hosts(hosts)
    _silence(net, workdir, silent)
    runs: dict[int, list[measure.ScanRun]] = {1: [], 3: []}
    try:
        for turn in range(turns):
            for attempts, done in runs.items():
                done.append(measure.scan(
                    net, listing, workdir / f"tries-{attempts}-{turn}", "web.reachable", hosts,
                    resolver=zone.DNS6, allow=zone.ALLOW, timeout_s=300 + hosts / 5,
                    extra=("--attempts", str(attempts)),
                ))  # fmt: skip
    finally:
        _unsilence(net)
    return runs


def summary(runs: dict[int, list[measure.ScanRun]], hosts: int) -> list[tuple[str, str]]:
    """Rows for RESULTS.md's "Other figures"."""
    once, thrice = (statistics.median(r.wall_s for r in runs[a]) for a in (1, 3))

    def listed(a: int) -> str:
        return ", ".join(f"{r.wall_s:.1f}" for r in runs[a]) + " s"

    return [
        (f"tries, {hosts:,} hosts, a tenth silent: --attempts 1 wall time", listed(1)),
        (f"tries, {hosts:,} hosts, a tenth silent: --attempts 3 wall time", listed(3)),
        ("tries: wall time with 3 tries / with 1", f"{thrice / once:.2f}x (medians)"),
    ]
