"""Judgements of the DNS checks: dns.aaaa, dns.ns_ipv6, dns.ns_reachable, dns.mx_ipv6."""

from __future__ import annotations

from typing import Any

from ipv6scan.checks.evidence import address_list, lookup_evidence, plural
from ipv6scan.checks.intermittent import tries_of, with_tries
from ipv6scan.checks.options import DEFAULT_OPTIONS, CheckOptions
from ipv6scan.dnsclient.transport import NO_PATH
from ipv6scan.model import Status, Verdict
from ipv6scan.observations.dns import (
    Addresses,
    MailExchangers,
    NameServers,
    NsAnswer,
    NsReachability,
)


def judge_aaaa(found: Addresses, options: CheckOptions = DEFAULT_OPTIONS) -> Verdict:
    lookup = found.lookup
    evidence = {**lookup_evidence(lookup), "addresses": address_list(found)}
    if lookup.rcode == "NOERROR" and lookup.error:  # a CNAME loop or an endless chain
        return Verdict(Status.FAIL, f"The name leads to no address: {lookup.error}.", evidence)
    if not lookup.ok:
        return Verdict(Status.ERROR, f"Could not decide: {lookup.describe_failure()}.", evidence)
    if lookup.rcode == "NXDOMAIN":
        return Verdict(Status.FAIL, f"{lookup.final_name} does not exist (NXDOMAIN).", evidence)
    good, bad = found.global_, found.non_global
    bad_text = ", ".join(f"{c.address} ({c.category})" for c in bad)
    if good and not bad:
        return Verdict(
            Status.PASS, f"{plural(len(good), 'global AAAA record')}: {', '.join(good)}.", evidence
        )
    if good:
        return Verdict(
            Status.WARN,
            f"Global AAAA {', '.join(good)} published beside non-global {bad_text}.",
            evidence,
        )
    if bad:
        return Verdict(Status.FAIL, f"No global AAAA; only non-global {bad_text}.", evidence)
    return Verdict(Status.FAIL, "No AAAA record.", evidence)


def _ns_evidence(servers: NameServers) -> dict[str, object]:
    return {
        "zone": servers.zone,
        **lookup_evidence(servers.lookup),
        "name_servers": [
            {"host": host, **lookup_evidence(found.lookup), "addresses": address_list(found)}
            for host, found in servers.hosts
        ],
    }


def _undecided_ns(servers: NameServers) -> Verdict | None:
    """The verdict when the NS set itself could not be found, else None."""
    evidence = _ns_evidence(servers)
    if servers.zone is not None:
        return None
    if servers.lookup.rcode == "NXDOMAIN":
        return Verdict(Status.FAIL, f"{servers.domain} does not exist (NXDOMAIN).", evidence)
    if not servers.lookup.ok:
        return Verdict(
            Status.ERROR,
            f"Could not find the name servers: {servers.lookup.describe_failure()}.",
            evidence,
        )
    return Verdict(Status.ERROR, f"No NS set found above {servers.domain}.", evidence)


def judge_ns_ipv6(servers: NameServers, options: CheckOptions = DEFAULT_OPTIONS) -> Verdict:
    if (undecided := _undecided_ns(servers)) is not None:
        return undecided
    evidence = _ns_evidence(servers)
    failed = [host for host, found in servers.hosts if not found.lookup.ok]
    with_v6 = [host for host, found in servers.hosts if found.global_]
    total = len(servers.hosts)
    if _ns_status(len(with_v6)) != _ns_status(len(with_v6) + len(failed)):
        # the unanswered look-ups could change the outcome: not ours to guess
        return Verdict(
            Status.ERROR, f"Could not look up the AAAA of {', '.join(failed)}.", evidence
        )
    status = _ns_status(len(with_v6))
    if status is Status.PASS:
        return Verdict(
            status,
            f"{len(with_v6)} of {total} name servers of {servers.zone} have a global AAAA.",
            evidence,
        )
    if status is Status.WARN:
        return Verdict(
            status,
            f"Only one of {total} name servers of {servers.zone} has a "
            f"global AAAA ({with_v6[0]}); at least two are needed.",
            evidence,
        )
    return Verdict(
        status, f"None of the {total} name servers of {servers.zone} has a global AAAA.", evidence
    )


