"""Judgement of mail.smtp: does every MX IPv6 address greet with SMTP 220 on port 25?"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ipv6scan.checks.dns import mx_not_applicable
from ipv6scan.checks.evidence import AAAA_UNKNOWN, semicolons
from ipv6scan.checks.intermittent import Tries, tries_of, with_tries
from ipv6scan.checks.options import DEFAULT_OPTIONS, CheckOptions
from ipv6scan.messages import message, word
from ipv6scan.model import Status, Verdict
from ipv6scan.observations.mail import (
    CLOSED,
    GREETING,
    MALFORMED,
    NO_PATH,
    OVERSIZED,
    REFUSED,
    REJECTED,
    RESET,
    TIMEOUT,
    SmtpAttempt,
    SmtpObservation,
)
from ipv6scan.observations.reasons import address_category

_WHY = {  # words of ours, declared here so that a report reading results knows them
    REFUSED: word("connection refused"),
    TIMEOUT: word("no greeting within the timeout"),
    CLOSED: word("closed the connection before greeting"),
    RESET: word("reset the connection"),
    MALFORMED: word("answered with something that is not SMTP"),
    OVERSIZED: word("sent a greeting that never ended"),
}
REJECTED_CODE = message("mail.smtp.rejected", "answered %(code)s instead of 220")
REJECTED_SAID = message(
    "mail.smtp.rejected_banner", "answered %(code)s instead of 220 (%(banner)s)"
)
NO_IPV6_MX = message("mail.smtp.no_ipv6_mx", "No MX host of %(domain)s has a global AAAA.")
NO_IPV6_MX_LISTED = message(
    "mail.smtp.no_ipv6_mx_listed",
    "No MX host of %(domain)s has a global AAAA. Not probed: %(listed)s.",
)
NO_PATH_DETAIL = message(
    "mail.smtp.no_path",
    "The scanner has no IPv6 path, so the mail servers' IPv6 addresses could not be tested.",
)
NO_PATH_TO = message(
    "mail.smtp.no_path_to", "The scanner has no IPv6 path to %(addresses)s (%(error)s)."
)
UNTESTED = message("mail.smtp.untested", "Not every MX IPv6 address could be tested: %(untested)s.")
UNTESTED_NO_PATH = message("mail.smtp.untested_no_path", "[%(address)s] (no path)")
ADDRESS_FAILED = message("mail.smtp.address", "%(mx)s [%(address)s]: %(why)s")
ALL_GREET = message(
    "mail.smtp.all", "All %(count)s MX IPv6 addresses greet with SMTP 220 on port 25."
)
THE_ONE_GREETS = message(
    "mail.smtp.the_one", "The MX IPv6 address %(address)s greets with SMTP 220 on port 25."
)
SOME_GREET = message(
    "mail.smtp.some",
    "%(good)s of %(total)s MX IPv6 addresses greet with SMTP 220; not: %(failures)s.",
)
NONE_GREET = message(
    "mail.smtp.none", "No MX IPv6 address greets with SMTP 220 on port 25: %(failures)s."
)


def _attempt_evidence(a: SmtpAttempt) -> dict[str, Any]:
    row: dict[str, Any] = {
        "mx": a.mx,
        "address": a.address,
        "outcome": a.outcome,
        "code": a.code,
        "banner": a.banner,
        "ms": round(a.elapsed_ms, 1),
    }
    if not a.complete:
        row["complete"] = False
    if a.error:
        row["error"] = a.error
    return row


def _why_not(a: SmtpAttempt) -> str:
    if a.outcome == REJECTED:
        if a.banner:  # the server's own words, as it said them
            return REJECTED_SAID(code=str(a.code), banner=a.banner[:80])
        return REJECTED_CODE(code=str(a.code))
    return _WHY.get(a.outcome, a.error or str(a.outcome))


def judge_smtp(obs: SmtpObservation, options: CheckOptions = DEFAULT_OPTIONS) -> Verdict:
    mx = obs.mx
    evidence: dict[str, Any] = {
        "greetings": [_attempt_evidence(a) for a in obs.attempts],
        "not_probed": [
            {"mx": host, "address": c.address, "reason": f"not probed: {c.category}"}
            for host, c in obs.not_probed
        ],
    }
    unknown = [host for _, host, found in mx.hosts if not found.lookup.ok]
    if unknown:
        evidence["aaaa_lookup_failed"] = unknown
    if obs.capped:
        evidence["addresses_not_probed_cap"] = obs.capped
    if (undecided := mx_not_applicable(mx, evidence)) is not None:
        return undecided
    if not any(found.global_ for _, _, found in mx.hosts):
        if unknown:
            return Verdict(Status.ERROR, AAAA_UNKNOWN(hosts=unknown), evidence)
        if not obs.not_probed:
            return Verdict(Status.SKIP, NO_IPV6_MX(domain=mx.domain), evidence)
        skipped = [address_category(c.address, c.category)
                   for _, c in obs.not_probed]  # fmt: skip
        return Verdict(
            Status.SKIP,
            NO_IPV6_MX_LISTED(domain=mx.domain, listed=semicolons(skipped)),
            evidence,
        )
    if not obs.scanner_ipv6:
        return Verdict(Status.ERROR, NO_PATH_DETAIL(), evidence)
    verdict = _judge_attempts(obs.attempts, unknown, evidence)
    greeted = [a for a in obs.attempts if a.outcome == GREETING]
    return with_tries(verdict, _tries(obs.attempts), _tries(greeted))


def _tries(attempts: Iterable[SmtpAttempt]) -> list[Tries]:
    return [tries_of(f"{a.mx} [{a.address}]:25", a) for a in attempts]


def _judge_attempts(
    attempts: tuple[SmtpAttempt, ...], unknown: list[str], evidence: dict[str, Any]
) -> Verdict:
    no_path = [a for a in attempts if a.outcome == NO_PATH]
    good = [a for a in attempts if a.outcome == GREETING]
    bad = [a for a in attempts if a.outcome not in (GREETING, NO_PATH)]
    if no_path and not good and not bad:
        return Verdict(
            Status.ERROR,
            NO_PATH_TO(addresses=[a.address for a in no_path], error=str(no_path[0].error)),
            evidence,
        )
    if (unknown or no_path) and not (good and bad):
        # only "some greet, some do not" holds whatever the untested addresses would do
        untested: list[str] = [*unknown, *(UNTESTED_NO_PATH(address=a.address) for a in no_path)]
        return Verdict(Status.ERROR, UNTESTED(untested=untested), evidence)
    if not bad:
        if len(good) > 1:
            return Verdict(Status.PASS, ALL_GREET(count=len(good)), evidence)
        return Verdict(Status.PASS, THE_ONE_GREETS(address=good[0].address), evidence)
    failures = semicolons(
        [ADDRESS_FAILED(mx=a.mx, address=a.address, why=_why_not(a)) for a in bad]
    )
    if good:
        return Verdict(
            Status.WARN,
            SOME_GREET(good=len(good), total=len(good) + len(bad), failures=failures),
            evidence,
        )
    return Verdict(Status.FAIL, NONE_GREET(failures=failures), evidence)
