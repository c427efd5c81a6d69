"""web.resources end to end against real servers on 127.0.0.1 and ::1 with a table
resolver: the home page web.http fetched is reused, the page's own style sheet is read
one level down, resource hosts without IPv6 (or with only a ULA) are never fetched and
are named in the evidence, and the cap bounds the requests."""

from __future__ import annotations

import asyncio

from aiohttp import web

from ipv6scan.addresses import AddressPolicy
from ipv6scan.checks.web_resources import judge_resources
from ipv6scan.model import Status, Subject, Target
from ipv6scan.probes import web as wo
from ipv6scan.probes import web_resources as ro
from ipv6scan.probes.http import fetch_pinned
from tests.unit.web_servers import Seen, TableResolver, context, serve

TARGET = Target("Test", "enterprise", ("site.test",))
HOME = """<html><head>
<link rel="stylesheet" href="/site.css"><link rel="icon" href="/favicon.ico">
<script src="http://v4only.test:{port}/stats.js"></script>
<script src="http://ula.test:{port}/x.js"></script>
<script src="http://cdn.test:{port}/lib.js"></script>
</head><body>{images}<a href="/page">not a resource</a></body></html>"""
CSS = (
    "@font-face {{ src: url(/font.woff2) }}"
    " body {{ background: url(http://cdn.test:{port}/bg.png) }}"
)


def subject(port: int, path: str = "/") -> Subject:
    return Subject("url", f"http://site.test:{port}{path}", TARGET, "access")


def table() -> TableResolver:
    return TableResolver(
        {
            ("site.test", "AAAA"): ("::1",),
            ("site.test", "A"): ("127.0.0.1",),
            ("cdn.test", "AAAA"): ("::1",),
            ("v4only.test", "A"): ("127.0.0.1",),
            ("ula.test", "AAAA"): ("fd00::1",),
        }
    )


def app(seen: Seen, images: int) -> web.Application:
    async def handle(request: web.Request) -> web.Response:
        seen.requests.append(
            ("6" if ":" in (request.remote or "") else "4", request.host, request.path)
        )
        port = request.host.rsplit(":", 1)[1]
        if request.path == "/":
            imgs = "".join(f'<img src="/i{n}.png">' for n in range(images))
            return web.Response(text=HOME.format(port=port, images=imgs), content_type="text/html")
        if request.path == "/site.css":
            return web.Response(text=CSS.format(port=port), content_type="text/css")
        if request.path == "/favicon.ico":
            raise web.HTTPNotFound()
        return web.Response(body=b"x" * 100_000, content_type="application/octet-stream")

    application = web.Application()
    application.router.add_get("/{tail:.*}", handle)
    return application


async def test_resources_over_ipv6_with_the_hosts_that_lack_it() -> None:
    seen = Seen()
    async with serve(app(seen, images=3)) as port:
        ctx = context(table())
        await wo.observe_http(ctx, subject(port))
        obs = await ro.observe_resources(ctx, subject(port))
        await asyncio.sleep(0.05)
    verdict = judge_resources(obs)
    ev = verdict.evidence
    # site.css, favicon, 3 scripts, 3 images, and from the style sheet a font and a
    # background on cdn.test
    assert ev["resources_found"] == 8 and len(obs.results) == 10
    assert {r.url.split("/")[-1]: r.via for r in obs.results if r.via} == {
        "font.woff2": f"http://site.test:{port}/site.css",
        "bg.png": f"http://site.test:{port}/site.css",
    }
    assert ev["resources_ok"] == 7 and ev["resources_failed"] == 3
    assert verdict.status is Status.FAIL, verdict.detail
    hosts = {h["host"]: h for h in ev["hosts"]}
    assert hosts["v4only.test"]["ipv6"] is False and "no AAAA" in hosts["v4only.test"]["reason"]
    assert hosts["ula.test"]["ipv6"] is False
    assert "not probed: unique-local" in hosts["ula.test"]["reason"]
    assert hosts["site.test"] == {
        "host": "site.test",
        "ipv6": True,
        "resources": 6,  # site.css, the favicon, 3 images, the style sheet's font
        "failed": 1,  # the favicon's 404
        "unchecked": 0,
    }
    assert hosts["cdn.test"]["resources"] == 2 and hosts["cdn.test"]["ipv6"] is True
    assert ev["hosts_without_ipv6"] == ["v4only.test", "ula.test"]
    # every request went over IPv6; the home page once; nothing to the hosts without IPv6
    assert {family for family, _, _ in seen.requests} == {"6"}
    assert [r for r in seen.requests if r[2] == "/"] == [("6", f"site.test:{port}", "/")]
    assert not [r for r in seen.requests if r[1].startswith(("v4only", "ula"))]
    assert "/page" not in {path for _, _, path in seen.requests}


async def test_the_cap_bounds_the_requests() -> None:
    seen = Seen()
    async with serve(app(seen, images=40)) as port:
        ctx = context(table(), resources_cap=10)
        obs = await ro.observe_resources(ctx, subject(port))
        await asyncio.sleep(0.05)
    assert len(obs.results) == 10 and obs.found == 45 and obs.dropped >= 35
    assert len([r for r in seen.requests if r[2] != "/"]) <= 10


async def test_a_page_with_no_resources_skips() -> None:
    async def bare(request: web.Request) -> web.Response:
        return web.Response(text="<p>plain <a href='/x'>x</a></p>", content_type="text/html")

    application = web.Application()
    application.router.add_get("/", bare)
    async with serve(application) as port:
        obs = await ro.observe_resources(context(table()), subject(port))
    verdict = judge_resources(obs)
    assert verdict.status is Status.SKIP and "declares no" in verdict.detail


async def test_the_real_policy_never_fetches_loopback() -> None:
    seen = Seen()
    async with serve(app(seen, images=1)) as port:
        obs = await ro.observe_resources(context(table(), policy=AddressPolicy()), subject(port))
        await asyncio.sleep(0.05)
    assert seen.requests == []
    assert judge_resources(obs).status is Status.SKIP


async def test_pages_are_read_for_resources_only_when_the_check_runs() -> None:
    async with serve(app(Seen(), images=2)) as port:
        url = f"http://site.test:{port}/"
        wanted = await fetch_pinned(url, "::1", timeout=2.0, body_limit=100_000)
        unwanted = await fetch_pinned(url, "::1", timeout=2.0, body_limit=100_000, keep_resources=0)
    assert wanted.resources_total == 7 and len(wanted.resources) == 7
    assert unwanted.resources == () and unwanted.resources_total == 0
    assert unwanted.links == wanted.links  # the page is read all the same
