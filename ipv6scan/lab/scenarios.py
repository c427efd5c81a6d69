"""The lab's zone data and what the scanner must conclude from it, in one place.

Each Scenario is one zone under the lab TLD `example.` and one target of the
lab target list. `expected` holds its rows for the DNS run (the dual-stack
client, the lab resolver, `--checks dns,resolver`, targets_file); `services`
its web, mail and net rows for the full run (`--checks dns,web,mail,net,resolver`,
full_targets_file, where the Lab Operator also lists its systems). DNS64_EXPECTED,
IPV4_ONLY_EXPECTED and IPV4_ONLY_SERVICES_EXPECTED are the rows of the special runs.

What each web and mail address does (serve, refuse, redirect, trickle...) is in
websites.py and mailhosts.py, keyed by the host names published here.
"""

from __future__ import annotations

from dataclasses import dataclass

from ipv6scan.lab import chain
from ipv6scan.lab import topology as t

Record = tuple[str, str, str]  # (owner relative to the zone, "@" for the apex; type; rdata)
Expectation = tuple[str, str, str]  # (subject, check id, status)
Row = tuple[str, str, str, str]  # (target name, subject, check id, status)

TLD = "example"
NS_ZONE = "dns.example"
LAME_DUMMY_ZONE = "unrelated.test"  # the lame NSD serves only this, so lab zones get REFUSED

# Name server hosts, all in dns.example: name -> (AAAA or None, A or None).
NAMESERVERS: dict[str, tuple[str | None, str | None]] = {
    "root.dns.example": (t.ROOT6, t.ROOT4),
    "ns1.dns.example": (t.NS1_6, t.NS1_4),
    "ns2.dns.example": (t.NS2_6, t.NS2_4),
    "ns4.dns.example": (None, t.NS4_4),
    "ns5.dns.example": (None, t.NS5_4),
    "nsdead.dns.example": (t.NSDEAD6, t.NSDEAD4),
    "nsdead2.dns.example": (t.NSDEAD2_6, t.NSDEAD2_4),
    "nsrefuse.dns.example": (t.LAME6, t.NSREFUSE4),
    "nslame.dns.example": (t.LAME6, t.LAME4),
    **chain.NAMESERVERS,  # the middle zones' servers (dns.delegation)
}
ROOT_NS = "root.dns.example"
DEFAULT_NS = ("ns1.dns.example", "ns2.dns.example")

# RFC 7050: the DNS64 resolver synthesizes AAAA for these, which is how the
# scanner finds the network-specific prefix 2001:db8:6464::/96. Data only: no
# lab traffic ever goes to 192.0.0.0/24.
ROOT_EXTRA: tuple[Record, ...] = (
    ("ipv4only.arpa.", "A", "192.0.0.170"),
    ("ipv4only.arpa.", "A", "192.0.0.171"),
)


def _dual(owner: str, v6: str, v4: str) -> tuple[Record, Record]:
    return (owner, "AAAA", v6), (owner, "A", v4)


def _domain_rows(
    *, ns: str = "pass", reach: str = "pass", mx: str = "skip", deleg: str = "pass"
) -> tuple[Expectation, ...]:
    """Expectations of the checks whose subject is the domain itself (apex aaaa given apart).
    `deleg`: dns.delegation (example -> the zone; the chains of lab/chain.py are apart)."""
    return (("@", "dns.ns_ipv6", ns), ("@", "dns.ns_reachable", reach), ("@", "dns.mx_ipv6", mx),
            ("@", "dns.delegation", deleg))  # fmt: skip


@dataclass(frozen=True)
class Scenario:
    zone: str  # IDNA A-label, no trailing dot
    sector: str
    records: tuple[Record, ...]
    expected: tuple[Expectation, ...]  # subject "@" = the zone, "www" = www.zone
    services: tuple[Expectation, ...] = ()  # rows of the full run (web, mail, net)
    ns: tuple[str, ...] = DEFAULT_NS
    served: bool = True  # False: only delegated (lame), the main NSD does not serve it
    target: str = ""  # target name when it is not the domain itself

    @property
    def target_name(self) -> str:
        return self.target or self.domain_unicode

    @property
    def domain_unicode(self) -> str:
        return ".".join(
            label.encode("ascii").decode("idna") if label.startswith("xn--") else label
            for label in self.zone.split(".")
        )

    def subject(self, short: str) -> str:
        return self.zone if short == "@" else f"{short}.{self.zone}"


