"""Judgements of the DNS checks: dns.aaaa, dns.ns_ipv6, dns.ns_reachable, dns.mx_ipv6."""

from __future__ import annotations

from typing import Any

from ipv6scan.checks.evidence import (
    AAAA_UNKNOWN,
    NXDOMAIN_NAME,
    UNDECIDED,
    address_list,
    dns_error,
    lookup_evidence,
    lookup_failure,
    semicolons,
)
from ipv6scan.checks.intermittent import tries_of, with_tries
from ipv6scan.checks.options import DEFAULT_OPTIONS, CheckOptions
from ipv6scan.dnsclient.records import NO_PATH, DnsOutcome
from ipv6scan.messages import Detail, message, word
from ipv6scan.model import Status, Verdict
from ipv6scan.observations.dns import (
    Addresses,
    MailExchangers,
    NameServers,
    NsAnswer,
    NsReachability,
)

# dns.aaaa's sentences (the fast lane writes them too: engine/lane.py compiles its lines
# from this judge, so they are declared here only)
LEADS_NOWHERE = message("dns.aaaa.leads_nowhere", "The name leads to no address: %(error)s.")
GLOBAL_ONE = message("dns.aaaa.global_one", "%(count)s global AAAA record: %(addresses)s.")
GLOBAL_MANY = message("dns.aaaa.global_many", "%(count)s global AAAA records: %(addresses)s.")
MIXED = message("dns.aaaa.mixed", "Global AAAA %(good)s published beside non-global %(bad)s.")
ONLY_NON_GLOBAL = message(
    "dns.aaaa.only_non_global", "No global AAAA; only non-global %(addresses)s."
)
NON_GLOBAL = message("dns.aaaa.non_global", "%(address)s (%(category)s)")
NO_AAAA = message("dns.aaaa.none", "No AAAA record.")


def judge_aaaa(found: Addresses, options: CheckOptions = DEFAULT_OPTIONS) -> Verdict:
    lookup = found.lookup
    evidence = {**lookup_evidence(lookup), "addresses": address_list(found)}
    if lookup.rcode == "NOERROR" and lookup.error:  # a CNAME loop or an endless chain
        return Verdict(Status.FAIL, LEADS_NOWHERE(error=dns_error(lookup.error)), evidence)
    if not lookup.ok:
        return Verdict(Status.ERROR, UNDECIDED(why=lookup_failure(lookup)), evidence)
    if lookup.rcode == "NXDOMAIN":
        return Verdict(Status.FAIL, NXDOMAIN_NAME(name=lookup.final_name), evidence)
    good, bad = list(found.global_), found.non_global
    bad_list = [NON_GLOBAL(address=c.address, category=c.category) for c in bad]
    if good and not bad:
        counted = GLOBAL_ONE if len(good) == 1 else GLOBAL_MANY
        return Verdict(Status.PASS, counted(count=len(good), addresses=good), evidence)
    if good:
        return Verdict(Status.WARN, MIXED(good=good, bad=bad_list), evidence)
    if bad:
        return Verdict(Status.FAIL, ONLY_NON_GLOBAL(addresses=bad_list), evidence)
    return Verdict(Status.FAIL, NO_AAAA(), evidence)


def _ns_evidence(servers: NameServers) -> dict[str, object]:
    return {
        "zone": servers.zone,
        **lookup_evidence(servers.lookup),
        "name_servers": [
            {"host": host, **lookup_evidence(found.lookup), "addresses": address_list(found)}
            for host, found in servers.hosts
        ],
    }


NS_LOOKUP_FAILED = message("dns.ns.lookup_failed", "Could not find the name servers: %(why)s.")
NO_NS_SET = message("dns.ns.no_ns_set", "No NS set found above %(domain)s.")


def _undecided_ns(servers: NameServers) -> Verdict | None:
    """The verdict when the NS set itself could not be found, else None."""
    evidence = _ns_evidence(servers)
    if servers.zone is not None:
        return None
    if servers.lookup.rcode == "NXDOMAIN":
        return Verdict(Status.FAIL, NXDOMAIN_NAME(name=servers.domain), evidence)
    if not servers.lookup.ok:
        return Verdict(Status.ERROR, NS_LOOKUP_FAILED(why=lookup_failure(servers.lookup)), evidence)
    return Verdict(Status.ERROR, NO_NS_SET(domain=servers.domain), evidence)


# ------------------------------------------------------------------ dns.ns_ipv6

NS_IPV6_ENOUGH = message(
    "dns.ns_ipv6.enough", "%(count)s of %(total)s name servers of %(zone)s have a global AAAA."
)
NS_IPV6_ONE = message(
    "dns.ns_ipv6.only_one",
    "Only one of %(total)s name servers of %(zone)s has a global AAAA (%(host)s); "
    "at least two are needed.",
)
NS_IPV6_NONE = message(
    "dns.ns_ipv6.none", "None of the %(total)s name servers of %(zone)s has a global AAAA."
)


