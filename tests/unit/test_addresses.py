"""Address classification: registry ranges, --allow-prefix, DNS64, RFC 6052/7050."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address, IPv6Network, ip_address, ip_network

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ipv6scan.addresses import (
    IPV4_SPECIAL,
    IPV6_SPECIAL,
    NEVER_ALLOWED,
    RFC6052_LENGTHS,
    AddressClass,
    AddressPolicy,
    SpecialRange,
    dns64_prefixes_from_ipv4only,
    extract_ipv4,
    synthesize,
)

ALL = ("::/0", "0.0.0.0/0")
DOC = ("2001:db8::/32",)
LAB64 = ("2001:db8:6464::/96",)

# (address, allow, dns64 prefixes, category, is_global, allowed_by)
CASES: list[tuple[str, tuple[str, ...], tuple[str, ...], str, bool, str | None]] = [
    # Plain global unicast, both families.
    ("2001:4860:4860::8888", (), (), "global", True, None),
    ("2a00:1450:4001:830::200e", (), (), "global", True, None),
    ("8.8.8.8", (), (), "global", True, None),
    ("2001:4860:4860::8888", DOC, (), "global", True, None),  # allow does not claim it
    # Never allowed, even under ::/0 (a hostile zone must not aim us at ourselves).
    ("::1", (), (), "loopback", False, None),
    ("::1", ALL, (), "loopback", False, None),
    ("::", ALL, (), "unspecified", False, None),
    ("fe80::1", (), (), "link-local", False, None),
    ("fe80::1", ALL, (), "link-local", False, None),
    ("ff02::1", ALL, (), "multicast", False, None),
    ("fec0::1", ALL, (), "site-local", False, None),
    ("::ffff:198.51.100.1", (), (), "ipv4-mapped", False, None),
    ("::ffff:198.51.100.1", ("198.51.100.0/24",), (), "ipv4-mapped", False, None),
    ("::ffff:198.51.100.1", ("::/0",), (), "ipv4-mapped", False, None),
    ("::ffff:198.51.100.1", ("198.51.100.0/24", "::/0"), (), "ipv4-mapped", False, None),
    ("::198.51.100.1", ALL, (), "ipv4-compatible", False, None),
    ("64:ff9b::808:808", (), (), "nat64", False, None),  # IANA: global; us: not
    ("64:ff9b::808:808", ALL, (), "nat64", False, None),
    ("64:ff9b:1::1", ALL, (), "nat64-local", False, None),
    ("127.0.0.1", ALL, (), "loopback", False, None),
    ("169.254.1.1", ALL, (), "link-local", False, None),
    ("224.0.0.1", ALL, (), "multicast", False, None),
    ("255.255.255.255", ALL, (), "broadcast", False, None),
    ("0.0.0.0", ALL, (), "unspecified", False, None),
    ("0.1.2.3", ALL, (), "this-network", False, None),
    # Registry ranges that an allow prefix can lift, keeping their category.
    ("fd00::1", (), (), "unique-local", False, None),
    ("fd00::1", ("fc00::/7",), (), "unique-local", True, "fc00::/7"),
    ("fd00::1", ("2001:db8::/32",), (), "unique-local", False, None),
    ("2001:db8::1", (), (), "documentation", False, None),
    ("2001:db8::1", DOC, (), "documentation", True, "2001:db8::/32"),
    (
        "2001:db8:1::1",
        ("2001:db8::/32", "2001:db8:1::/48"),
        (),
        "documentation",
        True,
        "2001:db8:1::/48",
    ),  # the narrowest allow is named
    ("2001:db8::1", ("2001:db8:1::/48",), (), "documentation", False, None),
    ("3fff::1", (), (), "documentation", False, None),
    ("3fff::1", ("3fff::/20",), (), "documentation", True, "3fff::/20"),
    ("2001:2::1", (), (), "benchmarking", False, None),
    ("2001:2::1", ALL, (), "benchmarking", True, "::/0"),
    ("100::1", (), (), "discard", False, None),
    ("100:0:0:1::1", (), (), "dummy", False, None),
    ("5f00::1", (), (), "srv6-sids", False, None),
    ("2001:10::1", (), (), "orchid", False, None),
    ("2001:5::1", (), (), "ietf-protocol-assignments", False, None),
    ("4000::1", (), (), "unallocated", False, None),
    ("4000::1", ("4000::/3",), (), "unallocated", True, "4000::/3"),
    ("10.0.0.1", (), (), "private", False, None),
    ("10.0.0.1", ("10.0.0.0/8",), (), "private", True, "10.0.0.0/8"),
    ("10.0.0.1", ("::/0",), (), "private", False, None),  # families never cross
    ("172.31.255.255", (), (), "private", False, None),
    ("192.168.1.1", (), (), "private", False, None),
    ("100.64.0.1", (), (), "shared", False, None),
    ("192.0.2.1", (), (), "documentation", False, None),
    ("198.51.100.1", ("198.51.100.0/24",), (), "documentation", True, "198.51.100.0/24"),
    ("203.0.113.9", (), (), "documentation", False, None),
    ("198.19.0.1", (), (), "benchmarking", False, None),
    ("240.0.0.1", (), (), "reserved", False, None),
    ("192.0.0.170", (), (), "nat64-discovery", False, None),
    ("192.0.0.171", (), (), "nat64-discovery", False, None),
    ("192.88.99.1", (), (), "6to4-relay", False, None),
    ("192.0.0.1", (), (), "service-continuity", False, None),
    ("192.0.0.8", (), (), "dummy", False, None),
    ("192.0.0.100", (), (), "ietf-protocol-assignments", False, None),
    # IANA globally-reachable exceptions inside non-global blocks.
    ("192.0.0.9", (), (), "pcp-anycast", True, None),
    ("192.0.0.10", (), (), "turn-anycast", True, None),
    ("192.31.196.1", (), (), "as112", True, None),
    ("192.52.193.1", (), (), "amt", True, None),
    ("192.175.48.6", (), (), "as112", True, None),
    ("2001:1::1", (), (), "pcp-anycast", True, None),
    ("2001:1::2", (), (), "turn-anycast", True, None),
    ("2001:1::3", (), (), "dns-sd-srp-anycast", True, None),
    ("2001:1::4", (), (), "ietf-protocol-assignments", False, None),
    ("2001:3::1", (), (), "amt", True, None),
    ("2001:4:112::1", (), (), "as112", True, None),
    ("2001:20::1", (), (), "orchidv2", True, None),
    ("2001:30::1", (), (), "drone-det", True, None),
    ("2620:4f:8000::1", (), (), "as112", True, None),
    # Transition tunnels: not native IPv6, but liftable in a lab.
    ("2002:c633:6401::1", (), (), "6to4", False, None),
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", (), (), "teredo", False, None),
    ("2002:c633:6401::1", ("2002::/16",), (), "6to4", True, "2002::/16"),
    # DNS64: synthesized answers never count, checked before the allow list.
    ("2001:db8:6464::c633:6401", (), LAB64, "dns64-synthesized", False, None),
    ("2001:db8:6464::c633:6401", DOC, LAB64, "dns64-synthesized", False, None),
    ("2001:db8:6464::c633:6401", ALL, LAB64, "dns64-synthesized", False, None),
    ("2001:db8::1", DOC, LAB64, "documentation", True, "2001:db8::/32"),  # outside the /96
    ("64:ff9b::808:808", (), ("64:ff9b::/96",), "dns64-synthesized", False, None),
    (
        "2001:db8:122:344:c0:2:2100:0",
        DOC,
        ("2001:db8:122:344::/64",),
        "dns64-synthesized",
        False,
        None,
    ),
    ("8.8.8.8", (), LAB64, "global", True, None),
]


@pytest.mark.parametrize(
    ("address", "allow", "dns64", "category", "is_global", "allowed_by"),
    CASES,
    ids=[
        f"{c[0]}-allow={','.join(c[1]) or 'none'}-dns64={','.join(c[2]) or 'none'}" for c in CASES
    ],
)
def test_classify(
    address: str,
    allow: tuple[str, ...],
    dns64: tuple[str, ...],
    category: str,
    is_global: bool,
    allowed_by: str | None,
) -> None:
    policy = AddressPolicy.from_strings(allow).with_dns64(dns64)
    got = policy.classify(address)
    assert (got.category, got.is_global, got.allowed_by) == (category, is_global, allowed_by)
    assert got.version == ip_address(address).version
    assert got.address == ip_address(address).compressed
    assert policy.is_global(address) is is_global


def _inside(row: SpecialRange) -> IPv4Address | IPv6Address:
    # Next to the top of the range: the very last address of 240.0.0.0/4 is the
    # more specific 255.255.255.255 row.
    last = row.network.broadcast_address
    return last if row.network.num_addresses == 1 else last - 1


def test_never_allowed_categories_resist_allow_all() -> None:
    # Every never-allowed registry row, probed near its top, stays non-global.
    policy = AddressPolicy.from_strings(ALL)
    rows = [r for r in (*IPV6_SPECIAL, *IPV4_SPECIAL) if r.category in NEVER_ALLOWED]
    assert {r.category for r in rows} >= {"loopback", "link-local", "ipv4-mapped", "nat64"}
    for row in rows:
        got = policy.classify(_inside(row))
        assert got.category == row.category
        assert not got.is_global, row


def test_every_row_is_reachable_by_most_specific_match() -> None:
    # A row shadowed by a wrong index (or a mistyped prefix) shows up here.
    for row in (*IPV6_SPECIAL, *IPV4_SPECIAL):
        got = AddressPolicy().classify(_inside(row))
        assert got.category == row.category, row


def test_address_objects_and_compressed_form() -> None:
    policy = AddressPolicy()
    assert policy.classify(IPv6Address("2001:4860:4860::8888")).is_global
    assert policy.classify(IPv4Address("10.1.2.3")).category == "private"
    assert policy.classify("2001:0DB8:0000::0001").address == "2001:db8::1"


def test_embedded_ipv4() -> None:
    policy = AddressPolicy(dns64_prefixes=(IPv6Network("2001:db8:122:344::/64"),))
    assert policy.classify("::ffff:198.51.100.1").embedded_ipv4 == "198.51.100.1"
    assert policy.classify("64:ff9b::c000:221").embedded_ipv4 == "192.0.2.33"
    assert policy.classify("2002:c633:6401::1").embedded_ipv4 == "198.51.100.1"
    assert policy.classify("2001:db8:122:344:c0:2:2100:0").embedded_ipv4 == "192.0.2.33"
    assert policy.classify("2001:4860:4860::8888").embedded_ipv4 is None
    assert policy.classify("8.8.8.8").embedded_ipv4 is None


def test_overlapping_dns64_prefixes_use_the_longest() -> None:
    policy = AddressPolicy().with_dns64(["2001:db8::/32", "2001:db8:122:344::/96"])
    got = policy.classify("2001:db8:122:344::c000:221")
    assert (got.category, got.embedded_ipv4) == ("dns64-synthesized", "192.0.2.33")


def test_result_is_frozen() -> None:
    got = AddressPolicy().classify("::1")
    assert isinstance(got, AddressClass)
    with pytest.raises(AttributeError):
        got.is_global = True  # type: ignore[misc]


@pytest.mark.parametrize(
    "text", ["", "example.com", "2001:db8::g", "1.2.3", "256.1.1.1", "fe80::1%eth0", "::1%1"]
)
def test_classify_rejects_bad_input(text: str) -> None:
    with pytest.raises(ValueError, match=r"not an IPv4 or IPv6 address|zone"):
        AddressPolicy().classify(text)


def test_classify_rejects_scoped_address_object() -> None:
    with pytest.raises(ValueError, match="zone"):
        AddressPolicy().classify(IPv6Address("fe80::1%eth0"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2001:db8::1/32", r"host bits set; did you mean 2001:db8::/32\?"),
        ("10.0.0.1/8", r"host bits set; did you mean 10.0.0.0/8\?"),
        ("2001:db8::/129", "not an IPv4 or IPv6 CIDR prefix"),
        ("example.com/24", "not an IPv4 or IPv6 CIDR prefix"),
        ("", "not an IPv4 or IPv6 CIDR prefix"),
        ("fe80::%eth0/64", "zone"),
    ],
)
def test_from_strings_rejects_bad_cidr(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AddressPolicy.from_strings(["2001:db8::/32", text])


def test_from_strings_accepts_and_normalises() -> None:
    policy = AddressPolicy.from_strings([" 2001:DB8::/32 ", "10.0.0.0/8", "192.0.2.7"])
    assert policy.allow == (
        ip_network("2001:db8::/32"),
        ip_network("10.0.0.0/8"),
        ip_network("192.0.2.7/32"),
    )
    with pytest.raises(TypeError):
        AddressPolicy.from_strings("2001:db8::/32")


def test_with_dns64_replaces_and_validates() -> None:
    base = AddressPolicy.from_strings(DOC)
    one = base.with_dns64(["64:ff9b::/96"])
    two = one.with_dns64([IPv6Network("2001:db8:6464::/96")])
    assert base.dns64_prefixes == ()
    assert one.dns64_prefixes == (IPv6Network("64:ff9b::/96"),)
    assert two.dns64_prefixes == (IPv6Network("2001:db8:6464::/96"),)
    assert two.allow == base.allow
    with pytest.raises(ValueError, match="RFC 6052"):
        base.with_dns64(["2001:db8::/33"])
    with pytest.raises(ValueError, match="RFC 6052"):
        base.with_dns64(["192.0.2.0/24"])
    with pytest.raises(ValueError, match="host bits"):
        base.with_dns64(["64:ff9b::1/96"])


# RFC 6052 section 2.4: 192.0.2.33 under each prefix length.
RFC6052_EXAMPLES = [
    ("2001:db8::/32", "2001:db8:c000:221::"),
    ("2001:db8:100::/40", "2001:db8:1c0:2:21::"),
    ("2001:db8:122::/48", "2001:db8:122:c000:2:2100::"),
    ("2001:db8:122:300::/56", "2001:db8:122:3c0:0:221::"),
    ("2001:db8:122:344::/64", "2001:db8:122:344:c0:2:2100:0"),
    ("2001:db8:122:344::/96", "2001:db8:122:344::192.0.2.33"),
]


def test_rfc6052_examples_cover_every_length() -> None:
    assert sorted(ip_network(p).prefixlen for p, _ in RFC6052_EXAMPLES) == list(RFC6052_LENGTHS)


@pytest.mark.parametrize(("prefix", "address"), RFC6052_EXAMPLES)
def test_rfc6052_synthesize_and_extract(prefix: str, address: str) -> None:
    net = IPv6Network(prefix)
    assert synthesize(IPv4Address("192.0.2.33"), net) == IPv6Address(address)
    assert extract_ipv4(IPv6Address(address), net) == IPv4Address("192.0.2.33")


@given(v4=st.integers(0, 2**32 - 1), length=st.sampled_from(RFC6052_LENGTHS))
def test_rfc6052_round_trip(v4: int, length: int) -> None:
    net = IPv6Network(("2001:db8:122:344::", length), strict=False)
    addr = synthesize(IPv4Address(v4), net)
    assert addr in net
    assert (int(addr) >> 56) & 0xFF == 0  # the u octet stays zero
    assert extract_ipv4(addr, net) == IPv4Address(v4)


def test_extract_and_synthesize_reject_bad_prefixes() -> None:
    with pytest.raises(ValueError, match="not inside"):
        extract_ipv4(IPv6Address("2001:db9::1"), IPv6Network("2001:db8::/32"))
    with pytest.raises(ValueError, match="RFC 6052"):
        extract_ipv4(IPv6Address("2001:db8::1"), IPv6Network("2001:db8::/36"))
    with pytest.raises(ValueError, match="RFC 6052"):
        synthesize("192.0.2.33", "2001:db8::/36")


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        (["64:ff9b::c000:aa", "64:ff9b::c000:ab"], ["64:ff9b::/96"]),
        (["64:ff9b::192.0.0.171"], ["64:ff9b::/96"]),
        (["2001:db8:6464::c000:aa"], ["2001:db8:6464::/96"]),
        # Network-specific /64: 192.0.0.170 in bits 72-103, past the u octet.
        (
            ["2001:db8:122:344:c0:0:aa00:0", "2001:db8:122:344:c0:0:ab00:0"],
            ["2001:db8:122:344::/64"],
        ),
        (["2001:db8:c000:aa::"], ["2001:db8::/32"]),
        (["2001:db8:1c0:0:aa::"], ["2001:db8:100::/40"]),
        (["2001:db8:122:c000:0:aa00::"], ["2001:db8:122::/48"]),
        (["2001:db8:122:3c0:0:aa::"], ["2001:db8:122:300::/56"]),
        # Two DNS64 servers, two prefixes, answer order kept.
        (["2001:db8:6464::c000:aa", "64:ff9b::c000:aa"], ["2001:db8:6464::/96", "64:ff9b::/96"]),
        # No DNS64 (real AAAA, or an unrelated IPv4 embedded): nothing found.
        (["2001:4860:4860::8888"], []),
        (["64:ff9b::c000:221"], []),
        ([], []),
        # A u octet or suffix that is not zero is not an RFC 6052 synthesis.
        (["2001:db8:122:344:ffc0:0:aa00:0"], []),
        (["2001:db8:c000:aa::1"], []),
    ],
)
def test_rfc7050_discovery(answers: list[str], expected: list[str]) -> None:
    assert dns64_prefixes_from_ipv4only(answers) == tuple(IPv6Network(p) for p in expected)


def test_rfc7050_discovery_matches_synthesis_at_every_length() -> None:
    for prefix, _ in RFC6052_EXAMPLES:
        net = IPv6Network(prefix)
        answers = [synthesize("192.0.0.170", net), synthesize("192.0.0.171", net)]
        assert dns64_prefixes_from_ipv4only(answers) == (net,)


def test_rfc7050_discovery_rejects_non_ipv6() -> None:
    with pytest.raises(ValueError):
        dns64_prefixes_from_ipv4only(["192.0.0.170"])


# --- the plain-IPv6 fast path of classify() agrees with the full reading ---------------

_POLICIES = [
    AddressPolicy(),
    AddressPolicy.from_strings(["2001:db8::/32", "fd00::/8", "198.51.100.0/24"]),
    AddressPolicy.from_strings(["2001:db8:80::/48"]).with_dns64(["2001:db8:6464::/96"]),
    AddressPolicy().with_dns64(["64:ff9b::/96", "2001:db8:1::/48"]),
]
# near the edges of the ranges that matter: special rows, 2000::/3, allow and DNS64 prefixes
_SEEDS = [0, 1, 0xFFFF << 32, 0x2001_0DB8 << 96, 0x2000 << 112, 0x4000 << 112, 0xFC00 << 112,
          0xFE80 << 112, 0x0064_FF9B << 96, 0x2002 << 112, 0x2001 << 112, 0xFF02 << 112,
          0x2001_0DB8_6464 << 80, 0x2001_0DB8_0001 << 80]  # fmt: skip


@settings(max_examples=3000, deadline=None)
@given(
    seed=st.sampled_from(_SEEDS),
    low=st.integers(min_value=0, max_value=(1 << 128) - 1),
    bits=st.integers(min_value=0, max_value=128),
    policy=st.sampled_from(_POLICIES),
)
def test_fast_classify_agrees_with_the_full_reading(
    seed: int, low: int, bits: int, policy: AddressPolicy
) -> None:
    value = (seed | (low & ((1 << bits) - 1))) & ((1 << 128) - 1)
    address = IPv6Address(value)
    for text in {str(address), address.exploded, address.exploded.upper()}:
        assert policy.classify(text) == policy.classify(address), text
