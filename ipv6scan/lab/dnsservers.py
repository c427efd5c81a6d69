"""Configuration and launch of the lab's NSD and Unbound instances."""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from string import Template

from ipv6scan.lab import scenarios as sc
from ipv6scan.lab import topology as t
from ipv6scan.lab import zones
from ipv6scan.lab.availability import binary
from ipv6scan.lab.netns import netns_argv
from ipv6scan.lab.process import ManagedProcess


def _template(name: str) -> Template:
    return Template(resources.files("ipv6scan.lab").joinpath("data", name).read_text())


def _lines(key: str, values: Sequence[str]) -> str:
    return "\n".join(f"    {key}: {v}" for v in values)


def nsd_conf(role: str, directory: Path, listen: Sequence[str], zone_files: dict[str, Path]) -> str:
    zone_blocks = "\n".join(
        f'zone:\n    name: "{name if name == "." else name + "."}"\n    zonefile: "{path}"\n'
        for name, path in zone_files.items()
    )
    return _template("nsd.conf.in").substitute(
        role=role, dir=directory, listen=_lines("ip-address", listen), zones=zone_blocks
    )


def unbound_conf(
    role: str,
    directory: Path,
    listen: Sequence[str],
    dns64: str | None,
    local_zones: Sequence[str] = (),
) -> str:
    dns64_lines = f"    dns64-prefix: {dns64}\n    dns64-synthall: no" if dns64 else ""
    # server: lines of their own go in the same slot (local-zone: "." always_nxdomain)
    dns64_lines += "".join(f"\n    local-zone: {zone}" for zone in local_zones)
    return _template("unbound.conf.in").substitute(
        role=role,
        dir=directory,
        listen=_lines("interface", listen),
        access=_lines("access-control", [f"{p} allow" for p in t.ALLOW_PREFIXES]),
        modules="dns64 iterator" if dns64 else "iterator",
        dns64=dns64_lines,
        donotquery=_lines("do-not-query-address", t.SILENT),
    )


def root_hints() -> str:
    v6, v4 = sc.NAMESERVERS[sc.ROOT_NS]
    name = f"{sc.ROOT_NS}."
    return f".  3600000 IN NS {name}\n{name} 3600000 IN A {v4}\n{name} 3600000 IN AAAA {v6}\n"


def prepare(workdir: Path, dns_ns: str) -> list[ManagedProcess]:
    """Write every config and zone file; return the (not yet started) servers."""
    servers: list[ManagedProcess] = []

    main_dir = workdir / "nsd-main"
    main_zones = zones.write_zones(main_dir / "zones", zones.main_zones())
    conf = main_dir / "nsd.conf"
    conf.write_text(nsd_conf("lab-main", main_dir, t.MAIN_NSD_LISTEN, main_zones))
    servers.append(_server("nsd-main", dns_ns, [binary("nsd"), "-d", "-c", str(conf)], main_dir))

    lame_dir = workdir / "nsd-lame"
    lame_zones = zones.write_zones(
        lame_dir / "zones", {sc.LAME_DUMMY_ZONE: zones.lame_dummy_zone()}
    )
    conf = lame_dir / "nsd.conf"
    conf.write_text(nsd_conf("lab-lame", lame_dir, t.LAME_NSD_LISTEN, lame_zones))
    servers.append(_server("nsd-lame", dns_ns, [binary("nsd"), "-d", "-c", str(conf)], lame_dir))

    # the middle zones of dns.delegation's chains (lab/chain.py), apart from the main NSD
    chain_dir = workdir / "nsd-chain"
    chain_zones = zones.write_zones(chain_dir / "zones", zones.chain_middle_zones())
    conf = chain_dir / "nsd.conf"
    conf.write_text(nsd_conf("lab-chain", chain_dir, t.CHAIN_NSD_LISTEN, chain_zones))
    servers.append(_server("nsd-chain", dns_ns, [binary("nsd"), "-d", "-c", str(conf)], chain_dir))

    for role, listen, dns64, local_zones in (
        ("unbound", t.RESOLVER_LISTEN, None, ()),
        ("unbound-dns64", t.DNS64_LISTEN, t.DNS64_PREFIX, ()),
        # denies every name, the root and ipv4only.arpa too: a resolver not to trust
        ("unbound-nxdomain", t.NXDOMAIN_LISTEN, None, ('"." always_nxdomain',)),
    ):
        directory = workdir / role
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "root.hints").write_text(root_hints())
        conf = directory / "unbound.conf"
        conf.write_text(unbound_conf(role, directory, listen, dns64, local_zones))
        servers.append(_server(role, dns_ns, [binary("unbound"), "-d", "-c", str(conf)], directory))
    return servers


def _server(name: str, ns: str, argv: list[str], directory: Path) -> ManagedProcess:
    directory.mkdir(parents=True, exist_ok=True)
    return ManagedProcess(name, netns_argv(ns, argv), directory / "stdout.log")
