"""What the delegation walk saw (dns.delegation): each zone cut from D's TLD down to D's
own zone, its name servers, their IPv6 addresses, and which answered authoritatively over
IPv6. Built by probes/delegation.py, read by checks/delegation.py."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from ipv6scan.dnsclient.resolution import Lookup
from ipv6scan.messages import message
from ipv6scan.observations.dns import Addresses, NsAnswer


class WalkEnding(StrEnum):
    """How a delegation walk ended (DelegationChain.ending); written to evidence."""

    REACHED = "reached"  # every cut down to D's own zone was found
    NXDOMAIN = "nxdomain"  # a cut's servers say a name on the way does not exist
    STUCK = "stuck"  # a cut has no name server that answers over IPv6: no way further down
    UNFOLLOWED = "unfollowed"  # a cut's servers answered SOA, but gave no usable answer for NS
    TOO_LONG = "too_long"  # more cuts than the bound
    NO_TLD = "no_tld"  # the TLD's NS set could not be found through the resolver
    NO_IPV6 = "no_ipv6"  # the scanner has no IPv6 path


# The walk's notes (DelegationChain.note), declared once: the probe says them, the judge
# shows them. The zone, server names, addresses and the servers' rcodes, as they are.
NOTE_NXDOMAIN = message(
    "dns.delegation.note_nxdomain", "%(zone)s's server %(server)s answered NXDOMAIN for %(name)s"
)
NOTE_RCODE = message("dns.delegation.note_rcode", "%(zone)s's server %(server)s answered %(rcode)s")
NOTE_RCODE_ERROR = message(
    "dns.delegation.note_rcode_error",
    "%(zone)s's server %(server)s answered %(rcode)s (%(error)s)",
)
NOTE_NO_REFERRAL = message(
    "dns.delegation.note_no_referral",
    "%(zone)s's server %(server)s gave neither an authoritative answer nor a referral for %(name)s",
)
NOTE_NOT_ASKED = message(
    "dns.delegation.note_not_asked", "no server of %(zone)s was asked about %(name)s"
)
NOTE_NO_ROUTE = message("dns.delegation.note_no_route", "no route to %(address)s")
NOTE_TOO_LONG = message(
    "dns.delegation.note_too_long", "more than %(count)s zone cuts above %(domain)s"
)


# The members under their old module-level names, for the probe's and judge's bodies.
REACHED: Final = WalkEnding.REACHED
NXDOMAIN: Final = WalkEnding.NXDOMAIN
STUCK: Final = WalkEnding.STUCK
UNFOLLOWED: Final = WalkEnding.UNFOLLOWED
TOO_LONG: Final = WalkEnding.TOO_LONG
NO_TLD: Final = WalkEnding.NO_TLD
NO_IPV6: Final = WalkEnding.NO_IPV6


@dataclass(frozen=True)
class CutServer:
    """One NS name of a cut and its AAAA: from glue in the referral, or the resolver."""

    host: str
    addresses: Addresses
    glue: bool = False


@dataclass(frozen=True)
class ZoneCut:
    """One zone of the chain: its NS set and each IPv6 address's SOA answer."""

    zone: str
    source: str  # "resolver" (the TLD), "referral" or "answer" (an AA NS answer at the apex)
    servers: tuple[CutServer, ...] = ()
    answers: tuple[NsAnswer, ...] = ()
    capped: int = 0  # NS names beyond the bound, not looked at

    @property
    def answered(self) -> tuple[NsAnswer, ...]:
        """The addresses that answered SOA for the zone authoritatively over IPv6."""
        return tuple(a for a in self.answers if a.good)

    @property
    def reachable(self) -> bool:
        return bool(self.answered)


@dataclass(frozen=True)
class DelegationChain:
    domain: str
    scanner_ipv6: bool
    ending: WalkEnding
    cuts: tuple[ZoneCut, ...] = ()
    tld_lookup: Lookup | None = None  # the resolver's NS look-up of the TLD
    note: str = ""  # what the walk's last question got, when it ended early
