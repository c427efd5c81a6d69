"""The pure judges of the DNS and resolver checks, fed hand-built observations.

Every status of every judge in INTERFACE.md's catalogue, with the evidence
fields and the words of the detail that a reader of the report relies on.
"""

from __future__ import annotations

import pytest

from ipv6scan.addresses import AddressPolicy
from ipv6scan.checks.dns import judge_aaaa, judge_mx_ipv6, judge_ns_ipv6, judge_ns_reachable
from ipv6scan.checks.resolver import judge_resolver_ipv6
from ipv6scan.dnsclient.resolution import Lookup
from ipv6scan.model import Status
from ipv6scan.observations.dns import (
    Addresses,
    MailExchangers,
    NameServers,
    NsAnswer,
    NsReachability,
    ResolverAnswer,
)

# The lab's view: the documentation prefix stands in for global space.
POLICY = AddressPolicy.from_strings(["2001:db8::/32"])
RESOLVER = "192.0.2.53"


def lookup(
    name: str,
    rdtype: str = "AAAA",
    rcode: str = "NOERROR",
    values: tuple[str, ...] = (),
    *,
    chain: tuple[str, ...] = (),
    prefs: tuple[int, ...] = (),
    error: str | None = None,
) -> Lookup:
    return Lookup(
        name,
        rdtype,
        rcode,
        values=values,
        prefs=prefs,
        cname_chain=chain,
        server=RESOLVER,
        error=error,
    )


def aaaa(
    name: str,
    *values: str,
    rcode: str = "NOERROR",
    chain: tuple[str, ...] = (),
    error: str | None = None,
    policy: AddressPolicy = POLICY,
) -> Addresses:
    return Addresses(
        lookup(name, "AAAA", rcode, tuple(values), chain=chain, error=error),
        tuple(policy.classify(v) for v in values),
    )


def failed(name: str, rcode: str = "SERVFAIL") -> Addresses:
    error = "no answer within the timeout" if rcode == "TIMEOUT" else None
    return aaaa(name, rcode=rcode, error=error)


def ns_set(domain: str, hosts: dict[str, Addresses], *, zone: str | None = None) -> NameServers:
    zone = zone or domain
    names = tuple(hosts)
    return NameServers(
        domain, zone, lookup(zone, "NS", values=names), tuple((h, hosts[h]) for h in names)
    )


# --------------------------------------------------------------------------- dns.aaaa


