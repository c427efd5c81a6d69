"""Text a server controls, made safe where it enters an observation, and the results
file that survives a record that still cannot be encoded (issue 14, item 6).

Servers here are raw asyncio sockets on 127.0.0.1 writing the bytes under test: aiohttp's
own server would not send a header that is not UTF-8."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from ipv6scan.model import CheckResult, Status, json_loads
from ipv6scan.observations.web import RESPONSE
from ipv6scan.probes.charsets import decode_body, page_codec
from ipv6scan.probes.http import fetch_pinned
from ipv6scan.report.jsonl import ResultWriter, read_results
from ipv6scan.report.jsonl_batch import BatchedResultWriter
from ipv6scan.safetext import excerpt, safe_text

PAGE = b"<html><body>" + b"".join(b"<a href='/p%d'>p</a>" % n for n in range(3)) + b"</body></html>"


@asynccontextmanager
async def raw_server(head: bytes, body: bytes = PAGE) -> AsyncIterator[int]:
    """An HTTP server on 127.0.0.1 answering every request with `head` (the status line
    and headers, as bytes) and `body`; yields its port."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        length = b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
        writer.write(head + length + body)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


def result(**evidence: object) -> CheckResult:
    return CheckResult("t", "enterprise", "services", "a.example", "web.http", Status.PASS,
                       "ok", dict(evidence), 1.0)  # fmt: skip


# --- safe_text: the one rule for server-controlled text -------------------------------


def test_safe_text_shows_a_byte_that_is_not_utf8_and_stays_encodable() -> None:
    for value in (b"Apache\xff", "Apache\udcff"):  # raw, and as aiohttp hands it back
        text = safe_text(value, 300)
        assert text == "Apache\\xff"
        text.encode("utf-8")  # no lone surrogate left


def test_safe_text_replaces_lone_surrogates_controls_and_bidi_and_is_bounded() -> None:
    assert safe_text("a\ud800b", 10) == "a\ufffdb"
    assert safe_text("a\x1b[31mb\x00", 20) == "a\\x1b[31mb\\x00"
    assert safe_text("evil\u202egnp.exe", 30) == "evil\\u202egnp.exe"
    assert safe_text("x" * 10_000, 300) == "x" * 300
    assert len(safe_text("\x00" * 1000, 50)) == 50
    assert safe_text("Grüße 中文", 20) == "Grüße 中文"  # plain text is left alone


def test_excerpt_cuts_a_long_value_and_says_how_long_it_was() -> None:
    assert excerpt("short") == "short"
    cut = excerpt("9" * 31_000_000)
    assert cut.startswith("9" * 80 + "...") and "31,000,000 characters" in cut
    assert len(cut) < 120


# --- the probe: header and charset ----------------------------------------------------


async def test_a_server_header_that_is_not_utf8_is_kept_safe() -> None:
    head = b"HTTP/1.1 200 OK\r\nServer: Apache\xff\r\nContent-Type: text/html\r\n"
    async with raw_server(head) as port:
        got = await fetch_pinned(f"http://h.test:{port}/", "127.0.0.1", timeout=3, body_limit=1000)
    assert got.outcome == RESPONSE and got.status == 200
    assert got.server == "Apache\\xff"
    json.dumps(got.server, ensure_ascii=False).encode("utf-8")


@pytest.mark.parametrize("charset", ["idna", "punycode", "undefined", "rot13", "zlib"])
async def test_a_charset_that_is_not_a_page_encoding_falls_back_to_utf8(charset: str) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=%s\r\n" % charset.encode()
    async with raw_server(head) as port:
        got = await fetch_pinned(f"http://h.test:{port}/", "127.0.0.1", timeout=3, body_limit=1000)
    assert got.outcome == RESPONSE and got.status == 200
    assert got.links_total == 3  # the page was read as the page it is
    assert got.fingerprint


def test_page_codecs_are_used_and_others_are_not() -> None:
    assert page_codec("Windows-1252") == "cp1252"
    assert page_codec('"gb2312"') == "gb2312"
    for name in ("idna", "punycode", "undefined", "unicode_escape", "utf-7", "base64", "x\0"):
        assert page_codec(name) == "utf-8", name
    assert decode_body(b"caf\xe9", "latin1") == "café"
    assert decode_body("中".encode("gbk"), "gbk") == "中"
    assert decode_body(b"\\udcff", "unicode_escape") == "\\udcff"  # not a lone surrogate


# --- the writers: one bad record never costs the others their lines -------------------


async def test_batched_writer_keeps_every_other_line_when_one_cannot_be_encoded(
    tmp_path: Path,
) -> None:
    path = tmp_path / "results.jsonl"
    with BatchedResultWriter(path, max_bytes=1) as writer:  # a flush per line
        writer.write(result(n=0))
        writer.write(result(server="Apache\udcff"))
        for n in range(1, 50):
            writer.write(result(n=n))
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 51
    bad = json.loads(lines[1])
    assert bad["evidence"]["server"] == "Apache\ufffd"
    assert [json.loads(x)["evidence"]["n"] for x in lines[2:]] == list(range(1, 50))


async def test_batched_writer_batch_with_a_bad_line_is_written_whole(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    with BatchedResultWriter(path) as writer:  # one batch for all
        for n in range(10):
            writer.write(result(n=n, server="x\udcff" if n == 5 else "x"))
        await asyncio.sleep(0)  # the end-of-turn flush
        writer.write(result(n=10))
    assert len(list(read_results(path))) == 11


def test_result_writer_replaces_a_lone_surrogate(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    with ResultWriter(path) as writer:
        writer.write(result(server="\ud800"))
        writer.write(result(n=1))
    assert [r.evidence for r in read_results(path)] == [{"server": "\ufffd"}, {"n": 1}]


def test_reading_a_json_escaped_lone_surrogate_gives_encodable_text(tmp_path: Path) -> None:
    line = json.dumps(result(server="Apache\udcff", **{"k\udcff": ["\ud800"]}).to_json())
    assert "\\udcff" in line  # json.dumps escapes it: the form another tool would write
    data = json_loads(line)
    assert data["evidence"] == {"server": "Apache\ufffd", "k\ufffd": ["\ufffd"]}
    assert json_loads('"\\ud83d\\ude00"') == "\U0001f600"  # a proper pair is kept
    path = tmp_path / "results.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    (got,) = read_results(path)
    got.to_line().encode("utf-8")
