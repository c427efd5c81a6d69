"""What a DNS question got back: the records and the reply, built once per answer.

Compiled with mypyc (setup.py). The classes are frozen dataclasses with a hand-written
__init__: the one dataclasses generates sets each field through object.__setattr__ in
interpreted code, and at bulk rates that cost more than decoding the answer. Here
mypyc compiles the __init__ (0.07 us against 2-3 us a reply); equality, hashing, repr
and immutability still come from the dataclass.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class DnsOutcome(StrEnum):
    """Why a query got no DNS answer: DnsReply.rcode in place of a DNS rcode, so upper
    case like NOERROR and SERVFAIL, and written to evidence as the rcode."""

    TIMEOUT = "TIMEOUT"
    PORT_UNREACHABLE = "PORT_UNREACHABLE"  # ICMP port unreachable: nothing listens there
    NO_PATH = "NO_PATH"  # our side: no route, no source address (ENETUNREACH, ...)
    NET_ERROR = "NET_ERROR"
    MALFORMED = "MALFORMED"


NO_ANSWER_OUTCOMES: Final = frozenset(DnsOutcome)

# The members under their old module-level names, for the resolvers' and judges' bodies.
TIMEOUT: Final = DnsOutcome.TIMEOUT
REFUSED_PORT: Final = DnsOutcome.PORT_UNREACHABLE
NO_PATH: Final = DnsOutcome.NO_PATH
NET_ERROR: Final = DnsOutcome.NET_ERROR
MALFORMED: Final = DnsOutcome.MALFORMED


@dataclass(frozen=True, init=False)
class RR:
    """One answer record, reduced to what the checks read."""

    name: str  # lower-case, no trailing dot ("." for the root)
    rdtype: str  # "AAAA", "A", "CNAME", "NS", "MX", "SOA", ...
    ttl: int
    data: str  # address, target name, or presentation text
    pref: int | None = None  # MX preference

    def __init__(
        self, name: str, rdtype: str, ttl: int, data: str, pref: int | None = None
    ) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "rdtype", rdtype)
        object.__setattr__(self, "ttl", ttl)
        object.__setattr__(self, "data", data)
        object.__setattr__(self, "pref", pref)


@dataclass(frozen=True, init=False)
class DnsReply:
    """What one server said to one question; `rcode` is a DNS rcode or a no-answer outcome."""

    qname: str
    rdtype: str
    server: str
    rcode: str
    answers: tuple[RR, ...] = ()
    authoritative: bool = False
    truncated_then_tcp: bool = False
    elapsed_ms: float = 0.0
    error: str | None = None

    def __init__(
        self,
        qname: str,
        rdtype: str,
        server: str,
        rcode: str,
        answers: tuple[RR, ...] = (),
        authoritative: bool = False,
        truncated_then_tcp: bool = False,
        elapsed_ms: float = 0.0,
        error: str | None = None,
    ) -> None:
        object.__setattr__(self, "qname", qname)
        object.__setattr__(self, "rdtype", rdtype)
        object.__setattr__(self, "server", server)
        object.__setattr__(self, "rcode", rcode)
        object.__setattr__(self, "answers", answers)
        object.__setattr__(self, "authoritative", authoritative)
        object.__setattr__(self, "truncated_then_tcp", truncated_then_tcp)
        object.__setattr__(self, "elapsed_ms", elapsed_ms)
        object.__setattr__(self, "error", error)

    @property
    def answered(self) -> bool:
        return self.rcode not in NO_ANSWER_OUTCOMES
