"""Which addresses count: IANA special-purpose ranges, --allow-prefix, DNS64.

The contract ("Global" in INTERFACE.md) says an AAAA only counts as a site's
IPv6 when it is global unicast outside the IANA special-purpose ranges, unless
the user allowed it with --allow-prefix. The same answer decides whether an
address may be probed at all, so a hostile zone cannot aim the scanner at
loopback or link-local hosts. Pure: no I/O, no resolver calls.
"""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from ipaddress import (
    IPv4Address,
    IPv4Network,
    IPv6Address,
    IPv6Network,
    ip_network,
)

from ipv6scan.messages import Detail, message, word

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network


@dataclass(frozen=True)
class SpecialRange:
    """One row of an IANA special-purpose registry (or a range we add to it)."""

    network: IPNetwork
    category: str  # short name; equal names across families (loopback, documentation...)
    rfc: str
    # IANA's "Globally Reachable" column; None where IANA says N/A.
    iana_global: bool | None


def _rows(rows: Iterable[tuple[str, str, str, bool | None]]) -> tuple[SpecialRange, ...]:
    # ip_network is strict here, so a typo with host bits set fails at import.
    return tuple(SpecialRange(ip_network(p), c, r, g) for p, c, r, g in rows)


# IANA IPv6 Special-Purpose Address Registry (as of 2025/2026), plus the rows
# marked "not in the registry" that RFC 4291 / the address-space registry
# define and that must never count as a site's IPv6.
IPV6_SPECIAL: tuple[SpecialRange, ...] = _rows(
    [
        ("::1/128", "loopback", "RFC 4291", False),
        ("::/128", "unspecified", "RFC 4291", False),
        # Not in the registry: deprecated by RFC 4291 section 2.5.5.1.
        ("::/96", "ipv4-compatible", "RFC 4291", False),
        ("::ffff:0:0/96", "ipv4-mapped", "RFC 4291", False),
        # IANA marks the well-known NAT64 prefix globally reachable, and it is:
        # but it reaches the site's IPv4 through someone's translator. It is
        # never the site's IPv6, so _NOT_GLOBAL_FOR_READINESS overrides it.
        ("64:ff9b::/96", "nat64", "RFC 6052", True),
        ("64:ff9b:1::/48", "nat64-local", "RFC 8215", False),
        ("100::/64", "discard", "RFC 6666", False),
        ("100:0:0:1::/64", "dummy", "RFC 9780", False),
        ("2001::/23", "ietf-protocol-assignments", "RFC 2928", False),
        ("2001::/32", "teredo", "RFC 4380, RFC 8190", None),
        ("2001:1::1/128", "pcp-anycast", "RFC 7723", True),
        ("2001:1::2/128", "turn-anycast", "RFC 8155", True),
        ("2001:1::3/128", "dns-sd-srp-anycast", "RFC 9665", True),
        ("2001:2::/48", "benchmarking", "RFC 5180", False),
        ("2001:3::/32", "amt", "RFC 7450", True),
        ("2001:4:112::/48", "as112", "RFC 7535", True),
        ("2001:10::/28", "orchid", "RFC 4843", False),  # deprecated
        ("2001:20::/28", "orchidv2", "RFC 7343", True),
        ("2001:30::/28", "drone-det", "RFC 9374", True),
        ("2001:db8::/32", "documentation", "RFC 3849", False),
        ("2002::/16", "6to4", "RFC 3056", None),
        ("2620:4f:8000::/48", "as112", "RFC 7534", True),
        ("3fff::/20", "documentation", "RFC 9637", False),
        ("5f00::/16", "srv6-sids", "RFC 9602", False),
        ("fc00::/7", "unique-local", "RFC 4193, RFC 8190", False),
        ("fe80::/10", "link-local", "RFC 4291", False),
        # Not in the registry: deprecated by RFC 3879, still seen in old zones.
        ("fec0::/10", "site-local", "RFC 3879", False),
        # Not in the registry (address-space registry): never a unicast host.
        ("ff00::/8", "multicast", "RFC 4291", False),
    ]
)

