"""SMTP greeters: a 220 (or a 554) greeting, then HELO/EHLO/NOOP/RSET/QUIT.

    python -m ipv6scan.lab.servers.smtp --ready FILE ENDPOINT=MODE=NAME ...

MODE is `greet` (220) or `reject` (554, RFC 5321 section 3.1: no service here).
An address the lab wants closed simply gets no endpoint: the kernel resets.
"""

from __future__ import annotations

import asyncio
import functools

from ipv6scan.lab.servers.common import close, endpoint, parser, serve

IDLE = 30.0  # seconds without a command before the greeter hangs up (RFC 5321: 5 min)


async def handle(
    mode: str, name: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    try:
        if mode == "reject":
            writer.write(f"554 5.3.2 {name} no SMTP service here\r\n".encode())
        else:
            writer.write(f"220 {name} ESMTP ipv6scan-lab\r\n".encode())
        await writer.drain()
        while True:
            line = await asyncio.wait_for(reader.readline(), IDLE)
            if not line:
                return
            verb = line[:4].upper()
            if verb == b"QUIT":
                writer.write(f"221 2.0.0 {name} closing connection\r\n".encode())
                await writer.drain()
                return
            if mode == "reject":
                reply = "503 5.5.1 no service here, only QUIT"
            elif verb in (b"HELO", b"EHLO"):
                reply = f"250 {name}"
            elif verb in (b"NOOP", b"RSET"):
                reply = "250 2.0.0 OK"
            else:
                reply = "502 5.5.2 command not implemented"
            writer.write(f"{reply}\r\n".encode())
            await writer.drain()
    except (TimeoutError, OSError, asyncio.LimitOverrunError, ValueError):
        return
    finally:
        await close(writer)


def main() -> None:
    p = parser("SMTP greeters for the ipv6scan lab")
    p.add_argument("listen", nargs="+", help="ENDPOINT=MODE=NAME")
    args = p.parse_args()
    bindings = []
    for spec in args.listen:
        where, mode, name = spec.split("=")
        if mode not in ("greet", "reject"):
            raise SystemExit(f"unknown mode {mode!r}")
        host, port = endpoint(where)
        bindings.append((host, port, functools.partial(handle, mode, name)))
    asyncio.run(serve(bindings, args.ready))


if __name__ == "__main__":
    main()
