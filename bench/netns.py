"""The benchmark's two namespaces, its servers, and their teardown.

    client (bcli0) ---- veth ---- (bsrv0) server
      2001:db8:ff:ff00::2/64        2001:db8:ff:ff00::1/64
      198.51.100.254/30             198.51.100.253/30
                                    lo: NSD 2001:db8:5353::53; local routes for the web
                                    and ping ranges (the kernel owns every address)

Names are `v6bench-XXXXXX-{srv,cli}`, unique per run; only they are ever deleted.
Every process is started by PID (ipv6scan.lab.process) and stopped by PID. No
address of the lab is ever contacted from the host's namespace: each probe runs
under `ip netns exec` in the client namespace.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from bench import zone
from ipv6scan.lab.availability import binary
from ipv6scan.lab.process import ManagedProcess, stop_pids

SRV6, CLI6 = "2001:db8:ff:ff00::1", "2001:db8:ff:ff00::2"
SRV4, CLI4 = "198.51.100.253", "198.51.100.254"
NFT_TABLE = "v6bench"
NFT_RULES = f"""table inet {NFT_TABLE} {{
    counter dns_udp {{ }}
    counter dns_tcp {{ }}
    chain input {{
        type filter hook input priority 0; policy accept;
        udp dport 53 counter name "dns_udp"
        tcp dport 53 counter name "dns_tcp"
    }}
}}
"""


# Small on purpose, and our own: the lab's modules are being reshaped; only its process
# and binary helpers are used from there.
def ip_argv(ns: str, *args: str) -> list[str]:
    """`ip -n NS ...`: every ip command here names a namespace of ours, never the host's."""
    if not ns.startswith("v6bench-"):
        raise ValueError(f"not a benchmark namespace: {ns!r}")
    return [binary("ip"), "-n", ns, *args]


def netns_argv(ns: str, argv: Sequence[str]) -> list[str]:
    if not ns.startswith("v6bench-"):
        raise ValueError(f"not a benchmark namespace: {ns!r}")
    return [binary("ip"), "netns", "exec", ns, *argv]


def namespace_exists(ns: str) -> bool:
    return Path("/run/netns", ns).exists()


def namespace_pids(ns: str) -> list[int]:
    if not namespace_exists(ns):
        return []
    proc = subprocess.run([binary("ip"), "netns", "pids", ns], capture_output=True, text=True,
                          check=False)  # fmt: skip
    return [int(p) for p in proc.stdout.split() if p.isdigit() and int(p) != os.getpid()]


def run(argv: Sequence[str], timeout: float = 60.0) -> str:
    proc = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


class BenchNet:
    """Context manager: namespaces up on enter, everything it started gone on exit."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        while True:
            prefix = f"v6bench-{secrets.token_hex(3)}"
            if not any(namespace_exists(f"{prefix}-{r}") for r in ("srv", "cli")):
                break
        self.srv, self.cli = f"{prefix}-srv", f"{prefix}-cli"
        self.created: list[str] = []
        self.servers: list[ManagedProcess] = []

    def __enter__(self) -> BenchNet:
        try:
            self._build()
        except BaseException:
            self.down()
            raise
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.down()

    def _build(self) -> None:
        for ns in (self.srv, self.cli):
            self.created.append(ns)  # before: a half-made namespace is removed too
            run([binary("ip"), "netns", "add", ns])
            run(netns_argv(ns, [binary("sysctl"), "-q", "-w",
                                "net.ipv6.conf.all.accept_dad=0",
                                "net.ipv6.conf.default.accept_dad=0",
                                "net.ipv6.conf.all.accept_ra=0",
                                "net.ipv6.conf.default.accept_ra=0",
                                "net.ipv6.icmp.ratelimit=0",
                                "net.core.somaxconn=8192"]))  # fmt: skip
            run(ip_argv(ns, "link", "set", "lo", "up"))
        run(ip_argv(self.srv, "link", "add", "bsrv0", "type", "veth",
                    "peer", "name", "bcli0", "netns", self.cli))  # fmt: skip
        for ns, ifname, a6, a4 in (
            (self.srv, "bsrv0", SRV6, SRV4),
            (self.cli, "bcli0", CLI6, CLI4),
        ):
            run(ip_argv(ns, "-6", "addr", "add", f"{a6}/64", "dev", ifname, "nodad"))
            run(ip_argv(ns, "addr", "add", f"{a4}/30", "dev", ifname))
            run(ip_argv(ns, "link", "set", ifname, "up"))
        run(ip_argv(self.srv, "-6", "addr", "add", f"{zone.DNS6}/128", "dev", "lo", "nodad"))
        for net in (zone.WEB_NET6, zone.PING_NET6):
            run(ip_argv(self.srv, "-6", "route", "add", "local", net, "dev", "lo"))
        run(ip_argv(self.srv, "route", "add", "local", zone.WEB_NET4, "dev", "lo"))
        # documentation prefixes only, no default route: nothing can leave the pair
        run(ip_argv(self.cli, "-6", "route", "add", "2001:db8::/32", "via", SRV6))
        run(ip_argv(self.cli, "route", "add", zone.WEB_NET4, "via", SRV4))
        rules = self.workdir / "counters.nft"
        rules.write_text(NFT_RULES)
        run(netns_argv(self.srv, [binary("nft"), "-f", str(rules)]))

    def start(self, name: str, argv: Sequence[str]) -> ManagedProcess:
        proc = ManagedProcess(name, netns_argv(self.srv, argv), self.workdir / f"{name}.log")
        self.servers.append(proc)
        proc.start()
        return proc

    def in_client(self, argv: Sequence[str]) -> list[str]:
        return netns_argv(self.cli, argv)

    def dns_packets(self) -> int:
        """UDP and TCP packets that reached port 53 of the server namespace so far."""
        total = 0
        for name in ("dns_udp", "dns_tcp"):
            out = run(netns_argv(self.srv, [binary("nft"), "-j", "list", "counter", "inet",
                                            NFT_TABLE, name]))  # fmt: skip
            for item in json.loads(out).get("nftables", []):
                if "counter" in item:
                    total += int(item["counter"].get("packets", 0))
        return total

    def down(self) -> list[str]:
        """Stop what was started, then delete the namespaces; returns what resisted."""
        problems: list[str] = []
        while self.servers:
            server = self.servers.pop()
            try:
                problems += [f"{server.name} pid {p} would not stop" for p in server.stop()]
            except Exception as exc:
                problems.append(f"stopping {server.name}: {exc}")
        for ns in list(self.created):
            try:
                stop_pids([(pid, None) for pid in namespace_pids(ns)], grace=2.0)
            except Exception as exc:
                problems.append(f"processes in {ns}: {exc}")
            if namespace_exists(ns):
                proc = subprocess.run([binary("ip"), "netns", "delete", ns],
                                      capture_output=True, text=True, check=False)  # fmt: skip
                if proc.returncode != 0 and namespace_exists(ns):
                    problems.append(f"ip netns delete {ns}: {proc.stderr.strip()}")
                    continue
            self.created.remove(ns)
        return problems