class TestAaaa:
    def test_global_only_passes_and_lists_every_address(self) -> None:
        v = judge_aaaa(aaaa("www.example.com", "2001:db8::1", "2001:4860:4860::8888"))
        assert v.status is Status.PASS
        assert "2 global AAAA records" in v.detail
        assert "2001:db8::1" in v.detail and "2001:4860:4860::8888" in v.detail
        ev = v.evidence
        assert ev["rcode"] == "NOERROR"
        assert ev["resolver"] == RESOLVER
        assert ev["addresses"] == [
            {
                "address": "2001:db8::1",
                "category": "documentation",
                "global": True,
                "allowed_by": "2001:db8::/32",
            },
            {"address": "2001:4860:4860::8888", "category": "global", "global": True},
        ]
        assert "cname_chain" not in ev

    def test_one_global_record_singular(self) -> None:
        v = judge_aaaa(aaaa("example.com", "2001:4860:4860::8888"))
        assert v.status is Status.PASS
        assert "1 global AAAA record:" in v.detail

    def test_documentation_prefix_is_not_global_without_allow_prefix(self) -> None:
        v = judge_aaaa(aaaa("example.com", "2001:db8::1", policy=AddressPolicy()))
        assert v.status is Status.FAIL
        assert "2001:db8::1 (documentation)" in v.detail

    def test_global_plus_ula_warns_and_names_the_non_global(self) -> None:
        v = judge_aaaa(aaaa("www.example.com", "2001:db8::1", "fd00::1"))
        assert v.status is Status.WARN
        assert "2001:db8::1" in v.detail
        assert "fd00::1 (unique-local)" in v.detail
        rows = {r["address"]: r for r in v.evidence["addresses"]}
        assert rows["fd00::1"]["global"] is False
        assert rows["fd00::1"]["category"] == "unique-local"
        assert rows["2001:db8::1"]["global"] is True

    @pytest.mark.parametrize(
        ("address", "category"),
        [
            ("::1", "loopback"),
            ("fe80::1", "link-local"),
            ("::ffff:192.0.2.1", "ipv4-mapped"),
            ("fd12:3456::1", "unique-local"),
            ("64:ff9b::c000:201", "nat64"),
            ("2002:c000:201::1", "6to4"),
        ],
    )
    def test_only_non_global_fails(self, address: str, category: str) -> None:
        v = judge_aaaa(aaaa("example.com", address))
        assert v.status is Status.FAIL
        assert "No global AAAA" in v.detail
        assert f"({category})" in v.detail
        (row,) = v.evidence["addresses"]
        assert row["category"] == category
        assert row["global"] is False

    def test_loopback_fails_even_when_everything_is_allowed(self) -> None:
        policy = AddressPolicy.from_strings(["::/0"])
        v = judge_aaaa(aaaa("example.com", "::1", "fe80::1", policy=policy))
        assert v.status is Status.FAIL
        assert all(not r["global"] for r in v.evidence["addresses"])

    def test_ipv4_mapped_evidence_carries_the_ipv4(self) -> None:
        v = judge_aaaa(aaaa("example.com", "::ffff:192.0.2.1"))
        assert v.evidence["addresses"][0]["embedded_ipv4"] == "192.0.2.1"

    def test_no_aaaa_record_fails(self) -> None:
        v = judge_aaaa(aaaa("example.com"))
        assert v.status is Status.FAIL
        assert v.detail == "No AAAA record."
        assert v.evidence["addresses"] == []
        assert v.evidence["rcode"] == "NOERROR"

    def test_nxdomain_fails_and_names_the_missing_name(self) -> None:
        v = judge_aaaa(aaaa("www.example.com", rcode="NXDOMAIN"))
        assert v.status is Status.FAIL
        assert "www.example.com does not exist (NXDOMAIN)" in v.detail
        assert v.evidence["rcode"] == "NXDOMAIN"

    def test_nxdomain_at_the_end_of_a_cname_chain_names_the_target(self) -> None:
        v = judge_aaaa(aaaa("www.example.com", rcode="NXDOMAIN", chain=("gone.cdn.example",)))
        assert v.status is Status.FAIL
        assert "gone.cdn.example does not exist" in v.detail
        assert v.evidence["cname_chain"] == ["gone.cdn.example"]

    @pytest.mark.parametrize("rcode", ["SERVFAIL", "REFUSED", "TIMEOUT", "NO_PATH"])
    def test_undecided_lookup_is_an_error(self, rcode: str) -> None:
        v = judge_aaaa(failed("www.example.com", rcode))
        assert v.status is Status.ERROR
        assert v.detail.startswith("Could not decide")
        assert "www.example.com" in v.detail
        assert v.evidence["rcode"] == rcode
        if rcode == "TIMEOUT":
            assert "timeout" in v.detail
            assert v.evidence["error"] == "no answer within the timeout"
        else:
            assert f"resolver answered {rcode}" in v.detail

    def test_cname_chain_is_followed_and_in_evidence(self) -> None:
        chain = ("www.example.com.cdn.example", "edge7.cdn.example")
        v = judge_aaaa(aaaa("www.example.com", "2001:db8:7::1", chain=chain))
        assert v.status is Status.PASS
        assert v.evidence["cname_chain"] == list(chain)

    def test_dns64_synthesized_only_fails(self) -> None:
        # The lab's network-specific prefix sits inside the allowed prefix: still not IPv6.
        policy = AddressPolicy.from_strings(["2001:db8::/32"]).with_dns64(["2001:db8:6464::/96"])
        v = judge_aaaa(aaaa("v4only.example", "2001:db8:6464::c000:201", policy=policy))
        assert v.status is Status.FAIL
        assert "dns64-synthesized" in v.detail
        (row,) = v.evidence["addresses"]
        assert row == {
            "address": "2001:db8:6464::c000:201",
            "category": "dns64-synthesized",
            "global": False,
            "embedded_ipv4": "192.0.2.1",
        }

    def test_dns64_well_known_prefix_synthesized_fails(self) -> None:
        policy = AddressPolicy().with_dns64(["64:ff9b::/96"])
        v = judge_aaaa(aaaa("v4only.example", "64:ff9b::808:808", policy=policy))
        assert v.status is Status.FAIL
        assert v.evidence["addresses"][0]["category"] == "dns64-synthesized"
        assert v.evidence["addresses"][0]["embedded_ipv4"] == "8.8.8.8"

    def test_real_aaaa_beside_synthesized_warns(self) -> None:
        policy = AddressPolicy().with_dns64(["64:ff9b::/96"])
        v = judge_aaaa(aaaa("x.example", "2001:4860::1", "64:ff9b::808:808", policy=policy))
        assert v.status is Status.WARN

    def test_cname_loop_never_passes_and_is_recorded(self) -> None:
        v = judge_aaaa(
            aaaa("a.example", chain=("b.example",), error="CNAME loop"),
        )
        assert v.status in (Status.FAIL, Status.ERROR)
        assert "CNAME loop" in v.detail
        assert v.evidence["error"] == "CNAME loop"
        assert v.evidence["cname_chain"] == ["b.example"]

    def test_cname_loop_fails(self) -> None:
        v = judge_aaaa(aaaa("a.example", chain=("b.example",), error="CNAME loop"))
        assert v.status is Status.FAIL
        assert "leads to no address" in v.detail


