"""The pure judge of mail.smtp, fed hand-built observations: every status."""

from __future__ import annotations

from ipv6scan.addresses import AddressPolicy
from ipv6scan.checks.mail import judge_smtp
from ipv6scan.dnsclient.resolution import Lookup
from ipv6scan.model import Status
from ipv6scan.observations.dns import Addresses, MailExchangers
from ipv6scan.observations.mail import (
    GREETING,
    NO_PATH,
    REFUSED,
    REJECTED,
    TIMEOUT,
    SmtpAttempt,
    SmtpObservation,
)

POLICY = AddressPolicy.from_strings(["2001:db8::/32"])
DOMAIN = "example.test"


def aaaa(host: str, *values: str, rcode: str = "NOERROR") -> Addresses:
    return Addresses(
        Lookup(host, "AAAA", rcode, tuple(values)), tuple(POLICY.classify(v) for v in values)
    )


def exchangers(*hosts: tuple[str, Addresses], rcode: str = "NOERROR") -> MailExchangers:
    names = tuple(h for h, _ in hosts)
    lookup = Lookup(DOMAIN, "MX", rcode, names, tuple(10 * (i + 1) for i in range(len(hosts))))
    return MailExchangers(
        DOMAIN, lookup, hosts=tuple((10 * (i + 1), h, a) for i, (h, a) in enumerate(hosts))
    )


def attempt(mx: str, address: str, outcome: str = GREETING, **kw: object) -> SmtpAttempt:
    code = kw.pop("code", 220 if outcome == GREETING else None)
    banner = f"{code} {mx} ESMTP" if code else ""
    return SmtpAttempt(mx, address, outcome, code, banner, elapsed_ms=12.34, **kw)  # type: ignore[arg-type]


MX = exchangers(
    ("mx1.example.test", aaaa("mx1.example.test", "2001:db8::1")),
    ("mx2.example.test", aaaa("mx2.example.test", "2001:db8::2")),
)


def observe(mx: MailExchangers, *attempts: SmtpAttempt, ipv6: bool = True) -> SmtpObservation:
    not_probed = tuple((h, c) for _, h, found in mx.hosts for c in found.non_global)
    return SmtpObservation(mx, ipv6, attempts, not_probed)


def test_pass_when_every_address_greets() -> None:
    verdict = judge_smtp(
        observe(
            MX,
            attempt("mx1.example.test", "2001:db8::1"),
            attempt("mx2.example.test", "2001:db8::2"),
        )
    )
    assert verdict.status is Status.PASS
    assert "All 2 MX IPv6 addresses greet" in verdict.detail
    row = verdict.evidence["greetings"][0]
    assert row == {
        "mx": "mx1.example.test",
        "address": "2001:db8::1",
        "outcome": "greeting",
        "code": 220,
        "banner": "220 mx1.example.test ESMTP",
        "ms": 12.3,
    }


def test_warn_when_some_greet() -> None:
    verdict = judge_smtp(
        observe(
            MX,
            attempt("mx1.example.test", "2001:db8::1"),
            attempt("mx2.example.test", "2001:db8::2", REJECTED, code=554),
        )
    )
    assert verdict.status is Status.WARN
    assert "1 of 2" in verdict.detail and "answered 554 instead of 220" in verdict.detail


def test_fail_when_none_greets() -> None:
    verdict = judge_smtp(
        observe(
            MX,
            attempt("mx1.example.test", "2001:db8::1", REFUSED),
            attempt("mx2.example.test", "2001:db8::2", TIMEOUT),
        )
    )
    assert verdict.status is Status.FAIL
    assert "connection refused" in verdict.detail and "no greeting" in verdict.detail


def test_incomplete_greeting_counts_as_greeting() -> None:
    mx = exchangers(("mx1.example.test", aaaa("mx1.example.test", "2001:db8::1")))
    verdict = judge_smtp(observe(mx, attempt("mx1.example.test", "2001:db8::1", complete=False)))
    assert verdict.status is Status.PASS
    assert verdict.evidence["greetings"][0]["complete"] is False


def test_skip_without_mx_null_mx_or_global_aaaa() -> None:
    no_mx = MailExchangers(DOMAIN, Lookup(DOMAIN, "MX", "NOERROR"))
    null = MailExchangers(DOMAIN, Lookup(DOMAIN, "MX", "NOERROR", (".",), (0,)), null_mx=True)
    v4_only = exchangers(("mx1.example.test", aaaa("mx1.example.test")))
    ula = exchangers(("mx1.example.test", aaaa("mx1.example.test", "fd00::25")))
    for mx in (no_mx, null, v4_only, ula):
        assert judge_smtp(observe(mx)).status is Status.SKIP
    verdict = judge_smtp(observe(ula))
    assert "Not probed: fd00::25 (unique-local)" in verdict.detail
    assert verdict.evidence["not_probed"] == [
        {"mx": "mx1.example.test", "address": "fd00::25", "reason": "not probed: unique-local"}
    ]


def test_error_when_mx_lookup_fails() -> None:
    mx = MailExchangers(DOMAIN, Lookup(DOMAIN, "MX", "SERVFAIL"))
    assert judge_smtp(observe(mx)).status is Status.ERROR


def test_error_without_an_ipv6_path_never_fail() -> None:
    verdict = judge_smtp(observe(MX, ipv6=False))
    assert verdict.status is Status.ERROR and "no IPv6 path" in verdict.detail


def test_no_route_on_connect_is_an_error_for_that_address() -> None:
    only = exchangers(("mx1.example.test", aaaa("mx1.example.test", "2001:db8::1")))
    verdict = judge_smtp(
        observe(only, attempt("mx1.example.test", "2001:db8::1", NO_PATH, error="No route"))
    )
    assert verdict.status is Status.ERROR and "no IPv6 path" in verdict.detail
    # one greets, the other had no route: the outcome could be pass or warn, so undecided
    undecided = judge_smtp(
        observe(
            MX,
            attempt("mx1.example.test", "2001:db8::1"),
            attempt("mx2.example.test", "2001:db8::2", NO_PATH, error="No route"),
        )
    )
    assert undecided.status is Status.ERROR
    # one greets, one refuses: warn whatever the untested address would do
    three = exchangers(
        ("mx1.example.test", aaaa("mx1.example.test", "2001:db8::1", "2001:db8::3")),
        ("mx2.example.test", aaaa("mx2.example.test", "2001:db8::2")),
    )
    mixed = judge_smtp(
        observe(
            three,
            attempt("mx1.example.test", "2001:db8::1"),
            attempt("mx1.example.test", "2001:db8::3", NO_PATH, error="No route"),
            attempt("mx2.example.test", "2001:db8::2", REFUSED),
        )
    )
    assert mixed.status is Status.WARN


def test_failed_aaaa_lookup_leaves_it_undecided() -> None:
    mx = exchangers(
        ("mx1.example.test", aaaa("mx1.example.test", "2001:db8::1")),
        ("mx2.example.test", aaaa("mx2.example.test", rcode="SERVFAIL")),
    )
    verdict = judge_smtp(observe(mx, attempt("mx1.example.test", "2001:db8::1")))
    assert verdict.status is Status.ERROR
    assert verdict.evidence["aaaa_lookup_failed"] == ["mx2.example.test"]
