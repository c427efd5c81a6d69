"""Judgements of web.reachable and web.http; the other web checks have a module each
(web_parity, web_links, web_latency, web_resources, pmtu), re-exported here for the
registry.

Pure: observation in, Verdict out. A server that refuses, resets or stays
silent is a finding; a path the scanner lacks (or a look-up that failed) is
an error, and only when the unknown part could change the outcome.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ipv6scan.checks import web_evidence as ev
from ipv6scan.checks.evidence import decided
from ipv6scan.checks.intermittent import Tries, tries_of, with_tries
from ipv6scan.checks.options import DEFAULT_OPTIONS, CheckOptions
from ipv6scan.checks.web_latency import judge_latency
from ipv6scan.checks.web_links import judge_links
from ipv6scan.checks.web_parity import judge_parity
from ipv6scan.checks.web_tries import fetch_tries, with_chain_tries
from ipv6scan.checks.web_words import failure, plural
from ipv6scan.checks.web_words import reason as said
from ipv6scan.messages import Detail, Message, Param, message
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
    Site,
    TcpProbe,
)

__all__ = [
    "judge_http",
    "judge_latency",
    "judge_links",
    "judge_parity",
    "judge_reachable",
    "with_chain_tries",
]

# web.reachable
REACHABLE_UNDECIDED = message(
    "web.reachable.undecided",
    "Could not test every IPv6 address (no route from the scanner, or a local error): %(units)s.",
)
EVERY_ADDRESS_OPEN = message(
    "web.reachable.all_open", "Every IPv6 address (%(count)s) accepts TCP on %(need)s."
)
THE_ADDRESS_OPEN = message(
    "web.reachable.the_address_open", "The IPv6 address %(address)s accepts TCP on %(need)s."
)
PARTLY_OPEN = message(
    "web.reachable.partly_open",
    "IPv6 accepts TCP only in part (%(good)s of %(total)s); closed or silent on IPv6: %(units)s.",
)
NONE_OPEN = message(
    "web.reachable.none_open", "No IPv6 address of %(host)s accepts TCP on %(need)s."
)
# what "accepts TCP" needs, named inside the sentences above
NEED_80_OR_443 = message("web.reachable.need_80_or_443", "port 80 or 443")
NEED_PORT = message("web.reachable.need_port", "port %(port)s")
NEED_PORT_AS_IPV4 = message("web.reachable.need_port_as_ipv4", "port %(ports)s as IPv4 does")
NEED_PORTS_AS_IPV4 = message("web.reachable.need_ports_as_ipv4", "ports %(ports)s as IPv4 does")


def _label(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def _tcp_tries(probes: Iterable[TcpProbe]) -> list[Tries]:
    return [tries_of(_label(p.address, p.port), p) for p in probes]


def judge_reachable(site: Site, options: CheckOptions = DEFAULT_OPTIONS) -> Verdict:
    if (early := ev.preconditions(site)) is not None:
        return early
    verdict, relied_on = _reachable(site)
    return with_tries(verdict, _tcp_tries(site.tcp), _tcp_tries(relied_on))


@dataclass
class _Units:
    """web.reachable's units, judged all/some/none: each (IPv6 address, port IPv4 serves)
    pair, so one port missing on IPv6 is internet.nl's partial result (warn); with no IPv4
    port to match, each address, which needs any of the ports open."""

    good: list[str] = field(default_factory=list)
    bad: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    relied_on: list[TcpProbe] = field(default_factory=list)  # the open probes a pass rests on
    closed: list[dict[str, Any]] = field(default_factory=list)  # for evidence

    def add(self, site: Site, address: str, v4_open: list[int]) -> None:
        probes = {port: site.probe(address, port) for port in site.ports}
        is_open = {port: p is not None and p.open for port, p in probes.items()}
        unsure = {port: p is None or p.undecided for port, p in probes.items()}
        self.relied_on += [p for port in v4_open or site.ports if (p := probes[port]) and p.open]
        self.closed += [
            {"address": address, "port": port, "outcome": getattr(probes[port], "outcome", None)}
            for port in v4_open
            if not is_open[port]
        ]
        for port in v4_open:
            unit = f"[{address}]:{port}"
            if is_open[port]:
                self.good.append(unit)
            elif unsure[port]:
                self.unknown.append(unit)  # only the scanner's own trouble stands in the way
            else:
                self.bad.append(unit)
        if v4_open:
            return
        if any(is_open.values()):
            self.good.append(address)
        elif all(unsure.values()):
            self.unknown.append(address)
        else:
            self.bad.append(address)


def _reachable_evidence(site: Site, v4_open: list[int]) -> dict[str, Any]:
    evidence: dict[str, Any] = ev.site(site)
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
    return evidence


def _need(site: Site, v4_open: list[int]) -> Detail:
    """The ports an IPv6 address must accept TCP on."""
    if len(site.ports) == 1:
        return NEED_PORT(port=site.ports[0])
    if v4_open:
        return (NEED_PORTS_AS_IPV4 if len(v4_open) > 1 else NEED_PORT_AS_IPV4)(ports=v4_open)
    return NEED_80_OR_443()


def _reachable(site: Site) -> tuple[Verdict, list[TcpProbe]]:
    """The verdict from each probe's final outcome, and the open IPv6 probes it rests on."""
    v4_open = [p for p in site.ports if site.open_addresses(4, p)]
    evidence = _reachable_evidence(site, v4_open)
    units = _Units()
    for address in site.addresses(6):
        units.add(site, address, v4_open)
    evidence["closed_on_ipv6"] = units.closed[: ev.LIST_MAX]  # internet.nl's "partial" result
    status = decided(len(units.good), len(units.bad), len(units.unknown))
    if status is None:
        return Verdict(Status.ERROR, REACHABLE_UNDECIDED(units=units.unknown), evidence), []
    need = _need(site, v4_open)
    addresses = site.addresses(6)
    if status is Status.PASS:
        detail = (
            EVERY_ADDRESS_OPEN(count=len(addresses), need=need)
            if len(addresses) > 1
            else THE_ADDRESS_OPEN(address=addresses[0], need=need)
        )
    elif status is Status.WARN:
        total = len(units.good) + len(units.bad)
        detail = PARTLY_OPEN(good=len(units.good), total=total, units=units.bad)
    else:
        detail = NONE_OPEN(host=site.host, need=need)
    return Verdict(status, detail, evidence), units.relied_on