def _sc(zone: str, sector: str, records, expected, services=(), **kw) -> Scenario:
    return Scenario(zone, sector, tuple(records), tuple(expected), tuple(services), **kw)


def _web(
    subject: str = "@", *, reach: str | None = None, http: str | None = None,
    parity: str | None = None, links: str | None = None, latency: str | None = None,
) -> tuple[Expectation, ...]:  # fmt: skip
    """Web rows of one host; None: not asserted (the contract leaves it open there)."""
    wanted = {"web.reachable": reach, "web.http": http, "web.parity": parity,
              "web.links": links, "web.latency": latency}  # fmt: skip
    return tuple((subject, check, status) for check, status in wanted.items() if status)


# A dual-stack site that serves the same pages on both families, ports 80 and 443.
_WEB_OK = {"reach": "pass", "http": "pass", "parity": "pass"}
_ALL_PASS = {**_WEB_OK, "links": "pass", "latency": "pass"}


def _smtp(status: str) -> Expectation:
    return ("@", "mail.smtp", status)


SCENARIOS: tuple[Scenario, ...] = (
    # ---------------------------------------------------------------- DNS scenarios
    # good.example is also the good web and mail scenario: the same pages on both
    # families on 80 and 443 (HTTPS with SNI), every link works over IPv6, and the
    # MX greets on IPv6.
    _sc("good.example", "government",
        [*_dual("@", "2001:db8:80:1::10", "203.0.113.10"),
         ("www", "CNAME", "good.example."),
         ("@", "MX", "10 mail.good.example."),
         *_dual("mail", "2001:db8:25:1::25", "203.0.113.130")],
        [("@", "dns.aaaa", "pass"), ("www", "dns.aaaa", "pass"),
         *_domain_rows(mx="pass")],
        [*_web("@", **_ALL_PASS), *_web("www", **_ALL_PASS), _smtp("pass"),
         # net.* on a domain's hosts only because --checks names the family
         ("@", "net.ping", "pass"), ("@", "net.trace", "pass")]),
    _sc("cname.example", "enterprise",
        [("@", "A", "203.0.113.20"),
         ("www", "CNAME", "a.cname.example."),
         ("a", "CNAME", "b.cname.example."),
         *_dual("b", "2001:db8:80:2::10", "203.0.113.21")],
        [("@", "dns.aaaa", "fail"), ("www", "dns.aaaa", "pass"), *_domain_rows()],
        [*_web("@", reach="skip", parity="skip", latency="skip"), *_web("www", **_WEB_OK),
         _smtp("skip")]),
    _sc("v4only.example", "government",
        [("@", "A", "203.0.113.30"), ("www", "A", "203.0.113.31"),
         ("@", "MX", "10 mail.v4only.example."), ("mail", "A", "203.0.113.131")],
        [("@", "dns.aaaa", "fail"), ("www", "dns.aaaa", "fail"),
         *_domain_rows(ns="fail", reach="skip", mx="fail", deleg="fail")],
        [*_web("@", reach="skip"), *_web("www", reach="skip"), _smtp("skip")],
        ns=("ns4.dns.example", "ns5.dns.example")),
    _sc("nonglobal.example", "enterprise",
        [("@", "AAAA", "::1"), ("@", "AAAA", "fe80::1"), ("@", "AAAA", "::ffff:198.51.100.1"),
         ("@", "A", "203.0.113.40"),
         # A ULA that is not the host's own fd00::/64, in case anything ever dials it.
         ("www", "AAAA", "fd12:3456:789a::1"),
         *_dual("www", "2001:db8:80:4::11", "203.0.113.41")],
        [("@", "dns.aaaa", "fail"), ("www", "dns.aaaa", "warn"), *_domain_rows()],
        # www: its one global AAAA serves; the ULA beside it is never dialled.
        _web("www", **_WEB_OK)),
    _sc("lame.example", "enterprise", [],
        [("@", "dns.aaaa", "error"),
         ("@", "dns.ns_ipv6", "error"), ("@", "dns.ns_reachable", "error"),
         ("@", "dns.mx_ipv6", "error"),
         # the walk needs no recursion: example's servers refer to nslame, which refuses
         ("@", "dns.delegation", "fail")],
        [*_web("@", reach="error"), _smtp("error")],
        ns=("nslame.dns.example",), served=False),
    _sc("onens.example", "enterprise",
        _dual("@", "2001:db8:80:5::10", "203.0.113.50"),
        [("@", "dns.aaaa", "pass"), *_domain_rows(ns="warn")],
        [*_web("@", **_WEB_OK), _smtp("skip")],
        ns=("ns1.dns.example", "ns4.dns.example")),
    _sc("deadns.example", "enterprise",
        _dual("@", "2001:db8:80:6::10", "203.0.113.60"),
        [("@", "dns.aaaa", "pass"), *_domain_rows(reach="warn")],
        _web("@", **_WEB_OK),
        ns=("ns1.dns.example", "nsdead.dns.example")),
    _sc("allnsdead.example", "enterprise",
        _dual("@", "2001:db8:80:7::10", "203.0.113.70"),
        [("@", "dns.aaaa", "pass"), *_domain_rows(reach="fail", deleg="fail")],
        _web("@", **_WEB_OK),
        ns=("nsdead.dns.example", "nsdead2.dns.example")),
    _sc("refused.example", "enterprise",
        _dual("@", "2001:db8:80:8::10", "203.0.113.80"),
        # An answer that is not authoritative (here REFUSED) does not count.
        [("@", "dns.aaaa", "pass"), *_domain_rows(reach="warn")],
        _web("@", **_WEB_OK),
        ns=("ns1.dns.example", "nsrefuse.dns.example")),
    # mx2 has no AAAA, so the only MX IPv6 address is mx1's, and it greets.
    _sc("mixmx.example", "enterprise",
        [*_dual("@", "2001:db8:80:9::10", "203.0.113.90"),
         ("@", "MX", "10 mx1.mixmx.example."), ("@", "MX", "20 mx2.mixmx.example."),
         *_dual("mx1", "2001:db8:25:9::25", "203.0.113.132"),
         ("mx2", "A", "203.0.113.133")],
        [("@", "dns.aaaa", "pass"), *_domain_rows(mx="warn")],
        [*_web("@", **_WEB_OK), _smtp("pass")]),
    _sc("nullmx.example", "enterprise",
        [*_dual("@", "2001:db8:80:a::10", "203.0.113.100"), ("@", "MX", "0 .")],
        [("@", "dns.aaaa", "pass"), *_domain_rows(mx="skip")],
        [*_web("@", **_WEB_OK), _smtp("skip")]),
    _sc("xn--bcher-kva.example", "enterprise",  # bücher.example: written in Unicode in the list
        _dual("@", "2001:db8:80:b::10", "203.0.113.110"),
        [("@", "dns.aaaa", "pass"), *_domain_rows()],
        _web("@", **_WEB_OK)),
    # The operator's own domain. It also gives resolver.ipv6 a name that has AAAA
    # (the scanner asks a target's own names first, else a real-world default).
    # Its other names are the operator's systems (OPERATOR_SYSTEMS below).
    _sc("operator.example", "operator",
        [*_dual("@", "2001:db8:80:c::10", "203.0.113.120"),
         *_dual("portal", "2001:db8:80:c::11", "203.0.113.121"),
         *_dual("support", "2001:db8:80:c::12", "203.0.113.122"),
         *_dual("core1", t.CORE_OK6, t.CORE_OK4),
         *_dual("bras1", *t.ROUTER_LOOPBACKS["bb1"]),
         *_dual("bras2", *t.ROUTER_LOOPBACKS["bb2"])],
        [("@", "dns.aaaa", "pass"), *_domain_rows()],
        [*_web("@", **_WEB_OK), _smtp("skip")],
        target="Lab Operator"),
    # ---------------------------------------------------------------- web scenarios
    # AAAA published, but nothing listens on it (the address exists: TCP RST).
    _sc("nov6listen.example", "enterprise",
        _dual("@", "2001:db8:80:11::10", "203.0.113.11"),
        [("@", "dns.aaaa", "pass"), *_domain_rows()],
        [*_web("@", reach="fail", http="fail", parity="skip", latency="skip"), _smtp("skip")]),
    # IPv6 serves another site's page (same status, same URL, other body).
    _sc("v6diff.example", "enterprise",
        _dual("@", "2001:db8:80:12::10", "203.0.113.12"),
        [("@", "dns.aaaa", "pass"), *_domain_rows()],
        _web("@", reach="pass", http="pass", parity="fail")),
    # Both families redirect to a host that has only an A record.
    _sc("v6redirect.example", "enterprise",
        [*_dual("@", "2001:db8:80:13::10", "203.0.113.13"),
         ("v4host", "A", "203.0.113.14")],
        [("@", "dns.aaaa", "pass"), *_domain_rows()],
        _web("@", reach="pass", http="fail")),
    # The home page links to l1..l10; l1-l7 work over IPv6, l8 has no AAAA, l9's
    # AAAA refuses, l10's AAAA answers 404: share 0.7 < 0.9.
    _sc("links.example", "enterprise",
        [*_dual("@", "2001:db8:80:14::10", "203.0.113.15"),
         *(r for n in range(1, 8) for r in _dual(f"l{n}", "2001:db8:80:14::20", "203.0.113.16")),
         ("l8", "A", "203.0.113.16"),
         *_dual("l9", "2001:db8:80:14::29", "203.0.113.16"),
         *_dual("l10", "2001:db8:80:14::2a", "203.0.113.16")],
        [("@", "dns.aaaa", "pass"), *_domain_rows()],
        _web("@", **_WEB_OK, links="fail")),
    # 443 open on IPv4, closed (RST) on IPv6; 80 serves on both.
    _sc("v6no443.example", "enterprise",
        _dual("@", "2001:db8:80:15::10", "203.0.113.17"),
        [("@", "dns.aaaa", "pass"), *_domain_rows()],
        _web("@", reach="warn", http="pass", parity="pass")),
    # A server that accepts, then sends its answer a byte every half second: a
    # response never completes within the timeout (no response), on both families.
    _sc("trickle.example", "enterprise",
        _dual("@", "2001:db8:80:16::10", "203.0.113.18"),
        [("@", "dns.aaaa", "pass"), *_domain_rows()],
        _web("@", reach="pass", http="fail", parity="skip", latency="skip")),
    # A 256 MiB home page: a 200 (pass), of which the scanner reads a bounded prefix.
    _sc("huge.example", "enterprise",
        _dual("@", "2001:db8:80:17::10", "203.0.113.19"),
        [("@", "dns.aaaa", "pass"), *_domain_rows()],
        _web("@", reach="pass", http="pass")),
    # IPv6 goes through a relay that holds every connection's first bytes 150 ms.
    _sc("slow6.example", "enterprise",
        _dual("@", "2001:db8:80:18::10", "203.0.113.22"),
        [("@", "dns.aaaa", "pass"), *_domain_rows()],
        _web("@", **_WEB_OK, latency="fail")),
    # The same ordinary page on both families, port 80, behind a hostile head: a Server
    # header with a byte that is not UTF-8, and `charset=idna`, a codec that raises on
    # any decode. Each is judged on its merits (issue 14, item 6).
    _sc("badbyte.example", "enterprise",
        _dual("@", "2001:db8:80:2a::10", "203.0.113.25"),
        [("@", "dns.aaaa", "pass"), *_domain_rows()],
        _web("@", **_WEB_OK, links="pass")),
    _sc("idnacharset.example", "enterprise",
        _dual("@", "2001:db8:80:2b::10", "203.0.113.26"),
        [("@", "dns.aaaa", "pass"), *_domain_rows()],
        _web("@", **_WEB_OK, links="pass")),
    # ---------------------------------------------------------------- path-MTU scenarios
    # web.pmtu (lab/pmtulab.py): behind a 1,280-byte link whose router's Packet Too Big
    # is dropped toward the pmtuhole namespace. pmtuhole's 24 kB page sends nothing
    # small enough to pass; pmtusplit's head arrives alone, then its body hangs (web.http
    # passes, the page does not load); pmtusmall's page fits 1,280 bytes (nothing to
    # test). pmtuok, on the same link in its own namespace, gets its Packet Too Big.
    _sc("pmtuhole.example", "enterprise",
        _dual("@", "2001:db8:1280:1::10", "203.0.113.193"),
        [("@", "dns.aaaa", "pass"), *_domain_rows()],
        [*_web("@", reach="pass", http="fail"), ("@", "web.pmtu", "fail")]),
    _sc("pmtusplit.example", "enterprise",
        _dual("@", "2001:db8:1280:1::11", "203.0.113.194"),
        [("@", "dns.aaaa", "pass"), *_domain_rows()],
        [*_web("@", reach="pass", http="pass"), ("@", "web.pmtu", "fail")]),
    _sc("pmtusmall.example", "enterprise",
        _dual("@", "2001:db8:1280:1::12", "203.0.113.195"),
        [("@", "dns.aaaa", "pass"), *_domain_rows()],
        [*_web("@", reach="pass", http="pass"), ("@", "web.pmtu", "skip")]),
    # The same black hole over HTTPS (443 only): the TLS handshake or the response stalls.
    _sc("pmtutls.example", "enterprise",
        _dual("@", "2001:db8:1280:1::13", "203.0.113.196"),
        [("@", "dns.aaaa", "pass"), *_domain_rows()],
        [*_web("@", reach="pass", http="fail"), ("@", "web.pmtu", "fail")]),
    _sc("pmtuok.example", "enterprise",
        _dual("@", "2001:db8:1280:2::10", "203.0.113.209"),
        [("@", "dns.aaaa", "pass"), *_domain_rows()],
        [*_web("@", reach="pass", http="pass", parity="pass"), ("@", "web.pmtu", "pass")]),
    # ---------------------------------------------------------------- web.resources
    # Pages of lab/resource_pages.py, 20 sub-resources each: all on hosts with IPv6
    # (pass), 19 (warn), 2 (fail); www declares none (skip). cdn4 and ads4 have no AAAA.
    _sc("resources.example", "enterprise",
        [*_dual("@", "2001:db8:80:3e::10", "203.0.113.43"),
         *_dual("www", "2001:db8:80:3e::11", "203.0.113.44"),
         *_dual("cdn6", "2001:db8:80:3e::20", "203.0.113.45"),
         ("cdn4", "A", "203.0.113.46"), ("ads4", "A", "203.0.113.46")],
        [("@", "dns.aaaa", "pass"), ("www", "dns.aaaa", "pass"), *_domain_rows()],
        [*_web("@", **_WEB_OK), ("@", "web.resources", "pass"),
         ("www", "web.resources", "skip")]),
    _sc("resmost.example", "enterprise",
        _dual("@", "2001:db8:80:3e::12", "203.0.113.47"),
        [("@", "dns.aaaa", "pass"), *_domain_rows()],
        [*_web("@", **_WEB_OK), ("@", "web.resources", "warn")]),
    _sc("resfew.example", "enterprise",
        _dual("@", "2001:db8:80:3e::13", "203.0.113.48"),
        [("@", "dns.aaaa", "pass"), *_domain_rows()],
        [*_web("@", **_WEB_OK), ("@", "web.resources", "fail")]),
    # ---------------------------------------------------------------- mail scenarios
    # Mail-only domains (no address at the apex). smtpwarn: mx1 greets on IPv6,
    # mx2's port 25 is closed on IPv6 (IPv4 greets).
    _sc("smtpwarn.example", "enterprise",
        [("@", "MX", "10 mx1.smtpwarn.example."), ("@", "MX", "20 mx2.smtpwarn.example."),
         *_dual("mx1", "2001:db8:25:21::25", "203.0.113.134"),
         *_dual("mx2", "2001:db8:25:21::26", "203.0.113.135")],
        [("@", "dns.aaaa", "fail"), *_domain_rows(mx="pass")],
        [_smtp("warn"), *_web("@", reach="skip")]),
    # No MX greets over IPv6: mx1's port 25 is closed, mx2 answers 554.
    _sc("smtpfail.example", "enterprise",
        [("@", "MX", "10 mx1.smtpfail.example."), ("@", "MX", "20 mx2.smtpfail.example."),
         *_dual("mx1", "2001:db8:25:22::25", "203.0.113.136"),
         *_dual("mx2", "2001:db8:25:22::26", "203.0.113.137")],
        [("@", "dns.aaaa", "fail"), *_domain_rows(mx="pass")],
        [_smtp("fail")]),
    # ---------------------------------------------------------------- scope safety
    # Every address here is one the scanner must never dial: loopback (a canary
    # listens on the client's own ::1 and 127.0.0.1), IPv4-mapped loopback, ULA,
    # link-local, private IPv4. Checked by tests/integration/test_scope_safety.py.
    _sc("scope.example", "enterprise",
        [("@", "AAAA", "::1"), ("@", "A", "127.0.0.1"),
         ("www", "AAAA", "fd12:3456:789a::80"), ("www", "AAAA", "fe80::80"),
         ("www", "AAAA", "::ffff:127.0.0.1"), ("www", "A", "10.20.30.40"),
         ("@", "MX", "10 mail.scope.example."),
         ("mail", "AAAA", "::1"), ("mail", "A", "127.0.0.1")],
        [("@", "dns.aaaa", "fail"), ("www", "dns.aaaa", "fail"), *_domain_rows(mx="fail")]),
)  # fmt: skip

