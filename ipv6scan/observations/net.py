"""What the network probes saw: ICMPv6 echoes and traces (net.ping, net.trace).

Built by probes/net.py, read by checks/net.py. Tests of the checks build these by hand;
no network needed. SMTP's are in observations/mail.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from ipv6scan.addresses import AddressClass
from ipv6scan.observations.dns import Addresses


class EchoKind(StrEnum):
    """What came back for one ICMPv6 echo request (EchoOutcome.kind)."""

    REPLY = "reply"  # an Echo Reply from the destination
    TIME_EXCEEDED = "time_exceeded"  # a router on the way said the hop limit ran out
    UNREACHABLE = "unreachable"  # a Destination Unreachable quoting our probe
    TIMEOUT = "timeout"  # nothing came back within the timeout
    NO_PATH = "no_path"  # our side: no route, no source address (ENETUNREACH, ...)
    SEND_ERROR = "send_error"  # our side could not send it (not a route problem)


# The members under their old module-level names, for the probes' and judges' bodies.
REPLY: Final = EchoKind.REPLY
TIME_EXCEEDED: Final = EchoKind.TIME_EXCEEDED
UNREACHABLE: Final = EchoKind.UNREACHABLE
TIMEOUT: Final = EchoKind.TIMEOUT
NO_PATH: Final = EchoKind.NO_PATH
SEND_ERROR: Final = EchoKind.SEND_ERROR

SCANNER_SIDE = frozenset({EchoKind.NO_PATH, EchoKind.SEND_ERROR})  # never the site's fault

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


# ------------------------------------------------------------------ net.ping, net.trace


@dataclass(frozen=True, slots=True)
class EchoOutcome:
    """What came back for one echo request."""

    kind: EchoKind
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