def judge_ns_ipv6(servers: NameServers, options: CheckOptions = DEFAULT_OPTIONS) -> Verdict:
    if (undecided := _undecided_ns(servers)) is not None:
        return undecided
    evidence = _ns_evidence(servers)
    failed = [host for host, found in servers.hosts if not found.lookup.ok]
    with_v6 = [host for host, found in servers.hosts if found.global_]
    total, zone = len(servers.hosts), str(servers.zone)
    if _ns_status(len(with_v6)) != _ns_status(len(with_v6) + len(failed)):
        # the unanswered look-ups could change the outcome: not ours to guess
        return Verdict(Status.ERROR, AAAA_UNKNOWN(hosts=failed), evidence)
    status = _ns_status(len(with_v6))
    if status is Status.PASS:
        return Verdict(status, NS_IPV6_ENOUGH(count=len(with_v6), total=total, zone=zone), evidence)
    if status is Status.WARN:
        return Verdict(status, NS_IPV6_ONE(total=total, zone=zone, host=with_v6[0]), evidence)
    return Verdict(status, NS_IPV6_NONE(total=total, zone=zone), evidence)


def _ns_status(with_ipv6: int) -> Status:
    # internet.nl's rule: one IPv6 name server is not enough for resilience
    return Status.PASS if with_ipv6 >= 2 else Status.WARN if with_ipv6 == 1 else Status.FAIL


# ------------------------------------------------------------------ dns.ns_reachable

NS_NONE_IPV6 = message(
    "dns.ns_reachable.no_ipv6_ns", "No name server of %(zone)s has a global AAAA."
)
NS_NO_PATH = message(
    "dns.ns_reachable.no_path",
    "The scanner has no IPv6 path, so the name servers' IPv6 addresses could not be tested.",
)
NS_PARTLY_UNKNOWN = message(
    "dns.ns_reachable.aaaa_failed",
    "Could not look up the AAAA of %(hosts)s, so not every name-server address could be tested.",
)
NS_ALL_ANSWER = message(
    "dns.ns_reachable.all",
    "All %(count)s IPv6 name-server addresses of %(zone)s answer SOA authoritatively.",
)
NS_ONLY_ANSWERS = message(
    "dns.ns_reachable.the_one",
    "The IPv6 name-server address of %(zone)s answers SOA authoritatively.",
)
NS_SOME_ANSWER = message(
    "dns.ns_reachable.some",
    "%(good)s of %(count)s IPv6 name-server addresses answer; not: %(failures)s.",
)
NS_NONE_ANSWER = message(
    "dns.ns_reachable.none",
    "No IPv6 name-server address of %(zone)s answers authoritatively: %(failures)s.",
)
NS_ADDRESS_FAILED = message("dns.ns_reachable.address", "%(ns)s [%(address)s]: %(why)s")
ANSWERED_RCODE = message("dns.ns_reachable.answered", "answered %(rcode)s")
# Why an address did not answer, by outcome (dnsclient/records.py); words of ours,
# declared here so that a report that only reads results knows them.
_NO_ANSWER: dict[str, Detail] = {  # by DnsReply.rcode, which holds these outcomes
    DnsOutcome.TIMEOUT: word("no answer (timeout)"),
    DnsOutcome.PORT_UNREACHABLE: word("port 53 unreachable"),
    DnsOutcome.NET_ERROR: word("network error"),
    DnsOutcome.MALFORMED: word("malformed answer"),
}
NOT_AUTHORITATIVE = word("answer not authoritative")
NO_SOA = word("no SOA in the answer")
ANSWER_OK = word("ok")


def judge_ns_reachable(reach: NsReachability, options: CheckOptions = DEFAULT_OPTIONS) -> Verdict:
    """Each NS address's SOA answer, with the tries of those that needed several: a pass
    where an address answered only on a later try is intermittent."""
    verdict = _ns_reachable(reach)
    asked = [tries_of(f"{a.ns} [{a.address}]", a) for a in reach.answers]
    good = [tries_of(f"{a.ns} [{a.address}]", a) for a in reach.answers if a.good]
    return with_tries(verdict, asked, good)


def ns_answer_evidence(a: NsAnswer) -> dict[str, Any]:
    """One name server address's SOA answer, as the evidence lists it (dns.ns_reachable,
    dns.delegation)."""
    return {
        "ns": a.ns,
        "address": a.address,
        "rcode": a.rcode,
        "authoritative": a.authoritative,
        "soa": a.has_soa,
        "ms": round(a.elapsed_ms, 1),
        **({"error": a.error} if a.error else {}),
    }


def _ns_reachable(reach: NsReachability) -> Verdict:
    servers = reach.servers
    if (undecided := _undecided_ns(servers)) is not None:
        if undecided.status is Status.FAIL:  # no domain, so no name server to reach
            return Verdict(Status.SKIP, undecided.detail, undecided.evidence)
        return undecided
    evidence: dict[str, Any] = {
        "zone": servers.zone,
        "answers": [ns_answer_evidence(a) for a in reach.answers],
    }
    unknown = [host for host, found in servers.hosts if not found.lookup.ok]
    if unknown:
        evidence["aaaa_lookup_failed"] = unknown
    untestable = _untestable(reach, unknown)
    if untestable is not None:
        status, detail = untestable
        return Verdict(status, detail, evidence)
    status, detail = _answers_verdict(reach.answers, str(servers.zone), unknown)
    return Verdict(status, detail, evidence)


