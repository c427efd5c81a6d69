"""Zone files of the lab, rendered from the data in scenarios.py.

Hierarchy: the lab root "." delegates `example.` to ns1/ns2.dns.example; the
`example.` zone delegates dns.example and every scenario zone, with glue for
the name servers. The main NSD serves all of them except lame.example.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ipv6scan.lab import chain
from ipv6scan.lab import scenarios as sc

TTL = 300
NEGATIVE_TTL = 30  # SOA minimum: keep negative answers short-lived while debugging


def _fqdn(name: str) -> str:
    return name if name.endswith(".") else f"{name}."


def _owner(owner: str, zone: str) -> str:
    if owner.endswith("."):
        return owner
    return _fqdn(zone) if owner == "@" else f"{owner}.{_fqdn(zone)}"


def _soa(zone: str) -> str:
    origin = _fqdn(zone) if zone != "." else "."
    return (
        f"$ORIGIN {origin}\n$TTL {TTL}\n"
        f"{origin} IN SOA {_fqdn(sc.ROOT_NS)} hostmaster.{_fqdn(sc.TLD)} "
        f"1 3600 600 86400 {NEGATIVE_TTL}\n"
    )


def _address_records(hosts: Iterable[str]) -> list[str]:
    lines: list[str] = []
    for host in hosts:
        v6, v4 = sc.NAMESERVERS[host]
        if v6:
            lines.append(f"{_fqdn(host)} IN AAAA {v6}")
        if v4:
            lines.append(f"{_fqdn(host)} IN A {v4}")
    return lines


def _ns(owner: str, hosts: Iterable[str]) -> list[str]:
    return [f"{_fqdn(owner)} IN NS {_fqdn(h)}" for h in hosts]


def root_zone() -> str:
    lines = [*_ns(".", [sc.ROOT_NS]), *_ns(sc.TLD, sc.DEFAULT_NS)]
    # Glue for the root and the TLD servers (every name is below the root).
    lines += _address_records([sc.ROOT_NS, *sc.DEFAULT_NS])
    lines += [f"{_owner(o, '.')} IN {rtype} {rdata}" for o, rtype, rdata in sc.ROOT_EXTRA]
    return _soa(".") + "\n".join(lines) + "\n"


def tld_zone() -> str:
    lines = _ns(sc.TLD, sc.DEFAULT_NS) + _ns(sc.NS_ZONE, sc.DEFAULT_NS)
    for s in sc.SCENARIOS:
        lines += _ns(s.zone, s.ns)
    for zone, hosts in chain.MIDDLE_ZONES.items():  # dns.delegation's middle zones
        lines += _ns(zone, hosts)
    # Glue for every name server: they all live in the delegated dns.example.
    lines += _address_records(sc.NAMESERVERS)
    return _soa(sc.TLD) + "\n".join(lines) + "\n"


def ns_zone() -> str:
    lines = _ns(sc.NS_ZONE, sc.DEFAULT_NS) + _address_records(sc.NAMESERVERS)
    return _soa(sc.NS_ZONE) + "\n".join(lines) + "\n"


def scenario_zone(s: sc.Scenario) -> str:
    lines = _ns(s.zone, s.ns)
    lines += [f"{_owner(o, s.zone)} IN {rtype} {rdata}" for o, rtype, rdata in s.records]
    return _soa(s.zone) + "\n".join(lines) + "\n"


def chain_middle_zones() -> dict[str, str]:
    """The chain NSD's zones: each middle zone, delegating its leaf (no glue: the leaf's
    servers live in dns.example)."""
    zones: dict[str, str] = {}
    for zone, hosts in chain.MIDDLE_ZONES.items():
        lines = _ns(zone, hosts)
        for leaf, (middle, leaf_hosts) in chain.LEAF_ZONES.items():
            if middle == zone:
                lines += _ns(leaf, leaf_hosts)
        zones[zone] = _soa(zone) + "\n".join(lines) + "\n"
    return zones


def chain_leaf_zone(leaf: str) -> str:
    hosts = chain.LEAF_ZONES[leaf][1]
    lines = _ns(leaf, hosts)
    for name in chain.BENCH_DOMAINS:
        if name.endswith("." + leaf):
            lines += _ns(name, hosts)
    return _soa(leaf) + "\n".join(lines) + "\n"


def lame_dummy_zone() -> str:
    lines = [
        *_ns(sc.LAME_DUMMY_ZONE, ["nslame.dns.example"]),
        f"{_fqdn(sc.LAME_DUMMY_ZONE)} IN TXT lame",
    ]
    return _soa(sc.LAME_DUMMY_ZONE) + "\n".join(lines) + "\n"


def main_zones() -> dict[str, str]:
    """zone name ("." or without trailing dot) -> zone file text, for the main NSD."""
    zones = {".": root_zone(), sc.TLD: tld_zone(), sc.NS_ZONE: ns_zone()}
    zones.update({s.zone: scenario_zone(s) for s in sc.SCENARIOS if s.served})
    zones.update({leaf: chain_leaf_zone(leaf) for leaf in chain.LEAF_ZONES})
    return zones


def write_zones(directory: Path, zones: dict[str, str]) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name, text in zones.items():
        path = directory / ("root.zone" if name == "." else f"{name}.zone")
        path.write_text(text)
        paths[name] = path
    return paths
