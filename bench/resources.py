"""What web.resources costs: a 1,000-domain list of the bench zone's web hosts (each one
host with an AAAA and an A, nginx on port 80), scanned with `--checks web.http` and
with `--checks web.http,web.resources`, in turns; the whole command's wall time from
process start to exit, and the HTTP requests nginx saw (its access log), per domain.

    python -m bench.resources [--hosts 1000] [--turns 3] [--workdir DIR]

Every home page declares 19 sub-resources, as a portal built on a shared platform
does: its own style sheet (with two url() of its own: 21 in all), 7 more of its own,
10 on the platform's shared hosts (w0-w9, the same for every site) and one analytics
script on n7, a name with an A record only. So every result is `warn` (20 of 21), the
own resources cost requests on every site, and the shared ones are fetched once per
scan (the scan's one shared cache: the memo keys a chain by URL).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from bench import measure, phases, zone
from bench.netns import BenchNet

HOSTS = 1_000
TURNS = 3
SETS = {"web.http": 1, "web.http,web.resources": 2}  # checks -> result lines per host
SHARED = 10  # w0..w9: the platform's shared hosts
V4_ONLY = "n7"  # zone.kind(7) == "v4": an A record only

_OWN = (
    '<link rel="stylesheet" href="/s.css"><link rel="icon" href="/favicon.ico">'
    + "".join(f'<script src="/js/{n}.js"></script>' for n in range(3))
    + "".join(f'<img src="/img/{n}.png">' for n in range(3))
)
_SHARED = "".join(
    f'<script src="//w{n}.{zone.ZONE}/shared/p.js"></script>'
    if n % 2
    else f'<img src="//w{n}.{zone.ZONE}/shared/logo.png">'
    for n in range(SHARED)
)
_V4 = f'<script src="http://{V4_ONLY}.{zone.ZONE}/stats.js"></script>'
PAGE = f"<!doctype html><html><head>{_OWN}{_V4}</head><body><p>portal</p>{_SHARED}</body></html>"
CSS = "body { background: url(/img/bg.png) } @font-face { src: url(/f.woff2) }"
# nginx's return strings are single-quoted (the page has no single quote); phases
# fills {dir} in with str.format, so the style sheet's braces are doubled
NGINX_CONF = """worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log warn;
events {{ worker_connections 16384; }}
http {{
    log_format bare '$request';
    access_log {dir}/access.log bare;
    client_body_temp_path {dir}/tmp; proxy_temp_path {dir}/tmp;
    fastcgi_temp_path {dir}/tmp; uwsgi_temp_path {dir}/tmp; scgi_temp_path {dir}/tmp;
    server {{
        listen [::]:80 ipv6only=on backlog=8192;
        listen 0.0.0.0:80 backlog=8192;
        location = / {{ default_type text/html; return 200 '%PAGE%'; }}
        location = /s.css {{ default_type text/css; return 200 '%CSS%'; }}
        location / {{ return 200 "ok\\n"; }}
    }}
}}
""".replace("%PAGE%", PAGE).replace("%CSS%", CSS.replace("{", "{{").replace("}", "}}"))


def _requests(workdir: Path) -> int:
    log = workdir / "nginx" / "access.log"
    with log.open("rb") as fh:
        return sum(1 for _ in fh)


def measure_resources(
    net: BenchNet, workdir: Path, hosts: int = HOSTS, turns: int = TURNS
) -> dict[str, list[tuple[measure.ScanRun, int]]]:
    """{checks: [(run, HTTP requests nginx saw during it)]}."""
    listing = workdir / "resources-web.txt"
    zone.write_web_list(listing, hosts)
    runs: dict[str, list[tuple[measure.ScanRun, int]]] = {checks: [] for checks in SETS}
    for turn in range(turns):
        for checks, per_host in SETS.items():
            out = workdir / f"resources-{checks.replace(',', '+')}-{turn}"
            before = _requests(workdir)
            run = measure.scan(
                net, listing, out, checks, hosts * per_host, resolver=zone.DNS6,
                allow=zone.ALLOW, timeout_s=300 + hosts / 5,
            )  # fmt: skip
            runs[checks].append((run, _requests(workdir) - before))
    return runs


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m bench.resources", description=(__doc__ or "").split("\n")[0]
    )
    p.add_argument("--hosts", type=int, default=HOSTS)
    p.add_argument("--turns", type=int, default=TURNS)
    p.add_argument("--workdir", type=Path)
    args = p.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-resources-"))
    workdir.mkdir(parents=True, exist_ok=True)
    # n0..n19 in the zone for the A-only analytics host; the web hosts as the bench has them
    sizes = zone.Sizes(20, args.hosts, 0)
    phases.NGINX_CONF = NGINX_CONF  # the bench's nginx, serving these pages instead
    with BenchNet(workdir) as net:
        phases._servers(net, workdir, sizes, argparse.Namespace(names=20))
        runs = measure_resources(net, workdir, args.hosts, args.turns)
        problems = net.down()
    for checks, done in runs.items():
        walls = [r.wall_s for r, _ in done]
        asked = [n for _, n in done]
        print(f"{checks}: wall {', '.join(f'{w:.1f}' for w in walls)} s "
              f"(median {statistics.median(walls):.1f}); peak RSS "
              f"{max(r.peak_rss_mb for r, _ in done):.0f} MB; HTTP requests "
              f"{', '.join(str(n) for n in asked)} ({statistics.median(asked) / args.hosts:.2f}"
              " per domain)")  # fmt: skip
    if problems:
        print("teardown: " + "; ".join(problems), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
