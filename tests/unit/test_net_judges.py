"""The pure judges of net.ping and net.trace, fed hand-built observations: every status."""

from __future__ import annotations

from ipv6scan.addresses import AddressPolicy
from ipv6scan.checks.net import judge_ping, judge_trace
from ipv6scan.dnsclient.resolution import Lookup
from ipv6scan.model import Status
from ipv6scan.observations.dns import Addresses
from ipv6scan.observations.net import (
    NetTarget,
    PingObservation,
    PingResult,
    TraceHop,
    TraceObservation,
    TraceResult,
)

POLICY = AddressPolicy.from_strings(["2001:db8::/32"])
HOST = "core1.example.test"
A1, A2 = "2001:db8::1", "2001:db8::2"
DENIED = "raw ICMPv6 sockets are not permitted (EPERM); run as root or grant CAP_NET_RAW"


def host(*values: str, rcode: str = "NOERROR") -> NetTarget:
    found = Addresses(
        Lookup(HOST, "AAAA", rcode, tuple(values)), tuple(POLICY.classify(v) for v in values)
    )
    return NetTarget(HOST, "host", found.global_, found.non_global, found)


def address(value: str) -> NetTarget:
    c = POLICY.classify(value)
    if c.version == 4:
        return NetTarget(value, "address", ipv4_only=True)
    if not c.is_global:
        return NetTarget(value, "address", not_probed=(c,))
    return NetTarget(value, "address", (c.address,))


def answered(addr: str, *rtts: float) -> PingResult:
    return PingResult(addr, 3, len(rtts), rtts)


def silent(addr: str, *errors: str) -> PingResult:
    return PingResult(addr, 3, 0, (), errors)


# ------------------------------------------------------------------ net.ping


def test_ping_pass_when_every_address_answers() -> None:
    obs = PingObservation(
        host(A1, A2), True, None, (answered(A1, 1.0, 2.0, 3.0), answered(A2, 5.0))
    )
    verdict = judge_ping(obs)
    assert verdict.status is Status.PASS
    assert "2 addresses" in verdict.detail
    assert verdict.evidence["pings"][0] == {
        "address": A1,
        "sent": 3,
        "received": 3,
        "rtt_ms": [1.0, 2.0, 3.0],
        "median_ms": 2.0,
    }


def test_ping_fail_when_some_or_none_answer() -> None:
    partial = PingObservation(host(A1, A2), True, None, (answered(A1, 1.0), silent(A2)))
    verdict = judge_ping(partial)
    assert verdict.status is Status.FAIL and "1 of 2" in verdict.detail and A2 in verdict.detail
    none = PingObservation(
        address(A1), True, None, (silent(A1, "unreachable (admin-prohibited) from 2001:db8::fe"),)
    )
    verdict = judge_ping(none)
    assert verdict.status is Status.FAIL and "admin-prohibited" in verdict.detail
    assert verdict.evidence["pings"][0]["median_ms"] is None


def test_ping_error_when_raw_sockets_are_denied() -> None:
    # the check applies; the scanner cannot make it: error, never skip
    verdict = judge_ping(PingObservation(address(A1), True, DENIED))
    assert verdict.status is Status.ERROR and "CAP_NET_RAW" in verdict.detail
    assert "may not send ICMPv6" in verdict.detail
    assert verdict.evidence["scanner_error"] == DENIED


def test_ping_skip_for_what_may_not_be_probed() -> None:
    for target in (address("fd00::1"), address("::1"), host(), host("fd00::1")):
        verdict = judge_ping(PingObservation(target, True))
        assert verdict.status is Status.SKIP
    verdict = judge_ping(PingObservation(address("fd00::1"), True))
    assert "unique-local" in verdict.detail and "--allow-prefix" in verdict.detail
    assert verdict.evidence["not_probed"] == [
        {"address": "fd00::1", "reason": "not probed: unique-local"}
    ]


def test_ping_fail_for_an_ipv4_literal() -> None:
    verdict = judge_ping(PingObservation(address("192.0.2.1"), True))
    assert verdict.status is Status.FAIL and "IPv4 address only" in verdict.detail


def test_ping_error_without_an_ipv6_path_or_a_lookup() -> None:
    assert judge_ping(PingObservation(address(A1), False)).status is Status.ERROR
    assert judge_ping(PingObservation(host(rcode="SERVFAIL"), True)).status is Status.ERROR
    no_route = PingResult(A1, 3, 0, (), ("no_path: Network is unreachable",), "No route")
    verdict = judge_ping(PingObservation(address(A1), True, None, (no_route,)))
    assert verdict.status is Status.ERROR and "scanner's side" in verdict.detail


# ------------------------------------------------------------------ net.trace


def traced(result: TraceResult, target: NetTarget | None = None) -> TraceObservation:
    return TraceObservation(target or address(A1), True, None, result)


HOPS = (
    TraceHop(1, "2001:db8:ffff::1", 0.5, 3, 3),
    TraceHop(2, None, None, 0, 3),
    TraceHop(3, A1, 2.25, 3, 3),
)


def test_trace_pass_when_reached() -> None:
    verdict = judge_trace(traced(TraceResult(A1, True, HOPS, 30), host(A1, A2)))
    assert verdict.status is Status.PASS and "3 hops (1 silent)" in verdict.detail
    ev = verdict.evidence
    assert (ev["destination"], ev["reached"], ev["max_hops"]) == (A1, True, 30)
    assert ev["hops"] == [
        {"ttl": 1, "address": "2001:db8:ffff::1", "rtt_ms": 0.5},
        {"ttl": 2, "address": None, "rtt_ms": None},
        {"ttl": 3, "address": A1, "rtt_ms": 2.25},
    ]
    assert ev["not_traced"] == [A2]


def test_trace_fail_when_not_reached() -> None:
    hops = (HOPS[0], *(TraceHop(t, None, None, 0, 3) for t in range(2, 11)))
    verdict = judge_trace(traced(TraceResult(A1, False, hops, 10)))
    assert verdict.status is Status.FAIL
    assert "not reached within 10 hops" in verdict.detail and "hop 1" in verdict.detail
    stopped = TraceResult(
        A1,
        False,
        (TraceHop(1, "2001:db8::fe", 1.0, 3, 3, unreachable="no-route"),),
        30,
        "hop 1 (2001:db8::fe) answered unreachable (no-route)",
    )
    verdict = judge_trace(traced(stopped))
    assert verdict.status is Status.FAIL and "no-route" in verdict.detail
    assert verdict.evidence["hops"][0]["unreachable"] == "no-route"


def test_trace_error_skip_and_ipv4() -> None:
    no_path = TraceResult(A1, False, (), 30, None, "Network is unreachable")
    assert judge_trace(traced(no_path)).status is Status.ERROR
    assert judge_trace(TraceObservation(address(A1), False)).status is Status.ERROR
    assert judge_trace(TraceObservation(address(A1), True, DENIED)).status is Status.ERROR
    assert judge_trace(TraceObservation(host(), True)).status is Status.SKIP
    assert judge_trace(TraceObservation(address("192.0.2.1"), True)).status is Status.FAIL
