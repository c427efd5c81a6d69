"""Judgements of the web checks: web.reachable, web.http, web.parity, web.links, web.latency.

Pure: observation in, Verdict out. A server that refuses, resets or stays
silent is a finding; a path the scanner lacks (or a look-up that failed) is
an error, and only when the unknown part could change the outcome.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from typing import Any

from ipv6scan.checks import web_evidence as ev
from ipv6scan.checks.evidence import decided, plural
from ipv6scan.checks.intermittent import Tries, tries_of, with_tries
from ipv6scan.checks.options import DEFAULT_OPTIONS, CheckOptions
from ipv6scan.checks.similarity import similarity
from ipv6scan.model import Status, Verdict
from ipv6scan.observations.web import (
    BAD_REDIRECT,
    FINAL,
    LOOKUP_FAILED,
    NO_ADDRESS,
    NO_RESPONSE,
    Chain,
    Fetch,
    HttpObservation,
    LatencyObservation,
    LatencySide,
    LinkResult,
    LinksObservation,
    ParityObservation,
    Site,
    TcpProbe,
)

WAF_STATUSES = (403, 429)
# Ratios are taken against at least this many ms of IPv4 time: on a LAN-short path, a
# few ms of scheduling noise would otherwise look like a 100% degradation.
LATENCY_FLOOR_MS = 25.0


def _ports(ports: list[int] | tuple[int, ...]) -> str:
    return ", ".join(str(p) for p in ports) or "none"


def _label(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def _tcp_tries(probes: Iterable[TcpProbe]) -> list[Tries]:
    return [tries_of(_label(p.address, p.port), p) for p in probes]


def judge_reachable(site: Site, options: CheckOptions = DEFAULT_OPTIONS) -> Verdict:
    if (early := ev.preconditions(site)) is not None:
        return early
    verdict, relied_on = _reachable(site)
    return with_tries(verdict, _tcp_tries(site.tcp), _tcp_tries(relied_on))


def _reachable(site: Site) -> tuple[Verdict, list[TcpProbe]]:
    """The verdict from each probe's final outcome, and the open IPv6 probes it rests on."""
    evidence: dict[str, Any] = ev.site(site)
    v4_open = [p for p in site.ports if site.open_addresses(4, p)]
    evidence["ipv4_open_ports"] = v4_open
    if not site.scanner_ipv4 or not site.a.lookup.ok:
        # the IPv4 side is unknown, so the bar is the one for a host without IPv4
        evidence["ipv4_unknown"] = (
            "the scanner has no IPv4 path"
            if not site.scanner_ipv4
            else site.a.lookup.describe_failure()
        )
    evidence["tcp"] = [
        {"address": p.address, "port": p.port, "outcome": p.outcome}
        | ({"ms": round(p.ms, 1)} if p.ms is not None else {})
        | ({"error": p.error} if p.error and not p.open else {})
        for p in site.tcp
    ]
    # Units judged all/some/none: each (IPv6 address, port IPv4 serves) pair, so one port
    # missing on IPv6 is internet.nl's partial result (warn); with no IPv4 port to match,
    # each address, which needs any of the ports open.
    good: list[str] = []
    bad: list[str] = []
    unknown: list[str] = []
    relied_on: list[TcpProbe] = []
    closed: list[dict[str, Any]] = []
    for address in site.addresses(6):
        probes = {port: site.probe(address, port) for port in site.ports}
        is_open = {port: p is not None and p.open for port, p in probes.items()}
        relied_on += [p for port in v4_open or site.ports if (p := probes[port]) and p.open]
        unsure = {port: p is None or p.undecided for port, p in probes.items()}
        closed += [
            {"address": address, "port": port, "outcome": getattr(probes[port], "outcome", None)}
            for port in v4_open
            if not is_open[port]
        ]
        if v4_open:
            for port in v4_open:
                unit = f"[{address}]:{port}"
                if is_open[port]:
                    good.append(unit)
                elif unsure[port]:
                    unknown.append(unit)  # only the scanner's own trouble stands in the way
                else:
                    bad.append(unit)
        elif any(is_open.values()):
            good.append(address)
        elif all(unsure.values()):
            unknown.append(address)
        else:
            bad.append(address)
    evidence["closed_on_ipv6"] = closed[: ev.LIST_MAX]  # internet.nl's "partial" result
    status = decided(len(good), len(bad), len(unknown))
    if status is None:
        return Verdict(
            Status.ERROR,
            f"Could not test every IPv6 address (no route from the scanner, or a local "
            f"error): {', '.join(unknown)}.",
            evidence,
        ), []
    need = "port 80 or 443"
    if v4_open:
        need = f"{'ports' if len(v4_open) > 1 else 'port'} {_ports(v4_open)} as IPv4 does"
    if len(site.ports) == 1:
        need = f"port {site.ports[0]}"
    n = len(site.addresses(6))
    if status is Status.PASS:
        detail = (
            f"Every IPv6 address ({n}) accepts TCP on {need}."
            if n > 1
            else f"The IPv6 address {site.addresses(6)[0]} accepts TCP on {need}."
        )
    elif status is Status.WARN:
        detail = (
            f"IPv6 accepts TCP only in part ({len(good)} of {len(good) + len(bad)}); "
            f"closed or silent on IPv6: {', '.join(bad)}."
        )
    else:
        detail = f"No IPv6 address of {site.host} accepts TCP on {need}."
    return Verdict(status, detail, evidence), relied_on


