"""Scope-safety canary: records every connection it gets, then hangs up.

    python -m ipv6scan.lab.servers.canary --ready FILE --log FILE ENDPOINT ...

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

from ipv6scan.lab.servers.common import close, endpoint, parser, serve


async def handle(log: Path, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    record = {
        "time": time.time(),
        "local": list(writer.get_extra_info("sockname") or ())[:2],
        "peer": list(writer.get_extra_info("peername") or ())[:2],
    }
    with log.open("a", encoding="utf-8") as out:
        out.write(json.dumps(record) + "\n")
    await close(writer)


def main() -> None:
    p = parser("a connection canary for the ipv6scan lab")
    p.add_argument("--log", type=Path, required=True)
    p.add_argument("listen", nargs="+")
    args = p.parse_args()
    args.log.touch()
    handler = functools.partial(handle, args.log)
    asyncio.run(serve([(*endpoint(e), handler) for e in args.listen], args.ready))


if __name__ == "__main__":
    main()
