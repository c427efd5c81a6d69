"""The pure judges of the web checks, fed hand-built observations: every status of
every check, and the evidence fields a reader of the report relies on."""

from __future__ import annotations

import json

import pytest

from ipv6scan.addresses import AddressPolicy
from ipv6scan.checks import registry
from ipv6scan.checks.options import DEFAULT_OPTIONS
from ipv6scan.checks.web import (
    judge_http,
    judge_latency,
    judge_links,
    judge_parity,
    judge_reachable,
)
from ipv6scan.dnsclient.resolution import Lookup
from ipv6scan.model import Status, Verdict
from ipv6scan.observations.dns import Addresses
from ipv6scan.observations.web import (
    BAD_REDIRECT,
    ERROR,
    FINAL,
    LOOKUP_FAILED,
    NO_ADDRESS,
    NO_PATH,
    NO_RESPONSE,
    OPEN,
    REFUSED,
    RESPONSE,
    TIMEOUT,
    TOO_MANY_REDIRECTS,
    Certificate,
    Chain,
    Fetch,
    HttpObservation,
    LatencyObservation,
    LatencySide,
    LinkResult,
    LinksObservation,
    ParityObservation,
    ParityPort,
    Site,
    TcpProbe,
)
from ipv6scan.similarity import fingerprint

POLICY = AddressPolicy.from_strings(["2001:db8::/32", "192.0.2.0/24"])
V6A, V6B, V4 = "2001:db8::80", "2001:db8::81", "192.0.2.80"
HOME = "https://www.example/"
PAGE = fingerprint(
    "<html><body><h1>Welcome</h1><p>" + "words of the page " * 40 + "</p></body></html>"
)
OTHER = fingerprint(
    "<html><body><h2>Elsewhere</h2><ul>" + "<li>x</li>" * 40 + "</ul></body></html>"
)


def found(rdtype: str, *values: str, rcode: str = "NOERROR") -> Addresses:
    lookup = Lookup("www.example", rdtype, rcode, values=values, server="192.0.2.53")
    return Addresses(lookup, tuple(POLICY.classify(v) for v in values))


def site(
    tcp: dict[tuple[str, int], str],
    *,
    aaaa: tuple[str, ...] = (V6A,),
    a: tuple[str, ...] = (V4,),
    ipv6: bool = True,
    ipv4: bool = True,
    aaaa_rcode: str = "NOERROR",
) -> Site:
    probes = tuple(
        TcpProbe(addr, port, outcome, ms=10.0 if outcome == OPEN else None)
        for (addr, port), outcome in tcp.items()
    )
    return Site(
        "www.example",
        "www.example",
        (80, 443),
        None,
        "/",
        found("AAAA", *aaaa, rcode=aaaa_rcode),
        found("A", *a),
        ipv6,
        ipv4,
        probes,
    )


def all_open() -> Site:
    return site({(a, p): OPEN for a in (V6A, V4) for p in (80, 443)})


def response(
    url: str = HOME, address: str = V6A, status: int = 200, fp: bytes = PAGE, **kw: object
) -> Fetch:
    return Fetch(
        url, address, RESPONSE, status=status, ttfb_ms=20.0, body_bytes=500, fingerprint=fp, **kw
    )  # type: ignore[arg-type]


def chain(*hops: Fetch, end: str = FINAL, family: int = 6, **kw: object) -> Chain:
    return Chain(family, hops[0].url if hops else HOME, hops, end, **kw)  # type: ignore[arg-type]


def check(verdict: Verdict, status: Status, *words: str) -> Verdict:
    assert verdict.status is status, verdict.detail
    for word in words:
        assert word in verdict.detail, verdict.detail
    json.dumps(verdict.evidence)  # always serialisable
    assert verdict.detail.endswith(".")
    return verdict


# web.reachable -------------------------------------------------------------------------


def test_reachable_pass_when_every_aaaa_matches_ipv4() -> None:
    tcp = {(a, p): OPEN for a in (V6A, V6B, V4) for p in (80, 443)}
    v = check(judge_reachable(site(tcp, aaaa=(V6A, V6B))), Status.PASS, "Every IPv6 address (2)")
    assert v.evidence["ipv4_open_ports"] == [80, 443] and v.evidence["closed_on_ipv6"] == []