def _chain_verdict(chain: Chain, evidence: dict[str, Any]) -> Verdict:
    """web.http's reading of one IPv6 chain."""
    last = chain.last
    redirects = max(0, len(chain.hops) - 1)
    after = f" after {plural(redirects, 'redirect')}" if redirects else ""
    if chain.end == FINAL and last is not None and last.status is not None:
        where = f"{ev.cut(last.url)} [{last.address}]"
        if last.status < 500:
            return Verdict(
                Status.PASS, f"{where} answered {last.status} over IPv6{after}.", evidence
            )
        return Verdict(
            Status.FAIL,
            f"{where} answered {last.status} (a server error) over IPv6{after}.",
            evidence,
        )
    if chain.end == NO_ADDRESS:
        return Verdict(
            Status.FAIL,
            f"The redirect chain leaves IPv6 at {chain.stopped_at}: {chain.reason}.",
            evidence,
        )
    if chain.end == LOOKUP_FAILED:
        return Verdict(
            Status.ERROR,
            f"Could not resolve the redirect target {chain.stopped_at}: {chain.reason}.",
            evidence,
        )
    if chain.end == NO_RESPONSE and last is not None:
        status = Status.ERROR if last.undecided else Status.FAIL
        return Verdict(
            status,
            f"No HTTP response over IPv6 from {ev.cut(last.url)} [{last.address}]{after}: "
            f"{last.error or last.outcome}.",
            evidence,
        )
    what = "a Location that is not an http(s) URL" if chain.end == BAD_REDIRECT else chain.reason
    return Verdict(Status.FAIL, f"The redirects over IPv6 lead nowhere: {what}.", evidence)


def judge_http(obs: HttpObservation, options: CheckOptions = DEFAULT_OPTIONS) -> Verdict:
    site = obs.site
    if (early := ev.preconditions(site)) is not None:
        return early
    evidence: dict[str, Any] = {**ev.site(site), "requests": [ev.chain(c) for c in obs.attempts]}
    if not obs.attempts:
        probes = [p for p in site.tcp if p.family == 6]
        evidence["tcp"] = [
            {"address": p.address, "port": p.port, "outcome": p.outcome} for p in probes
        ]
        if any(p.undecided for p in probes):
            return Verdict(
                Status.ERROR, "No route from the scanner to the IPv6 addresses.", evidence
            )
        return with_tries(
            Verdict(
                Status.FAIL,
                f"No IPv6 address of {site.host} accepts TCP on port {_ports(site.ports)}.",
                evidence,
            ),
            _tcp_tries(probes),
        )
    deciding = obs.served or obs.attempts[-1]
    fetches = [hop for chain in obs.attempts for hop in chain.hops]
    relied_on = [hop for hop in deciding.hops if hop.responded]
    return with_tries(
        _chain_verdict(deciding, evidence), _fetch_tries(fetches), _fetch_tries(relied_on)
    )


def _fetch_tries(fetches: Iterable[Fetch]) -> list[Tries]:
    return [tries_of(f"{ev.cut(f.url, 100)} [{f.address}]", f) for f in fetches]


def _relied_on(chains: Iterable[Chain | None]) -> list[Fetch]:
    """The IPv6 fetches a verdict rests on: the hops that got a response. An IPv4 side's
    tries are evidence, not intermittence, as in web.reachable: IPv6 is what is judged."""
    return [
        hop for c in chains if c is not None for hop in c.hops if hop.responded and hop.family == 6
    ]


def _chain_fetches(chains: Iterable[Chain | None]) -> list[Fetch]:
    return [hop for c in chains if c is not None for hop in c.hops]


def with_chain_tries(
    verdict: Verdict, chains: Iterable[Chain | None], relied_on: Iterable[Chain | None]
) -> Verdict:
    """`verdict` with the tries of every fetch of `chains` in its evidence; a pass turns
    intermittent when an IPv6 fetch of `relied_on` answered only after failed tries."""
    return with_tries(
        verdict, _fetch_tries(_chain_fetches(chains)), _fetch_tries(_relied_on(relied_on))
    )


