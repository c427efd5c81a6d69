"""Judgement of dns.delegation: can an IPv6-only resolver walk the whole chain of zone cuts
from D's TLD down to D's own zone? Pure: reads a DelegationChain (probes/delegation.py)."""

from __future__ import annotations

from typing import Any

from ipv6scan.checks.dns import ns_answer_evidence, ns_answer_failure
from ipv6scan.checks.evidence import (
    UNDECIDED,
    address_list,
    lookup_evidence,
    lookup_failure,
    semicolons,
)
from ipv6scan.checks.intermittent import Tries, tries_of, with_tries
from ipv6scan.checks.options import DEFAULT_OPTIONS, CheckOptions
from ipv6scan.dnsclient.records import NO_PATH
from ipv6scan.messages import Detail, message, word
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

NO_PATH_DETAIL = message(
    "dns.delegation.no_path",
    "The scanner has no IPv6 path, so the delegation chain could not be walked over IPv6.",
)
NO_TLD_NS = message(
    "dns.delegation.no_tld_ns", "Could not find the name servers of the TLD: %(why)s."
)
DOES_NOT_EXIST = message(
    "dns.delegation.nxdomain", "%(domain)s does not exist: %(note)s; there is no chain to walk."
)
UNFOLLOWED = message(
    "dns.delegation.unfollowed", "Could not follow the delegation below %(zone)s: %(note)s."
)
WALKED = message(
    "dns.delegation.walked",
    "Each of the %(count)s zone cuts %(path)s has a name server that answers "
    "authoritatively over IPv6.",
)
WALKED_ONE = message(
    "dns.delegation.walked_one",
    "The zone %(path)s has a name server that answers authoritatively over IPv6.",
)
CUT_AAAA_UNKNOWN = message(
    "dns.delegation.aaaa_failed",
    "Could not look up the AAAA of %(hosts)s, name servers of %(zone)s.",
)
ON_THE_WAY = message("dns.delegation.on_the_way", "on the way %(path)s")
AT_THE_TOP = word("at the top of the chain")
NO_NS_SET = word("no NS set")
NONE = word("none")
CUT_NO_IPV6 = message(
    "dns.delegation.no_ipv6_ns",
    "No name server of %(zone)s (%(hosts)s) has a global AAAA, so an IPv6-only "
    "resolver cannot resolve %(domain)s (%(zone)s is %(where)s).",
)
CUT_SILENT = message(
    "dns.delegation.no_answer",
    "No IPv6 name-server address of %(zone)s answers authoritatively, so an IPv6-only "
    "resolver cannot resolve %(domain)s (%(zone)s is %(where)s): %(failures)s%(more)s.",
)
AND_MORE = message("dns.delegation.and_more", " and %(count)s more")


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
        return Verdict(Status.ERROR, NO_PATH_DETAIL(), evidence)
    if chain.ending == NO_TLD:
        lookup = chain.tld_lookup
        why = lookup_failure(lookup) if lookup is not None and not lookup.ok else NO_NS_SET
        return Verdict(Status.ERROR, NO_TLD_NS(why=why), evidence)
    broken = next((c for c in chain.cuts if not c.reachable), None)
    if broken is not None:
        return _broken(chain, broken, evidence)
    if chain.ending == NXDOMAIN:
        return Verdict(Status.SKIP, DOES_NOT_EXIST(domain=chain.domain, note=chain.note), evidence)
    if chain.ending == TOO_LONG:
        return Verdict(Status.ERROR, UNDECIDED(why=chain.note), evidence)
    if chain.ending != REACHED:  # UNFOLLOWED
        return Verdict(
            Status.ERROR,
            UNFOLLOWED(zone=chain.cuts[-1].zone, note=chain.note),
            evidence,
        )
    n = len(chain.cuts)
    if n > 1:
        return Verdict(Status.PASS, WALKED(count=n, path=_path(chain)), evidence)
    return Verdict(Status.PASS, WALKED_ONE(path=_path(chain)), evidence)


def _broken(chain: DelegationChain, cut: ZoneCut, evidence: dict[str, Any]) -> Verdict:
    unknown = [s.host for s in cut.servers if not s.glue and not s.addresses.lookup.ok]
    if unknown:
        # the AAAA look-ups that failed could have given an address that answers
        return Verdict(Status.ERROR, CUT_AAAA_UNKNOWN(hosts=unknown, zone=cut.zone), evidence)
    where = ON_THE_WAY(path=_path(chain)) if len(chain.cuts) > 1 else AT_THE_TOP
    if not cut.answers:
        hosts: list[str] | Detail = [s.host for s in cut.servers] or NONE
        return Verdict(
            Status.FAIL,
            CUT_NO_IPV6(zone=cut.zone, hosts=hosts, domain=chain.domain, where=where),
            evidence,
        )
    failures = [ns_answer_failure(a) for a in cut.answers[:MAX_FAILURES_NAMED]]
    more = len(cut.answers) - len(failures)
    return Verdict(
        Status.FAIL,
        CUT_SILENT(
            zone=cut.zone,
            domain=chain.domain,
            where=where,
            failures=semicolons(failures),
            more=AND_MORE(count=more) if more > 0 else "",
        ),
        evidence,
    )
