"""web.pmtu's requests: the page web.http found over IPv6, fetched again by a small
HTTP/1.1 client of its own, once with the kernel's MSS and, when that stalls after the
handshake, once with the MSS clamped to 1,220 bytes. I/O only; checks/pmtu.py decides.

Why a client of its own: the clamp is a socket option (TCP_MAXSEG) that must be set
before connect, so that the SYN advertises it and the server never sends a segment
larger than the IPv6 minimum MTU; aiohttp makes its own sockets. Why ask uncompressed:
the question is whether full-size packets cross the path, so the response should be as
large as the page is. Both requests go to the one address web.http used (pinned, with
Host and SNI), under the scope rules and the per-destination limits, and are tried
again on a stall or a failed connect (probes/tries.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import time
from dataclasses import replace

from ipv6scan import stall_clock
from ipv6scan.context import ScanContext
from ipv6scan.messages import Detail
from ipv6scan.model import Subject
from ipv6scan.observations.pmtu import (
    BROKEN,
    CLAMPED_MSS,
    COMPLETE,
    NO_CONNECTION,
    NOT_SENT,
    RETRYABLE,
    STALLED,
    PmtuObservation,
    RawFetch,
    RawOutcome,
)
from ipv6scan.observations.reasons import (
    CANNOT_CLAMP,
    CLOSED_WITHOUT_RESPONSE,
    DID_NOT_FINISH,
    NO_CONNECT_ANSWER,
    NOT_SENDABLE,
    seconds,
)
from ipv6scan.observations.web import TIMEOUT, Fetch, HttpObservation
from ipv6scan.probes.http_request import HEADERS
from ipv6scan.probes.tcp import refusal
from ipv6scan.probes.tries import run_tries
from ipv6scan.probes.url_parts import split_url
from ipv6scan.probes.web import observe_http
from ipv6scan.safetext import safe_text

READ_LIMIT = 65_536  # bytes: far more than one full-size segment; reading stops there
_CHUNK = 16_384
_HEAD_END = b"\r\n\r\n"
ERROR_MAX = 200


def page_of(http: HttpObservation) -> Fetch | None:
    """The IPv6 request to repeat: the page a chain reached (its final response, whole or
    with a body that stalled), else the first request that got no answer in time."""
    for chain in http.attempts:
        if chain.final is not None:
            return chain.final
    for chain in http.attempts:
        last = chain.last
        if last is not None and last.outcome == TIMEOUT:
            return last
    return None


def request_bytes(url: str) -> bytes | None:
    """The GET for `url`, web.http's headers but uncompressed; None for a URL whose host
    or path could smuggle a header (the request is written byte for byte)."""
    _, host, port, path = split_url(url)
    default = 443 if url.startswith("https:") else 80
    name = f"[{host}]" if ":" in host else host
    authority = name if port == default else f"{name}:{port}"
    if any(c in f"{authority}{path}" for c in "\r\n\t ") or not authority.isascii():
        return None
    headers = {**HEADERS, "Accept-Encoding": "identity", "Connection": "close"}
    lines = [f"GET {path} HTTP/1.1", f"Host: {authority}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii", "replace")


def _tls_context() -> ssl.SSLContext:
    # Certificates are web.http's evidence; here only the bytes' arrival matters.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


class _Reading:
    """A response as it arrives: its size, its status, and whether it has ended."""

    def __init__(self) -> None:
        self.received = 0
        self.head = b""
        self.status: int | None = None
        self.length: int | None = None  # Content-Length
        self.body = 0
        self.chunked = False
        self.tail = b""  # the last bytes, for the end of a chunked body

    def feed(self, chunk: bytes) -> None:
        self.received += len(chunk)
        self.tail = (self.tail + chunk)[-8:]
        if self.status is None and len(self.head) < READ_LIMIT:
            self.head += chunk
            if _HEAD_END in self.head:
                head, _, rest = self.head.partition(_HEAD_END)
                self._parse(head)
                self.body = len(rest)
            return
        self.body += len(chunk)

    def _parse(self, head: bytes) -> None:
        lines = head.split(b"\r\n")
        parts = lines[0].split(b" ", 2)
        if len(parts) >= 2 and parts[0].startswith(b"HTTP/") and parts[1].isdigit():
            self.status = int(parts[1])
        else:
            self.status = 0  # an answer that is not HTTP: it arrived all the same
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == b"content-length" and value.isdigit():
                self.length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value:
                self.chunked = True

    @property
    def done(self) -> bool:
        if self.received >= READ_LIMIT:
            return True
        if self.status is None:
            return False
        if self.length is not None:
            return self.body >= self.length
        return self.chunked and self.tail.endswith(b"0\r\n\r\n")


async def raw_get(url: str, address: str, *, mss: int | None, timeout: float) -> RawFetch:
    """One GET of `url` from exactly `address`, the MSS clamped to `mss` when given: the
    response read to its end (or READ_LIMIT) by one deadline. Never raises for the
    network's doings: how it ended is the outcome."""
    request = request_bytes(url)
    if request is None:
        return RawFetch(url, address, mss, NOT_SENT, error=NOT_SENDABLE)
    scheme, host, port, _ = split_url(url)
    started = time.perf_counter()
    deadline = stall_clock.now() + timeout  # on the watched clock: see stall_clock
    reading = _Reading()
    v6 = ":" in address
    sock = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    writer: asyncio.StreamWriter | None = None

    def ended(outcome: RawOutcome, error: str | None = None) -> RawFetch:
        ms = (time.perf_counter() - started) * 1000
        # our reasons as they are; an exception's text bounded and escaped
        why = error if isinstance(error, Detail) or not error else safe_text(error, ERROR_MAX)
        return RawFetch(url, address, mss, outcome, reading.received, reading.status, ms, why)

    try:
        unclamped = _clamp(sock, mss)
        if unclamped is not None:
            return ended(NOT_SENT, unclamped)
        unconnected = await _connect(sock, address, port, deadline)
        if unconnected is not None:
            return ended(NO_CONNECTION, unconnected)
        try:
            async with stall_clock.timeout_at(deadline):
                tls = scheme == "https"
                reader, writer = await asyncio.open_connection(
                    sock=sock,
                    ssl=_tls_context() if tls else None,
                    server_hostname=(host if ":" not in host else "") if tls else None,
                )
                writer.write(request)
                await writer.drain()
                while not reading.done:
                    chunk = await reader.read(_CHUNK)
                    if not chunk:
                        break
                    reading.feed(chunk)
        except TimeoutError:
            # the handshake was made and the request sent (or the TLS handshake began):
            # what did not come in time is the server's data
            return ended(STALLED, DID_NOT_FINISH(seconds=seconds(timeout)))
        except (OSError, ssl.SSLError, EOFError) as exc:
            return ended(BROKEN, f"{type(exc).__name__}: {exc}")
        if reading.status is None and reading.received < READ_LIMIT:
            return ended(BROKEN, CLOSED_WITHOUT_RESPONSE)
        return ended(COMPLETE)
    finally:
        if writer is not None:
            writer.transport.abort()  # never drain the rest: it may be endless
        with contextlib.suppress(OSError):
            sock.close()


