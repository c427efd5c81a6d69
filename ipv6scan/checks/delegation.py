"""Judgement of dns.delegation: can an IPv6-only resolver walk the whole chain of zone cuts
from D's TLD down to D's own zone? Pure: reads a DelegationChain (probes/delegation.py)."""

from __future__ import annotations

from typing import Any

from ipv6scan.checks.dns import ns_answer_evidence, ns_answer_failure
from ipv6scan.checks.evidence import address_list, lookup_evidence
from ipv6scan.checks.intermittent import Tries, tries_of, with_tries
from ipv6scan.checks.options import DEFAULT_OPTIONS, CheckOptions
from ipv6scan.dnsclient.transport import NO_PATH
from ipv6scan.model import Status, Verdict
from ipv6scan.observations.delegation import (
    NO_IPV6,
    NO_TLD,
    NXDOMAIN,
    REACHED,
    TOO_LONG,
    DelegationChain,
    ZoneCut,
)

MAX_FAILURES_NAMED = 4  # unanswering addresses named in a detail


def _cut_evidence(cut: ZoneCut) -> dict[str, Any]:
    answered = {a.address for a in cut.answered}
    out: dict[str, Any] = {
        "zone": cut.zone,
        "from": cut.source,
        "name_servers": [
            {
                "host": s.host,
                **({"glue": True} if s.glue else lookup_evidence(s.addresses.lookup)),
                "addresses": address_list(s.addresses),
                "answered": [a for a in s.addresses.global_ if a in answered],
            }
            for s in cut.servers
        ],
        "answers": [ns_answer_evidence(a) for a in cut.answers],
        "ipv6_ok": cut.reachable,
    }
    if cut.capped:
        out["capped"] = cut.capped
    return out


def _evidence(chain: DelegationChain) -> dict[str, Any]:
    out: dict[str, Any] = {
        "domain": chain.domain,
        "ending": chain.ending,
        "chain": [_cut_evidence(c) for c in chain.cuts],
    }
    if chain.note:
        out["note"] = chain.note
    if chain.tld_lookup is not None and not chain.cuts:
        out["tld_ns"] = {"name": chain.tld_lookup.name, **lookup_evidence(chain.tld_lookup)}
    return out


def _path(chain: DelegationChain) -> str:
    return " -> ".join(c.zone for c in chain.cuts)


def judge_delegation(chain: DelegationChain, options: CheckOptions = DEFAULT_OPTIONS) -> Verdict:
    """The verdict, with the tries of every SOA question; a pass that rests on a cut whose
    every answering address needed several tries is intermittent."""
    verdict = _judge(chain)
    asked = [_tries(a) for c in chain.cuts for a in c.answers]
    relied_on: list[Tries] = []
    for cut in chain.cuts:
        good = cut.answered
        if good and all(a.failed_attempts for a in good):
            relied_on += [_tries(a) for a in good]
    return with_tries(verdict, asked, relied_on)


def _tries(answer: Any) -> Tries:
    return tries_of(f"{answer.ns} [{answer.address}]", answer)


def _judge(chain: DelegationChain) -> Verdict:
    evidence = _evidence(chain)
    no_path = any(a.rcode == NO_PATH for c in chain.cuts for a in c.answers)
    if chain.ending == NO_IPV6 or no_path:
        return Verdict(
            Status.ERROR,
            "The scanner has no IPv6 path, so the delegation chain could not be walked over IPv6.",
            evidence,
        )
    if chain.ending == NO_TLD:
        lookup = chain.tld_lookup
        why = lookup.describe_failure() if lookup is not None and not lookup.ok else "no NS set"
        return Verdict(
            Status.ERROR, f"Could not find the name servers of the TLD: {why}.", evidence
        )
    broken = next((c for c in chain.cuts if not c.reachable), None)
    if broken is not None:
        return _broken(chain, broken, evidence)
    if chain.ending == NXDOMAIN:
        return Verdict(
            Status.SKIP,
            f"{chain.domain} does not exist: {chain.note}; there is no chain to walk.",
            evidence,
        )
    if chain.ending == TOO_LONG:
        return Verdict(Status.ERROR, f"Could not decide: {chain.note}.", evidence)
    if chain.ending != REACHED:  # UNFOLLOWED
        return Verdict(
            Status.ERROR,
            f"Could not follow the delegation below {chain.cuts[-1].zone}: {chain.note}.",
            evidence,
        )
    n = len(chain.cuts)
    return Verdict(
        Status.PASS,
        f"Each of the {n} zone cuts {_path(chain)} has a name server that answers "
        "authoritatively over IPv6."
        if n > 1
        else f"The zone {_path(chain)} has a name server that answers authoritatively over IPv6.",
        evidence,
    )


def _broken(chain: DelegationChain, cut: ZoneCut, evidence: dict[str, Any]) -> Verdict:
    unknown = [s.host for s in cut.servers if not s.glue and not s.addresses.lookup.ok]
    if unknown:
        # the AAAA look-ups that failed could have given an address that answers
        return Verdict(
            Status.ERROR,
            f"Could not look up the AAAA of {', '.join(unknown)}, name servers of {cut.zone}.",
            evidence,
        )
    where = f"on the way {_path(chain)}" if len(chain.cuts) > 1 else "at the top of the chain"
    if not cut.answers:
        hosts = ", ".join(s.host for s in cut.servers) or "none"
        return Verdict(
            Status.FAIL,
            f"No name server of {cut.zone} ({hosts}) has a global AAAA, so an IPv6-only "
            f"resolver cannot resolve {chain.domain} ({cut.zone} is {where}).",
            evidence,
        )
    failures = [ns_answer_failure(a) for a in cut.answers[:MAX_FAILURES_NAMED]]
    more = len(cut.answers) - len(failures)
    return Verdict(
        Status.FAIL,
        f"No IPv6 name-server address of {cut.zone} answers authoritatively, so an IPv6-only "
        f"resolver cannot resolve {chain.domain} ({cut.zone} is {where}): "
        f"{'; '.join(failures)}{f' and {more} more' if more > 0 else ''}.",
        evidence,
    )