SCOPE_ZONE = "scope.example"
# Non-global addresses published by the lab zones, per subject of the full run.
NOT_PROBED: dict[str, tuple[str, ...]] = {
    "scope.example": ("::1", "127.0.0.1"),
    "www.scope.example": ("fd12:3456:789a::80", "fe80::80", "::ffff:127.0.0.1", "10.20.30.40"),
}

OPERATOR_NAME = "Lab Operator"
OPERATOR_METRO_RESOLVERS: tuple[str, ...] = (t.RESOLVER6, t.DEAD_RESOLVER6)
OPERATOR_EXPECTED: tuple[Row, ...] = (
    (OPERATOR_NAME, t.RESOLVER6, "resolver.ipv6", "pass"),
    (OPERATOR_NAME, t.DEAD_RESOLVER6, "resolver.ipv6", "fail"),
)

# The operator's systems in the full target list, by tier (INTERFACE.md format).
# Default checks per tier and kind: ipv6scan/tiers.py.
PORTAL_URL = "https://portal.operator.example/"
HOSTILE_ADDRESS = "::1"  # a systems entry that must never be pinged nor traced
OPERATOR_SYSTEMS: dict[str, list] = {
    "backbone": [t.CORE_OK6, t.CORE_DROP6, t.CORE_QUIET6, "core1.operator.example",
                 {"address": HOSTILE_ADDRESS}],
    "metro": [*({"resolver": r} for r in OPERATOR_METRO_RESOLVERS), "bras1.operator.example",
              # override: the net family instead of the metro host default (dns.aaaa, net.ping)
              {"host": "bras2.operator.example", "checks": ["net"]}],
    "access": [PORTAL_URL],
    "support": ["support.operator.example"],
}  # fmt: skip
# subject -> tier, for every systems subject of the full run
OPERATOR_TIERS: dict[str, str] = {
    (next(iter(e.values())) if isinstance(e, dict) else e): tier
    for tier, entries in OPERATOR_SYSTEMS.items()
    for e in entries
}


