"""Scope-safety canary: records every connection (and UDP datagram) it gets, then hangs up.

    python -m ipv6scan.lab.servers.canary --ready FILE --log FILE ENDPOINT ...

An ENDPOINT is `[::1]:80` (TCP) or `udp:[::1]:53`.

Run in the client namespace on its own loopback: the scanner must never dial
the ::1 or 127.0.0.1 that a hostile zone publishes, so the log must stay empty
during a scan. One JSON object a line: time, local and peer address.
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
from pathlib import Path

from ipv6scan.lab.servers.common import Handler, close, endpoint, parser, serve


async def handle(log: Path, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    record = {
        "time": time.time(),
        "local": list(writer.get_extra_info("sockname") or ())[:2],
        "peer": list(writer.get_extra_info("peername") or ())[:2],
        "proto": "tcp",
    }
    _write(log, record)
    await close(writer)


def _write(log: Path, record: dict[str, object]) -> None:
    with log.open("a", encoding="utf-8") as out:
        out.write(json.dumps(record) + "\n")


class _Datagrams(asyncio.DatagramProtocol):
    """Logs each datagram, answers none."""

    def __init__(self, log: Path, local: tuple[str, int]) -> None:
        self.log = log
        self.local = local

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        record = {"time": time.time(), "local": list(self.local),
                  "peer": list(addr)[:2], "proto": "udp", "bytes": len(data)}  # fmt: skip
        _write(self.log, record)


async def _serve_all(log: Path, listen: list[str], ready: Path) -> None:
    """The UDP endpoints bound first, then the TCP ones (whose serve() writes `ready`)."""
    loop = asyncio.get_running_loop()
    tcp: list[tuple[str, int, Handler]] = []
    for text in listen:
        if text.startswith("udp:"):
            host, port = endpoint(text.removeprefix("udp:"))
            protocol = functools.partial(_Datagrams, log, (host, port))
            await loop.create_datagram_endpoint(protocol, local_addr=(host, port))
        else:
            tcp.append((*endpoint(text), functools.partial(handle, log)))
    await serve(tcp, ready)


def main() -> None:
    p = parser("a connection canary for the ipv6scan lab")
    p.add_argument("--log", type=Path, required=True)
    p.add_argument("listen", nargs="+")
    args = p.parse_args()
    args.log.touch()
    asyncio.run(_serve_all(args.log, args.listen, args.ready))


if __name__ == "__main__":
    main()