# IANA IPv4 Special-Purpose Address Registry (as of 2025/2026), plus multicast
# from the IPv4 address-space registry.
IPV4_SPECIAL: tuple[SpecialRange, ...] = _rows(
    [
        ("0.0.0.0/8", "this-network", "RFC 791", False),
        ("0.0.0.0/32", "unspecified", "RFC 1122", False),
        ("10.0.0.0/8", "private", "RFC 1918", False),
        ("100.64.0.0/10", "shared", "RFC 6598", False),  # carrier-grade NAT
        ("127.0.0.0/8", "loopback", "RFC 1122", False),
        ("169.254.0.0/16", "link-local", "RFC 3927", False),
        ("172.16.0.0/12", "private", "RFC 1918", False),
        ("192.0.0.0/24", "ietf-protocol-assignments", "RFC 6890", False),
        ("192.0.0.0/29", "service-continuity", "RFC 7335", False),
        ("192.0.0.8/32", "dummy", "RFC 7600", False),
        ("192.0.0.9/32", "pcp-anycast", "RFC 7723", True),
        ("192.0.0.10/32", "turn-anycast", "RFC 8155", True),
        ("192.0.0.170/31", "nat64-discovery", "RFC 7050, RFC 8880", False),
        ("192.0.2.0/24", "documentation", "RFC 5737", False),
        ("192.31.196.0/24", "as112", "RFC 7535", True),
        ("192.52.193.0/24", "amt", "RFC 7450", True),
        ("192.88.99.0/24", "6to4-relay", "RFC 7526", None),  # deprecated
        ("192.168.0.0/16", "private", "RFC 1918", False),
        ("192.175.48.0/24", "as112", "RFC 7534", True),
        ("198.18.0.0/15", "benchmarking", "RFC 2544", False),
        ("198.51.100.0/24", "documentation", "RFC 5737", False),
        ("203.0.113.0/24", "documentation", "RFC 5737", False),
        ("224.0.0.0/4", "multicast", "RFC 5771", False),
        ("240.0.0.0/4", "reserved", "RFC 1112", False),
        ("255.255.255.255/32", "broadcast", "RFC 919, RFC 8190", False),
    ]
)

# Where our readiness meaning differs from IANA's reachability:
# - nat64: a translated path to IPv4, not the site's IPv6 (see the row above);
# - teredo, 6to4: tunnels over IPv4 (IANA: N/A). A site whose only AAAA is a
#   tunnel endpoint has not deployed native IPv6, and both relays are unreliable.
_NOT_GLOBAL_FOR_READINESS = frozenset({"nat64", "teredo", "6to4"})
# categories whose AddressClass names the IPv4 address inside (see _embedded)
_EMBEDS_IPV4 = frozenset({"ipv4-mapped", "ipv4-compatible", "nat64", "6to4"})

# Never global, whatever --allow-prefix says. These are never a legitimate
# probe destination nor a site's IPv6; without this, `--allow-prefix ::/0`
# would let a hostile zone publish AAAA ::1 and aim the scanner at itself, and
# `::ffff:` addresses would count as IPv6 (internet.nl #146, #655). nat64-local,
# this-network and broadcast are added for the same reason.
NEVER_ALLOWED = frozenset(
    {
        "loopback",
        "unspecified",
        "link-local",
        "multicast",
        "ipv4-mapped",
        "ipv4-compatible",
        "site-local",
        "nat64",
        "nat64-local",
        "dns64-synthesized",
        "this-network",
        "broadcast",
    }
)

DNS64_SYNTHESIZED = "dns64-synthesized"
GLOBAL = "global"
UNALLOCATED = "unallocated"

# Every category classify() may give, each a word translated inside details (an address
# shown "not probed: documentation" in English reads in the report's language).
CATEGORY_WORDS: dict[str, Detail] = {
    name: word(name)
    for name in sorted(
        {r.category for r in (*IPV6_SPECIAL, *IPV4_SPECIAL)}
        | {DNS64_SYNTHESIZED, GLOBAL, UNALLOCATED}
    )
}
NOT_PROBED = message("web.common.not_probed", "not probed: %(category)s")