def test_reachable_warn_records_the_ports_closed_on_ipv6() -> None:
    tcp = {(a, p): OPEN for a in (V6A, V6B, V4) for p in (80, 443)}
    tcp[(V6B, 443)] = REFUSED
    v = check(judge_reachable(site(tcp, aaaa=(V6A, V6B))), Status.WARN, "3 of 4", V6B)
    assert v.evidence["closed_on_ipv6"] == [{"address": V6B, "port": 443, "outcome": REFUSED}]


def test_reachable_one_port_missing_on_ipv6_is_partial() -> None:
    # internet.nl's partial result: open on IPv4 but not on IPv6 for one of two ports
    tcp = {(V4, 80): OPEN, (V4, 443): OPEN, (V6A, 80): OPEN, (V6A, 443): TIMEOUT}
    check(judge_reachable(site(tcp)), Status.WARN, "1 of 2", f"[{V6A}]:443")


def test_reachable_fail_when_no_aaaa_serves_what_ipv4_serves() -> None:
    tcp = {(V4, 80): OPEN, (V4, 443): OPEN, (V6A, 80): REFUSED, (V6A, 443): TIMEOUT}
    check(judge_reachable(site(tcp)), Status.FAIL, "No IPv6 address")


def test_reachable_without_ipv4_needs_one_open_port() -> None:
    tcp = {(V6A, 80): REFUSED, (V6A, 443): OPEN}
    check(judge_reachable(site(tcp, a=())), Status.PASS, "port 80 or 443")
    tcp = {(V6A, 80): REFUSED, (V6A, 443): TIMEOUT}
    check(judge_reachable(site(tcp, a=())), Status.FAIL)


def test_reachable_skip_error_and_scope() -> None:
    check(judge_reachable(site({}, aaaa=())), Status.SKIP, "no global AAAA")
    v = check(judge_reachable(site({}, aaaa=("fd00::1",))), Status.SKIP, "fd00::1 (unique-local)")
    assert v.evidence["not_probed"] == [
        {"address": "fd00::1", "reason": "not probed: unique-local"}
    ]
    check(judge_reachable(site({}, aaaa=(), aaaa_rcode="SERVFAIL")), Status.ERROR, "SERVFAIL")
    check(judge_reachable(site({}, ipv6=False)), Status.ERROR, "no IPv6 path")


def test_reachable_no_route_errors_only_when_it_could_change_the_outcome() -> None:
    tcp = {(V4, 443): OPEN, (V6A, 443): OPEN, (V6B, 443): NO_PATH}
    check(judge_reachable(site(tcp, aaaa=(V6A, V6B))), Status.ERROR, V6B)
    tcp = {(V4, 443): OPEN, (V6A, 443): REFUSED, (V6B, 443): ERROR, (V6B, 80): OPEN}
    # V6A fails for sure, V6B is unknown: warn or fail, so undecided
    check(judge_reachable(site(tcp, aaaa=(V6A, V6B))), Status.ERROR)


# web.http ------------------------------------------------------------------------------


def http(*attempts: Chain, s: Site | None = None) -> HttpObservation:
    return HttpObservation(s or all_open(), attempts)


def test_http_pass_with_redirects_and_certificate_evidence() -> None:
    cert = Certificate(
        "ab" * 32,
        "CN=www.example",
        "CN=Test CA",
        "2026-01-01T00:00:00+00:00",
        "2027-01-01T00:00:00+00:00",
        ("www.example",),
        False,
        "self-signed",
    )
    first = response("https://example/", status=301, location=HOME, certificate=cert)
    v = check(judge_http(http(chain(first, response()))), Status.PASS, "answered 200", "1 redirect")
    hops = v.evidence["requests"][0]["hops"]
    assert hops[0]["certificate"]["verifies"] is False and hops[0]["family"] == 6
    assert hops[1]["status"] == 200


def test_http_fail_cases() -> None:
    check(judge_http(http(chain(response(status=503)))), Status.FAIL, "503")
    left = chain(
        response(status=301, location="http://v4.example/"),
        end=NO_ADDRESS,
        stopped_at="http://v4.example/",
        reason="no AAAA record",
    )
    v = check(judge_http(http(left)), Status.FAIL, "leaves IPv6 at http://v4.example/")
    assert v.evidence["requests"][0]["left_ipv6_at"] == "http://v4.example/"
    silent = chain(Fetch(HOME, V6A, TIMEOUT, error="no answer in time"), end=NO_RESPONSE)
    check(judge_http(http(silent)), Status.FAIL, "No HTTP response")
    loop = chain(
        response(status=302, location="/"), end=TOO_MANY_REDIRECTS, reason="more than 10 redirects"
    )
    check(judge_http(http(loop)), Status.FAIL, "more than 10")
    bad = chain(response(status=302, location="ftp://x/"), end=BAD_REDIRECT, reason="x")
    check(judge_http(http(bad)), Status.FAIL, "not an http(s) URL")
    closed = site({(V6A, 80): REFUSED, (V6A, 443): REFUSED, (V4, 80): OPEN})
    check(judge_http(http(s=closed)), Status.FAIL, "accepts TCP")


