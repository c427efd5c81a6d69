"""What a scan may tune of its checks: the probes' bounds and the judges' thresholds.

A judge reads its thresholds from here (its second argument), never from its observation:
what was seen and how it is weighed stay apart. Light: no probe stack is imported.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CheckOptions:
    """Knobs of the service checks (defaults documented in docs/checks.md)."""

    body_limit: int = 1_000_000  # bytes read of any HTTP body
    max_redirects: int = 10
    parity_threshold: float = 0.9  # body similarity needed for web.parity
    links_threshold: float = 0.9  # share of links that must work over IPv6 for web.links
    links_cap: int = 50  # links fetched per page
    links_depth: int = 1  # 1: the home page's links (二级); 2: also their pages' links (三级)
    resources_threshold: float = 0.9  # share of sub-resources fetched over IPv6: web.resources
    # sub-resources fetched per page (style sheets' url() included); 0: web.resources is
    # not run, and no page's resources are read
    resources_cap: int = 50
    latency_samples: int = 5
    latency_pass: float = 0.2  # IPv6 at most 20% slower: pass
    latency_warn: float = 1.0  # at most 100% slower: warn
    trace_max_hops: int = 30
    ping_count: int = 3  # echoes per address
    ping_interval: float = 0.1  # seconds between them
    # echo requests a second over the scan's ICMPv6 socket, net.ping and net.trace
    # together (icmp_socket.DEFAULT_RATE; IPV6SCAN_PING_RATE); net.ping holds no
    # --concurrency slot
    ping_rate: float = 20_000.0
    # tries per probe before a failure is final (--attempts; probes/tries.py). 1 here, so
    # that a context built in code tries once; the command line's default is 3
    attempts: int = 1


DEFAULT_OPTIONS = CheckOptions()