def category_word(category: str) -> str:
    """A category as its translated word (as it is when not one of ours)."""
    return CATEGORY_WORDS.get(category, category)


_GLOBAL_UNICAST = IPv6Network("2000::/3")
# RFC 6052 section 2.2: the only prefix lengths an IPv4-embedded address may use.
RFC6052_LENGTHS = (32, 40, 48, 56, 64, 96)
# RFC 7050 / RFC 8880: the A records of ipv4only.arpa.
WELL_KNOWN_IPV4ONLY = (IPv4Address("192.0.0.170"), IPv4Address("192.0.0.171"))


def _index(
    rows: tuple[SpecialRange, ...], bits: int
) -> tuple[tuple[int, dict[int, SpecialRange]], ...]:
    # Longest prefix first, one dict per length: most-specific match in a few
    # mask-and-lookup steps rather than a scan of every row.
    by_len: dict[int, dict[int, SpecialRange]] = {}
    for row in rows:
        by_len.setdefault(row.network.prefixlen, {})[int(row.network.network_address)] = row
    full = (1 << bits) - 1
    return tuple(
        (full ^ ((1 << (bits - plen)) - 1), by_len[plen]) for plen in sorted(by_len, reverse=True)
    )


_INDEX = {4: _index(IPV4_SPECIAL, 32), 6: _index(IPV6_SPECIAL, 128)}


def special_range(addr: IPAddress) -> SpecialRange | None:
    """The most specific registry row containing `addr`, or None."""
    value = int(addr)
    for mask, rows in _INDEX[addr.version]:
        row = rows.get(value & mask)
        if row is not None:
            return row
    return None


def parse_address(value: str | IPAddress) -> IPAddress:
    """An address literal, refusing zone ids (they only mean something on one host)."""
    if isinstance(value, IPv4Address | IPv6Address):
        addr = value
    elif isinstance(value, str):
        try:
            # ip_address() tries IPv4 first and fails through an exception for every IPv6
            # literal: a measurable share of a bulk scan, so pick the family up front
            addr = IPv6Address(value) if ":" in value else IPv4Address(value)
        except ValueError:
            raise ValueError(f"{value!r} is not an IPv4 or IPv6 address") from None
    else:
        raise TypeError(f"expected an address string or ipaddress object, got {type(value)!r}")
    if isinstance(addr, IPv6Address) and addr.scope_id:
        raise ValueError(f"{str(addr)!r}: scoped addresses (with a %zone) are not accepted")
    return addr


def parse_prefix(value: str | IPNetwork) -> IPNetwork:
    """A CIDR prefix; host bits set is an error, since it usually hides a typo."""
    if isinstance(value, IPv4Network | IPv6Network):
        return value
    if not isinstance(value, str):
        raise TypeError(f"expected a prefix string or ipaddress network, got {type(value)!r}")
    text = value.strip()
    if "%" in text:
        raise ValueError(f"prefix {value!r}: zone ids (%...) are not accepted")
    try:
        return ip_network(text)
    except ValueError:
        pass
    try:
        loose = ip_network(text, strict=False)
    except ValueError:
        raise ValueError(f"prefix {value!r} is not an IPv4 or IPv6 CIDR prefix") from None
    raise ValueError(f"prefix {value!r} has host bits set; did you mean {loose}?")


def dns64_prefix(value: str | IPNetwork) -> IPv6Network:
    """An RFC 6052 prefix (IPv6, one of its lengths); ValueError otherwise."""
    prefix = parse_prefix(value)
    if not isinstance(prefix, IPv6Network) or prefix.prefixlen not in RFC6052_LENGTHS:
        raise ValueError(
            f"{prefix} is not an RFC 6052 prefix (IPv6, length one of {RFC6052_LENGTHS})"
        )
    return prefix


_LOW56 = (1 << 56) - 1


def _drop_u_octet(value: int) -> int:
    # Bits 64-71 (the "u" octet) are reserved in every RFC 6052 format, so the
    # IPv4 bits jump over them; removing them leaves a contiguous 120-bit field.
    return ((value >> 64) << 56) | (value & _LOW56)


