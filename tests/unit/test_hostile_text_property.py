"""Arbitrary server bytes through observe, judge, write and report (issue 14, item 7).

A raw server on 127.0.0.1 and ::1 answers with bytes hypothesis draws: the HTTP status
line, Server, Content-Type (charset), Location, the title and the body; an SMTP greeter
sends any banner. Each example runs the real probes against it, the judges on what they
saw, writes the results with BatchedResultWriter, then summary, CSV, JUnit and
`ipv6scan report DIR`. Nothing may raise, and every result must come back as one line of
valid JSON (and one JUnit case, one CSV row).

Only loopback is probed: the policy here counts 127.0.0.1 and ::1 as global and nothing
else, so a drawn Location or link to any other address is "not probed".
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import json
import socket
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ipv6scan import cli
from ipv6scan.addresses import AddressClass, AddressPolicy
from ipv6scan.checks.mail import judge_smtp
from ipv6scan.checks.web import judge_http, judge_links, judge_parity
from ipv6scan.checks.web_resources import judge_resources
from ipv6scan.dnsclient.resolution import Lookup
from ipv6scan.engine import scheduler as engine
from ipv6scan.engine.run import write_outputs
from ipv6scan.model import CheckResult, Subject, Target, Verdict
from ipv6scan.probes import mail as smtp
from ipv6scan.probes import web as wo
from ipv6scan.probes import web_resources as ro
from ipv6scan.report.jsonl_batch import BatchedResultWriter
from tests.unit.web_servers import LOOPBACK, TableResolver, context

TARGET = Target("Hostile", "enterprise", ("site.test",))
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


class OnlyLoopback(AddressPolicy):
    """Loopback counts as global (the servers are there); every other address does not,
    whatever a drawn URL names: nothing leaves the machine."""

    def classify(self, addr: object) -> AddressClass:  # type: ignore[override]
        text = str(addr)
        if text in LOOPBACK:
            return AddressClass(text, 6 if ":" in text else 4, "global", True)
        found = super().classify(text)
        return AddressClass(found.address, found.version, found.category, False)


@asynccontextmanager
async def raw_server(answer: Callable[[], bytes], smtp_mode: bool = False) -> AsyncIterator[int]:
    """One port on 127.0.0.1 and ::1; each connection gets answer()'s bytes. HTTP: after
    the request's head; SMTP: at once, then the greeter waits for QUIT."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, TimeoutError, asyncio.IncompleteReadError):
            async with asyncio.timeout(5):
                if not smtp_mode:
                    await reader.readuntil(b"\r\n\r\n")
                writer.write(answer())
                await writer.drain()
                if smtp_mode:
                    await reader.read(100)
        writer.close()

    for _ in range(20):
        first = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = first.sockets[0].getsockname()[1]
        try:
            second = await asyncio.start_server(handle, "::1", port, family=socket.AF_INET6)
        except OSError:
            first.close()
            continue
        try:
            yield port
        finally:
            for server in (first, second):
                server.close()
                await server.wait_closed()
        return
    raise RuntimeError("no port free on both loopbacks")


def write_and_report(results: list[CheckResult], lang: str) -> None:
    """results.jsonl through the batched writer, then every output from it and the
    re-rendered report: every result is one valid line, one JUnit case and one CSV row."""
    with tempfile.TemporaryDirectory() as name:
        out = Path(name)

        async def write() -> None:
            with BatchedResultWriter(out / "results.jsonl") as writer:
                for result in results:
                    writer.write(result)

        asyncio.run(write())
        lines = (out / "results.jsonl").read_bytes().decode("utf-8").splitlines()
        assert len(lines) == len(results), "a result lost its line"
        for line, result in zip(lines, results, strict=True):
            record = json.loads(line)
            assert isinstance(record, dict)
            assert (record["subject"], record["check"]) == (result.subject, result.check)
        write_outputs(out, lang)
        cases = ET.parse(out / "junit.xml").getroot().iter("testcase")
        assert sum(1 for _ in cases) == len(results)
        with open(out / "results.csv", newline="", encoding="utf-8") as f:
            assert sum(1 for _ in csv.DictReader(f)) == len(results)
        assert cli.main(["report", str(out), "--lang", lang]) == 0
        assert (out / "report.html").stat().st_size > 0


def as_result(subject: Subject, check: str, verdict: Verdict) -> CheckResult:
    got: list[CheckResult] = []
    engine.emit(got.append, engine.ScanStats(), subject, check, verdict, 0.0)
    (result,) = got
    return result


def run(coro: Coroutine[Any, Any, list[CheckResult]]) -> list[CheckResult]:
    return asyncio.run(coro)


# --- HTTP -------------------------------------------------------------------------------------

