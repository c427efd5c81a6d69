"""What every lab server shares: endpoint syntax, binding, the ready file."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Collection, Sequence
from pathlib import Path

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def endpoint(text: str) -> tuple[str, int]:
    """`[2001:db8::1]:80` or `203.0.113.1:80` -> (address, port)."""
    host, _, port = text.rpartition(":")
    return host.strip("[]"), int(port)


def kinds_at(
    p: argparse.ArgumentParser, items: Sequence[str], known: Collection[str]
) -> list[tuple[str, int, str]]:
    """`KIND=ENDPOINT` arguments -> (address, port, kind); an unknown kind is a usage error."""
    found = []
    for item in items:
        kind, _, where = item.partition("=")
        if kind not in known:
            p.error(f"unknown kind {kind!r}")
        found.append((*endpoint(where), kind))
    return found


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--ready", type=Path, required=True, help="written once every socket is bound")
    return p


async def serve(bindings: Sequence[tuple[str, int, Handler]], ready: Path) -> None:
    """Bind every (address, port, handler), say so in `ready`, serve forever."""
    servers = []
    for host, port, handler in bindings:
        servers.append(await asyncio.start_server(handler, host, port, reuse_address=True))
    # Written only now: the lab waits for this file before it calls itself up.
    ready.write_text("ready\n")
    await asyncio.gather(*(s.serve_forever() for s in servers))


async def close(writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(Exception):
        writer.close()
        await writer.wait_closed()
