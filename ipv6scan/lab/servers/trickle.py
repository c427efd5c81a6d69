"""A web server that accepts at once, then sends its answer one byte at a time.

    python -m ipv6scan.lab.servers.trickle --ready FILE [--interval S] ENDPOINT ...

Each byte comes well inside any sane read timeout, yet the whole response takes
over a minute: only a client that bounds the total time of a request gives up in
time. It never sends more than RESPONSE, so a client that waits forever still ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools

from ipv6scan.lab.servers.common import close, endpoint, parser, serve

BODY = b"<!doctype html><html><head><title>trickle</title></head><body>slow</body></html>\n"
RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n"
    b"Content-Length: " + str(len(BODY)).encode() + b"\r\n\r\n" + BODY
)


async def handle(
    interval: float, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    # The request head first (bounded), as a real server would.
    with contextlib.suppress(
        TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError
    ):
        await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5.0)
    try:
        for i in range(len(RESPONSE)):
            writer.write(RESPONSE[i : i + 1])
            await writer.drain()
            await asyncio.sleep(interval)
    except OSError:
        pass  # the client gave up: what a good client does
    finally:
        await close(writer)


def main() -> None:
    p = parser("a trickling web server for the ipv6scan lab")
    p.add_argument("--interval", type=float, default=0.5)
    p.add_argument("listen", nargs="+")
    args = p.parse_args()
    handler = functools.partial(handle, args.interval)
    asyncio.run(serve([(*endpoint(e), handler) for e in args.listen], args.ready))


if __name__ == "__main__":
    main()