def judge_parity(obs: ParityObservation, options: CheckOptions = DEFAULT_OPTIONS) -> Verdict:
    site = obs.site
    if (early := ev.preconditions(site, ipv4=True)) is not None:
        return early
    chains = [c for pair in obs.ports for c in (pair.v6, pair.v4)]
    return with_chain_tries(_parity(obs), chains, chains)


def _parity(obs: ParityObservation) -> Verdict:
    site = obs.site
    evidence: dict[str, Any] = {**ev.site(site), "threshold": obs.threshold, "ports": []}
    if not obs.ports:
        return Verdict(Status.SKIP, "No port is served over both IPv6 and IPv4.", evidence)
    differences, compared, undecided = [], [], False
    for pair in obs.ports:
        row: dict[str, Any] = {
            "port": pair.port,
            "ipv6": ev.chain(pair.v6),
            "ipv4": ev.chain(pair.v4),
        }
        evidence["ports"].append(row)
        f6, f4 = pair.v6.final, pair.v4.final
        if f6 is None or f4 is None:
            undecided |= pair.v6.undecided or pair.v4.undecided
            row["compared"] = False
            continue
        sim = similarity(f6.fingerprint, f4.fingerprint)
        row.update(
            compared=True,
            similarity=round(sim, 3),
            same_status=f6.status == f4.status,
            same_final_url=f6.url == f4.url,
        )
        c6, c4 = pair.v6.hops[0].certificate, pair.v4.hops[0].certificate
        if c6 is not None and c4 is not None:
            row["same_certificate"] = c6.sha256 == c4.sha256
        compared.append((pair.port, sim))
        what = []
        if f6.status != f4.status:
            # internet.nl #198: a WAF's rate limit on one family looks like other content
            waf = (f6.status in WAF_STATUSES) != (f4.status in WAF_STATUSES)
            row["waf_suspected"] = waf
            what.append(
                f"status {f6.status} over IPv6 but {f4.status} over IPv4"
                + (" (likely a firewall or rate limit on one family)" if waf else "")
            )
        if f6.url != f4.url:
            what.append(
                f"final URL {ev.cut(f6.url, 100)} over IPv6 but {ev.cut(f4.url, 100)} over IPv4"
            )
        if sim < obs.threshold:
            what.append(f"body similarity {sim:.2f} below {obs.threshold:g}")
        if what:
            differences.append(f"port {pair.port}: {'; '.join(what)}")
    certs = [r["port"] for r in evidence["ports"] if r.get("same_certificate") is False]
    cert_note = f" (different certificates on port {_ports(certs)})" if certs else ""
    if differences:
        return Verdict(
            Status.FAIL,
            f"IPv6 and IPv4 serve different content: {' / '.join(differences)}{cert_note}.",
            evidence,
        )
    if not compared:
        if undecided:
            return Verdict(Status.ERROR, "Could not fetch both sides to compare them.", evidence)
        return Verdict(Status.SKIP, "No port gave a response over both IPv6 and IPv4.", evidence)
    sims = ", ".join(f"{port}: {sim:.2f}" for port, sim in compared)
    return Verdict(
        Status.PASS,
        f"IPv6 and IPv4 serve the same site (similarity by port {sims}){cert_note}.",
        evidence,
    )


def _link_state(result: LinkResult) -> tuple[str, str]:
    """("ok" | "bad" | "unknown", reason)."""
    chain = result.chain
    if chain is None:
        return "unknown", "not checked: the check's time ran out"
    if chain.undecided:
        why = chain.reason or (chain.last.error if chain.last else None) or chain.end
        return "unknown", f"could not be checked: {why}"
    final = chain.final
    if final is not None and final.status is not None:
        return ("ok", "") if final.status < 400 else ("bad", f"status {final.status}")
    if chain.end == NO_ADDRESS:
        where = (
            ""
            if chain.stopped_at == result.url
            else f" (redirected to {ev.cut(chain.stopped_at, 100)})"
        )
        return "bad", f"no IPv6{where}: {chain.reason}"
    if chain.end == NO_RESPONSE and chain.last is not None:
        return "bad", f"no response: {chain.last.error or chain.last.outcome}"
    return "bad", chain.reason or chain.end


def judge_links(obs: LinksObservation, options: CheckOptions = DEFAULT_OPTIONS) -> Verdict:
    if (early := ev.preconditions(obs.site)) is not None:
        return early
    chains = [obs.home, *(r.chain for r in obs.results)]
    # a pass rests on the home page and on the links that worked
    worked = [obs.home, *(r.chain for r in obs.results if _link_state(r)[0] == "ok")]
    return with_chain_tries(_links(obs), chains, worked)


