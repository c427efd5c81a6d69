"""Building and removing the lab's namespaces, links, addresses, routes and filters.

Every command names a lab namespace (`ip -n NS`, `ip netns exec NS`): the
host's own interfaces, routes, resolv.conf and firewall are never touched.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from string import Template

from ipv6scan.lab import topology as t
from ipv6scan.lab.availability import binary

NETNS_DIR = Path("/run/netns")
ETC_NETNS = Path("/etc/netns")
# Service addresses sit on lo: no neighbour discovery per address, and no
# dummy-interface kernel module needed.
SERVICE_IF = "lo"


def ip_argv(ns: str, *args: str) -> list[str]:
    """`ip -n NS ...`: every ip command of the lab names its namespace, never the host's."""
    if not ns:
        raise ValueError("refusing to run ip without a lab namespace")
    return [binary("ip"), "-n", ns, *args]


def netns_argv(ns: str, argv: Sequence[str]) -> list[str]:
    if not ns:
        raise ValueError("refusing to run a command without a lab namespace")
    return [binary("ip"), "netns", "exec", ns, *argv]


def run(argv: Sequence[str], stdin: str | None = None) -> None:
    proc = subprocess.run(list(argv), input=stdin, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.strip()}")


def namespace_exists(ns: str) -> bool:
    return (NETNS_DIR / ns).exists()


def namespace_pids(ns: str) -> list[int]:
    """PIDs of processes living in a lab namespace (all of them are the lab's)."""
    if not namespace_exists(ns):
        return []
    proc = subprocess.run(
        [binary("ip"), "netns", "pids", ns], capture_output=True, text=True, check=False
    )
    return [int(p) for p in proc.stdout.split() if p.isdigit() and int(p) != os.getpid()]


def template(name: str) -> Template:
    return Template(resources.files("ipv6scan.lab").joinpath("data", name).read_text())


class Batch:
    """The ip commands of one namespace, run as one `ip -n NS -batch -` (one process
    instead of dozens keeps lab start-up fast)."""

    def __init__(self, ns: str) -> None:
        self.ns = ns
        self.lines: list[str] = []

    def add(self, *args: str) -> None:
        self.lines.append(" ".join(args))

    def address(self, address: str, dev: str) -> None:
        # Batch lines take no global options; ip tells the family from the address.
        self.add("addr", "add", address, "dev", dev, *(("nodad",) if ":" in address else ()))

    def run(self) -> None:
        if self.lines:
            run(ip_argv(self.ns, "-batch", "-"), "\n".join(self.lines) + "\n")
            self.lines = []


def _sysctl_argv(settings: dict[str, str]) -> list[str]:
    # Inside the namespace: /proc/sys/net is per network namespace, so the host's
    # settings are untouched.
    return [binary("sysctl"), "-q", "-w", *(f"{k}={v}" for k, v in settings.items())]


def _base_sysctls(role: str) -> dict[str, str]:
    settings = {
        # Addresses usable at once, no router advertisements from anywhere.
        "net.ipv6.conf.all.accept_dad": "0",
        "net.ipv6.conf.default.accept_dad": "0",
        "net.ipv6.conf.all.accept_ra": "0",
        "net.ipv6.conf.default.accept_ra": "0",
    }
    if role == "client4":
        # No IPv6 on any interface created from now on; lo keeps ::1.
        settings["net.ipv6.conf.default.disable_ipv6"] = "1"
    if role in t.FORWARDING:
        settings["net.ipv6.conf.all.forwarding"] = "1"
        settings["net.ipv4.ip_forward"] = "1"
        # A scan traces many paths at once: every probe that expires here must get
        # its Time Exceeded, not fall to the kernel's ICMP rate limits.
        settings["net.ipv6.icmp.ratelimit"] = "0"
        settings["net.ipv4.icmp_ratelimit"] = "0"
        settings["net.ipv4.icmp_msgs_per_sec"] = "1000000"
        settings["net.ipv4.icmp_msgs_burst"] = "1000000"
    if role in t.PMTU_SERVERS:
        # No packetization-layer probing (RFC 4821): it would heal the black hole that
        # web.pmtu must find. 0 is the kernel's default; said here so that it stays so.
        settings["net.ipv4.tcp_mtu_probing"] = "0"
    return settings


