"""Judgement of mail.smtp: does every MX IPv6 address greet with SMTP 220 on port 25?"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ipv6scan.checks.dns import mx_not_applicable
from ipv6scan.checks.intermittent import Tries, tries_of, with_tries
from ipv6scan.checks.options import DEFAULT_OPTIONS, CheckOptions
from ipv6scan.model import Status, Verdict
from ipv6scan.observations.net import (
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

_WHY = {
    REFUSED: "connection refused",
    TIMEOUT: "no greeting within the timeout",
    CLOSED: "closed the connection before greeting",
    RESET: "reset the connection",
    MALFORMED: "answered with something that is not SMTP",
    OVERSIZED: "sent a greeting that never ended",
}


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
        return f"answered {a.code} instead of 220" + (f" ({a.banner[:80]})" if a.banner else "")
    return _WHY.get(a.outcome, a.error or a.outcome)


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
            return Verdict(
                Status.ERROR, f"Could not look up the AAAA of {', '.join(unknown)}.", evidence
            )
        skipped = "; ".join(f"{c.address} ({c.category})" for _, c in obs.not_probed)
        extra = f" Not probed: {skipped}." if skipped else ""
        return Verdict(
            Status.SKIP, f"No MX host of {mx.domain} has a global AAAA.{extra}", evidence
        )
    if not obs.scanner_ipv6:
        return Verdict(
            Status.ERROR,
            "The scanner has no IPv6 path, so the mail servers' IPv6 addresses "
            "could not be tested.",
            evidence,
        )
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
            f"The scanner has no IPv6 path to {', '.join(a.address for a in no_path)} "
            f"({no_path[0].error}).",
            evidence,
        )
    if (unknown or no_path) and not (good and bad):
        # only "some greet, some do not" holds whatever the untested addresses would do
        untested = [*unknown, *(f"[{a.address}] (no path)" for a in no_path)]
        return Verdict(
            Status.ERROR,
            f"Not every MX IPv6 address could be tested: {', '.join(untested)}.",
            evidence,
        )
    failures = "; ".join(f"{a.mx} [{a.address}]: {_why_not(a)}" for a in bad)
    if not bad:
        return Verdict(
            Status.PASS,
            f"All {len(good)} MX IPv6 addresses greet with SMTP 220 on port 25."
            if len(good) > 1
            else f"The MX IPv6 address {good[0].address} greets with SMTP 220 on port 25.",
            evidence,
        )
    if good:
        return Verdict(
            Status.WARN,
            f"{len(good)} of {len(good) + len(bad)} MX IPv6 addresses greet with SMTP 220; "
            f"not: {failures}.",
            evidence,
        )
    return Verdict(
        Status.FAIL, f"No MX IPv6 address greets with SMTP 220 on port 25: {failures}.", evidence
    )
