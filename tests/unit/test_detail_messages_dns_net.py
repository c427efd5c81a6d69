"""The zh-CN report shows the DNS, delegation, resolver, net, mail, tries and engine details
in Chinese: every declared sentence of those families, and real judges' verdicts with their
nested words, rendered through report/details.py with the real catalogue, leave no English
word outside their parameters (names, addresses, the servers' and the system's own words)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from ipv6scan.addresses import AddressPolicy
from ipv6scan.checks import catalogue
from ipv6scan.checks.delegation import judge_delegation
from ipv6scan.checks.dns import judge_mx_ipv6, judge_ns_ipv6, judge_ns_reachable
from ipv6scan.checks.evidence import lookup_failure
from ipv6scan.checks.intermittent import Tries, with_tries
from ipv6scan.checks.mail import judge_smtp
from ipv6scan.checks.net import judge_ping, judge_trace
from ipv6scan.checks.resolver import judge_resolver_ipv6
from ipv6scan.dnsclient.reasons import NO_ANSWER_IN_TIME, NO_ROUTE
from ipv6scan.dnsclient.resolution import Lookup
from ipv6scan.engine.scheduler import deadline_verdict, internal_error
from ipv6scan.messages import MESSAGES, Detail, identity
from ipv6scan.model import Status, Verdict
from ipv6scan.observations.delegation import (
    NO_TLD,
    NOTE_RCODE_ERROR,
    NXDOMAIN,
    TOO_LONG,
    DelegationChain,
)
from ipv6scan.observations.dns import (
    Addresses,
    MailExchangers,
    NameServers,
    NsAnswer,
    NsReachability,
    ResolverAnswer,
)
from ipv6scan.observations.mail import REJECTED, TIMEOUT, SmtpAttempt, SmtpObservation
from ipv6scan.observations.net import (
    UNREACHABLE,
    EchoOutcome,
    NetTarget,
    PingObservation,
    PingResult,
    TraceHop,
    TraceObservation,
    TraceResult,
)
from ipv6scan.observations.reasons import STOPPED_AT, unreachable_code
from ipv6scan.probes.net import ping_result
from ipv6scan.report.details import render_detail
from ipv6scan.report.i18n import translations

FAMILIES = ("dns.", "resolver.", "net.", "mail.", "intermittent.", "engine.", "list.", "address.")
# The protocols' own tokens and the scanner's option and capability names, shown as they are.
TOKENS = frozenset(
    {"IPv6", "IPv4", "ICMPv6", "AAAA", "SOA", "DNS", "SMTP", "CNAME", "NXDOMAIN", "CAP_NET_RAW"}
)
ENGLISH = re.compile(r"--[a-z-]+|[A-Za-z][A-Za-z0-9_]*")
POLICY = AddressPolicy.from_strings(["2001:db8::/32"])
A1, A2 = "2001:db8:53::1", "2001:db8:53::2"
MARK = "\u2460"  # a parameter's place, removed before the words are counted


def zh(detail: str) -> str:
    return render_detail(detail, translations("zh-CN").gettext, "zh-CN")


def english_words(text: str) -> list[str]:
    return [
        w
        for w in ENGLISH.findall(text)
        if not w.startswith("--") and len(re.sub(r"[^A-Za-z]", "", w)) >= 3 and w not in TOKENS
    ]


def leaves(params: Any) -> Iterator[str]:
    """The parameters' own text (names, addresses, servers' words), not nested sentences."""
    if isinstance(params, dict) and isinstance(params.get("key"), str):
        yield from leaves(params.get("params", {}))
    elif isinstance(params, dict):
        for value in params.values():
            yield from leaves(value)
    elif isinstance(params, list):
        for value in params:
            yield from leaves(value)
    else:
        yield str(params)


def outside_params(detail: str) -> list[str]:
    assert isinstance(detail, Detail), detail
    text = zh(detail)
    assert text != str(detail), f"not rendered in Chinese: {detail!r}"
    for leaf in sorted(leaves(detail.params), key=len, reverse=True):
        if leaf:
            text = text.replace(leaf, " ")
    return english_words(text)


def _declared() -> list[str]:
    catalogue.load()
    return sorted(k for k in MESSAGES if k.startswith(FAMILIES) and not k.startswith("dns.aaaa."))


@pytest.mark.parametrize("key", _declared())
def test_every_sentence_of_these_families_is_chinese(key: str) -> None:
    message = MESSAGES[key]
    names = re.findall(r"%\((\w+)\)s", message.template)
    detail = message(**dict.fromkeys(names, MARK))
    text = zh(detail)
    assert english_words(text.replace(MARK, " ")) == [], (key, text)
    if english_words(re.sub(r"%\(\w+\)s", " ", message.template)):  # not a bare slot
        assert text != str(detail), (key, "falls back to English")


def _words() -> list[Detail]:
    """The words these families' modules declare (constants, and tables of them)."""
    import ipv6scan.checks.delegation as delegation
    import ipv6scan.checks.dns as dns
    import ipv6scan.checks.engine_details as engine_details
    import ipv6scan.checks.evidence as evidence
    import ipv6scan.checks.mail as mail
    import ipv6scan.checks.net as net
    import ipv6scan.checks.resolver as resolver

    found: dict[str, Detail] = {}
    for module in (dns, delegation, resolver, net, mail, evidence, engine_details):
        for value in vars(module).values():
            for one in value.values() if isinstance(value, dict) else [value]:
                if isinstance(one, Detail) and str(one.key).startswith("word."):
                    found[str(one.key)] = one
    return [found[k] for k in sorted(found)]