# --------------------------------------------------------------------------- dns.ns_ipv6

NS1, NS2, NS3 = "ns1.example.com", "ns2.example.net", "ns3.example.org"


class TestNsIpv6:
    def test_two_name_servers_with_global_aaaa_pass(self) -> None:
        servers = ns_set(
            "example.com",
            {
                NS1: aaaa(NS1, "2001:db8:1::53"),
                NS2: aaaa(NS2, "2001:4860:4802:32::a"),
                NS3: aaaa(NS3),
            },
        )
        v = judge_ns_ipv6(servers)
        assert v.status is Status.PASS
        assert "2 of 3 name servers of example.com" in v.detail
        ev = v.evidence
        assert ev["zone"] == "example.com"
        assert ev["rcode"] == "NOERROR"
        hosts = {row["host"]: row for row in ev["name_servers"]}
        assert set(hosts) == {NS1, NS2, NS3}
        assert hosts[NS1]["addresses"][0]["address"] == "2001:db8:1::53"
        assert hosts[NS3]["addresses"] == []

    def test_exactly_one_warns_and_names_it(self) -> None:
        servers = ns_set(
            "example.com",
            {NS1: aaaa(NS1, "2001:db8:1::53"), NS2: aaaa(NS2, "fd00::53")},
        )
        v = judge_ns_ipv6(servers)
        assert v.status is Status.WARN
        assert "Only one of 2" in v.detail
        assert f"({NS1})" in v.detail

    def test_none_fails(self) -> None:
        servers = ns_set("example.com", {NS1: aaaa(NS1, "fe80::53"), NS2: aaaa(NS2)})
        v = judge_ns_ipv6(servers)
        assert v.status is Status.FAIL
        assert "None of the 2 name servers of example.com" in v.detail

    def test_non_global_aaaa_does_not_count(self) -> None:
        servers = ns_set(
            "example.com",
            {NS1: aaaa(NS1, "2001:db8:1::53"), NS2: aaaa(NS2, "::1"), NS3: aaaa(NS3, "fd00::1")},
        )
        assert judge_ns_ipv6(servers).status is Status.WARN

    def test_zone_cut_above_the_domain_is_named(self) -> None:
        servers = ns_set(
            "portal.example.com",
            {NS1: aaaa(NS1, "2001:db8:1::53"), NS2: aaaa(NS2, "2001:db8:2::53")},
            zone="example.com",
        )
        v = judge_ns_ipv6(servers)
        assert v.status is Status.PASS
        assert v.evidence["zone"] == "example.com"
        assert "of example.com" in v.detail

    @pytest.mark.parametrize("rcode", ["SERVFAIL", "REFUSED", "TIMEOUT"])
    def test_ns_lookup_failure_is_an_error(self, rcode: str) -> None:
        servers = NameServers("example.com", None, lookup("example.com", "NS", rcode))
        v = judge_ns_ipv6(servers)
        assert v.status is Status.ERROR
        assert "Could not find the name servers" in v.detail
        assert rcode in v.detail
        assert v.evidence["zone"] is None
        assert v.evidence["rcode"] == rcode

    def test_nxdomain_domain_fails(self) -> None:
        servers = NameServers("nope.example", None, lookup("nope.example", "NS", "NXDOMAIN"))
        v = judge_ns_ipv6(servers)
        assert v.status is Status.FAIL
        assert "nope.example does not exist (NXDOMAIN)" in v.detail

    def test_walk_without_an_ns_set_is_an_error(self) -> None:
        servers = NameServers("example.com", None, lookup("com", "NS"))
        v = judge_ns_ipv6(servers)
        assert v.status is Status.ERROR
        assert "No NS set found above example.com" in v.detail

    @pytest.mark.parametrize(
        "hosts",
        [
            # one with IPv6, one unknown: warn or pass
            {NS1: aaaa(NS1, "2001:db8:1::53"), NS2: failed(NS2)},
            # none known with IPv6, one unknown: fail or warn
            {NS1: aaaa(NS1), NS2: failed(NS2, "TIMEOUT")},
            # one with IPv6, two unknown: warn or pass
            {NS1: aaaa(NS1, "2001:db8:1::53"), NS2: failed(NS2), NS3: failed(NS3)},
        ],
    )
    def test_unanswered_aaaa_that_could_change_the_outcome_is_an_error(
        self, hosts: dict[str, Addresses]
    ) -> None:
        v = judge_ns_ipv6(ns_set("example.com", hosts))
        assert v.status is Status.ERROR
        assert "Could not look up the AAAA of" in v.detail
        assert NS2 in v.detail
        assert NS1 not in v.detail
        rows = {row["host"]: row for row in v.evidence["name_servers"]}
        assert rows[NS2]["rcode"] in ("SERVFAIL", "TIMEOUT")

    def test_unanswered_aaaa_that_cannot_change_the_outcome_is_ignored(self) -> None:
        hosts = {
            NS1: aaaa(NS1, "2001:db8:1::53"),
            NS2: aaaa(NS2, "2001:db8:2::53"),
            NS3: failed(NS3),
        }
        v = judge_ns_ipv6(ns_set("example.com", hosts))
        assert v.status is Status.PASS
        assert "2 of 3" in v.detail


