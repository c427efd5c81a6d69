"""HTTP(S) requests pinned to one address, and redirect chains kept on one family.

A request goes to exactly the address given, while the Host header and SNI
carry the host name: the scanner tests the IPv6 (or IPv4) service itself, not
whatever the system's resolver or Happy Eyeballs would pick. Every request has
one deadline for connect, headers and body together, and reads at most a
bounded body, so a trickling or endless server costs one timeout and no more.
Redirect targets are resolved in the same family and scope-checked before any
connection: a chain never reaches a loopback, ULA or private address.
"""

from __future__ import annotations

import asyncio
import hashlib
import socket
import time
from dataclasses import replace
from typing import NamedTuple

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from ipv6scan import stall_clock
from ipv6scan.context import ScanContext
from ipv6scan.nopath import NO_PATH_ERRNOS
from ipv6scan.observations.reasons import (
    CLOSED_WITHOUT_ANSWER,
    NO_ANSWER,
    NO_ROUTE,
    REFUSED,
    RESET,
)
from ipv6scan.observations.web import ConnectOutcome, Fetch
from ipv6scan.probes import certificates
from ipv6scan.probes.charsets import decode_body
from ipv6scan.probes.html_links import extract_links
from ipv6scan.probes.html_resources import extract_css, extract_resources
from ipv6scan.probes.http_request import HEADERS, PAGE, STYLE
from ipv6scan.probes.tcp import RETRYABLE, refusal
from ipv6scan.probes.tries import run_tries
from ipv6scan.probes.url_parts import split_url
from ipv6scan.safetext import safe_text
from ipv6scan.similarity import fingerprint as page_fingerprint

STYLE_BODY_LIMIT = 262_144
STATUS_BODY_LIMIT = 16_384
HEADER_MAX = 300  # characters of a header value kept in evidence
HEADER_LINE_MAX = 32_768  # a header line the parser accepts (big cookies are not a failure)
_CHUNK = 65_536


class _PinnedResolver(AbstractResolver):
    """Answers every name with the one address the request is pinned to."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.family = socket.AF_INET6 if ":" in address else socket.AF_INET

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(
                hostname=host,
                host=self.address,
                port=port,
                family=self.family,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
        ]

    async def close(self) -> None:
        return None


class _CertificateCapture(aiohttp.Fingerprint):
    """aiohttp calls a Fingerprint's check() with the TLS transport of each new
    connection, over an unverified context: the one public hook that shows the
    certificate actually served on the connection the response came from."""

    def __init__(self) -> None:
        super().__init__(bytes(32))
        self.der: bytes | None = None

    def check(self, transport: asyncio.Transport) -> None:
        ssl_object = transport.get_extra_info("ssl_object")
        if ssl_object is not None:
            self.der = ssl_object.getpeercert(binary_form=True)


def _header(response: aiohttp.ClientResponse, name: str) -> str | None:
    # the server's bytes: aiohttp keeps one that is not UTF-8 as a lone surrogate
    value = response.headers.get(name)
    return safe_text(value, HEADER_MAX) if value is not None else None


def _failure(exc: BaseException) -> tuple[ConnectOutcome, str]:
    """How a request that got no response ended: (outcome, error). The error is one of
    our reasons (observations/reasons.py), or the library's own text as it is."""
    text = safe_text(f"{type(exc).__name__}: {exc}", HEADER_MAX)
    if isinstance(exc, TimeoutError | aiohttp.ServerTimeoutError):
        return ConnectOutcome.TIMEOUT, NO_ANSWER
    if isinstance(exc, aiohttp.ClientSSLError):
        return ConnectOutcome.TLS_ERROR, text
    if isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ClientOSError):
        err = getattr(exc, "os_error", exc)
        if getattr(err, "errno", None) in NO_PATH_ERRNOS:
            # "no route: " is ours; what follows is the library's text, bounded with it
            why = safe_text(f"no route: {err}", HEADER_MAX).removeprefix("no route: ")
            return ConnectOutcome.NO_PATH, NO_ROUTE(reason=why)
        if isinstance(err, ConnectionRefusedError):
            return ConnectOutcome.REFUSED, REFUSED
        if isinstance(err, ConnectionResetError):
            return ConnectOutcome.RESET, RESET
        if isinstance(err, TimeoutError):
            return ConnectOutcome.TIMEOUT, NO_ANSWER
        return ConnectOutcome.ERROR, text
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return ConnectOutcome.RESET, CLOSED_WITHOUT_ANSWER
    if isinstance(exc, aiohttp.ClientResponseError | aiohttp.ClientPayloadError):
        return ConnectOutcome.PROTOCOL_ERROR, text  # an answer that is not HTTP
    if isinstance(exc, ConnectionResetError):
        return ConnectOutcome.RESET, RESET
    return ConnectOutcome.ERROR, text


