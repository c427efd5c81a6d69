"""What the web probes saw, before any judgement. Built by probes, read by checks.

Frozen and compact: a fetch keeps a page's comparison fingerprint and its links,
never its body, so a shared once-per-scan fetch costs kilobytes, not a megabyte.
Tests of the web judges build these by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from ipv6scan.observations.dns import Addresses


class ConnectOutcome(StrEnum):
    """How a TCP connect (TcpProbe) or an HTTP request (Fetch) ended; written to evidence.
    The first group is the server's doing (a finding); NO_PATH and ERROR mean the question
    could not be put (undecided)."""

    OPEN = "open"
    RESPONSE = "response"
    REFUSED = "refused"
    RESET = "reset"
    TIMEOUT = "timeout"
    TLS_ERROR = "tls_error"
    PROTOCOL_ERROR = "protocol_error"
    NO_PATH = "no_path"  # ENETUNREACH/EHOSTUNREACH/EADDRNOTAVAIL, or the scanner lacks the family
    ERROR = "error"  # something else went wrong on our side
    NOT_PROBED = "not_probed"  # outside the global address space: never connected to


class ChainEnd(StrEnum):
    """How a redirect chain ended (Chain.end); written to evidence."""

    FINAL = "final"  # a response that is not a redirect
    NO_RESPONSE = "no_response"  # the last hop got no HTTP response
    NO_ADDRESS = "no_address"  # a hop's host has no global address of the family: chain left it
    LOOKUP_FAILED = "lookup_failed"  # a hop's host could not be resolved (SERVFAIL, timeout)
    TOO_MANY_REDIRECTS = "too_many_redirects"
    BAD_REDIRECT = "bad_redirect"  # a Location that is not an http(s) URL


UNDECIDED = frozenset({ConnectOutcome.NO_PATH, ConnectOutcome.ERROR})

# The members under their old module-level names, for the probes' and judges' bodies.
OPEN: Final = ConnectOutcome.OPEN
RESPONSE: Final = ConnectOutcome.RESPONSE
REFUSED: Final = ConnectOutcome.REFUSED
RESET: Final = ConnectOutcome.RESET
TIMEOUT: Final = ConnectOutcome.TIMEOUT
TLS_ERROR: Final = ConnectOutcome.TLS_ERROR
NO_PATH: Final = ConnectOutcome.NO_PATH
ERROR: Final = ConnectOutcome.ERROR
NOT_PROBED: Final = ConnectOutcome.NOT_PROBED
FINAL: Final = ChainEnd.FINAL
NO_RESPONSE: Final = ChainEnd.NO_RESPONSE
NO_ADDRESS: Final = ChainEnd.NO_ADDRESS
LOOKUP_FAILED: Final = ChainEnd.LOOKUP_FAILED
TOO_MANY_REDIRECTS: Final = ChainEnd.TOO_MANY_REDIRECTS
BAD_REDIRECT: Final = ChainEnd.BAD_REDIRECT

PROBED_MAX = 16  # addresses probed per family: more is a pool, and probing each adds nothing


def family_of(address: str) -> int:
    return 6 if ":" in address else 4


@dataclass(frozen=True)
class TcpProbe:
    """One TCP connect to one (address, port)."""

    address: str
    port: int
    outcome: ConnectOutcome  # OPEN, REFUSED, RESET, TIMEOUT, NO_PATH, ERROR or NOT_PROBED
    ms: float | None = None  # connect time when open
    error: str | None = None
    attempts: int = 1  # tries made (probes/tries.py)
    failed_attempts: int = 0  # of them, refused, reset or unanswered

    @property
    def family(self) -> int:
        return family_of(self.address)

    @property
    def open(self) -> bool:
        return self.outcome == ConnectOutcome.OPEN

    @property
    def undecided(self) -> bool:
        return self.outcome in UNDECIDED


@dataclass(frozen=True)
class Certificate:
    """The leaf certificate a server sent. Evidence, never a gate."""

    sha256: str  # of the DER
    subject: str = ""
    issuer: str = ""
    not_before: str = ""  # ISO 8601, UTC
    not_after: str = ""
    san: tuple[str, ...] = ()  # DNS names and IP addresses
    verifies: bool | None = None  # for the host name, against the system's trust store
    verify_error: str | None = None
    parse_error: str | None = None


@dataclass(frozen=True)
class Fetch:
    """One HTTP request to one pinned address (no redirect followed)."""

    url: str
    address: str
    outcome: ConnectOutcome  # RESPONSE, or why there was none
    status: int | None = None
    error: str | None = None
    location: str | None = None  # header values bounded in length
    content_type: str | None = None
    server: str | None = None
    ttfb_ms: float | None = None  # request start (connect included) to response headers
    body_bytes: int = 0  # read, at most the body limit
    truncated: bool = False  # the body was longer than the limit; reading stopped there
    body_error: str | None = None  # the headers came but the body did not finish
    body_sha256: str | None = None
    fingerprint: bytes = b""  # similarity.fingerprint of the body (PAGE fetches)
    links: tuple[str, ...] = ()  # the page's first <a href> links, up to the links cap
    links_total: int = 0  # distinct links on the page (at most html_links.MAX_LINKS)
    links_more: bool = False  # more than MAX_LINKS: links_total is a floor
    certificate: Certificate | None = None
    # (kind, URL) of the sub-resources a page (or a STYLE fetch's style sheet) declares,
    # what breaks the page first, up to the resources cap (probes/html_resources.py)
    resources: tuple[tuple[str, str], ...] = ()
    resources_total: int = 0  # distinct ones declared (at most html_resources.MAX_RESOURCES)
    resources_more: bool = False  # more than MAX_RESOURCES: resources_total is a floor
    attempts: int = 1  # tries made (probes/tries.py)
    failed_attempts: int = 0  # of them, refused, reset or unanswered

    @property
    def family(self) -> int:
        return family_of(self.address)

    @property
    def responded(self) -> bool:
        return self.outcome == ConnectOutcome.RESPONSE

    @property
    def undecided(self) -> bool:
        return self.outcome in UNDECIDED


@dataclass(frozen=True)
class Chain:
    """A request and its redirects, every hop over one family."""

    family: int
    start_url: str
    hops: tuple[Fetch, ...]
    end: ChainEnd
    stopped_at: str | None = None  # the URL the chain could not go on to
    reason: str | None = None  # why it stopped there ("no AAAA", "not probed: unique-local"...)

    @property
    def final(self) -> Fetch | None:
        """The final response, when the chain reached one."""
        return self.hops[-1] if self.end == ChainEnd.FINAL and self.hops else None

    @property
    def last(self) -> Fetch | None:
        return self.hops[-1] if self.hops else None

    @property
    def undecided(self) -> bool:
        """The chain stopped for a reason of ours, not the site's."""
        if self.end == ChainEnd.LOOKUP_FAILED:
            return True
        return self.end == ChainEnd.NO_RESPONSE and self.last is not None and self.last.undecided


