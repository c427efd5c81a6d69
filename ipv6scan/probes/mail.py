"""mail.smtp's probe: connect to port 25 over IPv6, read the greeting, say QUIT.

Nothing more is sent: no EHLO, no STARTTLS, no envelope. What is read is
bounded in bytes and time, and the banner is the remote's text: it is kept as
plain text with control characters removed, never interpreted.

Multi-line greetings ("220-" lines, then "220 ") are read to their last line.
Postfix's postscreen sends "220-" and then waits several seconds before the
rest, to catch clients that talk early; a timeout after a "220-" line is
therefore still a greeting (marked incomplete), and no QUIT is sent into it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import unicodedata
from dataclasses import dataclass, replace

from ipv6scan import stall_clock
from ipv6scan.context import ScanContext
from ipv6scan.model import Subject
from ipv6scan.nopath import NO_PATH_ERRNOS
from ipv6scan.observations.mail import SmtpAttempt, SmtpObservation, SmtpOutcome
from ipv6scan.probes.dns import observe_mail_exchangers
from ipv6scan.probes.tries import run_tries

SMTP_PORT = 25
MAX_GREETING_BYTES = 4096
BANNER_CHARS = 200
MAX_SMTP_ADDRESSES = 32  # of all MX hosts together
QUIT_WAIT = 1.0  # s for the server's 221 after QUIT; politeness, not evidence

# parse_greeting states
COMPLETE = "complete"
PARTIAL = "partial"
BAD = "malformed"


def parse_greeting(data: bytes) -> tuple[str, int | None]:
    """(state, code) of the bytes read so far: COMPLETE with the last line's code,
    PARTIAL (more to come; code of the first line, if one was seen) or BAD."""
    *lines, tail = data.split(b"\n")
    first_code: int | None = None
    for raw in lines:
        line = raw.rstrip(b"\r")
        if len(line) < 3 or not line[:3].isdigit():
            return BAD, None
        code = int(line[:3])
        first_code = code if first_code is None else first_code
        sep = line[3:4]
        if sep in (b" ", b""):
            return COMPLETE, code
        if sep != b"-":
            return BAD, None
    if len(tail) >= 3 and not tail[:3].isdigit():
        return BAD, None  # no need to wait for the end of a line that is not a reply
    if first_code is None and len(tail) >= 3:
        first_code = int(tail[:3])
    return PARTIAL, first_code


def clean_banner(data: bytes, limit: int = BANNER_CHARS) -> str:
    """The first line as plain text: undecodable bytes replaced, control and format
    characters (escape sequences, bidi overrides, NUL...) dropped, truncated."""
    first = data.split(b"\n", 1)[0][: limit * 4].decode("utf-8", errors="replace")
    kept = "".join(
        ch if unicodedata.category(ch)[0] != "C" else " " if ch == "\t" else "" for ch in first
    )
    return kept.strip()[:limit]


async def greet(
    address: str,
    port: int = SMTP_PORT,
    *,
    timeout: float,
    max_bytes: int = MAX_GREETING_BYTES,
    mx: str = "",
) -> SmtpAttempt:
    """Connect, read the greeting within `timeout` seconds and `max_bytes` bytes, QUIT."""
    got = _Reading(mx, address, time.monotonic())
    writer: asyncio.StreamWriter | None = None
    try:
        async with stall_clock.timeout(timeout):
            reader, writer = await asyncio.open_connection(address, port)
            result = await _read_greeting(reader, got, max_bytes)
        if result.outcome in (SmtpOutcome.GREETING, SmtpOutcome.REJECTED):
            # RFC 5321 4.1.1.10: a client ends the session with QUIT, even after a 554
            await _quit(reader, writer, min(QUIT_WAIT, timeout))
        return result
    except TimeoutError:  # before OSError: TimeoutError is one
        return _timed_out(got, connected=writer is not None)
    except OSError as exc:
        return _socket_error(got, exc)
    finally:
        if writer is not None:
            await _close(writer)


@dataclass
class _Reading:
    """One connection's bytes so far, and the attempt they make when it ends."""

    mx: str
    address: str
    started: float  # time.monotonic() before the connect
    buffer: bytes = b""

    def attempt(
        self,
        outcome: SmtpOutcome,
        code: int | None = None,
        *,
        complete: bool = True,
        error: str | None = None,
    ) -> SmtpAttempt:
        elapsed = (time.monotonic() - self.started) * 1000
        banner = clean_banner(self.buffer)
        return SmtpAttempt(self.mx, self.address, outcome, code, banner, complete, elapsed, error)


