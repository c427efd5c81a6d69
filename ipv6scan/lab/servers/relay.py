"""A TCP relay that holds every new connection for a while, then pipes it upstream.

    python -m ipv6scan.lab.servers.relay --ready FILE --delay S LISTEN=UPSTREAM ...

The lab's kernel has no netem, so extra latency on one family is made here, in
user space: the handshake completes at once (the kernel answers the SYN), but
nothing reaches the real server, so nothing comes back, before DELAY seconds.
Time to first byte (HTTP and TLS alike) grows by DELAY on this path only.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools

from ipv6scan.lab.servers.common import close, endpoint, parser, serve

CHUNK = 65536


async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
    try:
        while data := await src.read(CHUNK):
            dst.write(data)
            await dst.drain()
        if dst.can_write_eof():
            dst.write_eof()  # pass the half-close on: HTTP/1.0 style clients rely on it
    except OSError:
        pass


async def handle(
    delay: float, upstream: tuple[str, int], reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
) -> None:  # fmt: skip
    try:
        await asyncio.sleep(delay)
        up_reader, up_writer = await asyncio.open_connection(*upstream)
    except OSError:
        await close(writer)
        return
    try:
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
    finally:
        with contextlib.suppress(Exception):
            await close(up_writer)
        await close(writer)


def main() -> None:
    p = parser("a delaying TCP relay for the ipv6scan lab")
    p.add_argument("--delay", type=float, required=True)
    p.add_argument("maps", nargs="+", help="LISTEN=UPSTREAM, both [addr]:port")
    args = p.parse_args()
    bindings = []
    for spec in args.maps:
        listen, upstream = spec.split("=")
        handler = functools.partial(handle, args.delay, endpoint(upstream))
        bindings.append((*endpoint(listen), handler))
    asyncio.run(serve(bindings, args.ready))


if __name__ == "__main__":
    main()
