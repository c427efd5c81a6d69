"""Judgement of web.latency: is IPv6 much slower than IPv4 to the same site?

Pure: observation in, Verdict out. The worse of the median TCP connect and time to first
byte ratios decides, against the scan's bars (CheckOptions.latency_pass, latency_warn).
"""

from __future__ import annotations

import statistics
from typing import Any

from ipv6scan.checks import web_evidence as ev
from ipv6scan.checks.options import DEFAULT_OPTIONS, CheckOptions
from ipv6scan.checks.web_tries import with_chain_tries
from ipv6scan.messages import message
from ipv6scan.model import Status, Verdict
from ipv6scan.observations.web import LatencyObservation, LatencySide

# Ratios are taken against at least this many ms of IPv4 time: on a LAN-short path, a
# few ms of scheduling noise would otherwise look like a 100% degradation.
LATENCY_FLOOR_MS = 25.0


def _side(side: LatencySide) -> dict[str, Any]:
    out: dict[str, Any] = {
        "address": side.address,
        "tcp_ms": list(side.tcp_ms),
        "ttfb_ms": list(side.ttfb_ms),
        "failures": side.failures,
    }
    if side.tcp_ms:
        out["tcp_median_ms"] = round(statistics.median(side.tcp_ms), 3)
    if side.ttfb_ms:
        out["ttfb_median_ms"] = round(statistics.median(side.ttfb_ms), 3)
    return out


def _ratio(v6: float, v4: float) -> float:
    return (v6 - v4) / max(v4, LATENCY_FLOOR_MS)


# web.latency: the figures vary from run to run (measured); the verdict is the key
NO_COMMON_HTTP = message(
    "web.latency.no_common_port", "No port gives an HTTP response over both IPv6 and IPv4."
)
NOTHING_TO_MEASURE = message(
    "web.latency.nothing_to_measure", "No response over %(family)s to measure."
)
_FIGURES = ("ratio", "tcp6", "tcp4", "ttfb6", "ttfb4")
SLOWER = message(
    "web.latency.slower",
    "IPv6 is %(ratio)s slower than IPv4 (median TCP connect %(tcp6)s vs %(tcp4)s ms, "
    "time to first byte %(ttfb6)s vs %(ttfb4)s ms).",
    measured=_FIGURES,
)
NOT_SLOWER = message(
    "web.latency.not_slower",
    "IPv6 is as fast as or faster than IPv4 (median TCP connect %(tcp6)s vs %(tcp4)s ms, "
    "time to first byte %(ttfb6)s vs %(ttfb4)s ms).",
    measured=_FIGURES,
)


def judge_latency(obs: LatencyObservation, options: CheckOptions = DEFAULT_OPTIONS) -> Verdict:
    if (early := ev.preconditions(obs.site, ipv4=True)) is not None:
        return early
    # the samples are taken once each (probes/web.py); the first fetches are tried
    return with_chain_tries(_latency(obs, options), obs.first, obs.first)


def _latency(obs: LatencyObservation, options: CheckOptions) -> Verdict:
    site = obs.site
    evidence: dict[str, Any] = {
        **ev.site(site),
        "url": ev.cut(obs.url),
        "samples": obs.samples,
        "pass_ratio": options.latency_pass,
        "warn_ratio": options.latency_warn,
        "floor_ms": LATENCY_FLOOR_MS,
    }
    if obs.url is None or obs.v6 is None or obs.v4 is None:
        return Verdict(Status.SKIP, NO_COMMON_HTTP(), evidence)
    evidence.update(ipv6=_side(obs.v6), ipv4=_side(obs.v4))
    for name, side in (("IPv6", obs.v6), ("IPv4", obs.v4)):
        if not side.tcp_ms or not side.ttfb_ms:
            return Verdict(Status.SKIP, NOTHING_TO_MEASURE(family=name), evidence)
    tcp6, tcp4 = statistics.median(obs.v6.tcp_ms), statistics.median(obs.v4.tcp_ms)
    ttfb6, ttfb4 = statistics.median(obs.v6.ttfb_ms), statistics.median(obs.v4.ttfb_ms)
    tcp_ratio, ttfb_ratio = _ratio(tcp6, tcp4), _ratio(ttfb6, ttfb4)
    worse = max(tcp_ratio, ttfb_ratio)
    evidence.update(
        tcp_ratio=round(tcp_ratio, 3), ttfb_ratio=round(ttfb_ratio, 3), ratio=round(worse, 3)
    )
    figures = {
        "tcp6": f"{tcp6:.1f}",
        "tcp4": f"{tcp4:.1f}",
        "ttfb6": f"{ttfb6:.1f}",
        "ttfb4": f"{ttfb4:.1f}",
    }
    detail = SLOWER(ratio=f"{worse:.0%}", **figures) if worse > 0 else NOT_SLOWER(**figures)
    status = (
        Status.PASS
        if worse <= options.latency_pass
        else Status.WARN
        if worse <= options.latency_warn
        else Status.FAIL
    )
    return Verdict(status, detail, evidence)