def _op(subject: str, *pairs: tuple[str, str]) -> list[Row]:
    return [(OPERATOR_NAME, subject, check, status) for check, status in pairs]


OPERATOR_SYSTEMS_EXPECTED: tuple[Row, ...] = (
    *OPERATOR_EXPECTED,
    # backbone addresses: net.ping, net.trace
    *_op(t.CORE_OK6, ("net.ping", "pass"), ("net.trace", "pass")),
    *_op(t.CORE_DROP6, ("net.ping", "fail"), ("net.trace", "fail")),
    *_op(t.CORE_QUIET6, ("net.ping", "pass"), ("net.trace", "pass")),  # one silent hop
    # backbone host: dns.aaaa, net.ping, net.trace
    *_op("core1.operator.example", ("dns.aaaa", "pass"), ("net.ping", "pass"),
         ("net.trace", "pass")),
    # metro host: dns.aaaa, net.ping; bras2 by its override: net.ping, net.trace
    *_op("bras1.operator.example", ("dns.aaaa", "pass"), ("net.ping", "pass")),
    *_op("bras2.operator.example", ("net.ping", "pass"), ("net.trace", "pass")),
    # access URL: the web family
    *_op(PORTAL_URL, *((c, "pass") for c in ("web.reachable", "web.http", "web.parity",
                                              "web.links", "web.latency"))),
    *_op(PORTAL_URL, ("web.resources", "skip")),  # the family; a portal page of text only
    # support host: dns.aaaa, web.reachable, web.http
    *_op("support.operator.example", ("dns.aaaa", "pass"), ("web.reachable", "pass"),
         ("web.http", "pass")),
)  # fmt: skip
# (target, subject, check) that must NOT appear: what an override or a tier default leaves out.
OPERATOR_ABSENT: tuple[tuple[str, str, str], ...] = (
    (OPERATOR_NAME, "bras2.operator.example", "dns.aaaa"),  # replaced by checks: [net]
    (OPERATOR_NAME, "bras1.operator.example", "net.trace"),  # not a metro host default
    (OPERATOR_NAME, "support.operator.example", "net.ping"),
    (OPERATOR_NAME, t.CORE_OK6, "web.reachable"),
)


