"""The DNS transports' and the resolver's own reasons are keyed where they are written
(dnsclient/reasons.py): the judges pass them through, the English text stays byte for byte
what it was, and a zh-CN report shows them in Chinese. Also the resolver entry's category
and the scanner's notes, keyed at the source (issue 16 item 3). No network here."""

from __future__ import annotations

import errno
from typing import Any

import dns.exception
import pytest

from ipv6scan.checks.evidence import dns_error, lookup_failure
from ipv6scan.checks.resolver import judge_resolver_ipv6
from ipv6scan.dnsclient import fast, reasons
from ipv6scan.dnsclient.records import RR, DnsReply
from ipv6scan.dnsclient.resolution import Lookup, chain_too_long, follow
from ipv6scan.dnsclient.server import DnsServer
from ipv6scan.dnsclient.transport import reply_from
from ipv6scan.messages import Detail
from ipv6scan.model import CheckResult, Status
from ipv6scan.observations.dns import Connectivity, ResolverAnswer
from ipv6scan.preflight import (
    NOTE_ANSWERED,
    NOTE_NO_ANSWER,
    ROUTE_MISSING,
    SILENT_RESOLVERS,
    resolver_problem,
)
from ipv6scan.report.details import render_detail
from ipv6scan.report.html import render_html
from ipv6scan.report.i18n import translations
from ipv6scan.scanjob import scanner_facts
from ipv6scan.scoring import summarize

SERVER = DnsServer("2001:db8::53", 53)
SERVERS = ("2001:db8::54", "2001:db8::53")


def zh(detail: str) -> str:
    return render_detail(detail, translations("zh-CN").gettext, "zh-CN")


async def _failing(exc: BaseException) -> Any:
    raise exc


async def _reply_to(exc: BaseException) -> DnsReply:
    return await reply_from(_failing(exc), SERVER, "www.example.test", "AAAA", 0.0)


@pytest.mark.parametrize(
    ("exc", "text", "key"),
    [
        (
            dns.exception.Timeout(),
            "no answer within the timeout",
            "word.no answer within the timeout",
        ),
        (
            ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"),
            "port unreachable: no DNS server listens there",
            "word.port unreachable: no DNS server listens there",
        ),
        (
            OSError(errno.ENETUNREACH, "Network is unreachable"),
            "no route: Network is unreachable",
            "dns.lookup.no_route",
        ),
        (
            OSError(errno.EPERM, "Operation not permitted"),
            "network error: Operation not permitted",
            "dns.lookup.net_error",
        ),
        (
            dns.exception.FormError("bad label"),
            "malformed reply: bad label",
            "dns.lookup.malformed",
        ),
        (dns.exception.DNSException("odd"), "DNS error: odd", "dns.lookup.dns_error"),
    ],
)
async def test_the_dnspython_transport_writes_keyed_reasons(
    exc: BaseException, text: str, key: str
) -> None:
    reply = await _reply_to(exc)
    assert reply.error == text  # the English bytes of old
    assert isinstance(reply.error, Detail) and reply.error.key == key


def test_the_fast_transport_writes_the_same_keyed_reasons() -> None:
    rcode, why = fast._socket_error(OSError(errno.EHOSTUNREACH, "No route to host"))
    assert (rcode, why) == ("NO_PATH", "no route: No route to host")
    assert isinstance(why, Detail) and why.key == "dns.lookup.no_route"
    # made once per OS text, not per reply: the hot path stays a constant
    assert fast._socket_error(OSError(errno.EHOSTUNREACH, "No route to host"))[1] is why
    _, refused = fast._socket_error(ConnectionRefusedError(errno.ECONNREFUSED, "refused"))
    assert refused is reasons.PORT_UNREACHABLE
    assert reasons.NOT_THE_QUESTION == "malformed reply: it does not match the question"


def test_the_resolvers_cname_reasons_are_keyed() -> None:
    loop = DnsReply("a.example.test", "AAAA", str(SERVER), "NOERROR",
                    answers=(RR("a.example.test", "CNAME", 60, "b.example.test"),
                             RR("b.example.test", "CNAME", 60, "a.example.test")))  # fmt: skip
    found = follow("a.example.test", "AAAA", [], "a.example.test", loop)
    assert isinstance(found, Lookup) and found.error is reasons.CNAME_LOOP
    long = chain_too_long("a.example.test", "AAAA", ["x"] * 11)
    assert long.error == "CNAME chain longer than 10"
    assert isinstance(long.error, Detail) and long.error.key == "dns.lookup.cname_too_long"