any_bytes = st.binary(max_size=120)
charsets = st.one_of(
    any_bytes,
    st.sampled_from(
        [
            b"utf-8",
            b"idna",
            b"utf-16",
            b"utf-7",
            b"rot13",
            b"base64",
            b"zlib",
            b"hex",
            b"punycode",
            b"uu",
            b"unicode_escape",
            b"x-unknown",
            b'"utf-8"',
            b"utf-8; q",
            b"mbcs",
            b"gb18030",
            b"shift_jis",
            b"\xff\xfe",
        ]
    ),
)
locations = st.one_of(
    st.none(),
    any_bytes,
    st.sampled_from(
        [
            b"/next",
            b"//other.test/",
            b"http://[::1",
            b"http://site.test:0/",
            b"http://127.0.0.1:1/",
            b"http://%%%/",
            b"\xe9\x00/",
            b"https://[fe80::1]/",
        ]
    ),
)


@st.composite
def http_responses(draw: st.DrawFn) -> bytes:
    status = draw(st.one_of(st.integers(100, 599), st.integers(0, 9999)))
    reason = draw(any_bytes)
    head = b"HTTP/1.1 %d %s\r\n" % (status, reason)
    head += b"Server: " + draw(any_bytes) + b"\r\n"
    head += b"Content-Type: text/html; charset=" + draw(charsets) + b"\r\n"
    location = draw(locations)
    if location is not None:
        head += b"Location: " + location + b"\r\n"
    for _ in range(draw(st.integers(0, 2))):
        head += draw(any_bytes) + b": " + draw(any_bytes) + b"\r\n"
    title = draw(
        st.one_of(any_bytes, st.text(max_size=60).map(lambda t: t.encode("utf-8", "surrogatepass")))
    )
    body = b"<html><head><title>" + title + b"</title></head><body>" + draw(any_bytes)
    body += b"<a href='/a'>a</a><a href='" + draw(any_bytes) + b"'>b</a>"
    # sub-resources for web.resources: one of the page's own, one hostile
    body += b"<script src='/s.js'></script><img src='" + draw(any_bytes) + b"'></body></html>"
    return head + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body


@SETTINGS
@given(response=http_responses(), lang=st.sampled_from(["en", "zh-CN"]))
def test_any_http_response_is_observed_judged_written_and_reported(
    response: bytes, lang: str
) -> None:
    async def scan() -> list[CheckResult]:
        def answer() -> bytes:
            served.append(response)
            return response

        async with raw_server(answer) as port:
            resolver = TableResolver(
                {("site.test", "AAAA"): ("::1",), ("site.test", "A"): ("127.0.0.1",)}
            )
            ctx = context(resolver, policy=OnlyLoopback(), timeout=2.0, attempts=1)
            subject = Subject("url", f"http://site.test:{port}/", TARGET, "access")
            http = judge_http(await wo.observe_http(ctx, subject))
            parity = judge_parity(await wo.observe_parity(ctx, subject))
            links = judge_links(await wo.observe_links(ctx, subject))
            resources = judge_resources(await ro.observe_resources(ctx, subject))
        return [as_result(subject, "web.http", http), as_result(subject, "web.parity", parity),
                as_result(subject, "web.links", links),
                as_result(subject, "web.resources", resources)]  # fmt: skip

    served: list[bytes] = []
    results = run(scan())
    assert served, "no request reached the server: nothing hostile was read"
    write_and_report(results, lang)


# --- SMTP -------------------------------------------------------------------------------------

banners = st.one_of(
    any_bytes,
    st.lists(any_bytes, max_size=4).map(
        lambda parts: b"\r\n".join(b"220-" + p for p in parts) + b"\r\n220 " + b"ok\r\n"
    ),
    st.tuples(
        st.sampled_from([b"220 ", b"554 ", b"220-", b"421 ", b"999 ", b""]),
        any_bytes,
        st.sampled_from([b"\r\n", b"\n", b"", b"\r"]),
    ).map(b"".join),
)


@SETTINGS
@given(banner=banners, lang=st.sampled_from(["en", "zh-CN"]))
def test_any_smtp_banner_is_observed_judged_written_and_reported(
    banner: bytes, lang: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def scan() -> list[CheckResult]:
        async with raw_server(lambda: banner, smtp_mode=True) as port:
            monkeypatch.setattr(smtp, "SMTP_PORT", port)
            mx = Lookup("mail.test", "MX", "NOERROR", ("mx.mail.test",), (10,))
            resolver = TableResolver({("mx.mail.test", "AAAA"): ("::1",)})
            answers = {("mail.test", "MX"): mx}

            async def lookup(name: str, rdtype: str) -> Lookup:
                return answers.get((name, rdtype)) or await TableResolver.lookup(
                    resolver, name, rdtype
                )

            resolver.lookup = lookup  # type: ignore[method-assign]
            ctx = context(resolver, policy=OnlyLoopback(), timeout=1.0, attempts=1)
            subject = Subject("domain", "mail.test", Target("Mail", "government", ("mail.test",)))
            verdict = judge_smtp(await smtp.observe_smtp(ctx, subject))
        return [as_result(subject, "mail.smtp", verdict)]

    results = run(scan())
    # the greeter was reached: the banner drawn is what the judge saw
    (greeting,) = results[0].evidence["greetings"]
    assert greeting["address"] == "::1", greeting
    write_and_report(results, lang)