def test_http_error_and_skip_cases() -> None:
    unreachable = chain(Fetch(HOME, V6A, NO_PATH, error="no route"), end=NO_RESPONSE)
    check(judge_http(http(unreachable)), Status.ERROR)
    lookup = chain(
        response(status=301, location="http://x/"),
        end=LOOKUP_FAILED,
        stopped_at="http://x/",
        reason="AAAA x: resolver answered SERVFAIL",
    )
    check(judge_http(http(lookup)), Status.ERROR, "SERVFAIL")
    check(judge_http(http(s=site({}, ipv6=False))), Status.ERROR, "no IPv6 path")
    check(judge_http(http(s=site({}, aaaa=()))), Status.SKIP)


def test_http_falls_back_to_the_attempt_that_answered() -> None:
    tls = chain(Fetch(HOME, V6A, "tls_error", error="handshake"), end=NO_RESPONSE)
    plain = chain(response("http://www.example/"))
    check(judge_http(http(tls, plain)), Status.PASS, "http://www.example/")


# web.parity ----------------------------------------------------------------------------


def parity(v6: Chain, v4: Chain, s: Site | None = None) -> ParityObservation:
    return ParityObservation(s or all_open(), (ParityPort(443, v6, v4),))


def v4(**kw: object) -> Chain:
    return chain(response(address=V4, **kw), family=4)  # type: ignore[arg-type]


def test_parity_pass_and_fail() -> None:
    v = check(judge_parity(parity(chain(response()), v4())), Status.PASS, "same site")
    assert v.evidence["ports"][0]["similarity"] == 1.0
    check(judge_parity(parity(chain(response(fp=OTHER)), v4())), Status.FAIL, "similarity")
    check(
        judge_parity(parity(chain(response(url="https://m.example/")), v4())),
        Status.FAIL,
        "final URL",
    )
    v = check(judge_parity(parity(chain(response(status=403)), v4())), Status.FAIL, "rate limit")
    assert v.evidence["ports"][0]["same_status"] is False


def test_parity_records_different_certificates() -> None:
    c6, c4 = Certificate("aa" * 32), Certificate("bb" * 32)
    obs = parity(chain(response(certificate=c6)), v4(certificate=c4))
    v = check(judge_parity(obs), Status.PASS, "different certificates")
    assert v.evidence["ports"][0]["same_certificate"] is False


def test_parity_skip_and_error() -> None:
    none6 = chain(Fetch(HOME, V6A, TIMEOUT), end=NO_RESPONSE)
    check(judge_parity(parity(none6, v4())), Status.SKIP)
    nopath = chain(Fetch(HOME, V6A, NO_PATH), end=NO_RESPONSE)
    check(judge_parity(parity(nopath, v4())), Status.ERROR)
    check(judge_parity(ParityObservation(all_open(), ())), Status.SKIP, "both")
    check(judge_parity(ParityObservation(site({}, a=()), ())), Status.SKIP, "IPv4")
    check(judge_parity(ParityObservation(site({}, ipv4=False), ())), Status.ERROR, "IPv4 path")


# web.links -----------------------------------------------------------------------------


def link(
    url: str, *, status: int | None = 200, end: str = FINAL, level: int = 1, **kw: object
) -> LinkResult:
    if status is None:
        return LinkResult(url, level, Chain(6, url, (), end, **kw))  # type: ignore[arg-type]
    return LinkResult(url, level, chain(response(url, status=status), end=end))


def links(*results: LinkResult, home: Chain | None = None) -> LinksObservation:
    return LinksObservation(all_open(), home or chain(response()), results, found=len(results))