@pytest.mark.parametrize("word", _words(), ids=str)
def test_every_word_of_these_families_is_chinese(word: Detail) -> None:
    text = zh(word)
    assert english_words(text) == [], text


# ------------------------------------------------------------------ real verdicts


def _lookup(name: str, rcode: str = "NOERROR", *values: str, error: str | None = None) -> Lookup:
    return Lookup(name, "AAAA", rcode, tuple(values), server="2001:db8::53", error=error)


def _aaaa(name: str, *values: str, rcode: str = "NOERROR") -> Addresses:
    return Addresses(_lookup(name, rcode, *values), tuple(POLICY.classify(v) for v in values))


def _servers(*hosts: tuple[str, Addresses]) -> NameServers:
    return NameServers("example.test", "example.test", _lookup("example.test"), hosts)


def _verdicts() -> dict[str, Verdict]:
    ns = _servers(("ns1.example.test", _aaaa("ns1.example.test", A1)),
                  ("ns2.example.test", _aaaa("ns2.example.test", A2)))  # fmt: skip
    mx = MailExchangers("example.test", _lookup("example.test"), hosts=(
        (10, "mx1.example.test", _aaaa("mx1.example.test", A1)),
        (20, "mx2.example.test", _aaaa("mx2.example.test")),
    ))  # fmt: skip
    timeout = NsAnswer("ns2.example.test", A2, "TIMEOUT", False, False, "no answer")
    good = NsAnswer("ns1.example.test", A1, "NOERROR", True, True)
    flaky = NsAnswer("ns1.example.test", A1, "NOERROR", True, True, attempts=3, failed_attempts=2)
    target = NetTarget("www.example.test", "host", (A1, A2))
    # as probes/net.py reports them: its reasons, not phrases
    unanswered = ping_result(A2, [EchoOutcome(UNREACHABLE, "2001:db8:ff::1", code=0)] * 3)
    stopped = STOPPED_AT(ttl=3, address="2001:db8:ff::3", code=unreachable_code(1))
    hops = (TraceHop(1, "2001:db8:ff::1", 1.0), TraceHop(2, None, None))
    no_route = _lookup(
        "www.example.test", "NO_PATH", error=NO_ROUTE(reason="Network is unreachable")
    )
    return {
        "ns_ipv6 one": judge_ns_ipv6(
            _servers(
                ("ns1.example.test", ns.hosts[0][1]),
                ("ns2.example.test", _aaaa("ns2.example.test")),
            )
        ),
        "ns_reachable some": judge_ns_reachable(NsReachability(ns, True, (good, timeout))),
        "ns_reachable intermittent": judge_ns_reachable(NsReachability(ns, True, (flaky,))),
        "mx_ipv6 some": judge_mx_ipv6(mx),
        "delegation gone": judge_delegation(
            DelegationChain(
                "www.example.test",
                True,
                NXDOMAIN,
                (),
                None,
                "example.test's server 2001:db8::53 answered NXDOMAIN for www.example.test",
            )
        ),
        # any note reads the same way; this ending takes the note as its reason
        "delegation refused": judge_delegation(
            DelegationChain(
                "www.example.test",
                True,
                TOO_LONG,
                (),
                None,
                NOTE_RCODE_ERROR(  # as probes/delegation.py says it
                    zone="example.test",
                    server="2001:db8::53",
                    rcode="REFUSED",
                    error=NO_ANSWER_IN_TIME,
                ),
            )
        ),
        "delegation no tld": judge_delegation(
            DelegationChain("example.test", True, NO_TLD, (), _lookup("test", "SERVFAIL"))
        ),
        "resolver timeout": judge_resolver_ipv6(
            ResolverAnswer(A1, 53, 6, "ipv6.example.test", True, "TIMEOUT")
        ),
        "ping some": judge_ping(
            PingObservation(
                target,
                True,
                None,
                (
                    PingResult(A1, 3, 3, (1.0, 2.0, 3.0)),
                    unanswered,
                ),
            )
        ),
        "trace stopped": judge_trace(
            TraceObservation(target, True, None, TraceResult(A1, False, hops, 30, stopped))
        ),
        "smtp rejected": judge_smtp(
            SmtpObservation(
                mx,
                True,
                (
                    SmtpAttempt("mx1.example.test", A1, REJECTED, 554, "554 mx1 ESMTP go away"),
                    SmtpAttempt("mx1.example.test", A2, TIMEOUT),
                ),
            )
        ),
        "lookup no route": Verdict(Status.ERROR, lookup_failure(no_route)),
        "deadline": deadline_verdict(2.5),
        "internal": internal_error(ValueError("boom")),
    }


