"""The SMTP greeting probe against real asyncio greeters on 127.0.0.1 and ::1, and the
observation's scope rules with a stub resolver (nothing else is contacted)."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest

from ipv6scan.addresses import AddressPolicy
from ipv6scan.context import Limits, ScanContext
from ipv6scan.dnsclient.resolution import Lookup
from ipv6scan.model import Subject, Target
from ipv6scan.observations.dns import Connectivity
from ipv6scan.observations.mail import (
    CLOSED,
    GREETING,
    MALFORMED,
    OVERSIZED,
    REFUSED,
    REJECTED,
    TIMEOUT,
    SmtpAttempt,
)
from ipv6scan.probes import mail as smtp
from ipv6scan.probes.mail import BAD, COMPLETE, PARTIAL, clean_banner, greet, parse_greeting

LOOPBACKS = pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
Script = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@dataclass
class Greeter:
    port: int
    heard: list[bytes] = field(default_factory=list)  # what clients said after the greeting
    written: list[int] = field(default_factory=list)  # bytes written per connection


@asynccontextmanager
async def greeter(host: str, script: Script) -> AsyncIterator[Greeter]:
    """A TCP server on an ephemeral port of `host` that plays `script` to each client."""
    state = Greeter(0)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await script(reader, writer)
            state.heard.append(await asyncio.wait_for(reader.read(100), 2))
        except (OSError, TimeoutError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, host, 0)
    state.port = server.sockets[0].getsockname()[1]
    async with server:
        yield state


def says(*chunks: bytes, pause: float = 0.0) -> Script:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for chunk in chunks:
            writer.write(chunk)
            await writer.drain()
            await asyncio.sleep(pause)
        if b"QUIT" in await _peek_quit(reader):
            writer.write(b"221 2.0.0 bye\r\n")
            await writer.drain()

    return script


async def _peek_quit(reader: asyncio.StreamReader) -> bytes:
    try:
        line = await asyncio.wait_for(reader.readline(), 2)
    except TimeoutError:
        return b""
    reader.feed_data(line)  # leave it for the greeter to record
    return line


# ------------------------------------------------------------------ parsing


def test_parse_greeting_states() -> None:
    assert parse_greeting(b"") == (PARTIAL, None)
    assert parse_greeting(b"22") == (PARTIAL, None)
    assert parse_greeting(b"220 mx ESMTP\r\n") == (COMPLETE, 220)
    assert parse_greeting(b"220\r\n") == (COMPLETE, 220)
    assert parse_greeting(b"220-mx\r\n220-more\r\n") == (PARTIAL, 220)
    assert parse_greeting(b"220-mx\r\n220 done\r\n") == (COMPLETE, 220)
    assert parse_greeting(b"554 5.7.1 no\r\n") == (COMPLETE, 554)
    assert parse_greeting(b"SSH-2.0-OpenSSH_9.6") == (BAD, None)
    assert parse_greeting(b"HTTP/1.1 400 Bad\r\n") == (BAD, None)
    assert parse_greeting(b"220_weird\r\n") == (BAD, None)


def test_banner_is_plain_text() -> None:
    raw = b"220 mx.example \x1b[31mESMTP\x00 \xff\xfe\x07ready\r\n220 second line\r\n"
    assert clean_banner(raw) == "220 mx.example [31mESMTP \ufffd\ufffdready"
    assert len(clean_banner(b"220 " + b"x" * 5000)) == smtp.BANNER_CHARS
    assert clean_banner(b"220 \xe2\x80\xaeevil\r\n") == "220 evil"  # no bidi override


# ------------------------------------------------------------------ against greeters


@LOOPBACKS
async def test_multi_line_greeting_then_quit(host: str) -> None:
    # Given a server whose greeting spans three lines, sent in pieces
    script = says(b"220-mx.example.test ESMTP\r\n220-", b"policy text\r\n", b"220 ready\r\n")
    async with greeter(host, script) as server:
        # When the probe reads it
        got = await greet(host, server.port, timeout=2, mx="mx.example.test")
        await asyncio.sleep(0.05)
    # Then it is a complete 220 greeting, the banner is the first line, and QUIT was said
    assert (got.outcome, got.code, got.complete) == (GREETING, 220, True)
    assert got.banner == "220-mx.example.test ESMTP"
    assert (got.mx, got.address) == ("mx.example.test", host)
    assert server.heard == [b"QUIT\r\n"]


@LOOPBACKS
async def test_554_refusal_is_rejected(host: str) -> None:
    async with greeter(host, says(b"554 5.7.1 No SMTP service here\r\n")) as server:
        got = await greet(host, server.port, timeout=2)
        await asyncio.sleep(0.05)
    assert (got.outcome, got.code) == (REJECTED, 554)
    assert got.banner == "554 5.7.1 No SMTP service here"
    assert server.heard == [b"QUIT\r\n"]  # RFC 5321: QUIT even after a 554


@LOOPBACKS
async def test_silent_server_times_out(host: str) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(3)

    async with greeter(host, silent) as server:
        started = time.monotonic()
        got = await greet(host, server.port, timeout=0.3)
    assert got.outcome == TIMEOUT and got.code is None
    assert time.monotonic() - started < 2


@LOOPBACKS
async def test_teaser_line_then_silence_is_an_incomplete_greeting(host: str) -> None:
    # postscreen's pregreet test: "220-" then a pause longer than our timeout
    async def teaser(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220-mx.example.test ESMTP\r\n")
        await writer.drain()
        await asyncio.sleep(3)

    async with greeter(host, teaser) as server:
        got = await greet(host, server.port, timeout=0.3)
        await asyncio.sleep(0.05)
    assert (got.outcome, got.code, got.complete) == (GREETING, 220, False)
    assert server.heard in ([], [b""])  # no QUIT said into a pregreet test


@LOOPBACKS
async def test_closed_port_is_refused(host: str) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe_port:
        probe_port.bind((host, 0))
        port = probe_port.getsockname()[1]  # nothing listens: bound, never listening
        got = await greet(host, port, timeout=2)
    assert got.outcome == REFUSED and got.error == "connection refused"


@LOOPBACKS
async def test_endless_banner_is_bounded(host: str) -> None:
    async def endless(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for _ in range(100_000):  # bounded, and stops as soon as the client leaves
            writer.write(b"220-" + b"x" * 60 + b"\r\n")
            await writer.drain()

    async with greeter(host, endless) as server:
        started = time.monotonic()
        got = await greet(host, server.port, timeout=5, max_bytes=4096)
    assert got.outcome == OVERSIZED and got.code == 220
    assert len(got.banner) <= smtp.BANNER_CHARS
    assert time.monotonic() - started < 2


@LOOPBACKS
async def test_not_smtp_is_malformed(host: str) -> None:
    async with greeter(host, says(b"SSH-2.0-OpenSSH_9.6\r\n")) as server:
        got = await greet(host, server.port, timeout=2)
    assert got.outcome == MALFORMED and got.banner == "SSH-2.0-OpenSSH_9.6"


@LOOPBACKS
async def test_close_before_greeting(host: str) -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    async with greeter(host, hang_up) as server:
        got = await greet(host, server.port, timeout=2)
    assert got.outcome == CLOSED


# ------------------------------------------------------------------ observation scope


class StubResolver:
    def __init__(self, answers: dict[tuple[str, str], Lookup]) -> None:
        self.answers = answers

    async def lookup(self, name: str, rdtype: str) -> Lookup:
        return self.answers.get((name, rdtype), Lookup(name, rdtype, "NOERROR"))


def mail_context(ipv6: bool = True) -> ScanContext:
    mx = Lookup("example.test", "MX", "NOERROR", ("mx1.example.test", "mx2.example.test"), (10, 20))
    answers = {
        ("example.test", "MX"): mx,
        ("mx1.example.test", "AAAA"): Lookup(
            "mx1.example.test", "AAAA", "NOERROR", ("2001:db8::25", "::1", "fd00::25")
        ),
        ("mx2.example.test", "AAAA"): Lookup(
            "mx2.example.test", "AAAA", "NOERROR", ("2001:db8::25", "fe80::1")
        ),
    }
    return ScanContext(
        resolver=StubResolver(answers),  # type: ignore[arg-type]
        transport=None,  # type: ignore[arg-type]
        policy=AddressPolicy.from_strings(["2001:db8::/32"]),
        connectivity=Connectivity(ipv6=ipv6, ipv4=True),
        limits=Limits(10, 2),
        timeout=1.0,
    )


SUBJECT = Subject("domain", "example.test", Target("T", "enterprise", ("example.test",)))


@pytest.fixture
def contacted(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    calls: list[tuple[str, int]] = []

    async def fake_greet(address: str, port: int = 25, **kw: object) -> SmtpAttempt:
        calls.append((address, port))
        return SmtpAttempt(str(kw.get("mx", "")), address, GREETING, 220, "220 hi")

    monkeypatch.setattr(smtp, "greet", fake_greet)
    return calls


async def test_only_global_addresses_are_contacted_on_port_25(
    contacted: list[tuple[str, int]],
) -> None:
    obs = await smtp.observe_smtp(mail_context(), SUBJECT)
    # the allowed documentation address once (shared by both MX hosts), on port 25
    assert contacted == [("2001:db8::25", 25)]
    assert [a.mx for a in obs.attempts] == ["mx1.example.test"]
    assert sorted((h, c.address, c.category) for h, c in obs.not_probed) == [
        ("mx1.example.test", "::1", "loopback"),
        ("mx1.example.test", "fd00::25", "unique-local"),
        ("mx2.example.test", "fe80::1", "link-local"),
    ]


async def test_nothing_is_contacted_without_an_ipv6_path(
    contacted: list[tuple[str, int]],
) -> None:
    obs = await smtp.observe_smtp(mail_context(ipv6=False), SUBJECT)
    assert contacted == [] and obs.attempts == () and not obs.scanner_ipv6