# --------------------------------------------------------------------------- dns.ns_reachable


def answer(
    ns: str,
    address: str,
    rcode: str = "NOERROR",
    *,
    aa: bool = True,
    soa: bool = True,
    error: str | None = None,
) -> NsAnswer:
    return NsAnswer(ns, address, rcode, aa, soa, error, elapsed_ms=12.345)


TWO_NS = ns_set("example.com", {NS1: aaaa(NS1, "2001:db8:1::53"), NS2: aaaa(NS2, "2001:db8:2::53")})


class TestNsReachable:
    def test_every_address_answers_authoritatively_passes(self) -> None:
        reach = NsReachability(
            TWO_NS,
            True,
            (answer(NS1, "2001:db8:1::53"), answer(NS2, "2001:db8:2::53")),
        )
        v = judge_ns_reachable(reach)
        assert v.status is Status.PASS
        assert "All 2 IPv6 name-server addresses of example.com" in v.detail
        assert v.evidence["zone"] == "example.com"
        assert v.evidence["answers"][0] == {
            "ns": NS1,
            "address": "2001:db8:1::53",
            "rcode": "NOERROR",
            "authoritative": True,
            "soa": True,
            "ms": 12.3,
        }

    def test_some_answer_warns_and_says_why_the_others_not(self) -> None:
        reach = NsReachability(
            TWO_NS,
            True,
            (
                answer(NS1, "2001:db8:1::53"),
                answer(NS2, "2001:db8:2::53", "TIMEOUT", aa=False, soa=False, error="timeout"),
            ),
        )
        v = judge_ns_reachable(reach)
        assert v.status is Status.WARN
        assert "1 of 2" in v.detail
        assert f"{NS2} [2001:db8:2::53]: no answer (timeout)" in v.detail
        assert v.evidence["answers"][1]["error"] == "timeout"
        assert "error" not in v.evidence["answers"][0]

    def test_none_answers_fails(self) -> None:
        reach = NsReachability(
            TWO_NS,
            True,
            (
                answer(NS1, "2001:db8:1::53", "REFUSED", aa=False, soa=False),
                answer(NS2, "2001:db8:2::53", "PORT_UNREACHABLE", aa=False, soa=False),
            ),
        )
        v = judge_ns_reachable(reach)
        assert v.status is Status.FAIL
        assert "No IPv6 name-server address of example.com" in v.detail
        assert "answered REFUSED" in v.detail
        assert "port 53 unreachable" in v.detail

    def test_non_authoritative_answer_is_not_counted(self) -> None:
        reach = NsReachability(
            TWO_NS,
            True,
            (answer(NS1, "2001:db8:1::53"), answer(NS2, "2001:db8:2::53", aa=False)),
        )
        v = judge_ns_reachable(reach)
        assert v.status is Status.WARN
        assert "answer not authoritative" in v.detail
        assert v.evidence["answers"][1]["authoritative"] is False

    def test_only_non_authoritative_answers_fail(self) -> None:
        reach = NsReachability(
            TWO_NS,
            True,
            (
                answer(NS1, "2001:db8:1::53", aa=False),
                answer(NS2, "2001:db8:2::53", soa=False),
            ),
        )
        v = judge_ns_reachable(reach)
        assert v.status is Status.FAIL
        assert "answer not authoritative" in v.detail
        assert "no SOA in the answer" in v.detail

    def test_no_name_server_with_global_aaaa_skips(self) -> None:
        servers = ns_set("example.com", {NS1: aaaa(NS1), NS2: aaaa(NS2, "fd00::53")})
        v = judge_ns_reachable(NsReachability(servers, True))
        assert v.status is Status.SKIP
        assert "No name server of example.com has a global AAAA" in v.detail

    def test_scanner_without_ipv6_is_an_error_not_a_failure(self) -> None:
        v = judge_ns_reachable(NsReachability(TWO_NS, False))
        assert v.status is Status.ERROR
        assert "scanner has no IPv6 path" in v.detail

    def test_no_path_answer_is_an_error(self) -> None:
        reach = NsReachability(
            TWO_NS,
            True,
            (
                answer(NS1, "2001:db8:1::53"),
                answer(NS2, "2001:db8:2::53", "NO_PATH", aa=False, soa=False, error="no route"),
            ),
        )
        v = judge_ns_reachable(reach)
        assert v.status is Status.ERROR
        assert "no IPv6 path" in v.detail

    def test_nxdomain_domain_skips(self) -> None:
        servers = NameServers("nope.example", None, lookup("nope.example", "NS", "NXDOMAIN"))
        v = judge_ns_reachable(NsReachability(servers, True))
        assert v.status is Status.SKIP
        assert "NXDOMAIN" in v.detail

    def test_ns_lookup_servfail_is_an_error(self) -> None:
        servers = NameServers("example.com", None, lookup("example.com", "NS", "SERVFAIL"))
        v = judge_ns_reachable(NsReachability(servers, True))
        assert v.status is Status.ERROR
        assert "SERVFAIL" in v.detail

    def test_every_ns_aaaa_lookup_failed_is_an_error_not_a_skip(self) -> None:
        servers = ns_set("example.com", {NS1: failed(NS1), NS2: failed(NS2, "TIMEOUT")})
        v = judge_ns_reachable(NsReachability(servers, True))
        assert v.status is Status.ERROR


