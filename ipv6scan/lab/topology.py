"""Network namespaces, veth links, addresses and routes of the lab.

Address plan (documentation prefixes only: 2001:db8::/32, 198.51.100.0/24,
203.0.113.0/24; never 192.0.2.0/24, which the host itself may use):

    IPv6
      2001:db8:53::/64        DNS service addresses (on lo of the dns namespace)
      2001:db8:6464::/96      DNS64 synthesis prefix (never routed, nothing lives there)
      2001:db8:80::/48        web hosts, one /64 per scenario (reserved for nginx servers)
      2001:db8:25::/48        mail hosts, one /64 per scenario (reserved for SMTP greeters)
      2001:db8:bb::/48        backbone hosts and router loopbacks (reserved)
      2001:db8:ff::/48        point-to-point links, 2001:db8:ff:N::/64 for link N
                              (router side ::1, far side ::2)
    IPv4
      198.51.100.0/25         DNS service addresses
      198.51.100.128/26       point-to-point links, one /30 each (link N: .128+4(N-1))
      198.51.100.192/26       backbone hosts and router loopbacks (reserved)
      203.0.113.0/25          web hosts (reserved)
      203.0.113.128/26        mail hosts (reserved)
      203.0.113.192/26        spare

    Links
      1  router <-> dns       2001:db8:ff:1::/64   198.51.100.128/30
      2  router <-> client    2001:db8:ff:2::/64   198.51.100.132/30
      3  router <-> client4   (no IPv6)            198.51.100.136/30
      4+ reserved for a chain of routers toward the backbone

Only the router forwards. No namespace has a default route and nothing is
connected to the host's namespace, so lab traffic cannot leave the lab: a
destination outside the routes below gets an ICMP unreachable from the router.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from string import Template

from ipv6scan.lab.availability import binary

ALLOW_PREFIXES: tuple[str, ...] = ("2001:db8::/32", "198.51.100.0/24", "203.0.113.0/24")
LAB_ROUTES6: tuple[str, ...] = ("2001:db8::/32",)
LAB_ROUTES4: tuple[str, ...] = ("198.51.100.0/24", "203.0.113.0/24")

DNS_NET6 = "2001:db8:53::/64"
DNS_NET4 = "198.51.100.0/25"
DNS64_PREFIX = "2001:db8:6464::/96"

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

MAIN_NSD_LISTEN: tuple[str, ...] = (
    ROOT6, ROOT4, NS1_6, NS1_4, NS2_6, NS2_4, NS4_4, NS5_4,
    NSDEAD4, NSDEAD2_4, NSREFUSE4,
)  # fmt: skip
LAME_NSD_LISTEN: tuple[str, ...] = (LAME6, LAME4)
RESOLVER_LISTEN: tuple[str, ...] = (RESOLVER6, RESOLVER4)
DNS64_LISTEN: tuple[str, ...] = (DNS64_6, DNS64_4)
# Assigned (so nothing else answers in their place) but every packet to them is
# dropped by nft: a host that has gone silent, not one that says "go away".
# The lab's resolvers never query them (do-not-query-address).
SILENT: tuple[str, ...] = (NSDEAD6, NSDEAD2_6, DEAD_RESOLVER6)
DNS_ADDRESSES: tuple[str, ...] = (
    *MAIN_NSD_LISTEN,
    *LAME_NSD_LISTEN,
    *RESOLVER_LISTEN,
    *DNS64_LISTEN,
    *SILENT,
)


@dataclass(frozen=True)
class Link:
    """A veth pair from the router to one namespace."""

    router_if: str
    peer_ns_role: str
    router6: str | None  # "addr/len" on the router side
    peer6: str | None
    router4: str
    peer4: str


LINKS: tuple[Link, ...] = (
    Link("to-dns", "dns", "2001:db8:ff:1::1/64", "2001:db8:ff:1::2/64",
         "198.51.100.129/30", "198.51.100.130/30"),
    Link("to-cli", "client", "2001:db8:ff:2::1/64", "2001:db8:ff:2::2/64",
         "198.51.100.133/30", "198.51.100.134/30"),
    Link("to-cl4", "client4", None, None, "198.51.100.137/30", "198.51.100.138/30"),
)  # fmt: skip
PEER_IF = "eth0"
# Service addresses sit on lo of the dns namespace: no neighbour discovery per
# address, and it needs no dummy-interface kernel module.
SERVICE_IF = "lo"

NETNS_DIR = Path("/run/netns")
ETC_NETNS = Path("/etc/netns")


def _addr(cidr: str) -> str:
    return cidr.split("/", 1)[0]


def ip_argv(ns: str, *args: str) -> list[str]:
    """`ip -n NS ...`: every ip command of the lab names its namespace, never the host's."""
    if not ns:
        raise ValueError("refusing to run ip without a lab namespace")
    return [binary("ip"), "-n", ns, *args]


def netns_argv(ns: str, argv: Sequence[str]) -> list[str]:
    if not ns:
        raise ValueError("refusing to run a command without a lab namespace")
    return [binary("ip"), "netns", "exec", ns, *argv]


def _run(argv: Sequence[str]) -> None:
    proc = subprocess.run(list(argv), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.strip()}")


