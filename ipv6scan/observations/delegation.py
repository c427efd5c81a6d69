"""What the delegation walk saw (dns.delegation): each zone cut from D's TLD down to D's
own zone, its name servers, their IPv6 addresses, and which answered authoritatively over
IPv6. Built by probes/delegation.py, read by checks/delegation.py."""

from __future__ import annotations

from dataclasses import dataclass

from ipv6scan.dnsclient.resolution import Lookup
from ipv6scan.observations.dns import Addresses, NsAnswer

# How a walk ended.
REACHED = "reached"  # every cut down to D's own zone was found
NXDOMAIN = "nxdomain"  # a cut's servers say a name on the way does not exist
STUCK = "stuck"  # a cut has no name server that answers over IPv6: no way further down
UNFOLLOWED = "unfollowed"  # a cut's servers answered SOA, but gave no usable answer for NS
TOO_LONG = "too_long"  # more cuts than the bound
NO_TLD = "no_tld"  # the TLD's NS set could not be found through the resolver
NO_IPV6 = "no_ipv6"  # the scanner has no IPv6 path


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
    ending: str  # one of the endings above
    cuts: tuple[ZoneCut, ...] = ()
    tld_lookup: Lookup | None = None  # the resolver's NS look-up of the TLD
    note: str = ""  # what the walk's last question got, when it ended early