# web.http
ANSWERED = message("web.http.answered", "%(url)s [%(address)s] answered %(status)s over IPv6.")
ANSWERED_AFTER = message(
    "web.http.answered_after",
    "%(url)s [%(address)s] answered %(status)s over IPv6 after %(redirects)s.",
)
SERVER_ERROR = message(
    "web.http.server_error",
    "%(url)s [%(address)s] answered %(status)s (a server error) over IPv6.",
)
SERVER_ERROR_AFTER = message(
    "web.http.server_error_after",
    "%(url)s [%(address)s] answered %(status)s (a server error) over IPv6 after %(redirects)s.",
)
LEAVES_IPV6 = message(
    "web.http.leaves_ipv6", "The redirect chain leaves IPv6 at %(url)s: %(reason)s."
)
TARGET_UNRESOLVED = message(
    "web.http.target_unresolved", "Could not resolve the redirect target %(url)s: %(reason)s."
)
NO_RESPONSE_FROM = message(
    "web.http.no_response", "No HTTP response over IPv6 from %(url)s [%(address)s]: %(why)s."
)
NO_RESPONSE_AFTER = message(
    "web.http.no_response_after",
    "No HTTP response over IPv6 from %(url)s [%(address)s] after %(redirects)s: %(why)s.",
)
LEADS_NOWHERE = message("web.http.leads_nowhere", "The redirects over IPv6 lead nowhere: %(what)s.")
NOT_HTTP_LOCATION = message("web.http.not_http_location", "a Location that is not an http(s) URL")
NO_ROUTE = message("web.http.no_route", "No route from the scanner to the IPv6 addresses.")
NO_TCP = message("web.http.no_tcp", "No IPv6 address of %(host)s accepts TCP on port %(ports)s.")
REDIRECTS = plural(
    message("web.http.redirect", "%(count)s redirect"),
    message("web.http.redirects", "%(count)s redirects"),
)


def _at(fetch: Fetch, redirects: int, plain: Message, after: Message, **params: Param) -> Detail:
    """`plain`, or `after` when the chain was redirected, about `fetch`."""
    params |= {"url": ev.cut(fetch.url) or "", "address": fetch.address}
    if redirects:
        return after(redirects=REDIRECTS(redirects), **params)
    return plain(**params)


def _chain_verdict(chain: Chain, evidence: dict[str, Any]) -> Verdict:
    """web.http's reading of one IPv6 chain."""
    last = chain.last
    redirects = max(0, len(chain.hops) - 1)
    if chain.end == FINAL and last is not None and last.status is not None:
        if last.status < 500:
            detail = _at(last, redirects, ANSWERED, ANSWERED_AFTER, status=last.status)
            return Verdict(Status.PASS, detail, evidence)
        detail = _at(last, redirects, SERVER_ERROR, SERVER_ERROR_AFTER, status=last.status)
        return Verdict(Status.FAIL, detail, evidence)
    stopped_at, reason = str(chain.stopped_at), said(chain.reason)
    if chain.end == NO_ADDRESS:
        return Verdict(Status.FAIL, LEAVES_IPV6(url=stopped_at, reason=reason), evidence)
    if chain.end == LOOKUP_FAILED:
        return Verdict(Status.ERROR, TARGET_UNRESOLVED(url=stopped_at, reason=reason), evidence)
    if chain.end == NO_RESPONSE and last is not None:
        status = Status.ERROR if last.undecided else Status.FAIL
        why = failure(last.error, last.outcome)
        detail = _at(last, redirects, NO_RESPONSE_FROM, NO_RESPONSE_AFTER, why=why)
        return Verdict(status, detail, evidence)
    what = NOT_HTTP_LOCATION() if chain.end == BAD_REDIRECT else reason
    return Verdict(Status.FAIL, LEADS_NOWHERE(what=what), evidence)


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
            return Verdict(Status.ERROR, NO_ROUTE(), evidence)
        verdict = Verdict(Status.FAIL, NO_TCP(host=site.host, ports=list(site.ports)), evidence)
        return with_tries(verdict, _tcp_tries(probes))
    deciding = obs.served or obs.attempts[-1]
    fetches = [hop for chain in obs.attempts for hop in chain.hops]
    relied_on = [hop for hop in deciding.hops if hop.responded]
    return with_tries(
        _chain_verdict(deciding, evidence), fetch_tries(fetches), fetch_tries(relied_on)
    )
