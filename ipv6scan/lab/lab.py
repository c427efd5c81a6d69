"""The Lab: bring the namespace internet up, hand out its coordinates, tear it down.

Servers, each tracked by PID: NSD and Unbound (dns namespace), nginx, the trickle
server and the delaying relay (web), SMTP greeters (mail), the scope-safety
canary (client). Routers forward in the router and bb1-bb3 namespaces.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml

from ipv6scan.lab import canary, chain, dnsservers, mailhosts, pmtulab, webserver
from ipv6scan.lab import netns as n
from ipv6scan.lab import scenarios as sc
from ipv6scan.lab import topology as t
from ipv6scan.lab.availability import require_lab
from ipv6scan.lab.process import ManagedProcess, stop_pids
from ipv6scan.lab.scanrun import ScanRun, run_scan

READY_DEADLINE = 20.0  # seconds for every server to answer after start


class LabTeardownError(RuntimeError):
    """Something the lab created could not be removed; the message lists what."""


def _new_prefix() -> str:
    # Unique per lab, so two labs (or a crashed earlier one) never share a name.
    while True:
        prefix = f"v6lab-{secrets.token_hex(3)}"
        if not any(n.namespace_exists(f"{prefix}-{r}") for r in t.ROLES):
            return prefix


def _repo_root() -> Path:
    import ipv6scan

    return Path(ipv6scan.__file__).resolve().parent.parent


def service_addresses() -> dict[str, list[str]]:
    """role -> the addresses to put on that namespace's lo."""
    zone = sc.all_addresses()
    out = {
        "dns": list(t.DNS_ADDRESSES),
        # Every address the zones publish inside a service prefix exists there,
        # served or not: a connection to it is answered (served or refused).
        "web": [a for a in zone if t.inside(a, t.WEB_NET6, t.WEB_NET4)],
        "mail": [a for a in zone if t.inside(a, t.MAIL_NET6, t.MAIL_NET4)],
        "core": list(t.CORE_ADDRESSES),
        **{role: pmtulab.addresses(role) for role in t.PMTU_SERVERS},
    }
    out.update({r: list(t.ROUTER_LOOPBACKS[r]) for r in t.BACKBONE_ROUTERS})
    return out


