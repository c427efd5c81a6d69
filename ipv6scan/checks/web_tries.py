"""The tries of the web checks' fetch chains in a verdict (checks/intermittent.py's rule):
every fetch's tries as evidence, and a pass turned intermittent when a fetch it rests on
answered only after failed tries."""

from __future__ import annotations

from collections.abc import Iterable

from ipv6scan.checks import web_evidence as ev
from ipv6scan.checks.intermittent import Tries, tries_of, with_tries
from ipv6scan.model import Verdict
from ipv6scan.observations.web import Chain, Fetch


def fetch_tries(fetches: Iterable[Fetch]) -> list[Tries]:
    return [tries_of(f"{ev.cut(f.url, 100)} [{f.address}]", f) for f in fetches]


def _relied_on(chains: Iterable[Chain | None]) -> list[Fetch]:
    """The IPv6 fetches a verdict rests on: the hops that got a response. An IPv4 side's
    tries are evidence, not intermittence, as in web.reachable: IPv6 is what is judged."""
    return [
        hop for c in chains if c is not None for hop in c.hops if hop.responded and hop.family == 6
    ]


def _chain_fetches(chains: Iterable[Chain | None]) -> list[Fetch]:
    return [hop for c in chains if c is not None for hop in c.hops]


def with_chain_tries(
    verdict: Verdict, chains: Iterable[Chain | None], relied_on: Iterable[Chain | None]
) -> Verdict:
    """`verdict` with the tries of every fetch of `chains` in its evidence; a pass turns
    intermittent when an IPv6 fetch of `relied_on` answered only after failed tries."""
    return with_tries(
        verdict, fetch_tries(_chain_fetches(chains)), fetch_tries(_relied_on(relied_on))
    )


def with_page_tries(
    verdict: Verdict, home: Chain | None, followed: Iterable[tuple[Chain | None, bool]]
) -> Verdict:
    """`verdict` on a home page and the fetches it led to (its links, its resources), each
    with whether it worked: every fetch's tries as evidence, and a pass resting on the
    home page and on the followed fetches that worked."""
    pairs = list(followed)
    chains = [home, *(chain for chain, _ in pairs)]
    worked = [home, *(chain for chain, ok in pairs if ok)]
    return with_chain_tries(verdict, chains, worked)
