"""Judgement of web.links: do the home page's links (二级, and with depth 2 三级) work
over IPv6? And the one rule of "does this URL work over IPv6", which web.resources
shares.

Pure: observation in, Verdict out. The threshold is the scan's
(CheckOptions.links_threshold); `error` only when the links that could not be checked
could change the outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ipv6scan.checks import web_evidence as ev
from ipv6scan.checks.options import DEFAULT_OPTIONS, CheckOptions
from ipv6scan.checks.web_tries import with_page_tries
from ipv6scan.checks.web_words import failure, outcome
from ipv6scan.checks.web_words import reason as said
from ipv6scan.messages import Detail, Param, message
from ipv6scan.model import Status, Verdict
from ipv6scan.observations.web import NO_ADDRESS, NO_RESPONSE, LinkResult, LinksObservation

R = TypeVar("R")

# a link's (or a resource's) state, and the examples of failing ones
LINK_TIMED_OUT = message("web.links.timed_out", "not checked: the check's time ran out")
LINK_UNCHECKED = message("web.links.unchecked", "could not be checked: %(why)s")
LINK_STATUS = message("web.links.status", "status %(status)s")
LINK_NO_IPV6 = message("web.links.no_ipv6", "no IPv6: %(reason)s")
LINK_NO_IPV6_REDIRECTED = message(
    "web.links.no_ipv6_redirected", "no IPv6 (redirected to %(url)s): %(reason)s"
)
LINK_NO_RESPONSE = message("web.links.no_response", "no response: %(why)s")
EXAMPLE = message("web.links.example", "%(url)s (%(why)s)")
NO_HOME = message("web.links.no_home", "The home page gives no response over IPv6.")
NO_LINKS = message("web.links.no_links", "The home page has no http(s) links.")
LINKS_UNDECIDED = message(
    "web.links.undecided",
    "%(unknown)s of %(total)s links could not be checked, and they decide the outcome.",
)
LINKS_ENOUGH = message(
    "web.links.enough",
    "%(ok)s of %(checked)s links (%(share)s) work over IPv6 (at least %(threshold)s needed).",
)
# one to three examples, "; "-joined (flat: a report renders a few levels of nesting only)
LINKS_BELOW = (
    message(
        "web.links.below_1",
        "%(ok)s of %(checked)s links (%(share)s) work over IPv6, below the %(threshold)s "
        "needed; e.g. %(a)s.",
    ),
    message(
        "web.links.below_2",
        "%(ok)s of %(checked)s links (%(share)s) work over IPv6, below the %(threshold)s "
        "needed; e.g. %(a)s; %(b)s.",
    ),
    message(
        "web.links.below_3",
        "%(ok)s of %(checked)s links (%(share)s) work over IPv6, below the %(threshold)s "
        "needed; e.g. %(a)s; %(b)s; %(c)s.",
    ),
)


def examples(bad: list[tuple[str, str]]) -> dict[str, Detail]:
    """The first three failing URLs with why, as the parameters a, b, c."""
    return {
        name: EXAMPLE(url=ev.cut(url, 80) or "", why=why)
        for name, (url, why) in zip("abc", bad, strict=False)
    }


@dataclass(frozen=True)
class Tally(Generic[R]):
    """What web.links and web.resources count of their rows' states (link_state)."""

    ok: int
    bad: list[tuple[R, str]]  # (row, why) of each "bad" row, in order
    unknown: int
    groups: dict[str, dict[str, int]]  # group -> checked, ok, unchecked

    @property
    def checked(self) -> int:
        return self.ok + len(self.bad)

    @property
    def share(self) -> float:
        return self.ok / self.checked if self.checked else 0.0


