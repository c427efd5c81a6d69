"""Observations of the web checks that speak HTTP: web.http, web.parity, web.links,
web.latency. I/O only; the judges in checks/web*.py decide.

Each starts from the subject's one Site (probes/web_site.py: its addresses and
open ports, also web.reachable's observation), shared by the five checks.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace

from ipv6scan import stall_clock
from ipv6scan.context import ScanContext
from ipv6scan.model import Subject
from ipv6scan.observations.web import (
    Chain,
    HttpObservation,
    LatencyObservation,
    LatencySide,
    LinkResult,
    LinksObservation,
    ParityObservation,
    ParityPort,
)
from ipv6scan.probes import latency
from ipv6scan.probes.http_request import PAGE, STATUS
from ipv6scan.probes.redirects import follow
from ipv6scan.probes.url_parts import split_url
from ipv6scan.probes.web_site import observe_site

LINK_WORKERS = 8  # links in flight per check (the limits still bound each server)


async def observe_http(ctx: ScanContext, subject: Subject) -> HttpObservation:
    site = await observe_site(ctx, subject)
    if not site.scanner_ipv6:
        return HttpObservation(site)
    # HTTPS first wherever 443 is open; plain HTTP when HTTPS gave no response at all
    ports = sorted(site.ports, key=lambda p: site.scheme(p) != "https")
    attempts: list[Chain] = []
    for port in ports:
        open6 = site.open_addresses(6, port)
        if not open6:
            continue
        chain = await follow(ctx, 6, site.url(port), address=open6[0])
        attempts.append(chain)
        if chain.hops and chain.hops[0].responded:
            break
    return HttpObservation(site, tuple(attempts))


async def observe_parity(ctx: ScanContext, subject: Subject) -> ParityObservation:
    site = await observe_site(ctx, subject)
    both = [p for p in site.ports if site.open_addresses(6, p) and site.open_addresses(4, p)]

    async def pair(port: int) -> ParityPort:
        url = site.url(port)
        v6, v4 = await asyncio.gather(
            follow(ctx, 6, url, address=site.open_addresses(6, port)[0]),
            follow(ctx, 4, url, address=site.open_addresses(4, port)[0]),
        )
        return ParityPort(port, v6, v4)

    pairs = await asyncio.gather(*(pair(p) for p in both))
    return ParityObservation(site, tuple(pairs))


def _same_site(url: str, hosts: set[str]) -> bool:
    host = split_url(url)[1]
    return host in hosts or host.removeprefix("www.") in hosts or f"www.{host}" in hosts


async def _check_links(
    ctx: ScanContext, urls: list[str], level: int, purpose: str, deadline: float
) -> list[LinkResult]:
    """Follow each link over IPv6 until `deadline` (on the watched clock, stall_clock);
    unfinished ones come back unchecked."""
    gate = asyncio.Semaphore(LINK_WORKERS)

    async def one(url: str) -> Chain:
        async with gate:
            return await follow(ctx, 6, url, purpose=purpose)

    tasks = [asyncio.ensure_future(one(u)) for u in urls]
    if tasks:
        await stall_clock.wait(tasks, until=deadline)
    results = []
    for url, task in zip(urls, tasks, strict=True):
        if task.done():
            results.append(LinkResult(url, level, task.result()))  # a bug surfaces here
        else:
            task.cancel()  # the shared fetch underneath goes on and ends by its own timeout
            results.append(LinkResult(url, level, None))
    return results


async def observe_links(ctx: ScanContext, subject: Subject) -> LinksObservation:
    started = stall_clock.now()
    opts = ctx.options
    http = await observe_http(ctx, subject)
    home = http.served
    base = LinksObservation(http.site, home, depth=opts.links_depth)
    page = home.final if home is not None else None
    if page is None or not page.links:
        return base
    kept = list(page.links[: opts.links_cap])
    deep = opts.links_depth >= 2
    hosts = {http.site.host, split_url(page.url)[1]}
    # level-1 pages of the same site are read whole when their own links are wanted
    first = await _check_links(ctx, kept, 1, PAGE if deep else STATUS, started + ctx.timeout * 4)
    results = list(first)
    if deep:
        seen = set(kept) | {page.url}
        second: list[str] = []
        for result in first:
            final = result.chain.final if result.chain else None
            if final is None or not _same_site(final.url, hosts):
                continue
            for link in final.links:
                if link not in seen and len(second) < opts.links_cap:
                    seen.add(link)
                    second.append(link)
        results += await _check_links(ctx, second, 2, STATUS, started + ctx.timeout * 6)
    return LinksObservation(
        http.site,
        home,
        tuple(results),
        found=page.links_total,
        dropped=page.links_total - len(kept),
        found_more=page.links_more,
        depth=opts.links_depth,
    )


@dataclass
class _Samples:
    """Measurements over one family as they come in."""

    address: str
    tcp_ms: list[float] = field(default_factory=list)
    ttfb_ms: list[float] = field(default_factory=list)
    failures: int = 0

    async def take(self, ctx: ScanContext, url: str, port: int) -> None:
        if not ctx.policy.is_global(self.address):
            self.failures += 1  # never reached: the address came from a probed, global set
            return
        # one try only: a sample measures time, and a retried one would time the retry;
        # a sample that gets no answer counts as a failure instead
        async with ctx.limits.slot(self.address):
            got = await latency.sample(self.address, url, ctx.timeout)
        if got.tcp_ms is not None:
            self.tcp_ms.append(round(got.tcp_ms, 3))
        if got.ttfb_ms is not None:
            self.ttfb_ms.append(round(got.ttfb_ms, 3))
        if got.error is not None or got.ttfb_ms is None:
            self.failures += 1

    def seen(self) -> LatencySide:
        return LatencySide(self.address, tuple(self.tcp_ms), tuple(self.ttfb_ms), self.failures)


async def observe_latency(ctx: ScanContext, subject: Subject) -> LatencyObservation:
    opts = ctx.options
    http = await observe_http(ctx, subject)
    site = http.site
    base = LatencyObservation(site, samples=opts.latency_samples)
    used = http.served
    # web.http's port (and address) first, then any other port served on both families
    ports = sorted(
        (p for p in site.ports if site.open_addresses(6, p) and site.open_addresses(4, p)),
        key=lambda p: used is None or site.url(p) != used.start_url,
    )
    if used is None or not ports or not site.scanner_ipv4:
        return base
    port = ports[0]
    url = site.url(port)
    open6 = site.open_addresses(6, port)
    same = used.start_url == url and used.hops[0].address in open6
    v6 = _Samples(used.hops[0].address if same else open6[0])
    v4 = _Samples(site.open_addresses(4, port)[0])
    first6, first4 = await asyncio.gather(
        follow(ctx, 6, url, address=v6.address), follow(ctx, 4, url, address=v4.address)
    )
    base = replace(base, first=(first6, first4))
    if first6.hops[0].responded and first4.hops[0].responded:
        # within the engine's deadline even when the last round of samples runs to timeouts
        deadline = stall_clock.now() + ctx.timeout * 3
        for round_no in range(opts.latency_samples):
            if stall_clock.now() > deadline:
                break
            # alternate the families, so that a burst of load on either path hits both alike,
            # and which goes first, so that neither always follows the other's sample
            pair = (v6, v4) if round_no % 2 == 0 else (v4, v6)
            for side in pair:
                await side.take(ctx, url, port)
    return replace(base, url=url, v6=v6.seen(), v4=v4.seen())
