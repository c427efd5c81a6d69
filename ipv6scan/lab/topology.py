"""The lab's address plan: namespaces, links, service addresses and routes (data only).

Documentation prefixes only: 2001:db8::/32, 198.51.100.0/24, 203.0.113.0/24;
never 192.0.2.0/24, which the host itself may use.

    IPv6
      2001:db8:53::/64        DNS service addresses (on lo of the dns namespace)
      2001:db8:6464::/96      DNS64 synthesis prefix (never routed, nothing lives there)
      2001:db8:80::/48        web hosts, one /64 per scenario (lo of the web namespace)
      2001:db8:25::/48        mail hosts, one /64 per scenario (lo of the mail namespace)
      2001:db8:bb::/48        backbone: 2001:db8:bb:N::1 hosts (lo of core),
                              2001:db8:bb:ff::N loopback of backbone router bbN
      2001:db8:1280::/48      path-MTU servers: 2001:db8:1280:1::/64 behind the black
                              hole (lo of pmtuhole), 2001:db8:1280:2::/64 control (pmtuok)
      2001:db8:ff::/48        point-to-point links, 2001:db8:ff:N::/64 for link N
                              (first namespace ::1, second ::2)
    IPv4
      198.51.100.0/25         DNS service addresses
      198.51.100.128/26       point-to-point links, one /30 each (link N: .128+4(N-1),
                              first namespace +1, second +2)
      198.51.100.192/26       backbone hosts (.193-.195) and router loopbacks (.201-.203)
      203.0.113.0/25          web hosts
      203.0.113.128/26        mail hosts
      203.0.113.192/27        path-MTU servers: .192/28 behind the black hole, .208/28 control
      203.0.113.224/27        spare

    Links                                   forwarding namespaces: router, bb1, bb2, bb3
      1  router <-> dns
      2  router <-> client
      3  router <-> client4   (IPv4 only)
      4  router <-> bb1       \
      5  bb1    <-> bb2        |  the operator's backbone: three routers in a chain,
      6  bb2    <-> bb3        |  so a trace sees hop limits decrement at each
      7  bb3    <-> core      /
      8  router <-> web
      9  router <-> mail
     10  router <-> pmtu      MTU 1,280: the path-MTU lab's narrow link (web.pmtu)
     11  pmtu   <-> pmtuhole  nft on pmtu drops the Packet Too Big sent toward pmtuhole
     12  pmtu   <-> pmtuok    the control: its Packet Too Big gets through
     13  router <-> client2   a second client like client: another vantage point

Web and mail addresses are not listed here: they are the A/AAAA records of the
zone data (scenarios.py) that fall inside the web and mail prefixes, so every
published address exists (refusing or serving, as the scenario says).

Nothing is connected to the host's namespace and no namespace has a default
route, so lab traffic cannot leave the lab: a destination outside the routes
below gets an ICMP unreachable from the router.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

ALLOW_PREFIXES: tuple[str, ...] = ("2001:db8::/32", "198.51.100.0/24", "203.0.113.0/24")
LAB_ROUTES6: tuple[str, ...] = ("2001:db8::/32",)
LAB_ROUTES4: tuple[str, ...] = ("198.51.100.0/24", "203.0.113.0/24")

DNS_NET6 = "2001:db8:53::/64"
DNS_NET4 = "198.51.100.0/25"
DNS64_PREFIX = "2001:db8:6464::/96"
WEB_NET6, WEB_NET4 = "2001:db8:80::/48", "203.0.113.0/25"
MAIL_NET6, MAIL_NET4 = "2001:db8:25::/48", "203.0.113.128/26"
BACKBONE_NET6, BACKBONE_NET4 = "2001:db8:bb::/48", "198.51.100.192/26"

# Every address of the dns namespace, by role. A role without an IPv6 (or IPv4)
# address simply has none: ns4/ns5 are IPv4-only name servers.
ROOT6, ROOT4 = "2001:db8:53::10", "198.51.100.10"
NS1_6, NS1_4 = "2001:db8:53::11", "198.51.100.11"
NS2_6, NS2_4 = "2001:db8:53::12", "198.51.100.12"
NS4_4 = "198.51.100.14"
NS5_4 = "198.51.100.15"
NSDEAD6, NSDEAD4 = "2001:db8:53::21", "198.51.100.21"  # v6 silent, v4 = main NSD
NSDEAD2_6, NSDEAD2_4 = "2001:db8:53::22", "198.51.100.22"  # v6 silent, v4 = main NSD
NSREFUSE4 = "198.51.100.23"  # main NSD; its AAAA is the lame NSD's address
LAME6, LAME4 = "2001:db8:53::66", "198.51.100.66"  # lame NSD: REFUSED for lab zones
RESOLVER6, RESOLVER4 = "2001:db8:53::53", "198.51.100.53"  # recursive Unbound
DNS64_6, DNS64_4 = "2001:db8:53::64", "198.51.100.64"  # Unbound with dns64
DEAD_RESOLVER6 = "2001:db8:53::54"  # assigned but silent: resolver.ipv6 fail
# Unbound answering NXDOMAIN for every name, the root and ipv4only.arpa included: a
# resolver the scanner must not trust (INTERFACE.md, "A resolver that cannot be trusted")
NXDOMAIN_RESOLVER6, NXDOMAIN_RESOLVER4 = "2001:db8:53::55", "198.51.100.55"
# The chain NSD (lab/chain.py): the middle zones of dns.delegation's chains.
# nsmid6 has both families; nsmid4 is IPv4-only.
NSMID6_6, NSMID6_4 = "2001:db8:53::30", "198.51.100.30"
NSMID4_4 = "198.51.100.31"

MAIN_NSD_LISTEN: tuple[str, ...] = (
    ROOT6, ROOT4, NS1_6, NS1_4, NS2_6, NS2_4, NS4_4, NS5_4,
    NSDEAD4, NSDEAD2_4, NSREFUSE4,
)  # fmt: skip
LAME_NSD_LISTEN: tuple[str, ...] = (LAME6, LAME4)
RESOLVER_LISTEN: tuple[str, ...] = (RESOLVER6, RESOLVER4)
DNS64_LISTEN: tuple[str, ...] = (DNS64_6, DNS64_4)
NXDOMAIN_LISTEN: tuple[str, ...] = (NXDOMAIN_RESOLVER6, NXDOMAIN_RESOLVER4)
CHAIN_NSD_LISTEN: tuple[str, ...] = (NSMID6_6, NSMID6_4, NSMID4_4)
# Assigned (so nothing else answers in their place) but every packet to them is
# dropped by nft: a host that has gone silent, not one that says "go away".
# The lab's resolvers never query them (do-not-query-address).
SILENT: tuple[str, ...] = (NSDEAD6, NSDEAD2_6, DEAD_RESOLVER6)
DNS_ADDRESSES: tuple[str, ...] = (
    *MAIN_NSD_LISTEN,
    *LAME_NSD_LISTEN,
    *RESOLVER_LISTEN,
    *DNS64_LISTEN,
    *NXDOMAIN_LISTEN,
    *CHAIN_NSD_LISTEN,
    *SILENT,
)

# Backbone hosts in the core namespace, behind bb1 -> bb2 -> bb3.
CORE_OK6, CORE_OK4 = "2001:db8:bb:1::1", "198.51.100.193"  # answers echo
CORE_DROP6, CORE_DROP4 = "2001:db8:bb:2::1", "198.51.100.194"  # drops echo requests (nft)
CORE_QUIET6, CORE_QUIET4 = "2001:db8:bb:3::1", "198.51.100.195"  # answers; bb2 silent on the way
CORE_ADDRESSES: tuple[str, ...] = (CORE_OK6, CORE_OK4, CORE_DROP6, CORE_DROP4,
                                   CORE_QUIET6, CORE_QUIET4)  # fmt: skip
BACKBONE_ROUTERS: tuple[str, ...] = ("bb1", "bb2", "bb3")
# bbN's loopback: 2001:db8:bb:ff::N, 198.51.100.(200+N).
ROUTER_LOOPBACKS: dict[str, tuple[str, str]] = {
    r: (f"2001:db8:bb:ff::{n}", f"198.51.100.{200 + n}")
    for n, r in enumerate(BACKBONE_ROUTERS, start=1)
}
# bb2 sends no Time Exceeded for probes toward this /64 (nft on bb2's output): a
# trace to CORE_QUIET6 shows hop 3 silent and still reaches the destination,
# while traces to CORE_OK6 see every hop.
SILENT_HOP_ROUTER = "bb2"
SILENT_HOP_FOR6 = "2001:db8:bb:3::/64"

# The scope-safety canary listens in the client namespace on its own loopback:
# a scanner that dials an AAAA ::1 or an A 127.0.0.1 from a zone lands here.
CANARY_ADDRESSES: tuple[str, ...] = ("::1", "127.0.0.1")
CANARY_PORTS: tuple[int, ...] = (80, 443, 25, 53)
CANARY_UDP_PORTS: tuple[int, ...] = (53,)  # a resolver entry naming the scanner's own host

# The path-MTU lab (web.pmtu): the pmtu router's link toward the lab router has MTU
# 1,280, the servers' links 1,500, so a server's full-size packets cannot pass and pmtu
# answers them with Packet Too Big, which nft on pmtu drops toward pmtuhole only. Two
# server namespaces: Linux caches a path MTU per destination for the whole namespace, so
# the control's Packet Too Big would otherwise cure the black hole too.
PMTU_NET6, PMTU_NET4 = "2001:db8:1280::/48", "203.0.113.192/27"
PMTU_HOLE_NET6, PMTU_HOLE_NET4 = "2001:db8:1280:1::/64", "203.0.113.192/28"
PMTU_OK_NET6, PMTU_OK_NET4 = "2001:db8:1280:2::/64", "203.0.113.208/28"
PMTU_LINK_MTU = 1280
PMTU_SERVERS: tuple[str, ...] = ("pmtuhole", "pmtuok")

ROLES: tuple[str, ...] = ("router", "dns", "client", "client4", "web", "mail",
                          *BACKBONE_ROUTERS, "core", "pmtu", *PMTU_SERVERS,
                          "client2")  # fmt: skip
FORWARDING: tuple[str, ...] = ("router", *BACKBONE_ROUTERS, "pmtu")


@dataclass(frozen=True)
class Link:
    """Link N: a veth pair between namespaces a and b (roles), numbered by the plan."""

    number: int
    a: str
    a_if: str
    b: str
    b_if: str
    ipv6: bool = True
    mtu: int | None = None  # both ends; None: the veth default, 1,500

    def _v6(self, end: int) -> str | None:
        return f"2001:db8:ff:{self.number:x}::{end}/64" if self.ipv6 else None

    def _v4(self, end: int) -> str:
        return f"198.51.100.{128 + 4 * (self.number - 1) + end}/30"

    @property
    def a6(self) -> str | None:
        return self._v6(1)

    @property
    def b6(self) -> str | None:
        return self._v6(2)

    @property
    def a4(self) -> str:
        return self._v4(1)

    @property
    def b4(self) -> str:
        return self._v4(2)

    @property
    def net6(self) -> str:
        return f"2001:db8:ff:{self.number:x}::/64"

    @property
    def net4(self) -> str:
        return f"198.51.100.{128 + 4 * (self.number - 1)}/30"


UPLINK = "eth0"  # every non-router namespace's (and every bb router's) link toward the router
DOWNLINK = "dn0"  # a backbone router's link away from the router

LINKS: tuple[Link, ...] = (
    Link(1, "router", "to-dns", "dns", UPLINK),
    Link(2, "router", "to-cli", "client", UPLINK),
    Link(3, "router", "to-cl4", "client4", UPLINK, ipv6=False),
    Link(4, "router", "to-bb1", "bb1", UPLINK),
    Link(5, "bb1", DOWNLINK, "bb2", UPLINK),
    Link(6, "bb2", DOWNLINK, "bb3", UPLINK),
    Link(7, "bb3", DOWNLINK, "core", UPLINK),
    Link(8, "router", "to-web", "web", UPLINK),
    Link(9, "router", "to-mail", "mail", UPLINK),
    Link(10, "router", "to-pmtu", "pmtu", UPLINK, mtu=PMTU_LINK_MTU),
    Link(11, "pmtu", "to-hole", "pmtuhole", UPLINK),
    Link(12, "pmtu", "to-ok", "pmtuok", UPLINK),
    Link(13, "router", "to-cl2", "client2", UPLINK),
)


def inside(address: str, *prefixes: str) -> bool:
    """True when address lies in one of the prefixes (of its own family)."""
    ip = ipaddress.ip_address(address)
    return any(
        ip in net for net in map(ipaddress.ip_network, prefixes) if net.version == ip.version
    )


def link(number: int) -> Link:
    return LINKS[number - 1]


def addr(cidr: str | None) -> str:
    if cidr is None:
        raise ValueError("this link end has no address of that family")
    return cidr.split("/", 1)[0]


# What lies behind each link, seen from its first (router-side) namespace.
# Routes are for documentation prefixes only: no default route anywhere.
_BEHIND: dict[int, tuple[str, ...]] = {
    1: (DNS_NET6, DNS_NET4),
    4: (BACKBONE_NET6, BACKBONE_NET4, link(5).net6, link(5).net4, link(6).net6, link(6).net4,
        link(7).net6, link(7).net4),
    5: (BACKBONE_NET6, BACKBONE_NET4, link(6).net6, link(6).net4, link(7).net6, link(7).net4),
    6: (BACKBONE_NET6, BACKBONE_NET4, link(7).net6, link(7).net4),
    7: (BACKBONE_NET6, BACKBONE_NET4),
    8: (WEB_NET6, WEB_NET4),
    9: (MAIL_NET6, MAIL_NET4),
    10: (PMTU_NET6, PMTU_NET4, link(11).net6, link(11).net4, link(12).net6, link(12).net4),
    11: (PMTU_HOLE_NET6, PMTU_HOLE_NET4),
    12: (PMTU_OK_NET6, PMTU_OK_NET4),
}  # fmt: skip


def routes() -> dict[str, list[tuple[str, str]]]:
    """role -> [(prefix, next hop)]: downstream prefixes via the far end of each link,
    and the lab prefixes via the router side for every namespace with an uplink."""
    table: dict[str, list[tuple[str, str]]] = {role: [] for role in ROLES}
    for ln in LINKS:
        for prefix in _BEHIND.get(ln.number, ()):
            via = addr(ln.b6) if ":" in prefix else addr(ln.b4)
            table[ln.a].append((prefix, via))
        if ln.b_if == UPLINK:
            if ln.ipv6:
                table[ln.b] += [(p, addr(ln.a6)) for p in LAB_ROUTES6]
            table[ln.b] += [(p, addr(ln.a4)) for p in LAB_ROUTES4]
    return table


# Unassigned addresses inside a service prefix answer "unreachable" at once
# instead of being dropped in silence by a host that does not forward.
UNREACHABLE: dict[str, tuple[str, ...]] = {
    "web": (WEB_NET6, WEB_NET4),
    "mail": (MAIL_NET6, MAIL_NET4),
    "core": (BACKBONE_NET6, BACKBONE_NET4),
    "pmtuhole": (PMTU_HOLE_NET6, PMTU_HOLE_NET4),
    "pmtuok": (PMTU_OK_NET6, PMTU_OK_NET4),
}