def _add_u_octet(value: int) -> int:
    return ((value >> 56) << 64) | (value & _LOW56)


def extract_ipv4(addr: IPv6Address, prefix: IPv6Network) -> IPv4Address:
    """The IPv4 address embedded in `addr` under `prefix` (RFC 6052 section 2.2).

    Lenient by design: the u octet and suffix bits are skipped, not checked,
    so an oddly synthesised address still yields the IPv4 it stands for.
    """
    prefix = dns64_prefix(prefix)
    if addr not in prefix:
        raise ValueError(f"{addr} is not inside {prefix}")
    if prefix.prefixlen == 96:
        return IPv4Address(int(addr) & 0xFFFFFFFF)
    shift = 120 - prefix.prefixlen - 32
    return IPv4Address((_drop_u_octet(int(addr)) >> shift) & 0xFFFFFFFF)


def synthesize(ipv4: IPv4Address | str, prefix: IPv6Network | str) -> IPv6Address:
    """The RFC 6052 address for `ipv4` under `prefix` (u octet and suffix zero)."""
    v4 = IPv4Address(ipv4)
    net = dns64_prefix(prefix)
    base = int(net.network_address)
    if net.prefixlen == 96:
        return IPv6Address(base | int(v4))
    shift = 120 - net.prefixlen - 32
    return IPv6Address(_add_u_octet(_drop_u_octet(base) | (int(v4) << shift)))


def _embedded_wka_length(addr: IPv6Address) -> int | None:
    # RFC 7050 section 3: find where a well-known IPv4 sits. Below /96 we also
    # require the u octet and the suffix to be zero (RFC 6052 section 2.2); with
    # that, the WKA's non-zero last octet makes at most one length fit, so no
    # tie-break is needed.
    value = int(addr)
    for length in RFC6052_LENGTHS:
        if length == 96:
            embedded = value & 0xFFFFFFFF
        else:
            if (value >> 56) & 0xFF:
                continue
            shift = 120 - length - 32
            packed = _drop_u_octet(value)
            if packed & ((1 << shift) - 1):
                continue
            embedded = (packed >> shift) & 0xFFFFFFFF
        if IPv4Address(embedded) in WELL_KNOWN_IPV4ONLY:
            return length
    return None


def dns64_prefixes_from_ipv4only(
    aaaa: Iterable[IPv6Address | str],
) -> tuple[IPv6Network, ...]:
    """The Pref64::/n prefixes revealed by the AAAA answers for ipv4only.arpa.

    Distinct prefixes, in answer order; empty when no answer embeds
    192.0.0.170 or 192.0.0.171 (no DNS64 in the path).
    """
    found: dict[IPv6Network, None] = {}
    for item in aaaa:
        addr = parse_address(item)
        if not isinstance(addr, IPv6Address):
            raise ValueError(f"{addr} is not an IPv6 address")
        length = _embedded_wka_length(addr)
        if length is not None:
            found.setdefault(IPv6Network((addr, length), strict=False), None)
    return tuple(found)


@dataclass(frozen=True, init=False)
class AddressClass:
    """What one address is, and whether it counts."""

    address: str  # compressed form
    version: int  # 4 or 6
    category: str  # "global", a registry category, "unallocated" or "dns64-synthesized"
    is_global: bool  # may be probed; counts as real IPv6 (or IPv4) reach
    allowed_by: str | None = None  # the --allow-prefix that made it global
    embedded_ipv4: str | None = None  # for nat64, dns64, ipv4-mapped/compatible, 6to4

    # one per address found: faster than the generated frozen __init__ (see model.py)
    def __init__(
        self,
        address: str,
        version: int,
        category: str,
        is_global: bool,
        allowed_by: str | None = None,
        embedded_ipv4: str | None = None,
    ) -> None:
        self.__dict__.update(address=address, version=version, category=category,
                             is_global=is_global, allowed_by=allowed_by,
                             embedded_ipv4=embedded_ipv4)  # fmt: skip


