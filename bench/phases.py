"""The benchmark's measurements, in order, inside one BenchNet."""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

from bench import measure, tries, zone
from bench.netns import BenchNet
from bench.report import Figure
from ipv6scan.checks import registry
from ipv6scan.checks.options import CheckOptions
from ipv6scan.context import MAX_PING_RATE, PING_RATE_ENV
from ipv6scan.engine.workers import worker_count
from ipv6scan.lab.availability import binary, find_binary

FPING_RUNS = 5  # turns of fping and net.ping; the figures are their medians

NSD_CONF = """server:
    server-count: 1
    ip-address: {address}
    port: 53
    username: ""
    chroot: ""
    zonesdir: "{dir}"
    zonelistfile: "{dir}/zone.list"
    database: ""
    pidfile: "{dir}/nsd.pid"
    xfrdfile: "{dir}/xfrd.state"
    xfrdir: "{dir}"
    logfile: "{dir}/nsd.log"
    verbosity: 1
    # response-rate limiting would drop most of a benchmark's answers (FIELD.md)
    rrl-ratelimit: 0
    rrl-whitelist-ratelimit: 0
remote-control:
    control-enable: no
zone:
    name: "{zone}."
    zonefile: "{dir}/bench.zone"
# the scanner vets a resolver before use (ipv4only.arpa, the root's NS): NSD, the
# bench's resolver, answers those as a recursive resolver would
zone:
    name: "ipv4only.arpa."
    zonefile: "{dir}/ipv4only.zone"
zone:
    name: "."
    zonefile: "{dir}/root.zone"
"""
_APEX = "@ 3600 IN SOA ns.{zone}. h.{zone}. 1 3600 600 86400 60\n@ 3600 IN NS ns.{zone}.\n"
VETTED_ZONES = {
    "ipv4only.zone": "$ORIGIN ipv4only.arpa.\n"
    + _APEX
    + "@ 3600 IN A 192.0.0.170\n@ 3600 IN A 192.0.0.171\n",
    "root.zone": "$ORIGIN .\n" + _APEX,
}
NGINX_CONF = """worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log warn;
events {{ worker_connections 16384; }}
http {{
    access_log off;
    client_body_temp_path {dir}/tmp; proxy_temp_path {dir}/tmp;
    fastcgi_temp_path {dir}/tmp; uwsgi_temp_path {dir}/tmp; scgi_temp_path {dir}/tmp;
    server {{
        listen [::]:80 ipv6only=on backlog=8192;
        listen 0.0.0.0:80 backlog=8192;
        location / {{ return 200 "ok\\n"; }}
    }}
}}
"""


def _servers(net: BenchNet, workdir: Path, sizes: zone.Sizes, args: argparse.Namespace) -> bool:
    """NSD (and nginx when installed); True when nginx runs."""
    nsd_dir = workdir / "nsd"
    nsd_dir.mkdir(exist_ok=True)
    zone.write_zone(nsd_dir / "bench.zone", sizes)
    for name, text in VETTED_ZONES.items():
        (nsd_dir / name).write_text(text.format(zone=zone.ZONE))
    conf = NSD_CONF.format(address=zone.DNS6, dir=nsd_dir, zone=zone.ZONE)
    (nsd_dir / "nsd.conf").write_text(conf)
    net.start("nsd", [binary("nsd"), "-d", "-c", str(nsd_dir / "nsd.conf")])
    web = find_binary("nginx") is not None
    if web:
        web_dir = workdir / "nginx"
        (web_dir / "tmp").mkdir(parents=True, exist_ok=True)
        (web_dir / "nginx.conf").write_text(NGINX_CONF.format(dir=web_dir))
        net.start("nginx", [binary("nginx"), "-p", str(web_dir), "-e", str(web_dir / "err.log"),
                            "-c", str(web_dir / "nginx.conf"), "-g", "daemon off;"])  # fmt: skip
    checks = [f"dns,{zone.DNS6},n0.{zone.ZONE}", f"echo,{zone.ping_address(0)}"]
    if web:
        checks.append(f"tcp,{zone.web_v6(0)},80")
    deadline = 30 + args.names / 10_000  # a million-name zone takes NSD a while to load
    argv = [sys.executable, "-m", "bench.probe", f"{deadline:g}", *checks]
    proc = subprocess.run(net.in_client(argv), capture_output=True, text=True,
                          timeout=deadline + 30, cwd=measure.REPO, check=False)  # fmt: skip
    if proc.returncode != 0:
        logs = "".join(s.log_tail() for s in net.servers)
        raise RuntimeError(f"servers not ready: {proc.stdout[-800:]} {logs}")
    return web