async def _read_greeting(
    reader: asyncio.StreamReader, got: _Reading, max_bytes: int
) -> SmtpAttempt:
    """Read until the greeting is complete, is not SMTP, overflows or is cut by a close."""
    while True:
        state, code = parse_greeting(got.buffer)
        if state == BAD:
            return got.attempt(SmtpOutcome.MALFORMED, error="not an SMTP reply")
        if state == COMPLETE:
            return got.attempt(SmtpOutcome.GREETING if code == 220 else SmtpOutcome.REJECTED, code)
        if len(got.buffer) >= max_bytes:
            error = f"no end of greeting in {max_bytes} bytes"
            return got.attempt(SmtpOutcome.OVERSIZED, code, error=error)
        chunk = await reader.read(max_bytes - len(got.buffer))
        if not chunk:
            error = "closed before a complete greeting"
            return got.attempt(SmtpOutcome.CLOSED, code, error=error)
        got.buffer += chunk


def _timed_out(got: _Reading, *, connected: bool) -> SmtpAttempt:
    """A timeout after "220-" is still a greeting (postscreen's pause), marked incomplete."""
    if not connected:
        return got.attempt(SmtpOutcome.TIMEOUT, error="no TCP connection within the timeout")
    state, code = parse_greeting(got.buffer)
    if state == PARTIAL and code == 220:
        return got.attempt(SmtpOutcome.GREETING, 220, complete=False)
    error = "no complete greeting within the timeout"
    return got.attempt(SmtpOutcome.TIMEOUT, code, error=error)


def _socket_error(got: _Reading, exc: OSError) -> SmtpAttempt:
    if isinstance(exc, ConnectionRefusedError):
        return got.attempt(SmtpOutcome.REFUSED, error="connection refused")
    if isinstance(exc, ConnectionResetError):
        return got.attempt(SmtpOutcome.RESET, error="connection reset")
    kind = SmtpOutcome.NO_PATH if exc.errno in NO_PATH_ERRNOS else SmtpOutcome.NET_ERROR
    return got.attempt(kind, error=exc.strerror or str(exc))


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(Exception):
        async with asyncio.timeout(QUIT_WAIT):
            await writer.wait_closed()


async def _quit(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, wait: float) -> None:
    with contextlib.suppress(OSError, TimeoutError):
        writer.write(b"QUIT\r\n")
        async with stall_clock.timeout(wait):
            await writer.drain()
            await reader.read(512)  # the 221, or the close


# no answer, a refusal, a reset or a close before the greeting: worth another try
RETRYABLE = frozenset(
    {SmtpOutcome.TIMEOUT, SmtpOutcome.REFUSED, SmtpOutcome.RESET, SmtpOutcome.CLOSED}
)


def retryable(attempt: SmtpAttempt) -> bool:
    return attempt.outcome in RETRYABLE


async def _greet_one(ctx: ScanContext, mx: str, address: str) -> SmtpAttempt:
    # checked again right before connecting, so no future path can reach a non-global address
    if not ctx.policy.is_global(address):
        raise ValueError(f"{address} is not a global address; refusing to connect")

    async def one_try() -> SmtpAttempt:
        async with ctx.limits.slot(address):  # per try: no slot is held during a backoff
            return await greet(address, SMTP_PORT, timeout=ctx.timeout, mx=mx)

    got = await run_tries(one_try, retryable, ctx.options.attempts)
    if got.attempts == 1:
        return got.outcome
    return replace(got.outcome, attempts=got.attempts, failed_attempts=got.failed_attempts)


async def observe_smtp(ctx: ScanContext, subject: Subject) -> SmtpObservation:
    mx = await observe_mail_exchangers(ctx, subject)  # the resolver caches its look-ups
    not_probed = tuple((host, c) for _, host, found in mx.hosts for c in found.non_global)
    seen: dict[str, str] = {}  # address -> first MX host: one connection per address
    for _, host, found in mx.hosts:
        for address in found.global_:
            seen.setdefault(address, host)
    targets = list(seen.items())[:MAX_SMTP_ADDRESSES]
    capped = len(seen) - len(targets)
    if not targets or not ctx.connectivity.ipv6 or not mx.lookup.ok:
        return SmtpObservation(mx, ctx.connectivity.ipv6, (), not_probed, capped)
    attempts = await asyncio.gather(*(_greet_one(ctx, host, addr) for addr, host in targets))
    return SmtpObservation(mx, True, tuple(attempts), not_probed, capped)