def tally(states: list[tuple[R, str, str]], group: Callable[[R], str]) -> Tally[R]:
    """The counts of (row, state, why) triples, overall and per `group` of a row."""
    groups: dict[str, dict[str, int]] = {}
    for r, s, _ in states:
        row = groups.setdefault(group(r), {"checked": 0, "ok": 0, "unchecked": 0})
        row["unchecked" if s == "unknown" else "checked"] += 1
        row["ok"] += s == "ok"
    return Tally(
        ok=sum(1 for _, s, _ in states if s == "ok"),
        bad=[(r, why) for r, s, why in states if s == "bad"],
        unknown=sum(1 for _, s, _ in states if s == "unknown"),
        groups=groups,
    )


def link_state(result: LinkResult) -> tuple[str, str]:
    """("ok" | "bad" | "unknown", reason)."""
    chain = result.chain
    if chain is None:
        return "unknown", LINK_TIMED_OUT()
    if chain.undecided:
        last_error = chain.last.error if chain.last else None
        why = (
            said(chain.reason)
            if chain.reason
            else said(last_error)
            if last_error
            else outcome(chain.end)
        )
        return "unknown", LINK_UNCHECKED(why=why)
    final = chain.final
    if final is not None and final.status is not None:
        return ("ok", "") if final.status < 400 else ("bad", LINK_STATUS(status=final.status))
    if chain.end == NO_ADDRESS:
        reason = said(chain.reason)
        if chain.stopped_at == result.url:
            return "bad", LINK_NO_IPV6(reason=reason)
        stopped = ev.cut(chain.stopped_at, 100)
        return "bad", LINK_NO_IPV6_REDIRECTED(url=str(stopped), reason=reason)
    if chain.end == NO_RESPONSE and chain.last is not None:
        return "bad", LINK_NO_RESPONSE(why=failure(chain.last.error, chain.last.outcome))
    return "bad", said(chain.reason) if chain.reason else outcome(chain.end)


def judge_links(obs: LinksObservation, options: CheckOptions = DEFAULT_OPTIONS) -> Verdict:
    if (early := ev.preconditions(obs.site)) is not None:
        return early
    followed = [(r.chain, link_state(r)[0] == "ok") for r in obs.results]
    return with_page_tries(_links(obs, options.links_threshold), obs.home, followed)


def _links(obs: LinksObservation, threshold: float) -> Verdict:
    site = obs.site
    evidence: dict[str, Any] = {
        **ev.site(site),
        "home": ev.chain(obs.home) if obs.home else None,
        "depth": obs.depth,
        "threshold": threshold,
        "links_found": obs.found,
        "links_dropped": obs.dropped,
    }
    if obs.found_more:
        evidence["links_found_at_least"] = True  # the page had more than were counted
    if obs.home is None or obs.home.final is None:
        return Verdict(Status.SKIP, NO_HOME(), evidence)
    if not obs.results:
        return Verdict(Status.SKIP, NO_LINKS(), evidence)
    states = [(r, *link_state(r)) for r in obs.results]
    counted = tally(states, lambda r: str(r.level))
    ok, bad, unknown, checked, share = (
        counted.ok, counted.bad, counted.unknown, counted.checked, counted.share)  # fmt: skip
    evidence.update(
        share=round(share, 3),
        links_checked=checked,
        links_ok=ok,
        links_failed=len(bad),
        links_unchecked=unknown,
        levels=counted.groups,
        failing=[{"url": ev.cut(r.url), "level": r.level, "reason": str(why)} for r, why in bad][
            : ev.LIST_MAX
        ],
    )
    total = len(states)
    low, high = ok / total, (ok + unknown) / total
    if low < threshold <= high or not checked:
        return Verdict(Status.ERROR, LINKS_UNDECIDED(unknown=unknown, total=total), evidence)
    counts: dict[str, Param] = {
        "ok": ok,
        "checked": checked,
        "share": f"{share:.0%}",
        "threshold": f"{threshold:.0%}",
    }
    if high < threshold:
        named = examples([(r.url, why) for r, why in bad[:3]])
        return Verdict(Status.FAIL, LINKS_BELOW[len(named) - 1](**counts, **named), evidence)
    return Verdict(Status.PASS, LINKS_ENOUGH(**counts), evidence)
