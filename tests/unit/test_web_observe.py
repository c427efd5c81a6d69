"""The web observations end to end against real servers on 127.0.0.1 and ::1, with a
table resolver: scope refusal (the real policy never lets loopback be probed), redirect
chains kept on IPv6, links, parity and latency, then the judges on what was seen."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

from ipv6scan.addresses import AddressPolicy
from ipv6scan.checks.web import (
    judge_http,
    judge_latency,
    judge_links,
    judge_parity,
    judge_reachable,
)
from ipv6scan.context import ScanContext
from ipv6scan.model import Status, Subject, Target
from ipv6scan.observations.web import NO_ADDRESS, NOT_PROBED, TOO_MANY_REDIRECTS
from ipv6scan.probes import web as wo
from ipv6scan.probes.redirects import follow
from tests.unit.web_servers import Seen, TableResolver, context, serve

TARGET = Target("Test", "enterprise", ("site.test",))
PAGE = """<html><head><title>Home</title></head><body>
<p>Welcome to the test site. {extra}</p>
<a href="/a">a</a> <a href="/b#top">b</a> <a href="/b">b again</a>
<a href="http://v4only.test:{port}/">v4</a> <a href="http://ula.test:{port}/">ula</a>
<a href="mailto:x@site.test">mail</a> <a href="/missing">missing</a>
</body></html>"""


def subject(port: int, path: str = "/") -> Subject:
    return Subject("url", f"http://site.test:{port}{path}", TARGET, "access")


def table(**extra: tuple[str, ...] | str) -> TableResolver:
    rows = {
        ("site.test", "AAAA"): ("::1",),
        ("site.test", "A"): ("127.0.0.1",),
        ("v4only.test", "A"): ("127.0.0.1",),
        ("ula.test", "AAAA"): ("fd00::1",),
    }
    rows.update({(name.replace("_", "."), "AAAA"): v for name, v in extra.items()})
    return TableResolver(rows)


def site_app(seen: Seen, *, v6_extra: str = "", v6_status: int = 200) -> web.Application:
    async def home(request: web.Request) -> web.Response:
        v6 = ":" in (request.remote or "")
        seen.requests.append(("6" if v6 else "4", request.host, request.path_qs))
        port = request.host.rsplit(":", 1)[1]
        extra = v6_extra if v6 else ""
        return web.Response(
            text=PAGE.format(extra=extra, port=port),
            content_type="text/html",
            status=v6_status if v6 else 200,
        )

    async def page(request: web.Request) -> web.Response:
        seen.requests.append(
            ("6" if ":" in (request.remote or "") else "4", request.host, request.path)
        )
        return web.Response(text="<a href='/deep'>deep</a>", content_type="text/html")

    async def to_v4_only(request: web.Request) -> web.Response:
        port = request.host.rsplit(":", 1)[1]
        raise web.HTTPMovedPermanently(f"http://v4only.test:{port}/")

    async def loop(request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        raise web.HTTPFound(f"/loop/{n + 1}")

    async def to_ula_literal(request: web.Request) -> web.Response:
        raise web.HTTPFound("http://[fd00::1]/")

    app = web.Application()
    app.router.add_get("/", home)
    app.router.add_get("/a", page)
    app.router.add_get("/b", page)
    app.router.add_get("/deep", page)
    app.router.add_get("/go", to_v4_only)
    app.router.add_get("/loop/{n}", loop)
    app.router.add_get("/ula", to_ula_literal)
    return app


async def test_a_site_served_alike_on_both_families_passes_every_check() -> None:
    seen = Seen()
    async with serve(site_app(seen)) as port:
        ctx = context(table(), latency_samples=3)
        subj = subject(port)
        site = await wo.observe_site(ctx, subj)
        http = await wo.observe_http(ctx, subj)
        parity = await wo.observe_parity(ctx, subj)
        links = await wo.observe_links(ctx, subj)
        latency = await wo.observe_latency(ctx, subj)

    assert judge_reachable(site).status is Status.PASS
    verdict = judge_http(http)
    assert verdict.status is Status.PASS, verdict.detail
    assert verdict.evidence["requests"][0]["hops"][0]["address"] == "::1"
    verdict = judge_parity(parity)
    assert verdict.status is Status.PASS, verdict.detail
    assert verdict.evidence["ports"][0]["similarity"] == 1.0

    # links: /a, /b ok; v4only.test has no AAAA; ula.test only a ULA; /missing 404
    verdict = judge_links(links)
    assert verdict.evidence["links_found"] == 5
    assert verdict.evidence["links_ok"] == 2 and verdict.evidence["links_failed"] == 3
    assert verdict.status is Status.FAIL, verdict.detail
    reasons = {
        f["url"].split("/")[2].split(":")[0]: f["reason"] for f in verdict.evidence["failing"]
    }
    assert "no AAAA" in reasons["v4only.test"]
    assert "not probed: unique-local" in reasons["ula.test"]
    assert "404" in verdict.evidence["failing"][-1]["reason"]

    verdict = judge_latency(latency)
    assert verdict.status in (Status.PASS, Status.WARN, Status.FAIL)
    assert (
        len(verdict.evidence["ipv6"]["tcp_ms"]) == 3
        and len(verdict.evidence["ipv4"]["ttfb_ms"]) == 3
    )
    assert "ratio" in verdict.evidence

    # the home page was fetched once per family, however many checks read it
    homes = [r for r in seen.requests if r[2] == "/"]
    assert sorted(r[0] for r in homes).count("6") >= 1
    assert all(r[1] == f"site.test:{port}" for r in seen.requests)


async def test_links_depth_two_follows_the_same_site_pages() -> None:
    async with serve(site_app(Seen())) as port:
        ctx = context(table(), links_depth=2, links_threshold=0.5)
        links = await wo.observe_links(ctx, subject(port))
    verdict = judge_links(links, ctx.options)
    assert verdict.evidence["levels"]["2"]["checked"] == 1  # /deep, found on /a and /b once
    assert verdict.evidence["levels"]["2"]["ok"] == 1
    assert verdict.status is Status.PASS, verdict.detail  # 3 of 6 >= 0.5


async def test_a_redirect_to_an_ipv4_only_host_fails_web_http() -> None:
    async with serve(site_app(Seen())) as port:
        ctx = context(table())
        http = await wo.observe_http(ctx, subject(port, "/go"))
    verdict = judge_http(http)
    assert verdict.status is Status.FAIL
    attempt = verdict.evidence["requests"][0]
    assert attempt["end"] == NO_ADDRESS
    assert attempt["left_ipv6_at"] == f"http://v4only.test:{port}/"
    assert "leaves IPv6" in verdict.detail


async def test_redirect_chains_are_bounded() -> None:
    async with serve(site_app(Seen())) as port:
        ctx = context(table(), max_redirects=3)
        chain = await follow(ctx, 6, f"http://site.test:{port}/loop/0", address="::1")
    assert chain.end == TOO_MANY_REDIRECTS and len(chain.hops) == 4


async def test_a_redirect_to_a_ula_literal_is_never_followed() -> None:
    async with serve(site_app(Seen())) as port:
        ctx = context(table())
        chain = await follow(ctx, 6, f"http://site.test:{port}/ula", address="::1")
    assert chain.end == NO_ADDRESS and chain.reason == "not probed: unique-local (fd00::1)"
    assert len(chain.hops) == 1


async def test_the_real_policy_never_connects_to_loopback() -> None:
    # Given a zone whose AAAA and A point at the scanner's own loopback, where a server listens
    seen = Seen()
    async with serve(site_app(seen)) as port:
        ctx = context(table(), policy=AddressPolicy())
        subj = subject(port)
        site = await wo.observe_site(ctx, subj)
        http = await wo.observe_http(ctx, subj)
        links = await wo.observe_links(ctx, subj)
        await asyncio.sleep(0.05)
    # Then nothing was probed, and the evidence says why
    assert seen.requests == [] and site.tcp == ()
    verdict = judge_reachable(site)
    assert verdict.status is Status.SKIP
    assert {"address": "::1", "reason": "not probed: loopback"} in verdict.evidence["not_probed"]
    assert {"address": "127.0.0.1", "reason": "not probed: loopback"} in verdict.evidence[
        "not_probed"
    ]
    assert judge_http(http).status is Status.SKIP
    assert judge_links(links).status is Status.SKIP


async def test_fetches_refuse_non_global_addresses_even_when_asked_directly() -> None:
    ctx = context(table(), policy=AddressPolicy())
    chain = await follow(ctx, 6, "http://site.test:1/", address="::1")
    assert chain.hops[0].outcome == NOT_PROBED and chain.hops[0].error == "not probed: loopback"


async def test_no_ipv6_path_is_an_error_not_a_failure() -> None:
    seen = Seen()
    async with serve(site_app(seen)) as port:
        ctx = context(table(), ipv6=False)
        subj = subject(port)
        site = await wo.observe_site(ctx, subj)
        http = await wo.observe_http(ctx, subj)
    for verdict in (judge_reachable(site), judge_http(http)):
        assert verdict.status is Status.ERROR and "no IPv6 path" in verdict.detail
    assert all(r[0] == "4" for r in seen.requests)


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"v6_extra": "Different words entirely. " * 200}, "similarity"),
        ({"v6_status": 403}, "firewall or rate limit"),
    ],
)
async def test_parity_finds_what_differs(options: dict[str, object], words: str) -> None:
    async with serve(site_app(Seen(), **options)) as port:  # type: ignore[arg-type]
        ctx = context(table())
        parity = await wo.observe_parity(ctx, subject(port))
    verdict = judge_parity(parity)
    assert verdict.status is Status.FAIL and words in verdict.detail


async def test_links_beyond_the_cap_are_counted_not_fetched() -> None:
    seen = Seen()
    async with serve(site_app(seen)) as port:
        ctx = context(table(), links_cap=2, links_threshold=1.0)
        links = await wo.observe_links(ctx, subject(port))
    verdict = judge_links(links, ctx.options)
    # the first two in document order: /a and /b (the #top fragment dropped)
    assert [r.url for r in links.results] == [
        f"http://site.test:{port}/a",
        f"http://site.test:{port}/b",
    ]
    assert verdict.evidence["links_found"] == 5 and verdict.evidence["links_dropped"] == 3
    assert verdict.status is Status.PASS, verdict.detail
    assert not any(r[2] == "/missing" for r in seen.requests)


async def test_latency_samples_take_turns_at_going_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each round samples both families, and the one that goes first alternates: the side
    that always followed the other's sample could read slower on a loaded machine."""
    order: list[str] = []
    take = wo._Samples.take

    async def recorded(self: wo._Samples, ctx: ScanContext, url: str, port: int) -> None:
        order.append("6" if ":" in self.address else "4")
        await take(self, ctx, url, port)

    monkeypatch.setattr(wo._Samples, "take", recorded)
    async with serve(site_app(Seen())) as port:
        ctx = context(table(), latency_samples=4)
        await wo.observe_latency(ctx, subject(port))
    assert "".join(order) == "64466446"
