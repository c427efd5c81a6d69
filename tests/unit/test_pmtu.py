"""web.pmtu: the pure judge on hand-built observations (every status), which web.http
request it repeats, and its HTTP/1.1 client against real loopback servers (the MSS clamp
set before connect, a complete read, a stall, a refusal). The black hole itself needs a
path with a small MTU: tests/integration/test_pmtu.py makes one in the namespace lab."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web

from ipv6scan.addresses import AddressPolicy
from ipv6scan.checks.pmtu import judge_pmtu
from ipv6scan.dnsclient.resolution import Lookup
from ipv6scan.model import Status, Subject, Target, Verdict
from ipv6scan.observations.dns import Addresses
from ipv6scan.observations.pmtu import (
    BROKEN,
    CLAMPED_MSS,
    COMPLETE,
    NO_CONNECTION,
    NOT_SENT,
    STALLED,
    PmtuObservation,
    RawFetch,
)
from ipv6scan.observations.web import (
    FINAL,
    NO_RESPONSE,
    OPEN,
    REFUSED,
    RESPONSE,
    TIMEOUT,
    Chain,
    Fetch,
    HttpObservation,
    Site,
    TcpProbe,
)
from ipv6scan.probes import pmtu
from ipv6scan.scoring.colours import SERVICES, colour
from tests.unit.web_servers import TableResolver, context, self_signed, serve

POLICY = AddressPolicy.from_strings(["2001:db8::/32", "198.51.100.0/24"])
V6, V4 = "2001:db8::80", "198.51.100.80"
URL = "http://www.example/"
TARGET = Target("Test", "enterprise", ("site.test",))


def found(rdtype: str, *values: str) -> Addresses:
    lookup = Lookup("www.example", rdtype, "NOERROR", values=values, server="198.51.100.53")
    return Addresses(lookup, tuple(POLICY.classify(v) for v in values))


def site(*, aaaa: tuple[str, ...] = (V6,), ipv6: bool = True) -> Site:
    return Site(
        "www.example", "www.example", (80, 443), None, "/",
        found("AAAA", *aaaa), found("A", V4), ipv6, True,
        (TcpProbe(V6, 80, OPEN, ms=1.0),),
    )  # fmt: skip


SEEN = Fetch(URL, V6, RESPONSE, status=200, body_bytes=20_000)


def raw(
    outcome: str, received: int = 0, *, mss: int | None = None, error: str | None = None,
    attempts: int = 1, failed_attempts: int = 0,
) -> RawFetch:  # fmt: skip
    status = 200 if received else None
    return RawFetch(URL, V6, mss, outcome, received, status, 5.0, error, attempts, failed_attempts)


def judge(
    plain: RawFetch | None, clamped: RawFetch | None = None, *,
    aaaa: tuple[str, ...] = (V6,), ipv6: bool = True,
) -> Verdict:  # fmt: skip
    seen = SEEN if plain else None
    return judge_pmtu(PmtuObservation(site(aaaa=aaaa, ipv6=ipv6), seen, plain, clamped))


# ------------------------------------------------------------------ the judge


def test_a_large_response_that_arrives_passes() -> None:
    v = judge(raw(COMPLETE, 20_000))
    assert v.status is Status.PASS and "20000 bytes" in v.detail
    assert v.evidence["size"] == 20_000 and v.evidence["stalled"] is False
    assert v.evidence["address"] == V6 and v.evidence["port"] == 80
    assert "clamped_ok" not in v.evidence
    assert v.evidence["web_http"] == {"outcome": RESPONSE, "status": 200, "body_bytes": 20_000}


def test_a_small_response_does_not_test_the_path() -> None:
    v = judge(raw(COMPLETE, 1280))
    assert v.status is Status.SKIP and "1280" in v.detail


def test_a_stall_the_clamp_cures_is_a_black_hole() -> None:
    v = judge(raw(STALLED, 180), raw(COMPLETE, 20_000, mss=CLAMPED_MSS))
    assert v.status is Status.FAIL and "black hole" in v.detail
    ev = v.evidence
    assert ev["stalled"] is True and ev["clamped_ok"] is True
    assert ev["clamped_mss"] == CLAMPED_MSS and ev["clamped_size"] == 20_000 and ev["size"] == 180


def test_a_stall_the_clamp_does_not_cure_is_not_this_checks_finding() -> None:
    v = judge(raw(STALLED), raw(STALLED, mss=CLAMPED_MSS))
    assert v.status is Status.ERROR and "with and without" in v.detail
    assert v.evidence["clamped_ok"] is False


@pytest.mark.parametrize("outcome", [NO_CONNECTION, BROKEN])
def test_a_request_that_cannot_be_made_is_undecided(outcome: str) -> None:
    assert judge(raw(outcome, error="x")).status is Status.ERROR
    assert judge(raw(STALLED), raw(outcome, mss=CLAMPED_MSS)).status is Status.ERROR


def test_preconditions_and_nothing_to_measure() -> None:
    assert judge(raw(COMPLETE, 20_000), ipv6=False).status is Status.ERROR
    assert judge(raw(COMPLETE, 20_000), aaaa=()).status is Status.SKIP
    assert judge(None).status is Status.SKIP
    assert judge(raw(NOT_SENT, error="not probed: loopback")).status is Status.SKIP


def test_a_pass_after_stalled_tries_is_intermittent() -> None:
    v = judge(raw(COMPLETE, 20_000, attempts=2, failed_attempts=1))
    assert v.status is Status.WARN and "intermittent" in v.detail
    assert v.evidence["attempts"] == 2 and v.evidence["failed_attempts"] == 1


def test_a_black_hole_after_every_try_keeps_the_tries() -> None:
    v = judge(raw(STALLED, attempts=3, failed_attempts=3), raw(COMPLETE, 9000, mss=CLAMPED_MSS))
    assert v.status is Status.FAIL and v.evidence["attempts"] == 3


def test_a_black_hole_turns_the_web_service_yellow() -> None:
    counts = {"dns.aaaa": {"pass": 1}, "web.reachable": {"pass": 1}, "web.http": {"pass": 1}}
    assert colour(counts, *SERVICES["web"]) == "green"
    assert colour({**counts, "web.pmtu": {"fail": 1}}, *SERVICES["web"]) == "yellow"
    assert colour({**counts, "web.pmtu": {"skip": 1}}, *SERVICES["web"]) == "green"


# ------------------------------------------------------------------ which request is repeated


def test_the_page_repeated_is_the_final_response_else_a_timeout() -> None:
    s = site()
    stalled = Fetch("https://www.example/", V6, TIMEOUT, error="no answer in time")
    page = Fetch(URL, V6, RESPONSE, status=200)
    http = HttpObservation(
        s,
        (Chain(6, stalled.url, (stalled,), NO_RESPONSE), Chain(6, URL, (page,), FINAL)),
    )
    assert pmtu.page_of(http) is page
    assert pmtu.page_of(HttpObservation(s, http.attempts[:1])) is stalled
    refused = Fetch(URL, V6, REFUSED)
    assert pmtu.page_of(HttpObservation(s, (Chain(6, URL, (refused,), NO_RESPONSE),))) is None


def test_a_request_is_written_byte_for_byte_and_never_smuggles_a_header() -> None:
    got = pmtu.request_bytes("http://www.example:8080/a?b=c")
    assert got is not None
    assert got.startswith(b"GET /a?b=c HTTP/1.1\r\nHost: www.example:8080\r\n")
    assert b"Accept-Encoding: identity\r\n" in got and got.endswith(b"\r\n\r\n")
    assert pmtu.request_bytes("http://[2001:db8::1]/")
    assert b"Host: [2001:db8::1]\r\n" in (pmtu.request_bytes("http://[2001:db8::1]/") or b"")
    assert pmtu.request_bytes("http://www.example/a b") is None


# ------------------------------------------------------------------ the client, on loopback

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@contextlib.asynccontextmanager
async def _serve(handler: Handler) -> AsyncIterator[int]:
    server = await asyncio.start_server(handler, "::1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


def _mss_of(writer: asyncio.StreamWriter) -> int:
    sock = writer.get_extra_info("socket")
    return int(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG))


def test_the_clamp_is_in_the_syn_and_the_whole_page_is_read() -> None:
    body = b"x" * 30_000
    seen_mss: list[int] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        seen_mss.append(_mss_of(writer))
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        await writer.drain()
        await asyncio.sleep(5)  # keeps the connection open: the length ends the read
        writer.close()

    async def run() -> tuple[RawFetch, RawFetch]:
        async with _serve(handler) as port:
            url = f"http://[::1]:{port}/"
            plain = await pmtu.raw_get(url, "::1", mss=None, timeout=3)
            clamped = await pmtu.raw_get(url, "::1", mss=CLAMPED_MSS, timeout=3)
            return plain, clamped

    plain, clamped = asyncio.run(run())
    assert plain.outcome == COMPLETE and clamped.outcome == COMPLETE
    assert plain.status == 200 and plain.received > len(body) and plain.ms is not None
    # the server's segments follow the MSS the client's SYN advertised
    assert seen_mss[1] <= CLAMPED_MSS < seen_mss[0]


def test_a_response_that_never_comes_is_a_stall() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + b"y" * 100)
        await writer.drain()
        await asyncio.sleep(3)
        writer.close()

    async def run() -> RawFetch:
        async with _serve(handler) as port:
            return await pmtu.raw_get(f"http://[::1]:{port}/", "::1", mss=None, timeout=0.5)

    got = asyncio.run(run())
    assert got.outcome == STALLED and got.status == 200 and got.received > 100


def test_a_refusal_is_no_connection_and_an_early_close_is_broken() -> None:
    async def closes(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    async def run() -> tuple[RawFetch, RawFetch]:
        async with _serve(closes) as port:
            broken = await pmtu.raw_get(f"http://[::1]:{port}/", "::1", mss=None, timeout=1)
        refused = await pmtu.raw_get(f"http://[::1]:{port}/", "::1", mss=None, timeout=1)
        return broken, refused

    broken, refused = asyncio.run(run())
    assert broken.outcome == BROKEN
    assert refused.outcome == NO_CONNECTION and refused.error


# ------------------------------------------------------------------ observe_pmtu end to end

BIG = "<html><body>" + "a page larger than one minimum-MTU packet " * 200 + "</body></html>"


def _app(body: str) -> web.Application:
    async def home(request: web.Request) -> web.Response:
        return web.Response(text=body, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", home)
    return app


def _subject(scheme: str, port: int) -> Subject:
    return Subject("url", f"{scheme}://site.test:{port}/", TARGET, "access")


async def test_observe_repeats_web_https_page_over_tls_and_passes(tmp_path: Path) -> None:
    tls, _ = self_signed(tmp_path, "site.test")
    async with serve(_app(BIG), ("::1",), ssl_context=tls) as port:
        ctx = context(TableResolver({("site.test", "AAAA"): ("::1",)}))
        obs = await pmtu.observe_pmtu(ctx, _subject("https", port))
    assert obs.plain is not None and obs.plain.complete and obs.clamped is None
    assert obs.plain.url == f"https://site.test:{port}/" and obs.plain.address == "::1"
    verdict = judge_pmtu(obs)
    assert verdict.status is Status.PASS, verdict
    assert verdict.evidence["size"] > len(BIG)  # head and body, decrypted


async def test_observe_sends_nothing_to_an_address_out_of_scope() -> None:
    async with serve(_app(BIG), ("::1",)) as port:
        ctx = context(TableResolver({("site.test", "AAAA"): ("::1",)}), policy=AddressPolicy())
        obs = await pmtu.observe_pmtu(ctx, _subject("http", port))
    assert obs.plain is None and obs.clamped is None
    assert judge_pmtu(obs).status is Status.SKIP