def _ns_status(with_ipv6: int) -> Status:
    # internet.nl's rule: one IPv6 name server is not enough for resilience
    return Status.PASS if with_ipv6 >= 2 else Status.WARN if with_ipv6 == 1 else Status.FAIL


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
    targets = [addr for _, found in servers.hosts for addr in found.global_]
    unknown = [host for host, found in servers.hosts if not found.lookup.ok]
    if unknown:
        evidence["aaaa_lookup_failed"] = unknown
    if not targets:
        if unknown:
            return Verdict(
                Status.ERROR, f"Could not look up the AAAA of {', '.join(unknown)}.", evidence
            )
        return Verdict(
            Status.SKIP, f"No name server of {servers.zone} has a global AAAA.", evidence
        )
    if not reach.scanner_ipv6 or any(a.rcode == NO_PATH for a in reach.answers):
        return Verdict(
            Status.ERROR,
            "The scanner has no IPv6 path, so the name servers' IPv6 "
            "addresses could not be tested.",
            evidence,
        )
    good = [a for a in reach.answers if a.good]
    bad = [ns_answer_failure(a) for a in reach.answers if not a.good]
    n = len(reach.answers)
    if unknown and not (good and bad):
        # only "some answer, some do not" is safe whatever the unknown addresses would do
        return Verdict(
            Status.ERROR,
            f"Could not look up the AAAA of {', '.join(unknown)}, so "
            f"not every name-server address could be tested.",
            evidence,
        )
    if not bad:
        return Verdict(
            Status.PASS,
            f"All {n} IPv6 name-server addresses of {servers.zone} answer SOA authoritatively."
            if n > 1
            else f"The IPv6 name-server address of {servers.zone} answers SOA authoritatively.",
            evidence,
        )
    if good:
        return Verdict(
            Status.WARN,
            f"{len(good)} of {n} IPv6 name-server addresses answer; not: {'; '.join(bad)}.",
            evidence,
        )
    return Verdict(
        Status.FAIL,
        f"No IPv6 name-server address of {servers.zone} answers authoritatively: {'; '.join(bad)}.",
        evidence,
    )


def ns_answer_failure(a: NsAnswer) -> str:
    """Why one name server address did not answer authoritatively, naming it."""
    return f"{a.ns} [{a.address}]: {_why_not(a.rcode, a.authoritative, a.has_soa)}"


def _why_not(rcode: str, authoritative: bool, has_soa: bool) -> str:
    readable = {
        "TIMEOUT": "no answer (timeout)",
        "PORT_UNREACHABLE": "port 53 unreachable",
        "NET_ERROR": "network error",
        "MALFORMED": "malformed answer",
    }
    if rcode in readable:
        return readable[rcode]
    if rcode != "NOERROR":
        return f"answered {rcode}"
    if not authoritative:
        return "answer not authoritative"
    return "no SOA in the answer" if not has_soa else "ok"


def mx_not_applicable(mx: MailExchangers, evidence: dict[str, Any]) -> Verdict | None:
    """The verdict of every mail check when the MX set failed, is null or is empty."""
    if not mx.lookup.ok:
        return Verdict(Status.ERROR, f"Could not decide: {mx.lookup.describe_failure()}.", evidence)
    if mx.null_mx:
        return Verdict(
            Status.SKIP, f"{mx.domain} publishes a null MX: it accepts no mail.", evidence
        )
    if not mx.hosts:
        return Verdict(Status.SKIP, f"{mx.domain} has no MX record.", evidence)
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
        return Verdict(
            Status.ERROR, f"Could not look up the AAAA of {', '.join(failed)}.", evidence
        )
    with_v6 = [host for _, host, found in mx.hosts if found.global_]
    without = [host for _, host, found in mx.hosts if not found.global_]
    if not without:
        return Verdict(
            Status.PASS, f"Every MX host has a global AAAA: {', '.join(with_v6)}.", evidence
        )
    if with_v6:
        return Verdict(
            Status.WARN,
            f"{len(with_v6)} of {len(mx.hosts)} MX hosts have a global "
            f"AAAA; without: {', '.join(without)}.",
            evidence,
        )
    return Verdict(Status.FAIL, f"No MX host has a global AAAA: {', '.join(without)}.", evidence)