def scenario(zone: str) -> Scenario:
    return next(s for s in SCENARIOS if s.zone == zone)


def _rows(scenarios: tuple[Scenario, ...], services: bool = False) -> list[Row]:
    return [(s.target_name, s.subject(subj), check, status)
            for s in scenarios
            for subj, check, status in (s.services if services else s.expected)]  # fmt: skip


# DNS run: every target of targets_file, `--checks dns,resolver`, from the dual-stack client.
EXPECTED: tuple[Row, ...] = (*_rows(SCENARIOS), *OPERATOR_EXPECTED)

# Full run: full_targets_file, `--checks dns,web,mail,net,resolver`, dual-stack client.
SERVICES_EXPECTED: tuple[Row, ...] = (*_rows(SCENARIOS, services=True), *OPERATOR_SYSTEMS_EXPECTED)
FULL_EXPECTED: tuple[Row, ...] = (*_rows(SCENARIOS), *SERVICES_EXPECTED)

# `--resolver <dns64 resolver>`: synthesized AAAA (from the RFC 7050 prefix) are not IPv6.
DNS64_TARGETS: tuple[str, ...] = ("good.example", "v4only.example")
DNS64_EXPECTED: tuple[Row, ...] = (
    ("good.example", "good.example", "dns.aaaa", "pass"),
    ("good.example", "good.example", "dns.ns_ipv6", "pass"),
    ("v4only.example", "v4only.example", "dns.aaaa", "fail"),
    ("v4only.example", "www.v4only.example", "dns.aaaa", "fail"),
    ("v4only.example", "v4only.example", "dns.ns_ipv6", "fail"),
    ("v4only.example", "v4only.example", "dns.mx_ipv6", "fail"),
)

