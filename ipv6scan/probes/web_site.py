"""The Site of a web subject: its AAAA and A, and a TCP connect to every global address
on every port. web.reachable's whole observation, and where the other web checks start
(probes/web.py). Only global addresses are ever connected to; the rest appear
in the evidence as "not probed: <category>".

Kept apart from the HTTP probes so that a scan of web.reachable alone never imports the
HTTP stack (aiohttp and its TLS contexts: a tenth of a 2,000-host scan's time).
"""

from __future__ import annotations

import asyncio
from ipaddress import ip_address

from ipv6scan.context import ScanContext
from ipv6scan.dnsclient.resolution import Lookup
from ipv6scan.model import Subject
from ipv6scan.observations.dns import Addresses
from ipv6scan.observations.web import PROBED_MAX, Site
from ipv6scan.probes import tcp
from ipv6scan.probes.dns import addresses, classify
from ipv6scan.probes.url_parts import split_url


def _literal_addresses(ctx: ScanContext, host: str, rdtype: str) -> Addresses | None:
    try:
        addr = ip_address(host)
    except ValueError:
        return None
    wanted = 6 if rdtype == "AAAA" else 4
    values = (addr.compressed,) if addr.version == wanted else ()
    return classify(ctx, Lookup(host, rdtype, "NOERROR", values=values))


async def _addresses(ctx: ScanContext, host: str, rdtype: str) -> Addresses:
    literal = _literal_addresses(ctx, host, rdtype)
    return literal if literal is not None else await addresses(ctx, host, rdtype)


async def _site(ctx: ScanContext, subject: Subject) -> Site:
    ports: tuple[int, ...]
    if subject.kind == "url":
        scheme, host, port, path = split_url(subject.name)
        ports, url_scheme = (port,), scheme
    else:
        host, ports, url_scheme, path = subject.name, (80, 443), None, "/"
    aaaa, a = await asyncio.gather(_addresses(ctx, host, "AAAA"), _addresses(ctx, host, "A"))
    targets = [
        (address, port)
        for found in (aaaa, a)
        for address in found.global_[:PROBED_MAX]
        for port in ports
    ]
    probes = await asyncio.gather(*(tcp.connect(ctx, addr, port) for addr, port in targets))
    return Site(
        subject.name,
        host,
        ports,
        url_scheme,
        path,
        aaaa,
        a,
        ctx.connectivity.ipv6,
        ctx.connectivity.ipv4,
        tuple(probes),
    )


async def observe_site(ctx: ScanContext, subject: Subject) -> Site:
    """The subject's addresses and open ports; once per scan. Also web.reachable's observation."""
    return await ctx.memo.get(("site", subject.kind, subject.name), lambda: _site(ctx, subject))
