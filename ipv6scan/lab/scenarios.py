"""The lab's DNS data and what the scanner must conclude from it, in one place.

Each Scenario is one zone under the lab TLD `example.` and one target of the
lab target list. `expected` holds its rows for the default run (the
dual-stack client, the lab resolver, `--checks dns,resolver`); DNS64_EXPECTED
and IPV4_ONLY_EXPECTED are the rows of the two special runs.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    *, ns: str = "pass", reach: str = "pass", mx: str = "skip"
) -> tuple[Expectation, ...]:
    """Expectations of the checks whose subject is the domain itself (apex aaaa given apart)."""
    return (("@", "dns.ns_ipv6", ns), ("@", "dns.ns_reachable", reach), ("@", "dns.mx_ipv6", mx))


@dataclass(frozen=True)
class Scenario:
    zone: str  # IDNA A-label, no trailing dot
    sector: str
    records: tuple[Record, ...]
    expected: tuple[Expectation, ...]  # subject "@" = the zone, "www" = www.zone
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


def _sc(zone: str, sector: str, records, expected, **kw) -> Scenario:
    return Scenario(zone, sector, tuple(records), tuple(expected), **kw)


SCENARIOS: tuple[Scenario, ...] = (
    _sc("good.example", "government",
        [*_dual("@", "2001:db8:80:1::10", "203.0.113.10"),
         ("www", "CNAME", "good.example."),
         ("@", "MX", "10 mail.good.example."),
         *_dual("mail", "2001:db8:25:1::25", "203.0.113.130")],
        [("@", "dns.aaaa", "pass"), ("www", "dns.aaaa", "pass"),
         *_domain_rows(mx="pass")]),
    _sc("cname.example", "enterprise",
        [("@", "A", "203.0.113.20"),
         ("www", "CNAME", "a.cname.example."),
         ("a", "CNAME", "b.cname.example."),
         *_dual("b", "2001:db8:80:2::10", "203.0.113.21")],
        [("@", "dns.aaaa", "fail"), ("www", "dns.aaaa", "pass"), *_domain_rows()]),
    _sc("v4only.example", "government",
        [("@", "A", "203.0.113.30"), ("www", "A", "203.0.113.31"),
         ("@", "MX", "10 mail.v4only.example."), ("mail", "A", "203.0.113.131")],
        [("@", "dns.aaaa", "fail"), ("www", "dns.aaaa", "fail"),
         *_domain_rows(ns="fail", reach="skip", mx="fail")],
        ns=("ns4.dns.example", "ns5.dns.example")),
    _sc("nonglobal.example", "enterprise",
        [("@", "AAAA", "::1"), ("@", "AAAA", "fe80::1"), ("@", "AAAA", "::ffff:198.51.100.1"),
         ("@", "A", "203.0.113.40"),
         # A ULA that is not the host's own fd00::/64, in case anything ever dials it.
         ("www", "AAAA", "fd12:3456:789a::1"),
         *_dual("www", "2001:db8:80:4::11", "203.0.113.41")],
        [("@", "dns.aaaa", "fail"), ("www", "dns.aaaa", "warn"), *_domain_rows()]),
    _sc("lame.example", "enterprise", [],
        [("@", "dns.aaaa", "error"),
         ("@", "dns.ns_ipv6", "error"), ("@", "dns.ns_reachable", "error"),
         ("@", "dns.mx_ipv6", "error")],
        ns=("nslame.dns.example",), served=False),
    _sc("onens.example", "enterprise",
        _dual("@", "2001:db8:80:5::10", "203.0.113.50"),
        [("@", "dns.aaaa", "pass"), *_domain_rows(ns="warn")],
        ns=("ns1.dns.example", "ns4.dns.example")),
    _sc("deadns.example", "enterprise",
        _dual("@", "2001:db8:80:6::10", "203.0.113.60"),
        [("@", "dns.aaaa", "pass"), *_domain_rows(reach="warn")],
        ns=("ns1.dns.example", "nsdead.dns.example")),
    _sc("allnsdead.example", "enterprise",
        _dual("@", "2001:db8:80:7::10", "203.0.113.70"),
        [("@", "dns.aaaa", "pass"), *_domain_rows(reach="fail")],
        ns=("nsdead.dns.example", "nsdead2.dns.example")),
    _sc("refused.example", "enterprise",
        _dual("@", "2001:db8:80:8::10", "203.0.113.80"),
        # An answer that is not authoritative (here REFUSED) does not count.
        [("@", "dns.aaaa", "pass"), *_domain_rows(reach="warn")],
        ns=("ns1.dns.example", "nsrefuse.dns.example")),
    _sc("mixmx.example", "enterprise",
        [*_dual("@", "2001:db8:80:9::10", "203.0.113.90"),
         ("@", "MX", "10 mx1.mixmx.example."), ("@", "MX", "20 mx2.mixmx.example."),
         *_dual("mx1", "2001:db8:25:9::25", "203.0.113.132"),
         ("mx2", "A", "203.0.113.133")],
        [("@", "dns.aaaa", "pass"), *_domain_rows(mx="warn")]),
    _sc("nullmx.example", "enterprise",
        [*_dual("@", "2001:db8:80:a::10", "203.0.113.100"), ("@", "MX", "0 .")],
        [("@", "dns.aaaa", "pass"), *_domain_rows(mx="skip")]),
    _sc("xn--bcher-kva.example", "enterprise",  # bücher.example: written in Unicode in the list
        _dual("@", "2001:db8:80:b::10", "203.0.113.110"),
        [("@", "dns.aaaa", "pass"), *_domain_rows()]),
    # The operator's own domain. It also gives resolver.ipv6 a name that has AAAA
    # (the scanner asks a target's own names first, else a real-world default).
    _sc("operator.example", "operator",
        _dual("@", "2001:db8:80:c::10", "203.0.113.120"),
        [("@", "dns.aaaa", "pass"), *_domain_rows()],
        target="Lab Operator"),
)  # fmt: skip

OPERATOR_NAME = "Lab Operator"
OPERATOR_METRO_RESOLVERS: tuple[str, ...] = (t.RESOLVER6, t.DEAD_RESOLVER6)
OPERATOR_EXPECTED: tuple[Row, ...] = (
    (OPERATOR_NAME, t.RESOLVER6, "resolver.ipv6", "pass"),
    (OPERATOR_NAME, t.DEAD_RESOLVER6, "resolver.ipv6", "fail"),
)


def scenario(zone: str) -> Scenario:
    return next(s for s in SCENARIOS if s.zone == zone)


def _rows(scenarios: tuple[Scenario, ...]) -> list[Row]:
    return [(s.target_name, s.subject(subj), check, status)
            for s in scenarios for subj, check, status in s.expected]  # fmt: skip


# Default run: every target of targets_file, scanned from the dual-stack client.
EXPECTED: tuple[Row, ...] = (*_rows(SCENARIOS), *OPERATOR_EXPECTED)

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
    (OPERATOR_NAME, t.RESOLVER6, "resolver.ipv6", "error"),
    (OPERATOR_NAME, t.DEAD_RESOLVER6, "resolver.ipv6", "error"),
)


def targets_document(only: tuple[str, ...] | None = None) -> dict:
    """The lab target list (INTERFACE.md format), optionally only the named targets."""
    targets: list[dict] = []
    for s in SCENARIOS:
        target: dict = {"name": s.target_name, "sector": s.sector, "domains": [s.domain_unicode]}
        if s.target_name == OPERATOR_NAME:
            target["systems"] = {"metro": [{"resolver": r} for r in OPERATOR_METRO_RESOLVERS]}
        targets.append(target)
    if only is not None:
        targets = [x for x in targets if x["name"] in only]
    return {"version": 1, "name": "ipv6scan namespace lab", "targets": targets}