# From the IPv4-only client: no IPv6 path is the scanner's problem, never the target's.
IPV4_ONLY_TARGETS: tuple[str, ...] = ("good.example", OPERATOR_NAME)
IPV4_ONLY_EXPECTED: tuple[Row, ...] = (
    ("good.example", "good.example", "dns.aaaa", "pass"),
    ("good.example", "good.example", "dns.ns_ipv6", "pass"),
    ("good.example", "good.example", "dns.ns_reachable", "error"),
    ("good.example", "good.example", "dns.delegation", "error"),
    (OPERATOR_NAME, t.RESOLVER6, "resolver.ipv6", "error"),
    (OPERATOR_NAME, t.DEAD_RESOLVER6, "resolver.ipv6", "error"),
)
# The same targets from the full list, all checks: every IPv6 reachability check errors.
IPV4_ONLY_SERVICES_EXPECTED: tuple[Row, ...] = (
    *IPV4_ONLY_EXPECTED,
    *(("good.example", h, c, "error") for h in ("good.example", "www.good.example")
       for c in ("web.reachable", "web.http")),
    ("good.example", "good.example", "mail.smtp", "error"),
    ("good.example", "good.example", "net.ping", "error"),
    ("good.example", "good.example", "net.trace", "error"),
    *_op(t.CORE_OK6, ("net.ping", "error"), ("net.trace", "error")),
    *_op(t.CORE_DROP6, ("net.ping", "error"), ("net.trace", "error")),
    *_op("core1.operator.example", ("dns.aaaa", "pass"), ("net.ping", "error"),
         ("net.trace", "error")),
    *_op("bras1.operator.example", ("net.ping", "error"),),
    *_op(PORTAL_URL, ("web.reachable", "error"), ("web.http", "error")),
    *_op("support.operator.example", ("web.reachable", "error"), ("web.http", "error")),
)  # fmt: skip
# Checks that need an IPv6 path of the scanner's own; from the IPv4-only client none
# of them may say fail, warn or pass.
IPV6_PATH_CHECKS: tuple[str, ...] = (
    "dns.ns_reachable", "dns.delegation", "resolver.ipv6", "mail.smtp", "net.ping", "net.trace",
    "web.reachable", "web.http", "web.parity", "web.links", "web.latency", "web.resources",
    "web.pmtu",
)  # fmt: skip


