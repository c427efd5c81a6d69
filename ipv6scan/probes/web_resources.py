"""The observation of web.resources: each sub-resource the home page declares, fetched
over IPv6 only. I/O only; checks/web_resources.py judges.

The page is web.http's (shared: no second request); its resources were read when it
was fetched (probes/html_resources.py). The page's own style sheets (same site) are
fetched whole once and their url(...) and @import targets added, one level down; every
other resource gets a short status read. Each goes through the redirect follower over
IPv6, so every host is resolved and scope-checked (a non-global address is never
fetched) and every request holds its destination's slot. At most `resources_cap`
resources, all within the check's deadline.
"""

from __future__ import annotations

from ipv6scan import stall_clock
from ipv6scan.context import ScanContext
from ipv6scan.model import Subject
from ipv6scan.observations.web import ResourceResult, ResourcesObservation
from ipv6scan.probes.html_resources import STYLESHEET
from ipv6scan.probes.http_request import STATUS, STYLE
from ipv6scan.probes.tries import deadline_extra
from ipv6scan.probes.url_parts import split_url

# web.links' bounded, deadline-cut fetching and its rule of "the same site", shared
from ipv6scan.probes.web import _check_links, _same_site, observe_http


async def observe_resources(ctx: ScanContext, subject: Subject) -> ResourcesObservation:
    started = stall_clock.now()  # _check_links' deadlines are on the watched clock
    opts = ctx.options
    http = await observe_http(ctx, subject)
    home = http.served
    base = ResourcesObservation(http.site, home)
    page = home.final if home is not None else None
    if page is None or not page.resources:
        return base
    # the tries of a resource that does not answer may run one after the other
    slack = deadline_extra(opts.attempts, ctx.timeout)
    cap = opts.resources_cap
    hosts = {http.site.host, split_url(page.url)[1]}
    declared = [(kind, url) for kind, url in page.resources[:cap] if url != page.url]
    own_sheets = [url for kind, url in declared if kind == STYLESHEET and _same_site(url, hosts)]
    read_whole = set(own_sheets)
    sheets = await _check_links(ctx, own_sheets, 1, STYLE, started + ctx.timeout * 3 + slack)
    seen = {url for _, url in declared} | {page.url}
    via: dict[str, str] = {}
    extra: list[tuple[str, str]] = []
    dropped = max(0, page.resources_total - cap)
    for sheet in sheets:
        final = sheet.chain.final if sheet.chain is not None else None
        if final is None or final.status is None or final.status >= 400:
            continue
        for kind, url in final.resources:
            if url in seen:
                continue
            seen.add(url)
            if len(declared) + len(extra) >= cap:
                dropped += 1
                continue
            via[url] = sheet.url
            extra.append((kind, url))
    rest = [url for _, url in [*declared, *extra] if url not in read_whole]
    fetched = await _check_links(ctx, rest, 1, STATUS, started + ctx.timeout * 5 + slack)
    chains = {r.url: r.chain for r in (*sheets, *fetched)}
    results = tuple(
        ResourceResult(url, kind, chains[url], via.get(url)) for kind, url in [*declared, *extra]
    )
    return ResourcesObservation(
        http.site,
        home,
        results,
        found=page.resources_total,
        dropped=dropped,
        found_more=page.resources_more,
    )
