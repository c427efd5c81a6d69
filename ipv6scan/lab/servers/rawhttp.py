"""A web server that writes its response head byte for byte, as a hostile server may.

    python -m ipv6scan.lab.servers.rawhttp --ready FILE KIND=ENDPOINT ...

nginx cannot send a header byte that is not UTF-8, nor does any ordinary server name
a codec such as `idna` as its charset; the scanner must survive both (issue 14, item
6). Each KIND (HEADS below) answers every GET with the same ordinary page, on every
endpoint and family alike, so that the site is judged on its merits: only the bytes
of its head are odd.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools

from ipv6scan.lab.servers.common import close, kinds_at, parser, serve
from ipv6scan.lab.websites import plain_pages

HEADS: dict[str, bytes] = {
    # a Server header with a byte that is not UTF-8
    "badbyte": b"Server: Apache\xff\r\nContent-Type: text/html\r\n",
    # a charset whose Python codec raises on any decode
    "idnacharset": b"Server: lab\r\nContent-Type: text/html; charset=idna\r\n",
}


def response(kind: str, path: bytes) -> bytes:
    pages = plain_pages(f"Hostile head {kind}")
    name = "about.html" if path.startswith(b"/about") else "index.html"
    body = pages[name].encode("utf-8")
    return (
        b"HTTP/1.1 200 OK\r\n" + HEADS[kind]
        + b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    )  # fmt: skip


async def handle(kind: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5.0)
        parts = head.split(b" ", 2)
        writer.write(response(kind, parts[1] if len(parts) > 1 else b"/"))
        await writer.drain()
    except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
        pass  # the client went away: nothing to answer
    finally:
        with contextlib.suppress(Exception):
            await close(writer)


def main() -> None:
    p = parser("a web server with a hostile response head, for the ipv6scan lab")
    p.add_argument("listen", nargs="+", help="KIND=ENDPOINT, KIND one of " + ", ".join(HEADS))
    args = p.parse_args()
    bindings = [(host, port, functools.partial(handle, kind))
                for host, port, kind in kinds_at(p, args.listen, HEADS)]  # fmt: skip
    asyncio.run(serve(bindings, args.ready))


if __name__ == "__main__":
    main()