def _links(obs: LinksObservation) -> Verdict:
    site = obs.site
    evidence: dict[str, Any] = {
        **ev.site(site),
        "home": ev.chain(obs.home) if obs.home else None,
        "depth": obs.depth,
        "threshold": obs.threshold,
        "links_found": obs.found,
        "links_dropped": obs.dropped,
    }
    if obs.found_more:
        evidence["links_found_at_least"] = True  # the page had more than were counted
    if obs.home is None or obs.home.final is None:
        return Verdict(Status.SKIP, "The home page gives no response over IPv6.", evidence)
    if not obs.results:
        return Verdict(Status.SKIP, "The home page has no http(s) links.", evidence)
    states = [(r, *_link_state(r)) for r in obs.results]
    ok = sum(1 for _, s, _ in states if s == "ok")
    bad = [(r, why) for r, s, why in states if s == "bad"]
    unknown = sum(1 for _, s, _ in states if s == "unknown")
    checked = ok + len(bad)
    share = ok / checked if checked else 0.0
    levels: dict[str, dict[str, int]] = {}
    for r, s, _ in states:
        row = levels.setdefault(str(r.level), {"checked": 0, "ok": 0, "unchecked": 0})
        row["unchecked" if s == "unknown" else "checked"] += 1
        row["ok"] += s == "ok"
    evidence.update(
        share=round(share, 3),
        links_checked=checked,
        links_ok=ok,
        links_failed=len(bad),
        links_unchecked=unknown,
        levels=levels,
        failing=[{"url": ev.cut(r.url), "level": r.level, "reason": why} for r, why in bad][
            : ev.LIST_MAX
        ],
    )
    total = len(states)
    low, high = ok / total, (ok + unknown) / total
    if low < obs.threshold <= high or not checked:
        return Verdict(
            Status.ERROR,
            f"{unknown} of {total} links could not be checked, and they decide the outcome.",
            evidence,
        )
    summary = f"{ok} of {checked} links ({share:.0%}) work over IPv6"
    if high < obs.threshold:
        worst = "; ".join(f"{ev.cut(r.url, 80)} ({why})" for r, why in bad[:3])
        return Verdict(
            Status.FAIL, f"{summary}, below the {obs.threshold:.0%} needed; e.g. {worst}.", evidence
        )
    return Verdict(Status.PASS, f"{summary} (at least {obs.threshold:.0%} needed).", evidence)


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


def judge_latency(obs: LatencyObservation, options: CheckOptions = DEFAULT_OPTIONS) -> Verdict:
    if (early := ev.preconditions(obs.site, ipv4=True)) is not None:
        return early
    # the samples are taken once each (web_observe.py); the first fetches are tried
    return with_chain_tries(_latency(obs), obs.first, obs.first)


def _latency(obs: LatencyObservation) -> Verdict:
    site = obs.site
    evidence: dict[str, Any] = {
        **ev.site(site),
        "url": ev.cut(obs.url),
        "samples": obs.samples,
        "pass_ratio": obs.pass_ratio,
        "warn_ratio": obs.warn_ratio,
        "floor_ms": LATENCY_FLOOR_MS,
    }
    if obs.url is None or obs.v6 is None or obs.v4 is None:
        return Verdict(
            Status.SKIP, "No port gives an HTTP response over both IPv6 and IPv4.", evidence
        )
    evidence.update(ipv6=_side(obs.v6), ipv4=_side(obs.v4))
    for name, side in (("IPv6", obs.v6), ("IPv4", obs.v4)):
        if not side.tcp_ms or not side.ttfb_ms:
            return Verdict(Status.SKIP, f"No response over {name} to measure.", evidence)
    tcp6, tcp4 = statistics.median(obs.v6.tcp_ms), statistics.median(obs.v4.tcp_ms)
    ttfb6, ttfb4 = statistics.median(obs.v6.ttfb_ms), statistics.median(obs.v4.ttfb_ms)
    tcp_ratio, ttfb_ratio = _ratio(tcp6, tcp4), _ratio(ttfb6, ttfb4)
    worse = max(tcp_ratio, ttfb_ratio)
    evidence.update(
        tcp_ratio=round(tcp_ratio, 3), ttfb_ratio=round(ttfb_ratio, 3), ratio=round(worse, 3)
    )
    numbers = (
        f"median TCP connect {tcp6:.1f} vs {tcp4:.1f} ms, "
        f"time to first byte {ttfb6:.1f} vs {ttfb4:.1f} ms"
    )
    how = f"{worse:.0%} slower than" if worse > 0 else "as fast as or faster than"
    status = (
        Status.PASS
        if worse <= obs.pass_ratio
        else Status.WARN
        if worse <= obs.warn_ratio
        else Status.FAIL
    )
    return Verdict(status, f"IPv6 is {how} IPv4 ({numbers}).", evidence)
