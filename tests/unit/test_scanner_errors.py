"""Honest errors about the scanner itself (INTERFACE.md): with no usable resolver every
check that needs DNS is `error`, never `fail` or `skip`, and the score is null; a resolver
entry outside the scope gets `skip` "not probed" and not one packet. No network here:
a transport that is asked anything fails the test."""

from __future__ import annotations

from typing import Any

import pytest

from ipv6scan.addresses import AddressPolicy
from ipv6scan.checks import registry
from ipv6scan.checks.resolver import judge_resolver_ipv6
from ipv6scan.context import Limits, ScanContext
from ipv6scan.dnsclient.resolution import Resolver
from ipv6scan.dnsclient.transport import DnsReply, DnsServer
from ipv6scan.engine.scheduler import Engine
from ipv6scan.model import CheckResult, Status, Subject, SystemEntry, Target
from ipv6scan.observations.dns import Connectivity
from ipv6scan.probes.dns import observe_resolver
from ipv6scan.scoring.summary import summarize, with_scanner

BAD = "2001:db8:53::66"
SAID = "answered NXDOMAIN for ipv4only.arpa AAAA"
WHY = f"no usable resolver: {BAD} {SAID}"


class _NoNetwork:
    """Every question is a packet the test forbids."""

    def __init__(self) -> None:
        self.asked: list[tuple[Any, ...]] = []

    async def query(self, *args: Any, **kwargs: Any) -> Any:
        self.asked.append(args)
        raise AssertionError(f"a packet was sent: {args}")