def _embedded(addr: IPAddress, category: str) -> str | None:
    if not isinstance(addr, IPv6Address):
        return None
    if category == "ipv4-mapped":
        return str(addr.ipv4_mapped)
    if category in ("ipv4-compatible", "nat64"):
        return str(IPv4Address(int(addr) & 0xFFFFFFFF))
    if category == "6to4":
        return str(addr.sixtofour)
    # nat64-local (64:ff9b:1::/48) may use any RFC 6052 length inside it, so
    # the embedded IPv4 cannot be known without the operator's prefix.
    return None


def plain_ipv6(text: str) -> tuple[bytes, str] | None:
    """An IPv6 literal's 16 bytes and its text as ipaddress writes it, through the C
    library at a fraction of ipaddress's cost; None for anything else and for what the two
    could read or write differently (zone ids; glibc writes ::ffff:a.b.c.d, ipaddress hex)."""
    if ":" not in text or "%" in text:
        return None
    try:
        packed = socket.inet_pton(socket.AF_INET6, text)
    except OSError:
        return None
    written = socket.inet_ntop(socket.AF_INET6, packed)
    return None if "." in written else (packed, written)


# A prefix as code outside Python matches it: its network's 16 bytes and its length.
PrefixRow = tuple[bytes, int]


@dataclass(frozen=True)
class PrefixTables:
    """The IPv6 prefixes classify() tells addresses apart by, for code that matches them
    itself (the fast lane, engine/_lane.c). For an IPv6 address, classify()'s answer but
    for the address itself and its embedded IPv4 is a function of which row of each
    table is its longest match (the first of the longest; none is a match too): `special`
    holds IPV6_SPECIAL and then 2000::/3 (global unicast), `allow` the --allow-prefix
    prefixes, `dns64` the DNS64 prefixes. tests/unit/test_lane_shapes.py holds it to that."""

    special: tuple[PrefixRow, ...]
    allow: tuple[PrefixRow, ...]
    dns64: tuple[PrefixRow, ...]


def _prefix_rows(networks: Iterable[IPNetwork]) -> tuple[PrefixRow, ...]:
    return tuple((n.network_address.packed, n.prefixlen) for n in networks if n.version == 6)


_SPECIAL_ROWS = _prefix_rows([*(row.network for row in IPV6_SPECIAL), _GLOBAL_UNICAST])


