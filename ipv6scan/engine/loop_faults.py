"""The scan loop's exception handler: two known uvloop faults are not the scan's errors.

When a TLS connection is aborted while the server's data still arrives (a fetch past its
deadline, a try that lost to another: probes/tries.py), uvloop's SSLProtocol may write a
record on the transport it has already closed. uvloop then reports "Fatal error on SSL
protocol" with RuntimeError("unable to perform operation on <TCPTransport closed=True
...>; the handler is closed"), and the default handler prints a traceback on stderr.
The connection was being dropped anyway, and the fetch's outcome is already recorded.
This is MagicStack/uvloop#506, still open. A lab scan whose process was stopped for a
few seconds at a time printed dozens of these.

The other: a TLS handshake abandoned by its timeout (certificates.verify) that fails
later leaves uvloop's handshake future with an SSLError nobody reads, and the loop
reports "Future exception was never retrieved". The verification's outcome (no answer
in time) is already recorded. Every other report goes to the default handler.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

CLOSED_HANDLE = "the handler is closed"  # uvloop's words (UVHandle._ensure_alive)


def is_closed_transport_write(context: dict[str, Any]) -> bool:
    """Whether a loop report is uvloop's TLS write on a transport it had closed."""
    exc = context.get("exception")
    return (
        isinstance(exc, RuntimeError)
        and CLOSED_HANDLE in str(exc)
        and str(context.get("message", "")).startswith("Fatal error on SSL protocol")
    )


def is_abandoned_handshake(context: dict[str, Any]) -> bool:
    """Whether a loop report is the unread failure of a TLS handshake nobody waits for."""
    return context.get("message") == "Future exception was never retrieved" and isinstance(
        context.get("exception"), ssl.SSLError
    )


def handle(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    if not (is_closed_transport_write(context) or is_abandoned_handshake(context)):
        loop.default_exception_handler(context)


def install(loop: asyncio.AbstractEventLoop) -> None:
    """The scan's handler on `loop`, unless its owner set one of their own."""
    if loop.get_exception_handler() is None:
        loop.set_exception_handler(handle)