class _Nxdomain:
    """A probed resolver that answers NXDOMAIN: the direct questions of resolver.ipv6."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def query(self, server: DnsServer, qname: str, rdtype: str, **_: Any) -> DnsReply:
        self.asked.append(f"{server} {qname} {rdtype}")
        return DnsReply(qname, rdtype, str(server), "NXDOMAIN")


def _context(
    transport: _NoNetwork | _Nxdomain,
    *,
    unusable: str | None,
    allow: tuple[str, ...] = (),
) -> ScanContext:
    connectivity = Connectivity(
        True,
        True,
        unusable_resolvers=((BAD, SAID),) if unusable else (),
        resolvers_usable=unusable is None,
    )
    # the scanner's own look-ups: never a packet (an unusable resolver answers at once)
    resolver = Resolver(_NoNetwork(), [DnsServer(BAD)], timeout=1, unusable=unusable)
    return ScanContext(
        resolver=resolver,
        transport=transport,
        policy=AddressPolicy.from_strings(allow),
        connectivity=connectivity,
        limits=Limits(8, 8),
        timeout=1,
    )


async def test_with_no_usable_resolver_every_dns_check_is_an_error_naming_it() -> None:
    # Given a scan whose resolvers all denied the well-known names
    direct = _Nxdomain()
    ctx = _context(direct, unusable=WHY, allow=("2001:db8::/32",))
    checks = [c for c in registry.BY_ID.values() if c.family != "net"]
    target = Target(
        "Operator",
        "operator",
        ("gov.example",),
        (
            SystemEntry("backbone", "host", "core.example"),
            SystemEntry("access", "url", "https://selfcare.example/"),
            SystemEntry("metro", "resolver", "2001:db8:53::53"),
        ),
    )
    results: list[CheckResult] = []
    # When every check but the ICMP ones runs
    await Engine(ctx, checks, results.append, check_deadline=5).run([target])
    # Then each is an error whose detail names the resolver and what it answered
    assert {r.check for r in results} >= {c.id for c in checks}
    not_errors = [(r.subject, r.check, str(r.status)) for r in results if r.status != "error"]
    assert not_errors == []
    assert all(BAD in r.detail and SAID in r.detail for r in results)
    # And the only packet was resolver.ipv6's question to the listed resolver, whose
    # NXDOMAIN says nothing without a name known to have AAAA
    assert direct.asked == ["2001:db8:53::53 www.ietf.org AAAA"]
    # And the summary of such a run is not scored
    summary = summarize(results)
    assert summary["overall"]["score"] is None


async def test_no_usable_resolver_nulls_the_overall_score_even_with_measured_results() -> None:
    # Given results that would score (net.ping of an address entry still runs)
    target = Target("Operator", "operator")
    ping = CheckResult(target.name, "operator", "backbone", "2001:db8::1", "net.ping",
                       Status.PASS, "answered", {}, 1.0)  # fmt: skip
    summary = summarize([ping])
    assert summary["overall"]["score"] == 100
    # When the scanner facts say no resolver was usable, the overall score is null
    with_scanner(summary, {"ipv6": True, "resolvers_usable": False})
    assert summary["overall"]["score"] is None and summary["scanner"]["resolvers_usable"] is False
    # and a usable one leaves it alone
    summary = summarize([ping])
    with_scanner(summary, {"ipv6": True, "resolvers_usable": True})
    assert summary["overall"]["score"] == 100


@pytest.mark.parametrize(
    ("address", "category"),
    [
        ("::1", "loopback"),
        ("127.0.0.1", "loopback"),
        ("fe80::1", "link-local"),
        ("2001:db8:53::53", "documentation"),
    ],
)
async def test_a_resolver_entry_out_of_scope_is_skipped_without_a_packet(
    address: str, category: str
) -> None:
    transport = _NoNetwork()
    ctx = _context(transport, unusable=None)
    subject = Subject("resolver", address, Target("T", "operator"), "metro")
    answer = await observe_resolver(ctx, subject)
    verdict = judge_resolver_ipv6(answer)
    assert transport.asked == []
    assert verdict.status is Status.SKIP
    assert verdict.detail.startswith(f"Not probed: {address} is {category}")
    assert category in verdict.evidence["not_probed"]


async def test_a_resolver_entry_inside_an_allowed_prefix_is_probed() -> None:
    transport = _NoNetwork()
    ctx = _context(transport, unusable=None, allow=("2001:db8::/32",))
    subject = Subject("resolver", "2001:db8:53::53", Target("T", "operator"), "metro")
    with pytest.raises(AssertionError, match="a packet was sent"):
        await observe_resolver(ctx, subject)


def test_an_empty_answer_without_a_name_known_to_have_aaaa_is_undecided() -> None:
    from ipv6scan.observations.dns import ResolverAnswer

    base = ResolverAnswer("2001:db8:53::53", 53, 6, "www.ietf.org", True, "NXDOMAIN")
    assert judge_resolver_ipv6(base).status is Status.FAIL
    unverified = ResolverAnswer("2001:db8:53::53", 53, 6, "www.ietf.org", True, "NXDOMAIN",
                                qname_unverified=WHY)  # fmt: skip
    verdict = judge_resolver_ipv6(unverified)
    assert verdict.status is Status.ERROR and BAD in verdict.detail
    # silence is a finding whatever the name
    silent = ResolverAnswer("2001:db8:53::53", 53, 6, "www.ietf.org", True, "TIMEOUT",
                            qname_unverified=WHY)  # fmt: skip
    assert judge_resolver_ipv6(silent).status is Status.FAIL


@pytest.mark.parametrize(
    ("lang", "says"),
    [("en", "No usable resolver"), ("zh-CN", "没有可用的递归解析器")],
)
def test_the_report_banner_says_no_resolver_was_usable(lang: str, says: str) -> None:
    from ipv6scan.report.html import render_html

    target = Target("Org", "government")
    results = [CheckResult(target.name, "government", "services", "org.example", "dns.aaaa",
                           Status.ERROR, f"Could not decide: AAAA org.example: {WHY}.", {},
                           1.0)]  # fmt: skip
    summary = summarize(results)
    scanner = {"ipv6": True, "ipv4": True, "dns64_prefixes": [], "resolvers_usable": False,
               "notes": [f"resolver {BAD} not used: it {SAID}"]}  # fmt: skip
    with_scanner(summary, scanner)
    html = render_html(results, summary, lang)
    assert 'id="no-resolver"' in html and says in html
    assert f"resolver {BAD} not used" in html
    summary = summarize(results)
    with_scanner(summary, {**scanner, "resolvers_usable": True})
    assert 'id="no-resolver"' not in render_html(results, summary, lang)