@dataclass(frozen=True)
class AddressPolicy:
    """The run's rules: user-allowed prefixes and the DNS64 prefixes discovered."""

    allow: tuple[IPNetwork, ...] = ()
    dns64_prefixes: tuple[IPv6Network, ...] = ()
    _allow6_ints: tuple[tuple[int, int, str], ...] = field(
        init=False, repr=False, compare=False, default=()
    )
    _dns64_ints: tuple[tuple[int, int], ...] = field(
        init=False, repr=False, compare=False, default=()
    )

    def __post_init__(self) -> None:
        # Normalise here so a policy built by hand is as safe as from_strings.
        allow = tuple(parse_prefix(p) for p in self.allow)
        dns64 = tuple(dict.fromkeys(dns64_prefix(p) for p in self.dns64_prefixes))
        object.__setattr__(self, "allow", allow)
        object.__setattr__(self, "dns64_prefixes", dns64)
        # the same prefixes as integers, for the fast path of classify()
        allow6 = tuple((int(p.network_address), p.prefixlen, str(p)) for p in allow
                       if p.version == 6)  # fmt: skip
        object.__setattr__(self, "_allow6_ints", allow6)
        dns64_ints = tuple((int(p.network_address), p.prefixlen) for p in dns64)
        object.__setattr__(self, "_dns64_ints", dns64_ints)

    @classmethod
    def from_strings(cls, allow: Iterable[str]) -> AddressPolicy:
        """A policy from --allow-prefix values; ValueError names a bad one."""
        if isinstance(allow, str):  # one CIDR would otherwise be read character by character
            raise TypeError("from_strings takes an iterable of CIDR strings, not one string")
        return cls(allow=tuple(parse_prefix(p) for p in allow))

    def with_dns64(self, prefixes: Iterable[IPv6Network | str]) -> AddressPolicy:
        """A copy whose DNS64 prefixes are `prefixes` (replaced, not merged)."""
        return dataclasses.replace(self, dns64_prefixes=tuple(map(dns64_prefix, prefixes)))

    def classify(self, addr: str | IPAddress) -> AddressClass:
        if type(addr) is str:
            found = self._classify_plain6(addr)
            if found is not None:
                return found
        ip = parse_address(addr)
        text = ip.compressed
        if isinstance(ip, IPv6Address):
            # Before the allow list: a synthesized AAAA is the resolver's
            # translation of an A record, whatever range it sits in.
            inside = [p for p in self.dns64_prefixes if ip in p]
            if inside:
                prefix = max(inside, key=lambda p: p.prefixlen)
                v4 = str(extract_ipv4(ip, prefix))
                return AddressClass(text, 6, DNS64_SYNTHESIZED, False, None, v4)
        row = special_range(ip)
        if row is not None:
            category = row.category
            reachable = bool(row.iana_global) and category not in _NOT_GLOBAL_FOR_READINESS
        elif isinstance(ip, IPv6Address) and ip not in _GLOBAL_UNICAST:
            category, reachable = UNALLOCATED, False
        else:
            category, reachable = GLOBAL, True
        allowed_by = None
        if not reachable and category not in NEVER_ALLOWED:
            allowed_by = self._allowing_prefix(ip)
            reachable = allowed_by is not None
        return AddressClass(
            text, ip.version, category, reachable, allowed_by, _embedded(ip, category)
        )

    def _classify_plain6(self, text: str) -> AddressClass | None:
        """classify() of an IPv6 literal on integers, without ipaddress objects (a fraction
        of the cost, which counts at millions of answers). None for the few cases that
        need the full reading: DNS64 prefixes, ranges with an embedded IPv4 address, and
        what glibc writes differently from ipaddress (::ffff:a.b.c.d). The two agree
        (tests/unit/test_addresses.py holds them to it)."""
        plain = plain_ipv6(text)
        if plain is None:
            return None
        packed, compressed = plain
        value = int.from_bytes(packed, "big")
        for network, length in self._dns64_ints:
            if value >> (128 - length) == network >> (128 - length):
                return None
        for mask, rows in _INDEX[6]:
            row = rows.get(value & mask)
            if row is not None:
                category = row.category
                if category in _EMBEDS_IPV4:
                    return None
                reachable = bool(row.iana_global) and category not in _NOT_GLOBAL_FOR_READINESS
                break
        else:
            if value >> 125 == 1:  # 2000::/3
                return AddressClass(compressed, 6, GLOBAL, True)
            category, reachable = UNALLOCATED, False
        allowed_by = None
        if not reachable and category not in NEVER_ALLOWED:
            allowed_by = self._allowing_int6(value)
            reachable = allowed_by is not None
        return AddressClass(compressed, 6, category, reachable, allowed_by)

    def _allowing_int6(self, value: int) -> str | None:
        best: tuple[int, str] | None = None
        for network, length, text in self._allow6_ints:
            if value >> (128 - length) == network >> (128 - length) and (
                best is None or length > best[0]
            ):
                best = (length, text)
        return best[1] if best else None

    def tables(self) -> PrefixTables:
        """The prefixes this policy's classify() tells IPv6 addresses apart by (see
        PrefixTables)."""
        return PrefixTables(
            _SPECIAL_ROWS, _prefix_rows(self.allow), _prefix_rows(self.dns64_prefixes)
        )

    def is_global(self, addr: str | IPAddress) -> bool:
        return self.classify(addr).is_global

    def not_probed(self, addr: str | IPAddress) -> str | None:
        """The scope rule every probe obeys (INTERFACE.md, "Scope"): "not probed: <class>"
        for an address that is neither global nor inside an --allow-prefix (then not one
        packet goes to it), None for one that may be probed."""
        klass = self.classify(addr)
        return None if klass.is_global else NOT_PROBED(category=category_word(klass.category))

    def _allowing_prefix(self, ip: IPAddress) -> str | None:
        # The most specific allow prefix, so evidence names the narrowest reason.
        inside = [p for p in self.allow if p.version == ip.version and ip in p]
        return str(max(inside, key=lambda p: p.prefixlen)) if inside else None
