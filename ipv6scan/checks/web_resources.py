"""The judgement of web.resources: can an IPv6-only visitor load everything the home
page declares (scripts, style sheets, fonts, images, icons, frames, media)?

Pure: observation in, Verdict out. A resource is judged as web.links judges a link
(checks/web_links.py: a response below 400 over IPv6, redirects followed over IPv6); the
verdict is all (pass), at least the threshold (warn) or fewer (fail), and `error` only
when the resources that could not be checked could change it. The evidence lists each
resource host and whether it has IPv6: the list a web team forwards to its CDN or
supplier.
"""

from __future__ import annotations

from typing import Any

from ipv6scan.checks import web_evidence as ev
from ipv6scan.checks.options import DEFAULT_OPTIONS, CheckOptions

# the one rule of "does this URL work over IPv6", the tries of a chain and the examples
# of failing URLs, shared with web.links
from ipv6scan.checks.web_links import examples, link_state, tally
from ipv6scan.checks.web_tries import with_page_tries
from ipv6scan.checks.web_words import plural
from ipv6scan.messages import Detail, Param, message
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

NO_HOME = message("web.resources.no_home", "The home page gives no response over IPv6.")
NONE_DECLARED = message(
    "web.resources.none_declared",
    "The home page declares no sub-resources to load over http(s).",
)
UNDECIDED = message(
    "web.resources.undecided",
    "%(unknown)s of %(total)s sub-resources could not be checked, and they decide the outcome.",
)
HOSTS = plural(
    message("web.resources.host", "%(count)s host"),
    message("web.resources.hosts", "%(count)s hosts"),
)
_SUMMARY = (
    "%(ok)s of %(checked)s sub-resources of the home page (%(share)s) load over IPv6 from %(hosts)s"
)
ALL = message("web.resources.all", _SUMMARY + ": an IPv6-only visitor gets the whole page.")
_SHORT = {
    Status.WARN: _SUMMARY + ", at least the %(threshold)s needed but not all",
    Status.FAIL: _SUMMARY + ", below the %(threshold)s needed",
}
_WHERE = (
    "; hosts without IPv6: %(hosts_without)s.",
    "; e.g. %(a)s.",
    "; e.g. %(a)s; %(b)s.",
    "; e.g. %(a)s; %(b)s; %(c)s.",
)
# (status, how many examples: 0 when hosts without IPv6 are named) -> the sentence; flat,
# as a report renders a few levels of nesting only
SHORT = {
    (status, n): message(
        f"web.resources.{status}_" + (f"{n}_examples" if n else "hosts_without_ipv6"),
        head + where,
    )
    for status, head in _SHORT.items()
    for n, where in enumerate(_WHERE)
}


def _state(result: ResourceResult) -> tuple[str, str]:
    """("ok" | "bad" | "unknown", reason)."""
    return link_state(LinkResult(result.url, 1, result.chain))


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
    followed = [(r.chain, _state(r)[0] == "ok") for r in obs.results]
    return with_page_tries(_resources(obs, options.resources_threshold), obs.home, followed)


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


def _resources(obs: ResourcesObservation, threshold: float) -> Verdict:
    evidence: dict[str, Any] = {
        **ev.site(obs.site),
        "home": ev.chain(obs.home) if obs.home else None,
        "threshold": threshold,
        "resources_found": obs.found,
        "resources_dropped": obs.dropped,
    }
    if obs.found_more:
        evidence["resources_found_at_least"] = True  # the page declared more than counted
    if obs.home is None or obs.home.final is None:
        return Verdict(Status.SKIP, NO_HOME(), evidence)
    if not obs.results:
        return Verdict(Status.SKIP, NONE_DECLARED(), evidence)
    states = [(r, *_state(r)) for r in obs.results]
    counted = tally(states, lambda r: r.kind)
    ok, bad, unknown, checked, share = (
        counted.ok, counted.bad, counted.unknown, counted.checked, counted.share)  # fmt: skip
    hosts = _hosts(states)
    no_ipv6 = [h["host"] for h in hosts if h["ipv6"] is False]
    evidence.update(
        share=round(share, 3),
        resources_checked=checked,
        resources_ok=ok,
        resources_failed=len(bad),
        resources_unchecked=unknown,
        kinds=counted.groups,
        hosts=hosts,
        hosts_without_ipv6=no_ipv6,
        failing=[
            {"url": ev.cut(r.url), "kind": r.kind, "reason": str(why)}
            | ({"via": ev.cut(r.via)} if r.via else {})
            for r, why in bad
        ][: ev.LIST_MAX],
    )
    total = len(states)
    low = _outcome(ok / total, threshold)
    high = _outcome((ok + unknown) / total, threshold)
    if low is not high or not checked:
        return Verdict(Status.ERROR, UNDECIDED(unknown=unknown, total=total), evidence)
    summary: dict[str, Param] = {
        "ok": ok,
        "checked": checked,
        "share": f"{share:.0%}",
        "hosts": HOSTS(len({h["host"] for h in hosts})),
    }
    if low is Status.PASS:
        return Verdict(Status.PASS, ALL(**summary), evidence)
    return Verdict(low, _short(low, summary, threshold, no_ipv6, bad), evidence)


def _short(
    status: Status,
    summary: dict[str, Param],
    threshold: float,
    no_ipv6: list[str],
    bad: list[tuple[ResourceResult, str]],
) -> Detail:
    """A warn's or a fail's detail: the hosts without IPv6 when there are, else examples."""
    params = {**summary, "threshold": f"{threshold:.0%}"}
    if no_ipv6:
        named = no_ipv6[:NAMED] + (["..."] if len(no_ipv6) > NAMED else [])
        return SHORT[status, 0](**params, hosts_without=named)
    named_bad = examples([(r.url, why) for r, why in bad[:3]])
    return SHORT[status, len(named_bad)](**params, **named_bad)