def test_a_judge_passes_the_transports_reason_through_and_it_reads_in_chinese() -> None:
    lookup = Lookup("www.example.test", "AAAA", "TIMEOUT", error=reasons.NO_ANSWER_IN_TIME)
    detail = lookup_failure(lookup)
    assert detail == "AAAA www.example.test: no answer within the timeout"
    assert detail.params["error"] == reasons.NO_ANSWER_IN_TIME.stored()
    assert "超时未应答" in zh(detail)
    # a text the transports never wrote is shown as it is: no longer read for its prefix
    said = dns_error("no route: made up")
    assert said == "no route: made up" and not isinstance(said, Detail)


def test_a_resolver_out_of_scope_carries_its_category() -> None:
    answer = ResolverAnswer("::1", 53, 6, "", True, not_probed="not probed: loopback",
                            not_probed_category="loopback")  # fmt: skip
    verdict = judge_resolver_ipv6(answer)
    assert verdict.status is Status.SKIP
    assert verdict.detail.startswith("Not probed: ::1 is loopback, not global")
    category = verdict.detail.params["category"]  # type: ignore[attr-defined]
    assert isinstance(category, dict) and category["key"] == "word.loopback"


def _notes() -> tuple[str, ...]:
    return (
        NOTE_ANSWERED(family="IPv6"),
        NOTE_NO_ANSWER(family="IPv4", why=SILENT_RESOLVERS, route=ROUTE_MISSING),
    )


def test_the_scanner_facts_keep_the_notes_and_their_keys() -> None:
    facts = scanner_facts(Connectivity(True, False, notes=_notes()))
    assert facts["notes"] == [
        "a resolver answered over IPv6",
        "IPv4: its resolvers did not answer; kernel route missing",
    ]
    assert [n["key"] for n in facts["note_details"]] == [
        "scanner.note.answered",
        "scanner.note.no_answer",
    ]
    assert facts["note_details"][0]["params"] == {"family": "IPv6"}


def test_a_chinese_report_shows_the_scanner_notes_in_chinese() -> None:
    results = [CheckResult("Portal", "government", "services", "www.gov.example", "dns.aaaa",
                           Status.PASS, "ok", {})]  # fmt: skip
    summary = summarize(results)
    summary["scanner"] = scanner_facts(Connectivity(True, False, notes=_notes()))
    html = render_html(results, summary, "zh-CN")
    assert "有解析器通过 IPv6 应答" in html
    assert "a resolver answered over IPv6" not in html
    english = render_html(results, summary, "en")
    assert "a resolver answered over IPv6" in english
    # a summary without keys (an older run) shows its notes as they are
    del summary["scanner"]["note_details"]
    assert "a resolver answered over IPv6" in render_html(results, summary, "zh-CN")


def test_the_preflights_finding_is_keyed_where_it_is_made() -> None:
    silent = DnsReply("ipv4only.arpa", "AAAA", "2001:db8::54", "TIMEOUT",
                      error=reasons.NO_ANSWER_IN_TIME)  # fmt: skip
    denied = DnsReply("ipv4only.arpa", "AAAA", "2001:db8::53", "NXDOMAIN")
    said = [resolver_problem([silent, silent, silent]), resolver_problem([denied] * 3)]
    assert said == [
        "did not answer ipv4only.arpa AAAA (no answer within the timeout)",
        "answered NXDOMAIN for ipv4only.arpa AAAA",
    ]
    assert None not in said
    found = Connectivity(
        True,
        True,
        unusable_resolvers=tuple(zip(SERVERS, filter(None, said), strict=True)),
        resolvers_usable=False,
    )
    finding = found.no_resolver_detail
    assert finding == (
        "no usable resolver: 2001:db8::54 did not answer ipv4only.arpa AAAA (no answer "
        "within the timeout); 2001:db8::53 answered NXDOMAIN for ipv4only.arpa AAAA"
    )
    assert isinstance(finding, Detail) and finding.key == "engine.no_resolver"
    # every look-up then fails with it (the Resolver's `unusable`), and reads in Chinese
    detail = lookup_failure(Lookup("www.example.test", "AAAA", "NO_RESOLVER", error=finding))
    assert detail == f"AAAA www.example.test: {finding}"
    shown = zh(detail)
    assert "无可用的递归解析服务器" in shown and "超时未应答" in shown
    assert "2001:db8::53 对 ipv4only.arpa AAAA 查询应答 NXDOMAIN" in shown
    assert zh(Connectivity(True, True, resolvers_usable=False).no_resolver_detail or "") == (
        "无可用的递归解析服务器：未配置"
    )