def _clamp(sock: socket.socket, mss: int | None) -> str | None:
    """Set the MSS clamp before connect (the SYN advertises it, so the server's segments
    fit); why it cannot be set, or None."""
    if mss is None:
        return None
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, mss)
    except OSError as exc:
        return CANNOT_CLAMP(error=safe_text(str(exc), ERROR_MAX))
    return None


async def _connect(sock: socket.socket, address: str, port: int, deadline: float) -> str | None:
    """The TCP handshake by `deadline`; why it did not complete, or None."""
    where = (address, port, 0, 0) if ":" in address else (address, port)
    try:
        async with stall_clock.timeout_at(deadline):
            await asyncio.get_running_loop().sock_connect(sock, where)
    except TimeoutError:
        return NO_CONNECT_ANSWER
    except OSError as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


async def _tried(ctx: ScanContext, page: Fetch, mss: int | None) -> RawFetch:
    """raw_get under the scope rules and limits, tried again on a stall or no connection."""
    _, _, port, _ = split_url(page.url)
    refused = refusal(ctx, page.address, port)
    if refused is not None:
        return RawFetch(page.url, page.address, mss, NOT_SENT, error=refused.error)

    async def one_try() -> RawFetch:
        async with ctx.limits.slot(page.address):  # per try: none held during a backoff
            return await raw_get(page.url, page.address, mss=mss, timeout=ctx.timeout)

    tried = await run_tries(one_try, lambda got: got.outcome in RETRYABLE, ctx.options.attempts)
    got = tried.outcome
    if tried.attempts > 1:
        got = replace(got, attempts=tried.attempts, failed_attempts=tried.failed_attempts)
    return got


async def observe_pmtu(ctx: ScanContext, subject: Subject) -> PmtuObservation:
    http = await observe_http(ctx, subject)
    site = http.site
    page = page_of(http) if site.scanner_ipv6 else None
    if page is None or page.family != 6:
        return PmtuObservation(site)
    plain = await _tried(ctx, page, None)
    if not plain.stalled:
        return PmtuObservation(site, page, plain)
    # the clamped request only after a stall: on a path that carries the page it would
    # cost a request and tell nothing
    return PmtuObservation(site, page, plain, await _tried(ctx, page, CLAMPED_MSS))