@dataclass
class Topology:
    """The lab's namespaces; remembers exactly what it created so teardown removes only that."""

    prefix: str
    created: list[str] = field(default_factory=list)
    etc_dirs: list[Path] = field(default_factory=list)

    @property
    def names(self) -> dict[str, str]:
        return {role: f"{self.prefix}-{role}" for role in t.ROLES}

    def __getitem__(self, role: str) -> str:
        return self.names[role]

    def build(self, workdir: Path, services: Mapping[str, Iterable[str]]) -> None:
        """Namespaces, links, routes; `services`: role -> addresses to put on its lo."""
        for ns in self.names.values():
            if namespace_exists(ns):
                raise RuntimeError(f"namespace {ns} already exists")
        for role, ns in self.names.items():
            self.created.append(ns)  # before: a half-made namespace is removed too
            run([binary("ip"), "netns", "add", ns])
            run(netns_argv(ns, _sysctl_argv(_base_sysctls(role))))
        batches = {role: Batch(ns) for role, ns in self.names.items()}
        for role in t.ROLES:
            batches[role].add("link", "set", "lo", "up")
        for ln in t.LINKS:
            self._link(ln, batches)
        for role, addresses in services.items():
            for address in addresses:
                plen = "128" if ":" in address else "32"
                batches[role].address(f"{address}/{plen}", SERVICE_IF)
        # Routes need their next hop's subnet, so they come after every address.
        for role, table in t.routes().items():
            for prefix, via in table:
                batches[role].add("route", "add", prefix, "via", via)
        for role, prefixes in t.UNREACHABLE.items():
            for prefix in prefixes:
                batches[role].add("route", "add", "unreachable", prefix)
        for batch in batches.values():
            batch.run()
        self._filters(workdir)

    def _link(self, ln: t.Link, batches: dict[str, Batch]) -> None:
        a, b = self.names[ln.a], self.names[ln.b]
        # The pair is created inside namespace a and its far end moved straight
        # into namespace b: neither end ever exists in the host's namespace.
        run(ip_argv(a, "link", "add", ln.a_if, "type", "veth", "peer", "name", ln.b_if,
                    "netns", b))  # fmt: skip
        for role, ns, ifname, a6, a4 in ((ln.a, a, ln.a_if, ln.a6, ln.a4),
                                         (ln.b, b, ln.b_if, ln.b6, ln.b4)):  # fmt: skip
            if a6 is None:
                run(netns_argv(ns, _sysctl_argv({f"net.ipv6.conf.{ifname}.disable_ipv6": "1"})))
            else:
                batches[role].address(a6, ifname)
            batches[role].address(a4, ifname)
            if ln.mtu is not None:
                batches[role].add("link", "set", ifname, "mtu", str(ln.mtu))
            batches[role].add("link", "set", ifname, "up")

    def _filters(self, workdir: Path) -> None:
        """nft rules, each inside its own lab namespace."""
        rules: dict[str, str] = {
            "dns": template("silent.nft.in").substitute(silent=", ".join(t.SILENT)),
            "core": template("core.nft.in").substitute(drop=t.CORE_DROP6),
            t.SILENT_HOP_ROUTER: template("silent_hop.nft.in").substitute(
                prefix=_payload_prefix(t.SILENT_HOP_FOR6)
            ),
            "pmtu": template("pmtu.nft.in").substitute(hole=t.PMTU_HOLE_NET6),
        }
        for role, text in rules.items():
            path = workdir / f"{role}.nft"
            path.write_text(text)
            run(netns_argv(self.names[role], [binary("nft"), "-f", str(path)]))

    def write_resolv_conf(self, ns: str, nameservers: Sequence[str]) -> None:
        """`ip netns exec NS` bind-mounts /etc/netns/NS/resolv.conf over /etc/resolv.conf."""
        directory = ETC_NETNS / ns
        for _ in range(3):  # another lab may rmdir an empty /etc/netns between our steps
            try:
                directory.mkdir(parents=True, exist_ok=True)
                if directory not in self.etc_dirs:
                    self.etc_dirs.append(directory)
                body = "".join(f"nameserver {a}\n" for a in nameservers)
                (directory / "resolv.conf").write_text(body + "options timeout:2 attempts:1\n")
                return
            except FileNotFoundError:
                continue
        raise RuntimeError(f"could not create {directory}")

    def remove_etc(self) -> list[str]:
        problems: list[str] = []
        while self.etc_dirs:
            directory = self.etc_dirs[-1]
            try:
                for child in directory.iterdir():
                    child.unlink()
                directory.rmdir()
            except FileNotFoundError:
                pass
            except OSError as exc:
                problems.append(f"{directory}: {exc}")
            self.etc_dirs.pop()
        # /etc/netns did not exist before the lab on a clean host; leave no trace.
        with contextlib.suppress(OSError):
            ETC_NETNS.rmdir()
        return problems

    def delete_namespaces(self) -> list[str]:
        """Delete the namespaces this lab created; those that resist stay listed for a retry."""
        problems: list[str] = []
        remaining: list[str] = []
        for ns in reversed(self.created):
            if namespace_exists(ns):
                proc = subprocess.run(
                    [binary("ip"), "netns", "delete", ns],
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if proc.returncode != 0 and namespace_exists(ns):
                    problems.append(f"ip netns delete {ns}: {proc.stderr.strip()}")
                    remaining.append(ns)
        self.created = remaining
        return problems


def _payload_prefix(prefix6: str) -> str:
    """A /64 as the 64-bit hex number nft compares a raw payload field with."""
    import ipaddress

    net = ipaddress.IPv6Network(prefix6)
    if net.prefixlen != 64:
        raise ValueError("the silent-hop rule matches a /64")
    return f"0x{int(net.network_address) >> 64:016x}"
