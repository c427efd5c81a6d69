"""Judgement of resolver.ipv6: does a listed resolver serve recursive AAAA over IPv6?"""

from __future__ import annotations

from ipv6scan.checks.intermittent import tries_of, with_tries
from ipv6scan.checks.options import DEFAULT_OPTIONS, CheckOptions
from ipv6scan.dnsclient.transport import NO_PATH
from ipv6scan.model import Status, Verdict
from ipv6scan.observations.dns import ResolverAnswer

_NO_ANSWER = {
    "TIMEOUT": "did not answer within the timeout",
    "PORT_UNREACHABLE": "port unreachable: nothing listens there",
    "NET_ERROR": "network error",
    "MALFORMED": "sent a malformed answer",
}


def judge_resolver_ipv6(ans: ResolverAnswer, options: CheckOptions = DEFAULT_OPTIONS) -> Verdict:
    """The resolver's answer, with its tries: an answer that came only on a later try
    (probes/dns.py) makes a pass intermittent."""
    verdict = _resolver_ipv6(ans)
    tries = [tries_of(_where(ans), ans)]
    return with_tries(verdict, tries, tries if ans.rcode == "NOERROR" and ans.answers else [])


def _where(ans: ResolverAnswer) -> str:
    return f"[{ans.address}]:{ans.port}" if ans.family == 6 else f"{ans.address}:{ans.port}"


def _resolver_ipv6(ans: ResolverAnswer) -> Verdict:
    where = _where(ans)
    evidence: dict[str, object] = {
        "address": ans.address,
        "port": ans.port,
        "qname": ans.qname,
        "rcode": ans.rcode,
        "answers": list(ans.answers),
    }
    if ans.error:
        evidence["error"] = ans.error
    if ans.elapsed_ms:
        evidence["ms"] = round(ans.elapsed_ms, 1)
    if ans.not_probed is not None:
        return Verdict(
            Status.SKIP,
            f"Not probed: {ans.address} is {ans.not_probed.removeprefix('not probed: ')}, "
            "not global (--allow-prefix makes a private test range probeable).",
            {"address": ans.address, "port": ans.port, "not_probed": ans.not_probed},
        )
    if ans.family != 6:
        return Verdict(
            Status.FAIL,
            f"The resolver is listed only by its IPv4 address {where}: no IPv6 transport to it.",
            evidence,
        )
    if not ans.scanner_ipv6 or ans.rcode == NO_PATH:
        return Verdict(
            Status.ERROR,
            "The scanner has no IPv6 path, so the resolver's IPv6 service could not be tested.",
            evidence,
        )
    if ans.rcode == "NOERROR" and ans.answers:
        return Verdict(
            Status.PASS,
            f"{where} answered AAAA {ans.qname} over IPv6 with {', '.join(ans.answers[:4])}.",
            evidence,
        )
    if ans.rcode in _NO_ANSWER:
        why = _NO_ANSWER[ans.rcode]
    elif ans.rcode == "NOERROR":
        why = "answered with no AAAA record"
    else:
        why = f"answered {ans.rcode}"
    if ans.qname_unverified is not None and ans.rcode in ("NOERROR", "NXDOMAIN"):
        evidence["scanner_error"] = ans.qname_unverified
        return Verdict(
            Status.ERROR,
            f"Could not decide: {where} {why} for AAAA {ans.qname} over IPv6, but the "
            f"scanner could not check that name has AAAA ({ans.qname_unverified}).",
            evidence,
        )
    return Verdict(Status.FAIL, f"{where} {why} for AAAA {ans.qname} over IPv6.", evidence)
