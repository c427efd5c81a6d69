"""What the probes saw, before any judgement. Built by probes, read by checks.

Tests of the checks build these by hand; no network needed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ipv6scan.addresses import AddressClass
from ipv6scan.dnsclient.reasons import no_resolver
from ipv6scan.dnsclient.resolution import Lookup


@dataclass(frozen=True)
class Connectivity:
    """The scanner's own paths, found before probing (a site is never blamed for ours)."""

    ipv6: bool
    ipv4: bool
    dns64_prefixes: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    resolvers_answered: bool = True  # False: no configured resolver answered the preflight
    # resolvers the preflight will not use, each with what it answered (preflight.py)
    unusable_resolvers: tuple[tuple[str, str], ...] = ()
    resolvers_usable: bool = True  # False: not one configured resolver is usable

    @property
    def no_resolver_detail(self) -> str | None:
        """Why every recursive look-up fails, naming each resolver and what it answered;
        None while a resolver is usable."""
        if self.resolvers_usable:
            return None
        return no_resolver(self.unusable_resolvers)


@dataclass(frozen=True, init=False)
class Addresses:
    """One AAAA (or A) look-up with every address classified."""

    lookup: Lookup
    classes: tuple[AddressClass, ...] = ()

    # one per look-up: faster than the generated frozen __init__ (see model.py)
    def __init__(self, lookup: Lookup, classes: tuple[AddressClass, ...] = ()) -> None:
        self.__dict__.update(lookup=lookup, classes=classes)

    @property
    def global_(self) -> tuple[str, ...]:
        return tuple(c.address for c in self.classes if c.is_global)

    @property
    def non_global(self) -> tuple[AddressClass, ...]:
        return tuple(c for c in self.classes if not c.is_global)


@dataclass(frozen=True)
class NameServers:
    """The NS set at the zone cut above a domain, each NS host's AAAA classified."""

    domain: str
    zone: str | None  # None when the walk could not finish
    lookup: Lookup  # the NS look-up that decided (found the set, or failed)
    hosts: tuple[tuple[str, Addresses], ...] = ()


@dataclass(frozen=True)
class NsAnswer:
    """One direct SOA question to one name-server address over IPv6."""

    ns: str
    address: str
    rcode: str
    authoritative: bool
    has_soa: bool
    error: str | None = None
    elapsed_ms: float = 0.0
    attempts: int = 1  # queries sent (probes/tries.py)
    failed_attempts: int = 0  # of them, unanswered or refused

    @property
    def good(self) -> bool:
        return self.rcode == "NOERROR" and self.authoritative and self.has_soa


@dataclass(frozen=True)
class NsReachability:
    servers: NameServers
    scanner_ipv6: bool
    answers: tuple[NsAnswer, ...] = ()


@dataclass(frozen=True)
class MailExchangers:
    domain: str
    lookup: Lookup
    null_mx: bool = False
    hosts: tuple[tuple[int, str, Addresses], ...] = ()  # (preference, host, AAAA)
    capped: int = 0  # MX hosts beyond the bound, not looked up


@dataclass(frozen=True)
class ResolverAnswer:
    """A recursive AAAA question sent straight to a resolver over its own address."""

    address: str
    port: int
    family: int
    qname: str
    scanner_ipv6: bool
    rcode: str = ""
    answers: tuple[str, ...] = field(default_factory=tuple)
    error: str | None = None
    elapsed_ms: float = 0.0
    not_probed: str | None = None  # "not probed: <class>": out of scope, nothing was sent
    # with it, the address's registry category ("loopback", "documentation"; addresses.py)
    not_probed_category: str | None = None
    # why the scanner could not pick a name known to have AAAA (no usable resolver of its
    # own): an empty answer then says nothing about the probed resolver
    qname_unverified: str | None = None
    attempts: int = 1  # queries sent (probes/tries.py)
    failed_attempts: int = 0  # of them, unanswered or refused
