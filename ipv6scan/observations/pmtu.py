"""What web.pmtu saw, before any judgement: a request of its own for the page web.http
found (uncompressed, the kernel's own MSS), and when that stalled after the handshake,
the same request with the MSS clamped.
Built by probes/pmtu.py, read by checks/pmtu.py; tests build these by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from ipv6scan.observations.web import Fetch, Site

# A response larger than this (the IPv6 minimum MTU) needs packets larger than every
# IPv6 link must carry: only then does it test the path's MTU.
LARGE_BYTES = 1280
# MSS the clamped request advertises: 1,280 - 40 (IPv6 header) - 20 (TCP header), so
# every segment the server sends fits the IPv6 minimum MTU whatever the path.
CLAMPED_MSS = 1220


class RawOutcome(StrEnum):
    """How a request of web.pmtu's own ended (RawFetch.outcome); written to evidence."""

    COMPLETE = "complete"  # the whole response came (to its end, or to the read limit)
    STALLED = "stalled"  # connected, request sent, the response did not finish in time
    NO_CONNECTION = "no_connection"  # the TCP handshake did not complete (refused, silent)
    BROKEN = "broken"  # reset, closed early, a TLS or protocol error: an answer, not a stall
    NOT_SENT = "not_sent"  # not probed (scope) or the scanner has no path of the family


RETRYABLE = frozenset({RawOutcome.STALLED, RawOutcome.NO_CONNECTION})  # tried again (tries.py)

# The members under their old module-level names, for the probe's and judge's bodies.
COMPLETE: Final = RawOutcome.COMPLETE
STALLED: Final = RawOutcome.STALLED
NO_CONNECTION: Final = RawOutcome.NO_CONNECTION
BROKEN: Final = RawOutcome.BROKEN
NOT_SENT: Final = RawOutcome.NOT_SENT


@dataclass(frozen=True)
class RawFetch:
    """One GET of web.pmtu's own to one pinned address, with or without the MSS clamp."""

    url: str
    address: str
    mss: int | None  # the clamp set before connect; None: the kernel's own (link MTU)
    outcome: RawOutcome
    received: int = 0  # bytes of the response (head and body) that arrived
    status: int | None = None  # when a status line arrived
    ms: float | None = None  # request start to the end of the read
    error: str | None = None
    attempts: int = 1  # tries made (probes/tries.py)
    failed_attempts: int = 0  # of them, stalled or unconnected

    @property
    def complete(self) -> bool:
        return self.outcome == RawOutcome.COMPLETE

    @property
    def stalled(self) -> bool:
        return self.outcome == RawOutcome.STALLED


@dataclass(frozen=True)
class PmtuObservation:
    """web.pmtu: the page web.http fetched over IPv6 (`seen`, its last hop), requested
    again without (`plain`) and, when that stalled, with (`clamped`) the MSS clamp."""

    site: Site
    seen: Fetch | None = None  # None: web.http got no answer over IPv6 worth repeating
    plain: RawFetch | None = None
    clamped: RawFetch | None = None