def targets_document(only: tuple[str, ...] | None = None, *, full: bool = False) -> dict:
    """The lab target list (INTERFACE.md format), optionally only the named targets.

    full=False: the DNS run's list (the operator lists only its metro resolvers);
    full=True: every operator system of OPERATOR_SYSTEMS as well.
    """
    targets: list[dict] = []
    for s in SCENARIOS:
        target: dict = {"name": s.target_name, "sector": s.sector, "domains": [s.domain_unicode]}
        if s.target_name == OPERATOR_NAME:
            if full:
                target["systems"] = OPERATOR_SYSTEMS
            else:
                target["systems"] = {"metro": [{"resolver": r} for r in OPERATOR_METRO_RESOLVERS]}
        targets.append(target)
    if only is not None:
        targets = [x for x in targets if x["name"] in only]
    return {"version": 1, "name": "ipv6scan namespace lab", "targets": targets}


# ---------------------------------------------------------------- zone data look-ups


def records(name: str, rtype: str) -> list[str]:
    """rdata of `name`'s records of one type in the lab zones (no CNAME following)."""
    fqdn = name.rstrip(".").lower()
    found: list[str] = []
    for s in SCENARIOS:
        if fqdn != s.zone and not fqdn.endswith("." + s.zone):
            continue
        for owner, kind, rdata in s.records:
            if kind == rtype and s.subject(owner) == fqdn:
                found.append(rdata)
    return found


def addresses(name: str) -> list[str]:
    """The AAAA and A addresses `name` resolves to in the lab zones, CNAMEs followed."""
    for _ in range(10):
        target = records(name, "CNAME")
        if not target:
            return records(name, "AAAA") + records(name, "A")
        name = target[0]
    raise ValueError(f"CNAME chain too long at {name}")


def all_addresses() -> list[str]:
    """Every address record of every lab zone (apex and below), in zone order."""
    out: list[str] = []
    for s in SCENARIOS:
        out += [rdata for _, kind, rdata in s.records if kind in ("A", "AAAA")]
    return list(dict.fromkeys(out))