def _result_rows(path: Path, names: set[str] | None = None) -> Iterator[tuple[str, ...]]:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if names is None or row["target"] in names:
                evidence = json.dumps(row["evidence"], sort_keys=True)
                yield (row["target"], row["subject"], row["check"], row["status"],
                       row["detail"], evidence)  # fmt: skip


class Run:
    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.figures: list[Figure] = []
        self.extra: list[tuple[str, str]] = []
        self.failed: list[str] = []
        self.sizes = zone.Sizes(args.names, args.web_hosts, args.ping)

    def step(self, name: str, body: Callable[[], None]) -> None:
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        try:
            body()
        except Exception as exc:
            self.failed.append(f"{name}: {exc}")
            self.extra.append((f"{name} failed", str(exc)[:300]))
            traceback.print_exc()

    # --- DNS ------------------------------------------------------------------------------
    def dns(self, net: BenchNet) -> None:
        n = self.args.names
        names = self.workdir / "names.txt"
        queries = self.workdir / "dnsperf.txt"
        zone.write_name_list(names, n)
        zone.write_dnsperf_queries(queries, n)
        limit = measure.dnsperf(net, zone.DNS6, queries, self.args.seconds)
        self.extra.append(("dnsperf", f"{limit.qps:,.0f} q/s, {limit.lost} of "
                           f"{limit.completed + limit.lost} lost"))  # fmt: skip
        expected = self.sizes.expected_dns_results
        run = measure.scan(
            net, names, self.workdir / "dns-scan", "dns.aaaa", expected,
            resolver=zone.DNS6, allow=zone.ALLOW, timeout_s=120 + n / 200,
            scan_phase_only=self.args.scan_phase_only,
        )  # fmt: skip
        if (run.exit_code != 0 and not self.args.scan_phase_only) or run.lines != expected:
            raise RuntimeError(f"scan exit {run.exit_code}, {run.lines} of {expected} lines")
        qps = run.dns_packets / run.scan_s
        workers = worker_count([str(names)])
        self.figures.append(Figure("DNS-only scan (dns.aaaa), queries/s", qps, "q/s",
                                   limit.qps, "dnsperf", f"{n:,} names; the bulk path, "
                                   + (f"{workers} worker processes" if workers > 1
                                      else "one process")))  # fmt: skip
        if not self.args.scan_phase_only:
            # issue 17: what a user waits for, from process start to exit, scoring, every
            # file and the history included
            note = (f"{n:,} names; {run.wall_s:,.1f} s from start to exit, {run.scan_s:,.1f} s "
                    f"scanning; peak RSS {run.peak_rss_mb:,.0f} MB")  # fmt: skip
            self.figures.append(Figure("DNS-only scan, the whole command, queries/s",
                                       run.dns_packets / run.wall_s, "q/s", limit.qps,
                                       "dnsperf", note))  # fmt: skip
        self.extra += [
            ("DNS-only scan: domains/s", f"{n / run.scan_s:,.0f}"),
            ("DNS-only scan: queries per domain", f"{run.dns_packets / n:.2f}"),
            ("DNS-only scan: wall time per 1,000 targets",
             f"{run.scan_s / n * 1000:.3f} s scanning, {run.wall_s / n * 1000:.3f} s with "
             "scoring, reports and history"),
            (f"DNS-only scan: peak RSS at {n:,} names",
             f"{run.scan_rss_mb:,.0f} MB scanning, {run.peak_rss_mb:,.0f} MB with scoring, "
             "reports and history"),
            ("DNS-only scan: wall time", f"{run.scan_s:,.1f} s scanning, {run.wall_s:,.1f} s "
             "in all" + (" (stopped after the scan phase)" if self.args.scan_phase_only else "")),
        ]  # fmt: skip
        self.rss_mb = run.peak_rss_mb
        self.variants(net, limit.qps)

    def variants(self, net: BenchNet, limit_qps: float) -> None:
        """What the bulk path and its workers buy: the same scan in one process, and
        through the general engine, on a part of the list."""
        m = min(self.args.names, 20_000)
        subset = self.workdir / "variants.txt"
        zone.write_name_list(subset, m)
        expected = zone.Sizes(m, 0, 0).expected_dns_results
        for label, env in (
            ("bulk path, one process", {"IPV6SCAN_WORKERS": "1"}),
            ("general engine", {"IPV6SCAN_ENGINE": "general"}),
        ):
            run = measure.scan(
                net, subset, self.workdir / f"variant-{len(self.extra)}", "dns.aaaa", expected,
                resolver=zone.DNS6, allow=zone.ALLOW, timeout_s=120 + m / 100, env=env,
                scan_phase_only=True,
            )  # fmt: skip
            qps = run.dns_packets / run.scan_s
            self.extra.append((f"DNS-only scan, {label}, {m:,} names",
                               f"{qps:,.0f} q/s, {qps / limit_qps:.0%} of dnsperf; "
                               f"{m / run.scan_s:,.0f} domains/s"))  # fmt: skip

    def baseline(self, net: BenchNet) -> None:
        """The same names through the dnspython transport: equal results, and its rate."""
        b = min(self.args.baseline, self.args.names)
        subset = self.workdir / "baseline.txt"
        zone.write_name_list(subset, b)
        expected = zone.Sizes(b, 0, 0).expected_dns_results
        run = measure.scan(
            net, subset, self.workdir / "baseline-scan", "dns.aaaa", expected,
            resolver=zone.DNS6, allow=zone.ALLOW, timeout_s=120 + b / 20,
            env={"IPV6SCAN_DNS_TRANSPORT": "dnspython"},
        )  # fmt: skip
        wanted = {f"n{i}.{zone.ZONE}" for i in range(b)}
        slow = sorted(_result_rows(self.workdir / "baseline-scan" / "results.jsonl"))
        fast = sorted(_result_rows(self.workdir / "dns-scan" / "results.jsonl", wanted))
        same = "identical" if slow == fast else f"DIFFERENT ({len(set(slow) ^ set(fast))} rows)"
        if slow != fast:
            self.failed.append("the two transports disagree")
        self.extra.append((f"dnspython transport on {b:,} names",
                           f"{run.dns_packets / run.scan_s:,.0f} q/s; results {same} to the "
                           "fast transport's"))  # fmt: skip

    # --- web and ping ---------------------------------------------------------------------
    def web(self, net: BenchNet) -> None:
        if find_binary("wrk") is None:
            self.figures.append(Figure("web.reachable, hosts/s", None, "hosts/s", None, "wrk",
                                       "not measured: wrk is not installed"))  # fmt: skip
            return
        limit = measure.wrk(net, f"http://[{zone.web_v6(0)}]/", self.args.seconds)
        if "web.reachable" not in registry.BY_ID:
            self.figures.append(Figure("web.reachable, hosts/s", None, "hosts/s", limit,
                                       "wrk Connection: close", "pending: web.reachable is "
                                       "not registered yet"))  # fmt: skip
            return
        hosts = self.workdir / "web.txt"
        zone.write_web_list(hosts, self.args.web_hosts)
        run = measure.scan(
            net, hosts, self.workdir / "web-scan", "web.reachable", self.args.web_hosts,
            resolver=zone.DNS6, allow=zone.ALLOW, timeout_s=120 + self.args.web_hosts / 20,
            # the connect path's throughput; what tries cost is measured apart (tries())
            extra=("--attempts", "1"),
        )  # fmt: skip
        hosts_s = self.args.web_hosts / run.scan_s
        self.figures.append(Figure(
            "web.reachable, TCP connections/s", 4 * hosts_s, "connects/s", limit,
            "wrk Connection: close, req/s",
            f"{self.args.web_hosts:,} hosts, 4 connects each (80 and 443, both families; 443 "
            f"is refused): {hosts_s:,.0f} hosts/s; peak RSS {run.peak_rss_mb:,.0f} MB",
        ))  # fmt: skip

    def tries(self, net: BenchNet) -> None:
        hosts = min(tries.HOSTS, self.args.web_hosts)
        if hosts < 10:  # a tenth of them silent: none to silence (--web-hosts 0)
            self.extra.append(("web: what tries cost", "not measured: fewer than 10 web hosts"))
            return
        runs = tries.measure_tries(net, self.workdir, hosts)
        self.extra.extend(tries.summary(runs, hosts))

    def ping(self, net: BenchNet) -> None:
        count = self.args.ping
        yaml_path, text_path = self.workdir / "ping.yaml", self.workdir / "ping.txt"
        zone.write_ping_targets(yaml_path, text_path, count)
        if find_binary("fping") is None:
            self.figures.append(Figure("net.ping, echo/s", None, "echo/s", None, "fping",
                                       "not measured: fping is not installed"))  # fmt: skip
            return
        if "net.ping" not in registry.BY_ID:
            self.figures.append(Figure("net.ping, echo/s", None, "echo/s", None, "fping -6",
                                       "pending: net.ping is not registered yet"))  # fmt: skip
            return
        # fping over 10,000 addresses takes a few tenths of a second, so one run swings with
        # the machine's load (36k to 57k echo/s within an hour, and a scan's 2 s between
        # runs by half): fping and net.ping take turns, five times, and the figure is the
        # ratio of their medians. fping runs with -i 0, unpaced, so net.ping runs at the
        # same setting; its default pacing (20,000/s, for real networks) is what users get,
        # measured in the same turns. A scan stops at its last line: its report is not
        # what this measures, and five of them would add a minute.
        echoes = CheckOptions().ping_count  # net.ping's echoes per address
        fping_runs: list[tuple[float, int]] = []
        unpaced: list[measure.ScanRun] = []
        paced: list[measure.ScanRun] = []
        settings = (("unpaced", unpaced, {PING_RATE_ENV: f"{MAX_PING_RATE:.0f}"}),
                    ("paced", paced, None))  # fmt: skip
        for turn in range(FPING_RUNS):
            fping_runs.append(measure.fping(net, text_path, count))
            for name, runs, env in settings:
                runs.append(measure.scan(
                    net, yaml_path, self.workdir / f"ping-{name}-{turn}", "net.ping", count,
                    resolver=zone.DNS6, allow=zone.ALLOW, timeout_s=120 + count / 50, env=env,
                    scan_phase_only=True,
                ))  # fmt: skip
        rate = statistics.median(r for r, _ in fping_runs)
        alive = min(a for _, a in fping_runs)
        if alive < count:
            self.extra.append(("fping", f"only {alive} of {count} addresses answered"))

        def rates(runs: list[measure.ScanRun]) -> list[float]:
            return [echoes * count / r.scan_s for r in runs]

        def listed(values: list[float]) -> str:
            return ", ".join(f"{v:,.0f}" for v in values) + " echo/s"

        ours, default = statistics.median(rates(unpaced)), statistics.median(rates(paced))
        self.extra.append(("fping runs", listed([r for r, _ in fping_runs])))
        self.extra.append(("net.ping runs, unpaced, in turn with fping's", listed(rates(unpaced))))
        self.figures.append(Figure("net.ping, echo/s", ours, "echo/s",
                                   rate, "fping -6 -i 0 (one echo per address)",
                                   f"{count:,} addresses, {echoes} echoes each, unpaced as "
                                   f"fping -i 0 ({PING_RATE_ENV}={MAX_PING_RATE:,.0f}), the "
                                   f"median of {FPING_RUNS} turns against fping's: "
                                   f"{ours / echoes:,.0f} addresses/s; peak RSS "
                                   f"{max(r.peak_rss_mb for r in unpaced):,.0f} MB"))  # fmt: skip
        self.extra.append(
            (
                "net.ping at its default pacing",
                f"{CheckOptions().ping_rate:,.0f} echo requests/s at most: "
                f"{listed(rates(paced))}; the median {default / rate:.0%} of fping",
            )
        )


