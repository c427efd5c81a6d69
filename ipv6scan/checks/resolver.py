"""Judgement of resolver.ipv6: does a listed resolver serve recursive AAAA over IPv6?"""

from __future__ import annotations

from ipv6scan.addresses import category_word
from ipv6scan.checks.evidence import dns_error
from ipv6scan.checks.intermittent import tries_of, with_tries
from ipv6scan.checks.options import DEFAULT_OPTIONS, CheckOptions
from ipv6scan.dnsclient.records import NO_PATH, DnsOutcome
from ipv6scan.messages import Detail, message, word
from ipv6scan.model import Status, Verdict
from ipv6scan.observations.dns import ResolverAnswer

# Words of ours by DnsReply.rcode (a DnsOutcome), declared here so that a report reading
# results knows them.
_NO_ANSWER: dict[str, Detail] = {
    DnsOutcome.TIMEOUT: word("did not answer within the timeout"),
    DnsOutcome.PORT_UNREACHABLE: word("port unreachable: nothing listens there"),
    DnsOutcome.NET_ERROR: word("network error"),
    DnsOutcome.MALFORMED: word("sent a malformed answer"),
}
NO_AAAA = word("answered with no AAAA record")
NOT_PROBED = message(
    "resolver.ipv6.not_probed",
    "Not probed: %(address)s is %(category)s, not global "
    "(--allow-prefix makes a private test range probeable).",
)
IPV4_ONLY = message(
    "resolver.ipv6.ipv4_only",
    "The resolver is listed only by its IPv4 address %(where)s: no IPv6 transport to it.",
)
NO_PATH_DETAIL = message(
    "resolver.ipv6.no_path",
    "The scanner has no IPv6 path, so the resolver's IPv6 service could not be tested.",
)
ANSWERED = message(
    "resolver.ipv6.answered", "%(where)s answered AAAA %(qname)s over IPv6 with %(answers)s."
)
ANSWERED_RCODE = message("resolver.ipv6.answered_rcode", "answered %(rcode)s")
UNVERIFIED = message(
    "resolver.ipv6.unverified",
    "Could not decide: %(where)s %(why)s for AAAA %(qname)s over IPv6, but the "
    "scanner could not check that name has AAAA (%(unverified)s).",
)
NOT_SERVED = message("resolver.ipv6.not_served", "%(where)s %(why)s for AAAA %(qname)s over IPv6.")


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
        category = category_word(ans.not_probed_category or "")
        return Verdict(
            Status.SKIP,
            NOT_PROBED(address=ans.address, category=category),
            {"address": ans.address, "port": ans.port, "not_probed": ans.not_probed},
        )
    if ans.family != 6:
        return Verdict(Status.FAIL, IPV4_ONLY(where=where), evidence)
    if not ans.scanner_ipv6 or ans.rcode == NO_PATH:
        return Verdict(Status.ERROR, NO_PATH_DETAIL(), evidence)
    if ans.rcode == "NOERROR" and ans.answers:
        return Verdict(
            Status.PASS,
            ANSWERED(where=where, qname=ans.qname, answers=list(ans.answers[:4])),
            evidence,
        )
    why = _why_not(ans.rcode)
    if ans.qname_unverified is not None and ans.rcode in ("NOERROR", "NXDOMAIN"):
        evidence["scanner_error"] = ans.qname_unverified
        return Verdict(
            Status.ERROR,
            UNVERIFIED(
                where=where,
                why=why,
                qname=ans.qname,
                unverified=dns_error(ans.qname_unverified),
            ),
            evidence,
        )
    return Verdict(Status.FAIL, NOT_SERVED(where=where, why=why, qname=ans.qname), evidence)


def _why_not(rcode: str) -> Detail:
    if rcode in _NO_ANSWER:
        return _NO_ANSWER[rcode]
    if rcode == "NOERROR":
        return NO_AAAA
    return ANSWERED_RCODE(rcode=rcode)