def test_links_pass_and_fail_with_share_and_reasons() -> None:
    good = [link(f"{HOME}p{i}") for i in range(9)]
    v = check(judge_links(links(*good, link(f"{HOME}gone", status=404))), Status.PASS, "9 of 10")
    assert v.evidence["share"] == 0.9 and v.evidence["links_failed"] == 1
    v4only = link(
        "http://v4.example/",
        status=None,
        end=NO_ADDRESS,
        stopped_at="http://v4.example/",
        reason="no AAAA record",
    )
    v = check(judge_links(links(*good[:3], v4only)), Status.FAIL, "3 of 4", "no IPv6")
    assert v.evidence["failing"] == [
        {"url": "http://v4.example/", "level": 1, "reason": "no IPv6: no AAAA record"}
    ]


def test_links_unknowns_decide_only_when_they_could_change_the_outcome() -> None:
    good = [link(f"{HOME}p{i}") for i in range(9)]
    late = LinkResult(f"{HOME}late", 1, None)
    check(judge_links(links(*good, late)), Status.PASS)  # 9 of 10 pass whatever the tenth does
    check(judge_links(links(*good[:8], late, link(f"{HOME}x", status=500))), Status.ERROR)


def test_links_skip_and_error() -> None:
    check(judge_links(links()), Status.SKIP, "no http(s) links")
    dead = chain(Fetch(HOME, V6A, TIMEOUT), end=NO_RESPONSE)
    check(judge_links(links(link(HOME), home=dead)), Status.SKIP, "no response")
    obs = LinksObservation(site({}, ipv6=False), None)
    check(judge_links(obs), Status.ERROR, "no IPv6 path")


# web.latency ---------------------------------------------------------------------------


def latency(
    tcp6: float, ttfb6: float, *, tcp4: float = 30.0, ttfb4: float = 50.0
) -> LatencyObservation:
    return LatencyObservation(
        all_open(),
        HOME,
        LatencySide(V6A, (tcp6, tcp6 + 1, tcp6 - 1), (ttfb6, ttfb6, ttfb6)),
        LatencySide(V4, (tcp4, tcp4 + 1, tcp4 - 1), (ttfb4, ttfb4, ttfb4)),
        3,
    )


@pytest.mark.parametrize(
    ("tcp6", "ttfb6", "status", "ratio"),
    [
        (30.0, 50.0, Status.PASS, 0.0),
        (33.0, 55.0, Status.PASS, 0.1),
        (30.0, 90.0, Status.WARN, 0.8),
        (75.0, 50.0, Status.FAIL, 1.5),
        (15.0, 20.0, Status.PASS, -0.5),
    ],
)
def test_latency_the_worse_ratio_decides(
    tcp6: float, ttfb6: float, status: Status, ratio: float
) -> None:
    v = check(judge_latency(latency(tcp6, ttfb6)), status)
    assert v.evidence["ratio"] == ratio
    assert (
        v.evidence["ipv6"]["tcp_median_ms"] == tcp6 and v.evidence["ipv4"]["ttfb_median_ms"] == 50.0
    )


def test_latency_measures_short_paths_against_a_25_ms_floor() -> None:
    # 0.1 ms against 4 ms is "40 times slower" but only scheduling noise on a LAN
    v = judge_latency(latency(4.0, 50.0, tcp4=0.1))
    assert v.evidence["tcp_ratio"] == 0.156 and v.status is Status.PASS
    # a real 30 ms penalty on a short path still fails
    v = judge_latency(latency(30.1, 50.0, tcp4=0.1))
    assert v.evidence["tcp_ratio"] == 1.2 and v.status is Status.FAIL


def test_the_registry_judges_through_the_family_it_imports_later() -> None:
    # web.latency's judge is imported on its first call (checks/registry.py): the same verdict
    obs = latency(30.0, 90.0)
    assert registry.BY_ID["web.latency"].judge(obs, DEFAULT_OPTIONS) == judge_latency(obs)
    assert registry.BY_ID["web.latency"].functions()[1] is judge_latency


def test_latency_skip_and_error() -> None:
    check(judge_latency(LatencyObservation(all_open())), Status.SKIP)
    empty = LatencyObservation(
        all_open(), HOME, LatencySide(V6A, failures=3), LatencySide(V4, (1.0,), (2.0,))
    )
    check(judge_latency(empty), Status.SKIP, "IPv6")
    check(judge_latency(LatencyObservation(site({}, ipv6=False))), Status.ERROR, "no IPv6 path")
    check(judge_latency(LatencyObservation(site({}, ipv4=False))), Status.ERROR, "IPv4 path")