def run_all(
    args: argparse.Namespace, workdir: Path
) -> tuple[list[Figure], list[tuple[str, str]], list[str]]:
    bench = Run(args, workdir)
    started = time.monotonic()
    with BenchNet(workdir) as net:
        try:
            web = _servers(net, workdir, bench.sizes, args)
        except Exception as exc:
            return [], [("lab", f"failed: {exc}")], [f"lab: {exc}"]
        bench.step("DNS: dnsperf and the DNS-only scan", lambda: bench.dns(net))
        if args.baseline:
            bench.step("DNS: the dnspython transport", lambda: bench.baseline(net))
        if web:
            bench.step("web: wrk and web.reachable", lambda: bench.web(net))
            bench.step("web: what tries cost", lambda: bench.tries(net))
        else:
            why = "not measured: nginx is not installed"
            row = Figure("web.reachable, TCP connections/s", None, "connects/s", None, "wrk", why)
            bench.figures.append(row)
        bench.step("ping: fping and net.ping", lambda: bench.ping(net))
        problems = net.down()
        bench.extra.append(("lab namespaces (removed at the end)", f"{net.srv} {net.cli}"))
    if problems:
        bench.failed.append("teardown: " + "; ".join(problems))
    bench.extra.append(("benchmark wall time", f"{time.monotonic() - started:,.0f} s"))
    return bench.figures, bench.extra, bench.failed