VERDICTS = _verdicts()


@pytest.mark.parametrize("case", sorted(VERDICTS))
def test_real_verdicts_render_in_chinese(case: str) -> None:
    detail = VERDICTS[case].detail
    assert isinstance(detail, Detail) and detail.key is not None, case
    assert outside_params(detail) == [], (case, zh(detail))


def test_nested_words_are_translated() -> None:
    assert "超时" in zh(VERDICTS["ns_reachable some"].detail)
    assert "时通时断" in zh(VERDICTS["ns_reachable intermittent"].detail)
    assert "管理性禁止" in zh(VERDICTS["trace stopped"].detail)
    assert "返回不可达（无路由）" in zh(VERDICTS["ping some"].detail)
    assert "超时未应答" in zh(VERDICTS["delegation refused"].detail)
    # the server's own words stay as it said them
    assert "554 mx1 ESMTP go away" in zh(VERDICTS["smtp rejected"].detail)


def test_english_text_is_unchanged() -> None:
    """results.jsonl's `detail` bytes: the sentences as the judges always wrote them."""
    assert VERDICTS["ns_reachable intermittent"].detail == (
        "The IPv6 name-server address of example.test answers SOA authoritatively, but "
        "intermittent: 2 of 3 tries failed on ns1.example.test [2001:db8:53::1]."
    )
    assert VERDICTS["lookup no route"].detail == (
        "AAAA www.example.test: no route: Network is unreachable"
    )
    assert VERDICTS["delegation refused"].detail == (
        "Could not decide: example.test's server 2001:db8::53 answered REFUSED "
        "(no answer within the timeout)."
    )
    assert VERDICTS["trace stopped"].detail == (
        "2001:db8:53::1 not reached: hop 3 (2001:db8:ff::3) answered unreachable "
        "(admin-prohibited); last answering hop 1: 2001:db8:ff::1."
    )
    assert VERDICTS["deadline"].detail == "The check ran out of time (2.5 s)."


def test_intermittent_wraps_any_verdict_and_keeps_it() -> None:
    verdict = Verdict(Status.FAIL, VERDICTS["mx_ipv6 some"].detail)
    tries = [Tries(f"p{i}", 3, 1) for i in range(5)]
    out = with_tries(verdict, tries, tries)
    assert out.detail == (
        f"{verdict.detail} Also intermittent: 1 of 3 tries failed on p0; 1 of 3 tries "
        "failed on p1; 1 of 3 tries failed on p2 and 2 more."
    )
    assert outside_params(out.detail) == []
    assert zh(verdict.detail) in zh(out.detail)


def test_measured_figures_are_not_the_verdict() -> None:
    def ping(ms: float, addr: str = A1) -> str:
        obs = PingObservation(NetTarget(addr, "address", (addr,)), True, None,
                              (PingResult(addr, 1, 1, (ms,)),))  # fmt: skip
        return judge_ping(obs).detail

    assert ping(1.0) != ping(9.0)
    assert identity(ping(1.0)) == identity(ping(9.0)) != identity(ping(1.0, A2))


def test_the_preflights_finding_is_translated() -> None:
    text = (
        "no usable resolver: 2001:db8::53 answered NXDOMAIN for ipv4only.arpa A; "
        "2001:db8::54 did not answer ipv4only.arpa AAAA (no answer within the timeout)"
    )
    failed = _lookup("www.example.test", "NO_RESOLVER", error=text)
    detail = lookup_failure(failed)
    assert detail == f"AAAA www.example.test: {text}"
    rendered = zh(detail)
    assert "无可用的递归解析服务器" in rendered and "超时未应答" in rendered
    assert outside_params(detail) == []


def test_a_partial_verdict_that_is_also_intermittent_is_chinese() -> None:
    """The deepest detail these judges write: tries, around a list of addresses, each
    with a translated reason."""
    ns = _servers(("ns1.example.test", _aaaa("ns1.example.test", A1)),
                  ("ns2.example.test", _aaaa("ns2.example.test", A2)))  # fmt: skip
    flaky = NsAnswer("ns1.example.test", A1, "NOERROR", True, True, attempts=2, failed_attempts=1)
    timeout = NsAnswer("ns2.example.test", A2, "TIMEOUT", False, False, attempts=2,
                       failed_attempts=2)  # fmt: skip
    verdict = judge_ns_reachable(NsReachability(ns, True, (flaky, timeout)))
    assert verdict.status is Status.WARN and "Also intermittent" in verdict.detail
    assert outside_params(verdict.detail) == []
    assert "无应答（超时）" in zh(verdict.detail)
