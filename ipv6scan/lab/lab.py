"""The Lab: bring the namespace internet up, hand out its coordinates, tear it down."""

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

from ipv6scan.lab import dnsservers
from ipv6scan.lab import scenarios as sc
from ipv6scan.lab import topology as t
from ipv6scan.lab.availability import require_lab
from ipv6scan.lab.process import ManagedProcess, stop_pids

READY_DEADLINE = 20.0  # seconds for every server to answer after start


class LabTeardownError(RuntimeError):
    """Something the lab created could not be removed; the message lists what."""


def _new_prefix() -> str:
    # Unique per lab, so two labs (or a crashed earlier one) never share a name.
    while True:
        prefix = f"v6lab-{secrets.token_hex(3)}"
        if not any(
            t.namespace_exists(f"{prefix}-{r}") for r in ("router", "dns", "client", "client4")
        ):
            return prefix


def _repo_root() -> Path:
    import ipv6scan

    return Path(ipv6scan.__file__).resolve().parent.parent


class Lab:
    """A small private internet of real DNS servers in network namespaces.

    Use as a context manager, or call up() and (always, in a finally) down().
    """

    allow_prefixes: tuple[str, ...] = t.ALLOW_PREFIXES
    resolver6: str = t.RESOLVER6
    resolver4: str = t.RESOLVER4
    dns64_resolver6: str = t.DNS64_6
    dns64_resolver4: str = t.DNS64_4
    dead_resolver6: str = t.DEAD_RESOLVER6
    dns64_prefix: str = t.DNS64_PREFIX

    def __init__(self, workdir: Path) -> None:
        self.workdir = Path(workdir)
        self.prefix = _new_prefix()
        self._topology = t.Topology(self.prefix)
        self._servers: list[ManagedProcess] = []
        self.targets_file = self.workdir / "lab-targets.yaml"

    # Namespace names -------------------------------------------------------
    @property
    def router_ns(self) -> str:
        return self._topology.router

    @property
    def dns_ns(self) -> str:
        return self._topology.dns

    @property
    def client_ns(self) -> str:
        return self._topology.client

    @property
    def client4_ns(self) -> str:
        return self._topology.client4

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
        try:
            self._topology.build(self.workdir)
            self._topology.write_resolv_conf(self.client_ns, [self.resolver6, self.resolver4])
            self._topology.write_resolv_conf(self.client4_ns, [self.resolver4])
            self._servers = dnsservers.prepare(self.workdir, self.dns_ns)
            for server in self._servers:
                server.start()
            self.write_targets(self.targets_file)
            self._wait_ready()
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
                stuck = stop_pids([(pid, None) for pid in t.namespace_pids(ns)], grace=2.0)
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

    def _wait_ready(self) -> None:
        # Typically ~1.3 s, nearly all of it IPv6 on the fresh veths: the kernel
        # brings an interface's IPv6 up (link-local, solicited-node groups) only
        # when its link watcher, rate-limited to once a second, sees the carrier.
        checks = [f"{a},.,SOA,norec" for a in t.MAIN_NSD_LISTEN]
        checks += [f"{a},{sc.LAME_DUMMY_ZONE},SOA,norec" for a in t.LAME_NSD_LISTEN]
        # Full recursion through both resolvers proves routing and delegations work.
        checks += [f"{a},good.example,AAAA" for a in t.RESOLVER_LISTEN]
        checks += [f"{a},ipv4only.arpa,AAAA" for a in t.DNS64_LISTEN]
        argv = self.netns_argv(
            self.client_ns,
            [sys.executable, "-m", "ipv6scan.lab.probe", "wait", str(READY_DEADLINE), *checks],
        )
        log = self.workdir / "ready.json"
        with log.open("wb") as out:
            probe = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=_repo_root())
        try:
            while probe.poll() is None:
                dead = [s for s in self._servers if not s.running()]
                if dead:
                    raise RuntimeError(
                        "lab server exited during start-up: "
                        + "; ".join(
                            f"{s.name} (exit {s.exit_code()}): {s.log_tail()}" for s in dead
                        )
                    )
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
        return t.netns_argv(ns, argv)

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

    def write_targets(self, path: Path, only: tuple[str, ...] | None = None) -> Path:
        """Write the lab target list (or only the named targets) as YAML, Unicode kept."""
        document = sc.targets_document(only)
        path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False))
        return path