# --------------------------------------------------------------------------- dns.mx_ipv6

MX1, MX2 = "mx1.example.com", "mx2.mail.example"


def mx_set(
    hosts: list[tuple[int, str, Addresses]],
    *,
    rcode: str = "NOERROR",
    null_mx: bool = False,
    capped: int = 0,
) -> MailExchangers:
    values = tuple(h for _, h, _ in hosts)
    prefs = tuple(p for p, _, _ in hosts)
    return MailExchangers(
        "example.com",
        lookup("example.com", "MX", rcode, values, prefs=prefs),
        null_mx=null_mx,
        hosts=tuple(hosts),
        capped=capped,
    )


class TestMxIpv6:
    def test_every_mx_with_global_aaaa_passes(self) -> None:
        mx = mx_set([(10, MX1, aaaa(MX1, "2001:db8:25::1")), (20, MX2, aaaa(MX2, "2001:4860::25"))])
        v = judge_mx_ipv6(mx)
        assert v.status is Status.PASS
        assert MX1 in v.detail and MX2 in v.detail
        assert v.evidence["null_mx"] is False
        assert [(r["preference"], r["host"]) for r in v.evidence["mx"]] == [(10, MX1), (20, MX2)]
        assert v.evidence["mx"][0]["addresses"][0]["address"] == "2001:db8:25::1"
        assert "mx_not_checked" not in v.evidence

    def test_some_warns_and_names_those_without(self) -> None:
        mx = mx_set([(10, MX1, aaaa(MX1, "2001:db8:25::1")), (20, MX2, aaaa(MX2, "fd00::25"))])
        v = judge_mx_ipv6(mx)
        assert v.status is Status.WARN
        assert "1 of 2 MX hosts" in v.detail
        assert f"without: {MX2}" in v.detail

    def test_none_fails(self) -> None:
        mx = mx_set([(10, MX1, aaaa(MX1)), (20, MX2, aaaa(MX2, "::ffff:192.0.2.25"))])
        v = judge_mx_ipv6(mx)
        assert v.status is Status.FAIL
        assert "No MX host has a global AAAA" in v.detail
        assert MX1 in v.detail and MX2 in v.detail

    def test_null_mx_skips(self) -> None:
        mx = MailExchangers(
            "example.com", lookup("example.com", "MX", values=(".",), prefs=(0,)), null_mx=True
        )
        v = judge_mx_ipv6(mx)
        assert v.status is Status.SKIP
        assert "null MX" in v.detail
        assert v.evidence["null_mx"] is True

    def test_no_mx_skips(self) -> None:
        v = judge_mx_ipv6(mx_set([]))
        assert v.status is Status.SKIP
        assert "has no MX record" in v.detail
        assert v.evidence["mx"] == []

    @pytest.mark.parametrize("rcode", ["SERVFAIL", "REFUSED", "TIMEOUT"])
    def test_mx_lookup_failure_is_an_error(self, rcode: str) -> None:
        v = judge_mx_ipv6(mx_set([], rcode=rcode))
        assert v.status is Status.ERROR
        assert "Could not decide" in v.detail
        assert v.evidence["rcode"] == rcode

    def test_mx_host_aaaa_lookup_failure_is_an_error(self) -> None:
        mx = mx_set([(10, MX1, aaaa(MX1)), (20, MX2, failed(MX2))])
        v = judge_mx_ipv6(mx)
        assert v.status is Status.ERROR
        assert f"Could not look up the AAAA of {MX2}" in v.detail
        assert v.evidence["mx"][1]["rcode"] == "SERVFAIL"

    def test_capped_mx_hosts_are_reported(self) -> None:
        mx = mx_set([(10, MX1, aaaa(MX1, "2001:db8:25::1"))], capped=5)
        v = judge_mx_ipv6(mx)
        assert v.status is Status.PASS
        assert v.evidence["mx_not_checked"] == 5