def _sysctl(ns: str, settings: dict[str, str]) -> None:
    # Inside the namespace: /proc/sys/net is per network namespace, so the host's
    # settings are untouched.
    _run(netns_argv(ns, [binary("sysctl"), "-q", "-w", *(f"{k}={v}" for k, v in settings.items())]))


def namespace_exists(ns: str) -> bool:
    return (NETNS_DIR / ns).exists()


@dataclass
class Topology:
    """The lab's namespaces; remembers exactly what it created so teardown removes only that."""

    prefix: str
    created: list[str] = field(default_factory=list)
    etc_dirs: list[Path] = field(default_factory=list)

    @property
    def names(self) -> dict[str, str]:
        return {role: f"{self.prefix}-{role}" for role in ("router", "dns", "client", "client4")}

    @property
    def router(self) -> str:
        return self.names["router"]

    @property
    def dns(self) -> str:
        return self.names["dns"]

    @property
    def client(self) -> str:
        return self.names["client"]

    @property
    def client4(self) -> str:
        return self.names["client4"]

    def build(self, workdir: Path) -> None:
        for ns in self.names.values():
            if namespace_exists(ns):
                raise RuntimeError(f"namespace {ns} already exists")
            self.created.append(ns)  # before: a half-made namespace is removed too
            _run([binary("ip"), "netns", "add", ns])
            self._base_sysctls(ns)
        _sysctl(self.router, {"net.ipv6.conf.all.forwarding": "1", "net.ipv4.ip_forward": "1"})
        for link in LINKS:
            self._link(link)
        self._dns_services(workdir)
        self._client_routes()

    def _base_sysctls(self, ns: str) -> None:
        settings = {
            # Addresses usable at once, no router advertisements from anywhere.
            "net.ipv6.conf.all.accept_dad": "0",
            "net.ipv6.conf.default.accept_dad": "0",
            "net.ipv6.conf.all.accept_ra": "0",
            "net.ipv6.conf.default.accept_ra": "0",
        }
        if ns == self.client4:
            # No IPv6 on any interface created from now on; lo keeps ::1.
            settings["net.ipv6.conf.default.disable_ipv6"] = "1"
        _sysctl(ns, settings)
        _run(ip_argv(ns, "link", "set", "lo", "up"))

    def _link(self, link: Link) -> None:
        peer_ns = self.names[link.peer_ns_role]
        # Both ends are created straight inside lab namespaces, never in the host's.
        _run(ip_argv(self.router, "link", "add", link.router_if, "type", "veth",
                     "peer", "name", PEER_IF, "netns", peer_ns))  # fmt: skip
        if link.router6 is None:
            _sysctl(peer_ns, {f"net.ipv6.conf.{PEER_IF}.disable_ipv6": "1"})
            _sysctl(self.router, {f"net.ipv6.conf.{link.router_if}.disable_ipv6": "1"})
        for ns, ifname, a6, a4 in (
            (self.router, link.router_if, link.router6, link.router4),
            (peer_ns, PEER_IF, link.peer6, link.peer4),
        ):
            if a6 is not None:
                _run(ip_argv(ns, "-6", "addr", "add", a6, "dev", ifname, "nodad"))
            _run(ip_argv(ns, "addr", "add", a4, "dev", ifname))
            _run(ip_argv(ns, "link", "set", ifname, "up"))

    def _dns_services(self, workdir: Path) -> None:
        ns = self.dns
        link = LINKS[0]
        for address in DNS_ADDRESSES:
            if ":" in address:
                _run(ip_argv(ns, "-6", "addr", "add", f"{address}/128", "dev", SERVICE_IF, "nodad"))
            else:
                _run(ip_argv(ns, "addr", "add", f"{address}/32", "dev", SERVICE_IF))
        assert link.router6 is not None
        self._routes(ns, _addr(link.router6), _addr(link.router4))
        _run(ip_argv(self.router, "-6", "route", "add", DNS_NET6, "via", _addr(link.peer6 or "")))
        _run(ip_argv(self.router, "route", "add", DNS_NET4, "via", _addr(link.peer4)))
        rules = workdir / "silent.nft"
        template = resources.files("ipv6scan.lab").joinpath("data", "silent.nft.in").read_text()
        rules.write_text(Template(template).substitute(silent=", ".join(SILENT)))
        _run(netns_argv(ns, [binary("nft"), "-f", str(rules)]))

    def _client_routes(self) -> None:
        client_link, client4_link = LINKS[1], LINKS[2]
        self._routes(self.client, _addr(client_link.router6 or ""), _addr(client_link.router4))
        self._routes(self.client4, None, _addr(client4_link.router4))

    def _routes(self, ns: str, via6: str | None, via4: str) -> None:
        # Routes for the documentation prefixes only: no default route anywhere.
        if via6 is not None:
            for prefix in LAB_ROUTES6:
                _run(ip_argv(ns, "-6", "route", "add", prefix, "via", via6))
        for prefix in LAB_ROUTES4:
            _run(ip_argv(ns, "route", "add", prefix, "via", via4))

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


def namespace_pids(ns: str) -> list[int]:
    """PIDs of processes living in a lab namespace (all of them are the lab's)."""
    if not namespace_exists(ns):
        return []
    proc = subprocess.run(
        [binary("ip"), "netns", "pids", ns], capture_output=True, text=True, check=False
    )
    return [int(p) for p in proc.stdout.split() if p.isdigit() and int(p) != os.getpid()]