async def _read_body(
    response: aiohttp.ClientResponse, limit: int, deadline: float
) -> tuple[bytes, bool, str | None]:
    """At most `limit` bytes of the body by `deadline`: (body, truncated, error)."""
    chunks: list[bytes] = []
    size = 0
    try:
        async with stall_clock.timeout_at(deadline):
            while size <= limit:  # one byte past the limit tells "truncated" from "exact"
                chunk = await response.content.read(min(_CHUNK, limit + 1 - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
    except TimeoutError:
        error: str | None = "the body did not finish in time"
    except (aiohttp.ClientError, OSError) as exc:
        error = safe_text(f"{type(exc).__name__}: {exc}", HEADER_MAX)
    else:
        error = None
    body = b"".join(chunks)
    return body[:limit], size > limit, error


Resources = tuple[tuple[str, str], ...]  # (kind, URL): html_resources


def _summarise(
    body: bytes, charset: str | None, url: str, resources_wanted: bool
) -> tuple[bytes, tuple[str, ...], bool, Resources, bool]:
    text = decode_body(body, charset)
    links, more = extract_links(text, url)
    resources, resources_more = extract_resources(text, url) if resources_wanted else ((), False)
    return page_fingerprint(text), links, more, resources, resources_more


def _summarise_style(body: bytes, charset: str | None, url: str) -> tuple[Resources, bool]:
    return extract_css(decode_body(body, charset), url)


async def fetch_pinned(
    url: str,
    address: str,
    *,
    timeout: float,
    body_limit: int,
    summarise: bool = True,
    keep_links: int = 50,
    style: bool = False,
    keep_resources: int = 50,
) -> Fetch:
    """GET `url` from exactly `address` (no redirect followed, nothing verified).
    With `summarise`, the body's fingerprint, its first `keep_links` links and its first
    `keep_resources` sub-resources are kept; with `style`, the body is a style sheet and
    its url(...) and @import targets are kept as resources."""
    started = time.perf_counter()
    deadline = stall_clock.now() + timeout  # on the watched clock: see stall_clock
    capture = _CertificateCapture() if url.startswith("https:") else None
    session = _pinned_session(address)
    try:
        try:
            async with stall_clock.timeout_at(deadline):
                response = await session.get(
                    url, allow_redirects=False, ssl=capture if capture is not None else True
                )
        except Exception as exc:
            outcome, error = _failure(exc)
            return Fetch(url, address, outcome, error=error)
        ttfb = (time.perf_counter() - started) * 1000
        body = await _body(response, body_limit, deadline)
        if summarise and body.data:
            summary = await _page_summary(response, body.data, url, keep_resources > 0)
        elif style and body.data and response.status < 400:
            summary = await _style_summary(response, body.data, url)
        else:
            summary = _Summary()
        return _response_fetch(
            url, address, response, ttfb, body, summary, keep_links, keep_resources, capture
        )
    finally:
        await _close(session)


def _pinned_session(address: str) -> aiohttp.ClientSession:
    """A session whose every connection goes to `address`, one request per connection."""
    connector = aiohttp.TCPConnector(
        resolver=_PinnedResolver(address),
        family=socket.AF_INET6 if ":" in address else socket.AF_INET,
        force_close=True,  # one request per connection: each fetch measures its own
        limit=1,
        use_dns_cache=False,
        happy_eyeballs_delay=None,
    )
    return aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(total=None),  # fetch_pinned's deadline governs
        headers=HEADERS,
        cookie_jar=aiohttp.DummyCookieJar(),
        trust_env=False,  # never through a proxy from the environment: the pin would be lost
        max_line_size=HEADER_LINE_MAX,
        max_field_size=HEADER_LINE_MAX,
    )


async def _close(session: aiohttp.ClientSession) -> None:
    try:
        async with asyncio.timeout(1):
            await session.close()
    except (TimeoutError, OSError, aiohttp.ClientError):
        pass  # the connection is dropped either way


class _Body(NamedTuple):
    data: bytes
    truncated: bool  # longer than the limit: reading stopped there
    error: str | None  # the headers came but the body did not finish


async def _body(response: aiohttp.ClientResponse, limit: int, deadline: float) -> _Body:
    """The body, read up to `limit` bytes by `deadline`, then the response closed."""
    try:
        if limit > 0:
            return _Body(*await _read_body(response, limit, deadline))
        return _Body(b"", False, None)
    finally:
        response.close()  # never drain the rest: it may be endless


class _Summary(NamedTuple):
    """What a body is kept as: never the body itself."""

    fingerprint: bytes = b""
    links: tuple[str, ...] = ()
    links_more: bool = False
    resources: Resources = ()
    resources_more: bool = False


async def _page_summary(
    response: aiohttp.ClientResponse, body: bytes, url: str, resources_wanted: bool
) -> _Summary:
    # parsing a large page is CPU work: keep it off the event loop's thread
    return _Summary(
        *await asyncio.to_thread(_summarise, body, response.charset, url, resources_wanted)
    )


async def _style_summary(response: aiohttp.ClientResponse, body: bytes, url: str) -> _Summary:
    resources, more = await asyncio.to_thread(_summarise_style, body, response.charset, url)
    return _Summary(resources=resources, resources_more=more)


def _response_fetch(
    url: str,
    address: str,
    response: aiohttp.ClientResponse,
    ttfb: float,
    body: _Body,
    summary: _Summary,
    keep_links: int,
    keep_resources: int,
    capture: _CertificateCapture | None,
) -> Fetch:
    return Fetch(
        url,
        address,
        ConnectOutcome.RESPONSE,
        status=response.status,
        location=_header(response, "Location"),
        content_type=_header(response, "Content-Type"),
        server=_header(response, "Server"),
        ttfb_ms=ttfb,
        body_bytes=len(body.data),
        truncated=body.truncated,
        body_error=body.error,
        body_sha256=hashlib.sha256(body.data).hexdigest(),
        fingerprint=summary.fingerprint,
        links=summary.links[:keep_links],
        links_total=len(summary.links),
        links_more=summary.links_more,
        resources=summary.resources[:keep_resources],
        resources_total=len(summary.resources),
        resources_more=summary.resources_more,
        certificate=certificates.describe(capture.der) if capture and capture.der else None,
    )


def _retryable(got: Fetch) -> bool:
    """A connection-level failure (no answer, a refusal, a reset) is tried again; any
    HTTP response, or a TLS or protocol error, is the server's answer."""
    return got.outcome in RETRYABLE


async def _fetch_new(ctx: ScanContext, url: str, address: str, purpose: str) -> Fetch:
    _, host, port, _ = split_url(url)
    refused = refusal(ctx, address, port)
    if refused is not None:
        return Fetch(url, address, refused.outcome, error=refused.error)
    limit = min(
        ctx.options.body_limit,
        {PAGE: ctx.options.body_limit, STYLE: STYLE_BODY_LIMIT}.get(purpose, STATUS_BODY_LIMIT),
    )

    async def one_try() -> Fetch:
        async with ctx.limits.slot(address):  # per try: no slot is held during a backoff
            return await fetch_pinned(
                url,
                address,
                timeout=ctx.timeout,
                body_limit=limit,
                summarise=purpose == PAGE,
                keep_links=ctx.options.links_cap,
                style=purpose == STYLE,
                keep_resources=ctx.options.resources_cap,
            )

    tried = await run_tries(one_try, _retryable, ctx.options.attempts)
    got = tried.outcome
    if tried.attempts > 1:
        got = replace(got, attempts=tried.attempts, failed_attempts=tried.failed_attempts)
    if got.certificate is None or purpose != PAGE:
        return got
    verifies, why = await ctx.memo.get(
        ("tls-verify", address, port, host), lambda: _verify(ctx, host, address, port)
    )
    cert = replace(got.certificate, verifies=verifies, verify_error=why or None)
    return replace(got, certificate=cert)


async def _verify(ctx: ScanContext, host: str, address: str, port: int) -> tuple[bool | None, str]:
    async with ctx.limits.slot(address):
        return await certificates.verify(host, address, port, ctx.timeout)


async def fetch(ctx: ScanContext, url: str, address: str, purpose: str = PAGE) -> Fetch:
    """The scan's one request for (address, scheme, port, host, path, purpose)."""
    scheme, host, port, path = split_url(url)
    key = ("fetch", address, scheme, port, host, path, purpose)
    return await ctx.memo.get(key, lambda: _fetch_new(ctx, url, address, purpose))