@dataclass(frozen=True)
class Site:
    """A web subject's addresses and which of them accept TCP on which port."""

    name: str  # the subject: a host name or a URL
    host: str  # A-label name or address literal (no brackets)
    ports: tuple[int, ...]  # (80, 443) for a host; the URL's port for a URL
    url_scheme: str | None  # a URL subject's scheme; None for a host (scheme by port)
    path: str  # "/" or the URL's path and query
    aaaa: Addresses
    a: Addresses
    scanner_ipv6: bool
    scanner_ipv4: bool
    tcp: tuple[TcpProbe, ...] = ()

    def addresses(self, family: int) -> tuple[str, ...]:
        """The global addresses of `family` that were probed."""
        return (self.aaaa if family == 6 else self.a).global_[:PROBED_MAX]

    def probe(self, address: str, port: int) -> TcpProbe | None:
        return next((p for p in self.tcp if p.address == address and p.port == port), None)

    def open_addresses(self, family: int, port: int) -> tuple[str, ...]:
        return tuple(
            a for a in self.addresses(family) if (p := self.probe(a, port)) is not None and p.open
        )

    def scheme(self, port: int) -> str:
        if self.url_scheme is not None:
            return self.url_scheme
        return "https" if port == 443 else "http"

    def url(self, port: int) -> str:
        scheme = self.scheme(port)
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = {"http": 80, "https": 443}[scheme]
        return f"{scheme}://{host}{'' if port == default else f':{port}'}{self.path}"


@dataclass(frozen=True)
class HttpObservation:
    """web.http: requests over IPv6, HTTPS first where 443 is open."""

    site: Site
    attempts: tuple[Chain, ...] = ()

    @property
    def served(self) -> Chain | None:
        """The chain that decides: the first whose first request got a response."""
        return next((c for c in self.attempts if c.hops and c.hops[0].responded), None)


@dataclass(frozen=True)
class ParityPort:
    port: int
    v6: Chain
    v4: Chain


@dataclass(frozen=True)
class ParityObservation:
    site: Site
    ports: tuple[ParityPort, ...] = ()


@dataclass(frozen=True)
class LinkResult:
    url: str
    level: int  # 1: a link of the home page (二级); 2: a link of such a page (三级)
    chain: Chain | None  # None: not fetched (the check's time ran out)


@dataclass(frozen=True)
class LinksObservation:
    site: Site
    home: Chain | None  # the home page over IPv6
    results: tuple[LinkResult, ...] = ()
    found: int = 0  # distinct links on the home page
    dropped: int = 0  # beyond the cap, not fetched
    found_more: bool = False  # the page had more than html_links.MAX_LINKS: found is a floor
    depth: int = 1


@dataclass(frozen=True)
class LatencySide:
    """Repeated measurements over one family to one address."""

    address: str | None
    tcp_ms: tuple[float, ...] = ()
    ttfb_ms: tuple[float, ...] = ()
    failures: int = 0


@dataclass(frozen=True)
class LatencyObservation:
    site: Site
    url: str | None = None
    v6: LatencySide | None = None
    v4: LatencySide | None = None
    samples: int = 5
    # the first fetch over each family (tried as any fetch, probes/tries.py); the samples
    # themselves are never tried again: a retry would time the retry, not the path
    first: tuple[Chain, ...] = ()


@dataclass(frozen=True)
class ResourceResult:
    """One sub-resource of the home page, fetched over IPv6 (web.resources)."""

    url: str
    kind: str  # html_resources.KINDS: stylesheet, script, font, frame, icon, image, ...
    chain: Chain | None  # None: not fetched (the check's time ran out)
    via: str | None = None  # the page's own style sheet that declared it; None: the page


@dataclass(frozen=True)
class ResourcesObservation:
    site: Site
    home: Chain | None  # the home page over IPv6 (web.http's)
    results: tuple[ResourceResult, ...] = ()
    found: int = 0  # distinct sub-resources the home page declares
    dropped: int = 0  # beyond the cap, not fetched (style sheets' url() included)
    found_more: bool = False  # more than html_resources.MAX_RESOURCES: found is a floor
