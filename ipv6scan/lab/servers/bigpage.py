"""The path-MTU lab's web server: pages of a chosen size, written so that the first data
segment is as large as the link allows.

    python -m ipv6scan.lab.servers.bigpage --ready FILE [--cert PEM --key PEM] KIND=ENDPOINT ...

KIND (PAGES below): `big`, a page of BIG_BYTES, head and body in one write, so every
segment is full-size and none arrives through a path-MTU black hole; `split`, the same
page with its head sent first, alone (a small segment that gets through) and the body a
moment later (full-size segments that do not): web.http sees a status, then the body
hangs; `small`, a page that fits one packet of the IPv6 minimum MTU. Port 443 speaks
TLS (the certificate given), every other port plain HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ssl
from pathlib import Path

from ipv6scan.lab.servers.common import close, kinds_at, parser

BIG_BYTES = 24_000  # many full-size segments
SMALL_BYTES = 300  # head and body far below 1,220 bytes
SPLIT_PAUSE = 0.2  # seconds between the head and the body of a `split` page


def _page(title: str, size: int) -> bytes:
    head = f"<!doctype html><html><head><title>{title}</title></head><body><pre>\n"
    tail = "</pre></body></html>\n"
    filler = ("IPv6 path MTU lab page. " * (size // 24 + 1))[: max(0, size - len(head + tail))]
    return (head + filler + tail).encode()


PAGES: dict[str, bytes] = {
    "big": _page("Big page", BIG_BYTES),
    "split": _page("Big page, head first", BIG_BYTES),
    "small": _page("Small page", SMALL_BYTES),
}


def head(body: bytes) -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\nServer: lab-bigpage\r\nContent-Type: text/html; charset=utf-8\r\n"
        b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body)
    )


async def handle(kind: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    body = PAGES[kind]
    try:
        await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5.0)
        if kind == "split":
            writer.write(head(body))
            await writer.drain()
            await asyncio.sleep(SPLIT_PAUSE)  # the head leaves alone, in its own segment
            writer.write(body)
        else:
            writer.write(head(body) + body)
        await writer.drain()
    except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
        pass  # the client went away: nothing to answer
    finally:
        with contextlib.suppress(Exception):
            await close(writer)


async def serve(bindings: list[tuple[str, int, str]], tls: ssl.SSLContext | None,
                ready: Path) -> None:  # fmt: skip
    """Bind every (address, port, kind), say so in `ready`, serve forever."""
    servers = []
    for host, port, kind in bindings:
        handler = functools.partial(handle, kind)
        context = tls if port == 443 else None
        servers.append(
            await asyncio.start_server(handler, host, port, ssl=context, reuse_address=True)
        )
    ready.write_text("ready\n")  # only now: the lab waits for this file
    await asyncio.gather(*(s.serve_forever() for s in servers))


def main() -> None:
    p = parser("pages of a chosen size, for the ipv6scan path-MTU lab")
    p.add_argument("--cert", type=Path, help="certificate (PEM) for port 443")
    p.add_argument("--key", type=Path, help="its private key (PEM)")
    p.add_argument("listen", nargs="+", help="KIND=ENDPOINT, KIND one of " + ", ".join(PAGES))
    args = p.parse_args()
    bindings = kinds_at(p, args.listen, PAGES)
    tls = None
    if args.cert is not None:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(args.cert, args.key)
    elif any(port == 443 for _, port, _ in bindings):
        p.error("port 443 needs --cert and --key")
    asyncio.run(serve(bindings, tls, args.ready))


if __name__ == "__main__":
    main()