# --------------------------------------------------------------------------- resolver.ipv6


def resolver_answer(**kw: object) -> ResolverAnswer:
    base: dict[str, object] = {
        "address": "2001:db8:53::53",
        "port": 53,
        "family": 6,
        "qname": "www.example.com",
        "scanner_ipv6": True,
    }
    base.update(kw)
    return ResolverAnswer(**base)  # type: ignore[arg-type]


class TestResolverIpv6:
    def test_non_empty_answer_over_ipv6_passes(self) -> None:
        v = judge_resolver_ipv6(
            resolver_answer(rcode="NOERROR", answers=("2001:db8::80",), elapsed_ms=3.21)
        )
        assert v.status is Status.PASS
        assert "[2001:db8:53::53]:53" in v.detail
        assert "www.example.com" in v.detail and "2001:db8::80" in v.detail
        assert v.evidence == {
            "address": "2001:db8:53::53",
            "port": 53,
            "qname": "www.example.com",
            "rcode": "NOERROR",
            "answers": ["2001:db8::80"],
            "ms": 3.2,
        }

    def test_port_other_than_53_is_shown(self) -> None:
        v = judge_resolver_ipv6(resolver_answer(port=5353, rcode="NOERROR", answers=("::2",)))
        assert v.status is Status.PASS
        assert "[2001:db8:53::53]:5353" in v.detail

    def test_timeout_fails(self) -> None:
        v = judge_resolver_ipv6(resolver_answer(rcode="TIMEOUT", error="no answer"))
        assert v.status is Status.FAIL
        assert "did not answer within the timeout" in v.detail
        assert v.evidence["error"] == "no answer"

    def test_empty_answer_fails(self) -> None:
        v = judge_resolver_ipv6(resolver_answer(rcode="NOERROR", answers=()))
        assert v.status is Status.FAIL
        assert "no AAAA record" in v.detail
        assert v.evidence["answers"] == []

    @pytest.mark.parametrize("rcode", ["SERVFAIL", "REFUSED", "NXDOMAIN"])
    def test_probed_resolver_refusing_is_a_finding(self, rcode: str) -> None:
        v = judge_resolver_ipv6(resolver_answer(rcode=rcode))
        assert v.status is Status.FAIL
        assert f"answered {rcode}" in v.detail

    def test_port_unreachable_fails(self) -> None:
        v = judge_resolver_ipv6(resolver_answer(rcode="PORT_UNREACHABLE"))
        assert v.status is Status.FAIL
        assert "port unreachable" in v.detail

    def test_ipv4_literal_fails(self) -> None:
        v = judge_resolver_ipv6(
            resolver_answer(address="192.0.2.53", family=4, rcode="", answers=())
        )
        assert v.status is Status.FAIL
        assert "only by its IPv4 address 192.0.2.53:53" in v.detail

    def test_ipv4_literal_fails_even_when_the_scanner_has_no_ipv6(self) -> None:
        v = judge_resolver_ipv6(resolver_answer(address="192.0.2.53", family=4, scanner_ipv6=False))
        assert v.status is Status.FAIL

    def test_scanner_without_ipv6_is_an_error(self) -> None:
        v = judge_resolver_ipv6(resolver_answer(scanner_ipv6=False))
        assert v.status is Status.ERROR
        assert "scanner has no IPv6 path" in v.detail

    def test_no_path_reply_is_an_error(self) -> None:
        v = judge_resolver_ipv6(resolver_answer(rcode="NO_PATH", error="no route"))
        assert v.status is Status.ERROR
        assert v.evidence["rcode"] == "NO_PATH"