class Lab:
    """A small private internet of real servers (DNS, web, mail, routers) in network namespaces.

    Use as a context manager, or call up() and (always, in a finally) down().
    """

    allow_prefixes: tuple[str, ...] = t.ALLOW_PREFIXES
    resolver6: str = t.RESOLVER6
    resolver4: str = t.RESOLVER4
    dns64_resolver6: str = t.DNS64_6
    dns64_resolver4: str = t.DNS64_4
    dead_resolver6: str = t.DEAD_RESOLVER6
    dns64_prefix: str = t.DNS64_PREFIX

    portal_url: str = sc.PORTAL_URL

    def __init__(self, workdir: Path) -> None:
        self.workdir = Path(workdir)
        self.prefix = _new_prefix()
        self._topology = n.Topology(self.prefix)
        self._servers: list[ManagedProcess] = []
        # The DNS run's list; the full list adds the operator's systems (see scenarios.py).
        self.targets_file = self.workdir / "lab-targets.yaml"
        self.full_targets_file = self.workdir / "lab-targets-full.yaml"
        self.timings: dict[str, float] = {}  # seconds per start-up step, for the curious

    # Namespace names -------------------------------------------------------
    @property
    def router_ns(self) -> str:
        return self._topology["router"]

    @property
    def dns_ns(self) -> str:
        return self._topology["dns"]

    @property
    def client_ns(self) -> str:
        return self._topology["client"]

    @property
    def client4_ns(self) -> str:
        return self._topology["client4"]

    @property
    def client2_ns(self) -> str:
        """A second client, routed as `client` is: another vantage point (distributed scans)."""
        return self._topology["client2"]

    @property
    def web_ns(self) -> str:
        return self._topology["web"]

    @property
    def mail_ns(self) -> str:
        return self._topology["mail"]

    @property
    def core_ns(self) -> str:
        return self._topology["core"]

    def ns(self, role: str) -> str:
        """The namespace of a role of topology.ROLES (bb1, bb2, ...)."""
        return self._topology[role]

    @property
    def namespaces(self) -> tuple[str, ...]:
        return tuple(self._topology.names.values())

    @property
    def server_pids(self) -> dict[str, int]:
        return {s.name: s.pid for s in self._servers if s.pid is not None}

    # Lifecycle -------------------------------------------------------------
    def __enter__(self) -> Lab:
        self.up()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.down()

    def up(self) -> None:
        require_lab()
        self.workdir.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()

        def step(name: str) -> None:
            self.timings[name] = round(time.monotonic() - started - sum(self.timings.values()), 3)

        try:
            self._topology.build(self.workdir, service_addresses())
            self._topology.write_resolv_conf(self.client_ns, [self.resolver6, self.resolver4])
            self._topology.write_resolv_conf(self.client4_ns, [self.resolver4])
            self._topology.write_resolv_conf(self.client2_ns, [self.resolver6, self.resolver4])
            step("namespaces")
            root = _repo_root()
            self._servers = [
                *dnsservers.prepare(self.workdir, self.dns_ns),
                *webserver.prepare(self.workdir, self.web_ns, root),
                *mailhosts.prepare(self.workdir, self.mail_ns, root),
                *canary.prepare(self.workdir, self.client_ns, root),
                *pmtulab.prepare(self.workdir, self._topology.names, root),
            ]
            step("configs")
            for server in self._servers:
                server.start()
            self.write_targets(self.targets_file)
            self.write_targets(self.full_targets_file, full=True)
            self._wait_ready()
            step("ready")
        except BaseException:
            # Also on KeyboardInterrupt: nothing half-built may stay behind.
            self.down()
            raise

    def down(self) -> None:
        """Stop every server, remove every namespace and /etc/netns entry; idempotent.

        Each step runs even when an earlier one failed; what could not be undone
        is raised at the end as LabTeardownError (already-gone things are fine).
        """
        problems: list[str] = []
        while self._servers:
            server = self._servers.pop()
            try:
                stuck = server.stop()
            except Exception as exc:  # keep tearing down the rest
                problems.append(f"stopping {server.name}: {exc}")
            else:
                problems += [f"{server.name} (pid {p}) would not stop" for p in stuck]
        for ns in list(self._topology.created):
            # Anything still running in a lab namespace (a scanner run by a test,
            # a probe) belongs to the lab; it would also keep the namespace alive.
            try:
                stuck = stop_pids([(pid, None) for pid in n.namespace_pids(ns)], grace=2.0)
            except Exception as exc:
                problems.append(f"stopping processes in {ns}: {exc}")
            else:
                problems += [f"pid {p} in {ns} would not stop" for p in stuck]
        for step in (self._topology.delete_namespaces, self._topology.remove_etc):
            try:
                problems += step()
            except Exception as exc:
                problems.append(f"{step.__name__}: {exc}")
        if problems:
            raise LabTeardownError("; ".join(problems))

    def _dead_servers(self) -> None:
        dead = [s for s in self._servers if not s.running()]
        if dead:
            raise RuntimeError(
                "lab server exited during start-up: "
                + "; ".join(f"{s.name} (exit {s.exit_code()}): {s.log_tail()}" for s in dead)
            )

    def _wait_ready(self) -> None:
        # Servers that say when they listen (ready files, nginx's pid file) first.
        end = time.monotonic() + READY_DEADLINE
        while not all(s.ready() for s in self._servers):
            self._dead_servers()
            if time.monotonic() > end:
                late = [s.name for s in self._servers if not s.ready()]
                raise RuntimeError(f"lab servers not listening after {READY_DEADLINE} s: {late}")
            time.sleep(0.01)
        # Then the paths, from the client. Typically ~1.3 s, nearly all of it IPv6
        # on the fresh veths: the kernel brings an interface's IPv6 up (link-local,
        # solicited-node groups) only when its link watcher, rate-limited to once a
        # second, sees the carrier.
        checks = [f"{a},.,SOA,norec" for a in t.MAIN_NSD_LISTEN]
        checks += [f"{a},{sc.LAME_DUMMY_ZONE},SOA,norec" for a in t.LAME_NSD_LISTEN]
        checks += [f"{a},{chain.MIDDLE_V6},SOA,norec" for a in t.CHAIN_NSD_LISTEN]
        # Full recursion through both resolvers proves routing and delegations work.
        checks += [f"{a},good.example,AAAA" for a in t.RESOLVER_LISTEN]
        checks += [f"{a},ipv4only.arpa,AAAA" for a in t.DNS64_LISTEN]
        # Web and mail on both families, and an echo across the three backbone routers.
        checks += [f"tcp,{a},{p}" for a in sc.addresses("good.example") for p in (80, 443)]
        checks += [f"tcp,{a},25" for a in sc.addresses("mail.good.example")]
        checks += pmtulab.ready_checks()  # through the 1,280-byte link
        checks += [
            f"echo,{a}" for a in (t.CORE_OK6, *(v6 for v6, _ in t.ROUTER_LOOPBACKS.values()))
        ]
        argv = self.netns_argv(
            self.client_ns,
            [sys.executable, "-m", "ipv6scan.lab.probe", "wait", str(READY_DEADLINE), *checks],
        )
        log = self.workdir / "ready.json"
        with log.open("wb") as out:
            probe = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=_repo_root())
        try:
            while probe.poll() is None:
                self._dead_servers()
                time.sleep(0.02)
        finally:
            if probe.poll() is None:
                stop_pids([(probe.pid, None)], grace=1.0)
                probe.wait()
        if probe.returncode != 0:
            tails = "\n".join(f"--- {s.name}\n{s.log_tail()}" for s in self._servers)
            raise RuntimeError(f"lab did not become ready: {log.read_text()[-2000:]}\n{tails}")

    # Helpers for callers ---------------------------------------------------
    def netns_argv(self, ns: str, argv: Sequence[str]) -> list[str]:
        return n.netns_argv(ns, argv)

    def run(self, ns: str, argv: Sequence[str], **kw: Any) -> subprocess.CompletedProcess:
        """subprocess.run inside a lab namespace (keyword arguments passed through)."""
        if ns not in self.namespaces:
            raise ValueError(f"{ns} is not a namespace of this lab")
        return subprocess.run(self.netns_argv(ns, argv), **kw)

    def query(
        self, ns: str, server: str, name: str, rdtype: str, *, recursive: bool = True,
        tcp: bool = False, timeout: float = 2.0,
    ) -> dict[str, Any]:  # fmt: skip
        """One DNS query sent from inside namespace ns (dnspython); the probe's JSON result."""
        argv = [sys.executable, "-m", "ipv6scan.lab.probe", "query", server, name, rdtype,
                "--timeout", str(timeout)]  # fmt: skip
        if not recursive:
            argv.append("--norec")
        if tcp:
            argv.append("--tcp")
        proc = self.run(ns, argv, capture_output=True, text=True, cwd=_repo_root(), check=True)
        return json.loads(proc.stdout)

    def scan_argv(
        self, targets: Path, out: Path, *, checks: str = "dns,resolver", timeout: float = 3.0,
        extra: Sequence[str] = (),
    ) -> list[str]:  # fmt: skip
        """`python -m ipv6scan scan ...` for the lab (wrap with netns_argv/run to use it)."""
        allow = [arg for prefix in self.allow_prefixes for arg in ("--allow-prefix", prefix)]
        head = [sys.executable, "-m", "ipv6scan", "scan", str(targets), "--out", str(out)]
        return [*head, *allow, "--checks", checks, "--timeout", str(timeout), "--quiet", *extra]

    def svcprobe(self, ns: str, *args: str) -> dict[str, Any]:
        """One ipv6scan.lab.svcprobe command run inside namespace ns; its JSON result."""
        argv = [sys.executable, "-m", "ipv6scan.lab.svcprobe", *args]
        proc = self.run(ns, argv, capture_output=True, text=True, cwd=_repo_root(), check=True)
        return json.loads(proc.stdout)

    def probes(self, ns: str, requests: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Many svcprobe requests ({"op": "tcp"|"http"|"smtp"|"echo", ...}) in one process."""
        argv = [sys.executable, "-m", "ipv6scan.lab.svcprobe", "batch", json.dumps(list(requests))]
        proc = self.run(ns, argv, capture_output=True, text=True, cwd=_repo_root(), check=True)
        return json.loads(proc.stdout)

    def http(
        self, ns: str, address: str, port: int, host: str, path: str = "/", *,
        tls: bool = False, sni: bool = True, timeout: float = 3.0,
    ) -> dict[str, Any]:  # fmt: skip
        """A GET to address:port with Host/SNI `host`, from inside namespace ns."""
        flags = [*(["--tls"] if tls else []), *([] if sni else ["--no-sni"])]
        return self.svcprobe(ns, "http", address, str(port), host, path, *flags,
                             "--timeout", str(timeout))  # fmt: skip

    def smtp(self, ns: str, address: str) -> dict[str, Any]:
        return self.svcprobe(ns, "smtp", address)

    def tcp(self, ns: str, address: str, port: int, timeout: float = 1.0) -> dict[str, Any]:
        return self.svcprobe(ns, "tcp", address, str(port), "--timeout", str(timeout))

    def echo(self, ns: str, address: str, hop_limit: int = 64, timeout: float = 1.0) -> dict:
        """One ICMPv6 echo request (raw socket) with a hop limit, from inside namespace ns."""
        return self.svcprobe(ns, "echo", address, "--hop-limit", str(hop_limit),
                             "--timeout", str(timeout))  # fmt: skip

    def canary_hits(self, since: float = 0.0, until: float | None = None) -> list[dict[str, Any]]:
        """Connections the client's loopback canary saw between two time.time() values."""
        return canary.hits(self.workdir, since, until)

    def scan(
        self, ns: str, targets: Path, out: Path, *, checks: str = "dns,resolver",
        timeout: float = 3.0, extra: Sequence[str] = (),
    ) -> ScanRun:  # fmt: skip
        """Run the real CLI inside namespace ns; its records, wall time and time window."""
        if ns not in self.namespaces:
            raise ValueError(f"{ns} is not a namespace of this lab")
        argv = self.scan_argv(targets, out, checks=checks, timeout=timeout, extra=extra)
        return run_scan(argv, self.netns_argv(ns, argv), out, _repo_root())

    def write_targets(
        self, path: Path, only: tuple[str, ...] | None = None, *, full: bool = False
    ) -> Path:
        """Write the lab target list (or only the named targets) as YAML, Unicode kept.

        full=True: the full list, where the Lab Operator also lists its systems."""
        document = sc.targets_document(only, full=full)
        path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False))
        return path
