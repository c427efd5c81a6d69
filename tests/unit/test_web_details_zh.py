"""The web checks' details in a zh-CN report: every sentence they declare renders in
Chinese, leaving in English only its parameters (names, addresses, URLs, the servers' own
words) and the protocol names a Chinese reader writes in Latin letters too; the probes'
own words inside a detail are translated while the English detail stays as it was; and
the judges read their thresholds from the scan's options, not from observations."""

from __future__ import annotations

import asyncio
import errno
import re
import socket
from collections.abc import Mapping

import pytest

from ipv6scan.addresses import AddressPolicy, category_word
from ipv6scan.checks import catalogue, web_words
from ipv6scan.checks.options import CheckOptions
from ipv6scan.checks.web_latency import judge_latency
from ipv6scan.checks.web_links import EXAMPLE, LINK_NO_IPV6, LINKS_BELOW, judge_links
from ipv6scan.checks.web_parity import PORT_DIFFERS, STATUS_DIFFERS_WAF, TWO_PORTS, URL_DIFFERS
from ipv6scan.checks.web_resources import judge_resources
from ipv6scan.messages import MESSAGES, Detail, Message
from ipv6scan.model import Status
from ipv6scan.observations import reasons
from ipv6scan.observations.web import (
    NO_ADDRESS,
    Chain,
    LatencyObservation,
    LatencySide,
    LinkResult,
    LinksObservation,
    ResourceResult,
    ResourcesObservation,
)
from ipv6scan.probes.tcp import connect_once
from ipv6scan.report.details import render_detail
from ipv6scan.report.i18n import translations
from tests.unit.test_web_judges import HOME, V4, V6A, all_open, chain, response

PLACEHOLDER = re.compile(r"%\((\w+)\)s")
ASCII_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]{2,}")
# what a Chinese technical text writes in Latin letters as well
TERMS = {"IPv6", "IPv4", "ICMPv6", "TCP", "HTTP", "http", "URL", "MSS", "MTU", "AAAA", "TLS"}
TERMS |= {"NXDOMAIN", "IPv"}  # "IPv%(family)s"
# a sample per parameter, none of them an ASCII word of the template's
SAMPLES = {
    "url": "https://www.example/a",
    "host": "www.example",
    "address": "2001:db8::1",
    "where": "[2001:db8::1]:443",
    "error": "ClientSSLError: certificate verify failed",
}


def _web_messages() -> list[Message]:
    catalogue.load()
    own = [v for v in vars(reasons).values() if isinstance(v, Detail)]
    words = {str(w) for w in (*web_words.OUTCOMES.values(), *own)}
    return [
        m
        for m in MESSAGES.values()
        if m.key.startswith("web.") or (m.key.startswith("word.") and m.template in words)
    ]


def _zh(detail: str) -> str:
    return render_detail(detail, translations("zh-CN").gettext, "zh-CN")


def _english_words(text: str, params: Mapping[str, object]) -> list[str]:
    for value in sorted((str(v) for v in params.values()), key=len, reverse=True):
        text = text.replace(value, " ")
    return [w for w in ASCII_WORD.findall(text) if w not in TERMS]


@pytest.mark.parametrize("declared", _web_messages(), ids=lambda m: m.key)
def test_every_web_detail_renders_in_chinese(declared: Message) -> None:
    params = {n: SAMPLES.get(n, "7") for n in PLACEHOLDER.findall(declared.template)}
    detail = declared(**params)
    shown = _zh(detail)
    if _english_words(PLACEHOLDER.sub(" ", declared.template), {}):  # words to translate
        assert re.search(r"[\u4e00-\u9fff]", shown), shown
    assert _english_words(shown, params) == [], shown


def test_nested_phrases_render_in_chinese_too() -> None:
    """A fail of web.links with its examples and their reasons, the probes' words in
    them; a web.parity fail on two ports: the deepest details the web checks write."""
    why = LINK_NO_IPV6(reason=reasons.NO_RECORD(rdtype="AAAA"))
    links = LINKS_BELOW[1](
        ok=2,
        checked=5,
        share="40%",
        threshold="90%",
        a=EXAMPLE(url="http://v4only.example/", why=why),
        b=EXAMPLE(url="http://site.example/x", why=web_words.failure(None, "timeout")),
    )
    assert links == (
        "2 of 5 links (40%) work over IPv6, below the 90% needed; e.g. http://v4only.example/ "
        "(no IPv6: no AAAA record); http://site.example/x (timeout)."
    )
    assert _zh(links) == (
        "已检测的 5 个链接中 2 个（40%）可通过 IPv6 访问，低于要求的 90%；例如 "
        "http://v4only.example/（不支持 IPv6：没有 AAAA 记录）；http://site.example/x（超时）。"
    )
    port = PORT_DIFFERS[1](
        port=443,
        a=STATUS_DIFFERS_WAF(v6="403", v4="200"),
        b=URL_DIFFERS(v6="https://m.example/", v4="https://www.example/"),
    )
    both = TWO_PORTS(a=port, b=PORT_DIFFERS[0](port=80, a=URL_DIFFERS(v6="/a", v4="/b")))
    shown = _zh(both)
    assert shown.startswith("443 端口：状态码 IPv6 为 403，IPv4 为 200（可能是"), shown
    assert _english_words(shown, {"u": "https://m.example/", "w": "https://www.example/"}) == []


