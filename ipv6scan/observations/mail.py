"""What the mail probe saw (mail.smtp): each MX address's SMTP greeting on port 25.

Built by probes/mail.py, read by checks/mail.py. Tests of the checks build these by
hand; no network needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from ipv6scan.addresses import AddressClass
from ipv6scan.observations.dns import MailExchangers


class SmtpOutcome(StrEnum):
    """How one SMTP connection ended (SmtpAttempt.outcome); the value is written to evidence."""

    GREETING = "greeting"  # a 220 greeting (complete, or cut by the timeout after "220-")
    REJECTED = "rejected"  # a complete greeting with another code (554, 421, ...)
    REFUSED = "refused"  # TCP connection refused (RST)
    TIMEOUT = "timeout"  # no connection, or no greeting, within the timeout
    CLOSED = "closed"  # the server closed before a complete greeting
    RESET = "reset"  # the connection was reset after it was accepted
    MALFORMED = "malformed"  # something that is not an SMTP reply
    OVERSIZED = "oversized"  # the greeting did not end within the byte bound
    NO_PATH = "no_path"  # our side: no route, no source address (ENETUNREACH, ...)
    NET_ERROR = "net_error"  # any other socket error


# The members under their old module-level names, for the judges' bodies (issue 15).
GREETING: Final = SmtpOutcome.GREETING
REJECTED: Final = SmtpOutcome.REJECTED
REFUSED: Final = SmtpOutcome.REFUSED
TIMEOUT: Final = SmtpOutcome.TIMEOUT
CLOSED: Final = SmtpOutcome.CLOSED
RESET: Final = SmtpOutcome.RESET
MALFORMED: Final = SmtpOutcome.MALFORMED
OVERSIZED: Final = SmtpOutcome.OVERSIZED
NO_PATH: Final = SmtpOutcome.NO_PATH


@dataclass(frozen=True)
class SmtpAttempt:
    """One TCP connection to port 25 of one MX address, read up to the greeting."""

    mx: str
    address: str
    outcome: SmtpOutcome
    code: int | None = None  # the reply code of the greeting's last line
    banner: str = ""  # first line, control characters removed, truncated
    complete: bool = True  # False: the timeout cut a multi-line greeting
    elapsed_ms: float = 0.0
    error: str | None = None
    attempts: int = 1  # tries made (probes/tries.py)
    failed_attempts: int = 0  # of them, refused, reset, closed or unanswered


@dataclass(frozen=True)
class SmtpObservation:
    mx: MailExchangers
    scanner_ipv6: bool
    attempts: tuple[SmtpAttempt, ...] = ()
    not_probed: tuple[tuple[str, AddressClass], ...] = ()  # (mx host, non-global AAAA)
    capped: int = 0  # global MX addresses beyond the bound, not probed
