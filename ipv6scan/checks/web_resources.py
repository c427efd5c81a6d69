"""The judgement of web.resources: can an IPv6-only visitor load everything the home
page declares (scripts, style sheets, fonts, images, icons, frames, media)?

Pure: observation in, Verdict out. A resource is judged as web.links judges a link
(checks/web.py: a response below 400 over IPv6, redirects followed over IPv6); the
verdict is all (pass), at least the threshold (warn) or fewer (fail), and `error` only
when the resources that could not be checked could change it. The evidence lists each
resource host and whether it has IPv6: the list a web team forwards to its CDN or
supplier.
"""

from __future__ import annotations

from typing import Any

from ipv6scan.checks import web_evidence as ev
from ipv6scan.checks.evidence import plural
from ipv6scan.checks.options import DEFAULT_OPTIONS, CheckOptions

# the one rule of "does this URL work over IPv6", and the tries of a chain, shared with
# web.links
from ipv6scan.checks.web import _link_state, with_chain_tries
from ipv6scan.model import Status, Verdict
from ipv6scan.observations.web import (
    NO_ADDRESS,
    LinkResult,
    ResourceResult,
    ResourcesObservation,
)
from ipv6scan.probes.url_parts import split_url

HOSTS_MAX = 50  # hosts listed in evidence (the cap's worth)
NAMED = 5  # hosts without IPv6 named in the detail


def _state(result: ResourceResult) -> tuple[str, str]:
    """("ok" | "bad" | "unknown", reason)."""
    return _link_state(LinkResult(result.url, 1, result.chain))


def _has_ipv6(result: ResourceResult) -> bool | None:
    """Whether the resource's own host has a global AAAA (before any redirect): True
    when its first request went out over IPv6, False when the chain ended at the host
    itself for want of one, None when unknown (not checked, look-up failed)."""
    chain = result.chain
    if chain is None:
        return None
    if chain.hops:
        return True
    if chain.end == NO_ADDRESS:
        return False
    return None


def _outcome(share: float, threshold: float) -> Status:
    if share >= 1.0:
        return Status.PASS
    return Status.WARN if share >= threshold else Status.FAIL


def judge_resources(obs: ResourcesObservation, options: CheckOptions = DEFAULT_OPTIONS) -> Verdict:
    if (early := ev.preconditions(obs.site)) is not None:
        return early
    chains = [obs.home, *(r.chain for r in obs.results)]
    # a pass rests on the home page and on the resources that loaded
    worked = [obs.home, *(r.chain for r in obs.results if _state(r)[0] == "ok")]
    return with_chain_tries(_resources(obs), chains, worked)


def _hosts(states: list[tuple[ResourceResult, str, str]]) -> list[dict[str, Any]]:
    """Per resource host: has it IPv6, how many resources, how many failed; hosts
    without IPv6 first, then those with failures."""
    rows: dict[str, dict[str, Any]] = {}
    for result, state, _ in states:
        host = split_url(result.url)[1]
        row = rows.setdefault(
            host, {"host": host, "ipv6": None, "resources": 0, "failed": 0, "unchecked": 0}
        )
        row["resources"] += 1
        row["failed"] += state == "bad"
        row["unchecked"] += state == "unknown"
        has = _has_ipv6(result)
        if has is True or (has is False and row["ipv6"] is None):
            row["ipv6"] = has
        if has is False and "reason" not in row and result.chain is not None:
            row["reason"] = ev.cut(result.chain.reason, 120)
    ordered = sorted(rows.values(), key=lambda r: (r["ipv6"] is not False, -r["failed"]))
    return ordered[:HOSTS_MAX]


def _resources(obs: ResourcesObservation) -> Verdict:
    evidence: dict[str, Any] = {
        **ev.site(obs.site),
        "home": ev.chain(obs.home) if obs.home else None,
        "threshold": obs.threshold,
        "resources_found": obs.found,
        "resources_dropped": obs.dropped,
    }
    if obs.found_more:
        evidence["resources_found_at_least"] = True  # the page declared more than counted
    if obs.home is None or obs.home.final is None:
        return Verdict(Status.SKIP, "The home page gives no response over IPv6.", evidence)
    if not obs.results:
        return Verdict(
            Status.SKIP, "The home page declares no sub-resources to load over http(s).", evidence
        )
    states = [(r, *_state(r)) for r in obs.results]
    ok = sum(1 for _, s, _ in states if s == "ok")
    bad = [(r, why) for r, s, why in states if s == "bad"]
    unknown = sum(1 for _, s, _ in states if s == "unknown")
    checked = ok + len(bad)
    kinds: dict[str, dict[str, int]] = {}
    for r, s, _ in states:
        row = kinds.setdefault(r.kind, {"checked": 0, "ok": 0, "unchecked": 0})
        row["unchecked" if s == "unknown" else "checked"] += 1
        row["ok"] += s == "ok"
    hosts = _hosts(states)
    no_ipv6 = [h["host"] for h in hosts if h["ipv6"] is False]
    share = ok / checked if checked else 0.0
    evidence.update(
        share=round(share, 3),
        resources_checked=checked,
        resources_ok=ok,
        resources_failed=len(bad),
        resources_unchecked=unknown,
        kinds=kinds,
        hosts=hosts,
        hosts_without_ipv6=no_ipv6,
        failing=[
            {"url": ev.cut(r.url), "kind": r.kind, "reason": why}
            | ({"via": ev.cut(r.via)} if r.via else {})
            for r, why in bad
        ][: ev.LIST_MAX],
    )
    total = len(states)
    low = _outcome(ok / total, obs.threshold)
    high = _outcome((ok + unknown) / total, obs.threshold)
    if low is not high or not checked:
        return Verdict(
            Status.ERROR,
            f"{unknown} of {total} sub-resources could not be checked, "
            "and they decide the outcome.",
            evidence,
        )
    summary = (
        f"{ok} of {checked} sub-resources of the home page ({share:.0%}) load over IPv6 "
        f"from {plural(len({h['host'] for h in hosts}), 'host')}"
    )
    if low is Status.PASS:
        return Verdict(
            Status.PASS, f"{summary}: an IPv6-only visitor gets the whole page.", evidence
        )
    named = ", ".join(no_ipv6[:NAMED]) + (", ..." if len(no_ipv6) > NAMED else "")
    where = (
        f"; hosts without IPv6: {named}"
        if no_ipv6
        else "; e.g. " + "; ".join(f"{ev.cut(r.url, 80)} ({why})" for r, why in bad[:3])
    )
    if low is Status.WARN:
        return Verdict(
            Status.WARN,
            f"{summary}, at least the {obs.threshold:.0%} needed but not all{where}.",
            evidence,
        )
    return Verdict(
        Status.FAIL, f"{summary}, below the {obs.threshold:.0%} needed{where}.", evidence
    )