@pytest.mark.parametrize(
    ("phrase", "text"),
    [
        (reasons.NO_RECORD(rdtype="AAAA"), "no AAAA record"),
        (
            reasons.NO_GLOBAL_ADDRESS(
                rdtype="AAAA",
                addresses=[
                    reasons.CATEGORY_OF(category=category_word("unique-local"), address="fd00::1")
                ],
            ),
            "no global AAAA; not probed: unique-local (fd00::1)",
        ),
        (
            reasons.NOT_PROBED_ADDRESS(category=category_word("unique-local"), address="fd00::1"),
            "not probed: unique-local (fd00::1)",
        ),
        (AddressPolicy().not_probed("2001:db8::1"), "not probed: documentation"),
        (reasons.LITERAL_OF_OTHER_FAMILY(literal=4, family=6), "an IPv4 address literal, no IPv6"),
        (reasons.NXDOMAIN(host="gone.example"), "gone.example does not exist (NXDOMAIN)"),
        (reasons.MORE_REDIRECTS(count=10), "more than 10 redirects"),
        (reasons.NO_ANSWER_WITHIN(seconds=reasons.seconds(5.0)), "no answer within 5 s"),
        (
            reasons.NO_ROUTE(reason=reasons.os_words(errno.ENETUNREACH, "Network is unreachable")),
            "no route: Network is unreachable",
        ),
        (reasons.CLOSED_WITHOUT_ANSWER, "the server closed the connection without an answer"),
        (
            reasons.DID_NOT_FINISH(seconds=reasons.seconds(10)),
            "the response did not finish in 10 s",
        ),
    ],
    ids=lambda v: str(v)[:30],
)
def test_the_probes_own_reasons_are_translated_and_unchanged(phrase: str, text: str) -> None:
    """The probes' reasons are the English they always were, and Chinese in the report."""
    assert phrase == text and isinstance(phrase, Detail) and phrase.key
    shown = _zh(phrase)
    leaves = {str(i): v for i, v in enumerate(_leaves(phrase.params))}  # names, addresses
    assert re.search(r"[\u4e00-\u9fff]", shown) and _english_words(shown, leaves) == [], shown


def _leaves(value: object) -> list[str]:
    if isinstance(value, dict):
        return [v for x in value.values() for v in _leaves(x)]
    if isinstance(value, list):
        return [v for x in value for v in _leaves(x)]
    return [str(value)]


def test_outside_words_are_shown_as_they_are() -> None:
    text = "SSLError: [SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1000)"
    assert web_words.failure(text, "tls_error") is text
    assert reasons.os_words(errno.ECONNREFUSED, "Verbindung verweigert") == "Verbindung verweigert"


def test_a_refused_connect_carries_the_reason_not_a_phrase() -> None:
    """probes/tcp.py: a refusal on loopback is our keyed reason, not free text."""
    with socket.socket() as s:  # a port nobody listens on: bound, never listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        probe = asyncio.run(connect_once("127.0.0.1", port, 2.0))
    assert probe.error == "connection refused" and isinstance(probe.error, Detail)
    assert probe.error.key == "word.connection refused"
    assert _zh(probe.error) == "拒绝连接"


# thresholds: the judges read the scan's options ------------------------------------------


def _link(url: str, status: int = 200) -> LinkResult:
    return LinkResult(url, 1, chain(response(url, status=status)))


def test_links_threshold_comes_from_the_options() -> None:
    results = (*(_link(f"{HOME}p{i}") for i in range(4)), _link(f"{HOME}gone", 404))
    obs = LinksObservation(all_open(), chain(response()), results, found=5)
    assert judge_links(obs).status is Status.FAIL  # 80% < the default 90%
    lenient = judge_links(obs, CheckOptions(links_threshold=0.8))
    assert lenient.status is Status.PASS and lenient.evidence["threshold"] == 0.8
    assert "at least 80% needed" in lenient.detail


def test_resources_threshold_comes_from_the_options() -> None:
    url = "http://v4only.example/a.js"
    gone = ResourceResult(url, "script", Chain(6, url, (), NO_ADDRESS, url, "no AAAA record"))
    fine = [
        ResourceResult(f"{HOME}i{i}.png", "image", chain(response(f"{HOME}i{i}.png")))
        for i in range(3)
    ]
    obs = ResourcesObservation(all_open(), chain(response()), (*fine, gone), found=4)
    assert judge_resources(obs).status is Status.FAIL  # 75% < 90%
    assert judge_resources(obs, CheckOptions(resources_threshold=0.7)).status is Status.WARN


def test_latency_bars_come_from_the_options() -> None:
    obs = LatencyObservation(
        all_open(),
        HOME,
        LatencySide(V6A, (30.0,), (90.0,)),
        LatencySide(V4, (30.0,), (50.0,)),
        1,
        first=(chain(response()),),
    )
    assert judge_latency(obs).status is Status.WARN  # 80% slower: between 20% and 100%
    assert judge_latency(obs, CheckOptions(latency_pass=0.9)).status is Status.PASS
    assert judge_latency(obs, CheckOptions(latency_warn=0.5)).status is Status.FAIL