def _untestable(reach: NsReachability, unknown: list[str]) -> tuple[Status, Detail] | None:
    """Why no IPv6 name-server address could be asked (none, or no path of ours), else None."""
    servers = reach.servers
    if not any(found.global_ for _, found in servers.hosts):
        if unknown:
            return Status.ERROR, AAAA_UNKNOWN(hosts=unknown)
        return Status.SKIP, NS_NONE_IPV6(zone=str(servers.zone))
    if not reach.scanner_ipv6 or any(a.rcode == NO_PATH for a in reach.answers):
        return Status.ERROR, NS_NO_PATH()
    return None


def _answers_verdict(
    answers: tuple[NsAnswer, ...], zone: str, unknown: list[str]
) -> tuple[Status, Detail]:
    """The all / some / none rule over the addresses' SOA answers."""
    good = [a for a in answers if a.good]
    bad = [ns_answer_failure(a) for a in answers if not a.good]
    n = len(answers)
    if unknown and not (good and bad):
        # only "some answer, some do not" is safe whatever the unknown addresses would do
        return Status.ERROR, NS_PARTLY_UNKNOWN(hosts=unknown)
    if not bad:
        if n > 1:
            return Status.PASS, NS_ALL_ANSWER(count=n, zone=zone)
        return Status.PASS, NS_ONLY_ANSWERS(zone=zone)
    if good:
        return Status.WARN, NS_SOME_ANSWER(good=len(good), count=n, failures=semicolons(bad))
    return Status.FAIL, NS_NONE_ANSWER(zone=zone, failures=semicolons(bad))


def ns_answer_failure(a: NsAnswer) -> Detail:
    """Why one name server address did not answer authoritatively, naming it."""
    why = _why_not(a.rcode, a.authoritative, a.has_soa)
    return NS_ADDRESS_FAILED(ns=a.ns, address=a.address, why=why)


def _why_not(rcode: str, authoritative: bool, has_soa: bool) -> Detail:
    if rcode in _NO_ANSWER:
        return _NO_ANSWER[rcode]
    if rcode != "NOERROR":
        return ANSWERED_RCODE(rcode=rcode)
    if not authoritative:
        return NOT_AUTHORITATIVE
    return NO_SOA if not has_soa else ANSWER_OK


# ------------------------------------------------------------------ mail exchangers

NULL_MX = message("dns.mx.null_mx", "%(domain)s publishes a null MX: it accepts no mail.")
NO_MX = message("dns.mx.none", "%(domain)s has no MX record.")
MX_ALL_IPV6 = message("dns.mx_ipv6.all", "Every MX host has a global AAAA: %(hosts)s.")
MX_SOME_IPV6 = message(
    "dns.mx_ipv6.some",
    "%(count)s of %(total)s MX hosts have a global AAAA; without: %(without)s.",
)
MX_NO_IPV6 = message("dns.mx_ipv6.none", "No MX host has a global AAAA: %(hosts)s.")


def mx_not_applicable(mx: MailExchangers, evidence: dict[str, Any]) -> Verdict | None:
    """The verdict of every mail check when the MX set failed, is null or is empty."""
    if not mx.lookup.ok:
        return Verdict(Status.ERROR, UNDECIDED(why=lookup_failure(mx.lookup)), evidence)
    if mx.null_mx:
        return Verdict(Status.SKIP, NULL_MX(domain=mx.domain), evidence)
    if not mx.hosts:
        return Verdict(Status.SKIP, NO_MX(domain=mx.domain), evidence)
    return None


def judge_mx_ipv6(mx: MailExchangers, options: CheckOptions = DEFAULT_OPTIONS) -> Verdict:
    evidence: dict[str, Any] = {
        **lookup_evidence(mx.lookup),
        "null_mx": mx.null_mx,
        "mx": [
            {
                "preference": pref,
                "host": host,
                **lookup_evidence(found.lookup),
                "addresses": address_list(found),
            }
            for pref, host, found in mx.hosts
        ],
    }
    if mx.capped:
        evidence["mx_not_checked"] = mx.capped
    if (undecided := mx_not_applicable(mx, evidence)) is not None:
        return undecided
    failed = [host for _, host, found in mx.hosts if not found.lookup.ok]
    if failed:
        return Verdict(Status.ERROR, AAAA_UNKNOWN(hosts=failed), evidence)
    with_v6 = [host for _, host, found in mx.hosts if found.global_]
    without = [host for _, host, found in mx.hosts if not found.global_]
    if not without:
        return Verdict(Status.PASS, MX_ALL_IPV6(hosts=with_v6), evidence)
    if with_v6:
        return Verdict(
            Status.WARN,
            MX_SOME_IPV6(count=len(with_v6), total=len(mx.hosts), without=without),
            evidence,
        )
    return Verdict(Status.FAIL, MX_NO_IPV6(hosts=without), evidence)
