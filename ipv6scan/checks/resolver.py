"""Judgement of resolver.ipv6: does a listed resolver serve recursive AAAA over IPv6?"""

from __future__ import annotations

from ipv6scan.model import Status, Verdict
from ipv6scan.observations import ResolverAnswer
from ipv6scan.probes.dns import NO_PATH

_NO_ANSWER = {
    "TIMEOUT": "did not answer within the timeout",
    "PORT_UNREACHABLE": "port unreachable: nothing listens there",
    "NET_ERROR": "network error",
    "MALFORMED": "sent a malformed answer",
}


def judge_resolver_ipv6(ans: ResolverAnswer) -> Verdict:
    where = f"[{ans.address}]:{ans.port}" if ans.family == 6 else f"{ans.address}:{ans.port}"
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
    return Verdict(Status.FAIL, f"{where} {why} for AAAA {ans.qname} over IPv6.", evidence)
