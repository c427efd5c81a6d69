"""Redirect chains over one family: every hop resolved, scope-checked, then fetched.

A hop whose host has no global address of the family ends the chain: over
IPv6 that is where the site leaves IPv6 (internet.nl #143/#668 fail it on
purpose), and the chain records the URL and why.
"""

from __future__ import annotations

from ipaddress import ip_address
from urllib.parse import urljoin

from ipv6scan.addresses import category_word
from ipv6scan.context import ScanContext
from ipv6scan.dnsclient.reasons import lookup_failure
from ipv6scan.observations.reasons import (
    CATEGORY_OF,
    LITERAL_OF_OTHER_FAMILY,
    MORE_REDIRECTS,
    NO_GLOBAL_ADDRESS,
    NO_RECORD,
    NOT_HTTP_LOCATION,
    NOT_PROBED_ADDRESS,
    NXDOMAIN,
)
from ipv6scan.observations.web import (
    BAD_REDIRECT,
    FINAL,
    LOOKUP_FAILED,
    NO_ADDRESS,
    NO_RESPONSE,
    TOO_MANY_REDIRECTS,
    Chain,
    ChainEnd,
    Fetch,
)
from ipv6scan.probes.dns import addresses
from ipv6scan.probes.html_links import absolute_link
from ipv6scan.probes.http_request import PAGE, REDIRECTS
from ipv6scan.probes.url_parts import split_url

URL_MAX = 300


def _literal(host: str) -> str | None:
    try:
        return str(ip_address(host))
    except ValueError:
        return None


async def pick_address(
    ctx: ScanContext, host: str, family: int
) -> tuple[str | None, ChainEnd, str]:
    """(the first global address of `host` in `family`, FINAL, ""), or (None, how the
    chain ends, reason)."""
    rdtype = "AAAA" if family == 6 else "A"
    literal = _literal(host)
    if literal is not None:
        klass = ctx.policy.classify(literal)
        if klass.version != family:
            why = LITERAL_OF_OTHER_FAMILY(literal=klass.version, family=family)
            return None, NO_ADDRESS, why
        if not klass.is_global:
            why = NOT_PROBED_ADDRESS(category=category_word(klass.category), address=klass.address)
            return None, NO_ADDRESS, why
        return klass.address, ChainEnd.FINAL, ""
    found = await addresses(ctx, host, rdtype)
    if not found.lookup.ok:
        return None, LOOKUP_FAILED, lookup_failure(found.lookup)
    if found.global_:
        return found.global_[0], ChainEnd.FINAL, ""
    if found.non_global:
        bad = [CATEGORY_OF(category=category_word(c.category), address=c.address)
               for c in found.non_global[:4]]  # fmt: skip
        return None, NO_ADDRESS, NO_GLOBAL_ADDRESS(rdtype=rdtype, addresses=bad)
    if found.lookup.rcode == "NXDOMAIN":
        return None, NO_ADDRESS, NXDOMAIN(host=host)
    return None, NO_ADDRESS, NO_RECORD(rdtype=rdtype)


async def _follow(
    ctx: ScanContext, family: int, url: str, address: str | None, purpose: str
) -> Chain:
    # Imported here: the HTTP client (aiohttp, cryptography) loads with a scan's first
    # fetch, not with the registry, which a target list's validation imports too.
    from ipv6scan.probes.http import fetch

    hops: list[Fetch] = []
    for _ in range(ctx.options.max_redirects + 1):
        _, host, _, _ = split_url(url)
        if address is None or hops:
            picked, end, reason = await pick_address(ctx, host, family)
            if picked is None:
                return Chain(
                    family,
                    url if not hops else hops[0].url,
                    tuple(hops),
                    end,
                    url[:URL_MAX],
                    reason,
                )
            address = picked
        hop = await fetch(ctx, url, address, purpose)
        hops.append(hop)
        if not hop.responded:
            return Chain(family, hops[0].url, tuple(hops), NO_RESPONSE)
        if hop.status not in REDIRECTS or not hop.location:
            return Chain(family, hops[0].url, tuple(hops), FINAL)
        target = absolute_link(urljoin(url, hop.location))
        if target is None:
            return Chain(
                family,
                hops[0].url,
                tuple(hops),
                BAD_REDIRECT,
                hop.location[:URL_MAX],
                NOT_HTTP_LOCATION,
            )
        url = target
    return Chain(
        family,
        hops[0].url,
        tuple(hops),
        TOO_MANY_REDIRECTS,
        url[:URL_MAX],
        MORE_REDIRECTS(count=ctx.options.max_redirects),
    )


async def follow(
    ctx: ScanContext, family: int, url: str, *, address: str | None = None, purpose: str = PAGE
) -> Chain:
    """GET `url` over `family` and follow its redirects; the first hop goes to
    `address` when given (already chosen by the caller), else to the host's first
    global address. Shared per scan."""
    key = ("chain", family, url, address, purpose)
    return await ctx.memo.get(key, lambda: _follow(ctx, family, url, address, purpose))
