"""The TCP and HTTP probes against real servers on 127.0.0.1 and ::1 (nothing else is
contacted): pinning, Host header and SNI, bounded bodies, one deadline per request,
certificates recorded but never a gate."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import pytest
from aiohttp import web

from ipv6scan.observations.web import OPEN, REFUSED, RESET, RESPONSE, TIMEOUT, TLS_ERROR
from ipv6scan.probes.certificates import verify
from ipv6scan.probes.http import fetch_pinned
from ipv6scan.probes.tcp import connect_once
from tests.unit.web_servers import LOOPBACK, Seen, self_signed, serve

LOOPBACKS = pytest.mark.parametrize("address", LOOPBACK)


def url(
    address: str, port: int, path: str = "/", scheme: str = "http", host: str = "site.test"
) -> str:
    del address  # the host name goes in the URL; the address is pinned separately
    return f"{scheme}://{host}:{port}{path}"


def app(seen: Seen) -> web.Application:
    async def home(request: web.Request) -> web.Response:
        family = "6" if ":" in (request.remote or "") else "4"
        seen.requests.append((family, request.host, request.path))
        return web.Response(text="<html><a href='/a'>a</a></html>", content_type="text/html")

    async def trickle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        for _ in range(100):
            await response.write(b"x")
            await asyncio.sleep(0.2)
        return response

    async def endless(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        chunk = b"y" * 65536
        for _ in range(10_000):  # bounded: 640 MB, far more than any limit in these tests
            await response.write(chunk)
        return response

    async def slow_headers(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.Response(text="late")

    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPFound("/")

    application = web.Application()
    application.router.add_get("/", home)
    application.router.add_get("/trickle", trickle)
    application.router.add_get("/endless", endless)
    application.router.add_get("/slow", slow_headers)
    application.router.add_get("/moved", moved)
    return application


@LOOPBACKS
async def test_connect_open_and_refused(address: str) -> None:
    # Given a listening server and a port nobody listens on
    async with serve(app(Seen()), (address,)) as port:
        got = await connect_once(address, port, 2.0)
    closed = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET)
    closed.bind((address, 0))
    free = closed.getsockname()[1]
    closed.close()
    # Then the first is open with a connect time, the second refused
    assert got.outcome == OPEN and got.ms is not None and got.ms >= 0
    refused = await connect_once(address, free, 2.0)
    assert refused.outcome == REFUSED and refused.ms is None


@LOOPBACKS
async def test_fetch_is_pinned_and_carries_the_host_name(address: str) -> None:
    seen = Seen()
    async with serve(app(seen), LOOPBACK) as port:
        got = await fetch_pinned(url(address, port), address, timeout=2.0, body_limit=10_000)
    # The request reached exactly the pinned address's family, with Host: site.test:port
    assert got.outcome == RESPONSE and got.status == 200
    assert seen.requests == [("6" if ":" in address else "4", f"site.test:{port}", "/")]
    assert got.address == address and got.family == (6 if ":" in address else 4)
    assert got.content_type is not None and got.content_type.startswith("text/html")
    assert got.ttfb_ms is not None and got.body_bytes > 0 and not got.truncated
    assert got.links == (f"http://site.test:{port}/a",)
    assert got.fingerprint  # kept for web.parity; the body itself is not


async def test_redirect_is_recorded_not_followed() -> None:
    async with serve(app(Seen()), ("127.0.0.1",)) as port:
        got = await fetch_pinned(url("", port, "/moved"), "127.0.0.1", timeout=2.0, body_limit=100)
    assert got.status == 302 and got.location == "/"


async def test_trickling_body_costs_one_timeout() -> None:
    # Given a server that sends one byte every 0.2 s for 20 s
    async with serve(app(Seen()), ("127.0.0.1",)) as port:
        started = time.monotonic()
        got = await fetch_pinned(
            url("", port, "/trickle"), "127.0.0.1", timeout=1.0, body_limit=10_000
        )
        elapsed = time.monotonic() - started
    # Then the fetch returns at the deadline, with what came and the reason it stopped
    assert elapsed < 2.0
    assert got.outcome == RESPONSE and got.status == 200
    assert got.body_error is not None and 1 <= got.body_bytes < 10


async def test_silent_server_times_out() -> None:
    async with serve(app(Seen()), ("::1",)) as port:
        started = time.monotonic()
        got = await fetch_pinned(url("", port, "/slow"), "::1", timeout=0.5, body_limit=100)
    assert time.monotonic() - started < 1.5
    assert got.outcome == TIMEOUT and got.status is None


async def test_endless_body_stops_at_the_limit() -> None:
    async with serve(app(Seen()), ("127.0.0.1",)) as port:
        started = time.monotonic()
        got = await fetch_pinned(
            url("", port, "/endless"), "127.0.0.1", timeout=3.0, body_limit=200_000
        )
    assert time.monotonic() - started < 3.0
    assert got.body_bytes == 200_000 and got.truncated and got.body_error is None


async def test_refused_and_reset_are_findings() -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    free = closed.getsockname()[1]
    closed.close()
    got = await fetch_pinned(url("", free), "127.0.0.1", timeout=1.0, body_limit=100)
    assert got.outcome == REFUSED

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readline()
        writer.close()  # no answer at all

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        got = await fetch_pinned(url("", port), "127.0.0.1", timeout=1.0, body_limit=100)
    assert got.outcome == RESET


async def test_self_signed_https_is_fetched_and_its_certificate_recorded(tmp_path: Path) -> None:
    server_ctx, _ = self_signed(tmp_path)
    async with serve(app(Seen()), ("127.0.0.1",), ssl_context=server_ctx) as port:
        got = await fetch_pinned(
            url("", port, scheme="https"), "127.0.0.1", timeout=2.0, body_limit=1000
        )
        verifies, why = await verify("site.test", "127.0.0.1", port, 2.0)
    # The certificate does not stop the fetch: it is evidence
    assert got.outcome == RESPONSE and got.status == 200
    cert = got.certificate
    assert cert is not None and len(cert.sha256) == 64
    assert "CN=site.test" in cert.subject and cert.subject == cert.issuer
    assert "site.test" in cert.san and "127.0.0.1" in cert.san
    assert cert.not_before < cert.not_after
    # and it does not verify against the system's trust store
    assert verifies is False and "self" in why.lower()


async def test_https_to_a_plain_http_server_is_a_tls_error() -> None:
    async with serve(app(Seen()), ("127.0.0.1",)) as port:
        got = await fetch_pinned(
            url("", port, scheme="https"), "127.0.0.1", timeout=2.0, body_limit=100
        )
    assert got.outcome in (TLS_ERROR, RESET) and got.status is None
