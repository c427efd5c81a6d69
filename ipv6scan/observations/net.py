"""What the mail and network probes saw: SMTP greetings, ICMPv6 echoes and traces.

Built by probes/mail.py and probes/net.py, read by checks/mail.py and
checks/net.py. Tests of the checks build these by hand; no network needed.
"""

from __future__ import annotations

from dataclasses import dataclass

from ipv6scan.addresses import AddressClass
from ipv6scan.observations.dns import Addresses, MailExchangers

# ------------------------------------------------------------------ outcomes

# One SMTP connection (SmtpAttempt.outcome).
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

# One ICMPv6 echo request (EchoOutcome.kind); TIMEOUT and NO_PATH as above.
REPLY = "reply"  # an Echo Reply from the destination
TIME_EXCEEDED = "time_exceeded"  # a router on the way said the hop limit ran out
UNREACHABLE = "unreachable"  # a Destination Unreachable quoting our probe
SEND_ERROR = "send_error"  # our side could not send it (not a route problem)

SCANNER_SIDE = frozenset({NO_PATH, SEND_ERROR})  # outcomes that are never the site's fault

# RFC 4443 section 3.1 codes of Destination Unreachable, as short words for evidence.
UNREACHABLE_CODES = {
    0: "no-route",
    1: "admin-prohibited",
    2: "beyond-scope",
    3: "address-unreachable",
    4: "port-unreachable",
    5: "source-policy",
    6: "reject-route",
    7: "source-routing-header-error",
}


# ------------------------------------------------------------------ mail.smtp


@dataclass(frozen=True)
class SmtpAttempt:
    """One TCP connection to port 25 of one MX address, read up to the greeting."""

    mx: str
    address: str
    outcome: str  # one of the SMTP outcomes above
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


# ------------------------------------------------------------------ net.ping, net.trace


@dataclass(frozen=True, slots=True)
class EchoOutcome:
    """What came back for one echo request."""

    kind: str  # REPLY, TIME_EXCEEDED, UNREACHABLE, TIMEOUT, NO_PATH, SEND_ERROR
    responder: str | None = None  # who sent the reply or the error
    rtt_ms: float | None = None
    code: int | None = None  # ICMPv6 code of an error message
    error: str | None = None  # for NO_PATH and SEND_ERROR: the errno text


@dataclass(frozen=True)
class NetTarget:
    """The IPv6 addresses a net check may send to, found from an address or a host subject."""

    subject: str
    kind: str  # "address" or "host"
    addresses: tuple[str, ...] = ()  # global, in answer order, capped
    not_probed: tuple[AddressClass, ...] = ()  # never contacted
    aaaa: Addresses | None = None  # the look-up, for a host
    ipv4_only: bool = False  # an address subject that is an IPv4 literal
    capped: int = 0  # global addresses beyond the cap, not probed


@dataclass(frozen=True)
class PingResult:
    address: str
    sent: int
    received: int
    rtts_ms: tuple[float, ...] = ()
    errors: tuple[str, ...] = ()  # what came back instead of replies (unreachable codes, ...)
    scanner_error: str | None = None  # set when our side could not send: not a finding
    attempts: int = 1  # series sent (probes/tries.py): the counts above are the last one's
    failed_attempts: int = 0  # of them, series with no echo answered


@dataclass(frozen=True)
class PingObservation:
    target: NetTarget
    scanner_ipv6: bool
    raw_denied: str | None = None  # why raw sockets are not permitted, when they are not
    results: tuple[PingResult, ...] = ()


@dataclass(frozen=True)
class TraceHop:
    ttl: int
    address: str | None  # None: no answer at this hop ("*")
    rtt_ms: float | None = None  # median of the answered probes
    answered: int = 0  # probes of this hop that got an answer
    sent: int = 0
    others: tuple[str, ...] = ()  # further responders at this hop (load balancing)
    unreachable: str | None = None  # a Destination Unreachable code word, when one came


@dataclass(frozen=True)
class TraceResult:
    destination: str
    reached: bool
    hops: tuple[TraceHop, ...] = ()
    max_hops: int = 0
    stopped: str | None = None  # why the trace ended early (unreachable from a hop)
    scanner_error: str | None = None  # set when our side could not send: not a finding


@dataclass(frozen=True)
class TraceObservation:
    target: NetTarget
    scanner_ipv6: bool
    raw_denied: str | None = None
    result: TraceResult | None = None  # the trace of the first global address
