"""The path-MTU lab's web servers (web.pmtu): which page each host serves, and the one
servers/bigpage.py process per server namespace that serves them.

The hosts' addresses are their zone records (scenarios.py) inside the pmtuhole and pmtuok
prefixes (topology.py); each host serves one port on both families, HTTP on 80 or HTTPS on
443 (a self-signed certificate made here); the other port is closed (the address exists,
so a connect is refused at once).
"""

from __future__ import annotations

import sys
from pathlib import Path

from ipv6scan.lab import scenarios as sc
from ipv6scan.lab import topology as t
from ipv6scan.lab.netns import netns_argv
from ipv6scan.lab.process import ManagedProcess
from ipv6scan.lab.webserver import _openssl as openssl_certificate

# host -> (the bigpage kind it serves (servers/bigpage.py PAGES), its port)
PAGES: dict[str, tuple[str, int]] = {
    "pmtuhole.example": ("big", 80),  # behind the black hole: nothing arrives (web.pmtu fail)
    "pmtusplit.example": ("split", 80),  # behind it: the head arrives, the body hangs (fail)
    "pmtusmall.example": ("small", 80),  # behind it, but fits 1,280 bytes (web.pmtu skip)
    "pmtutls.example": ("big", 443),  # behind it, over HTTPS (fail)
    "pmtuok.example": ("big", 80),  # the control: Packet Too Big gets through (pass)
}
# server namespace role -> its prefixes
NETS: dict[str, tuple[str, str]] = {
    "pmtuhole": (t.PMTU_HOLE_NET6, t.PMTU_HOLE_NET4),
    "pmtuok": (t.PMTU_OK_NET6, t.PMTU_OK_NET4),
}


def addresses(role: str) -> list[str]:
    """Every address the zones publish inside one server namespace's prefixes."""
    return [a for a in sc.all_addresses() if t.inside(a, *NETS[role])]


def endpoints(role: str) -> list[str]:
    """KIND=ENDPOINT arguments of one namespace's bigpage server."""
    out: list[str] = []
    for host, (kind, port) in PAGES.items():
        for address in sc.addresses(host):
            if t.inside(address, *NETS[role]):
                where = f"[{address}]" if ":" in address else address
                out.append(f"{kind}={where}:{port}")
    return out


def certificate(directory: Path) -> tuple[Path, Path]:
    """(certificate, key): self-signed, for every host served on 443."""
    cert, key = directory / "tls.pem", directory / "tls.key"
    names = [host for host, (_, port) in PAGES.items() if port == 443]
    job = openssl_certificate(key, cert, "ipv6scan lab path MTU", names)
    _, err = job.communicate()
    if job.returncode != 0:
        raise RuntimeError(f"openssl could not make the path-MTU certificate: {err.decode()}")
    return cert, key


def prepare(workdir: Path, namespaces: dict[str, str], repo_root: Path) -> list[ManagedProcess]:
    """The (not started) servers; `namespaces`: role -> namespace name."""
    base = workdir / "pmtu"
    base.mkdir(parents=True, exist_ok=True)
    cert, key = certificate(base)
    servers: list[ManagedProcess] = []
    for role in t.PMTU_SERVERS:
        ready = base / f"{role}.ready"
        argv = [sys.executable, "-m", "ipv6scan.lab.servers.bigpage", "--ready", str(ready),
                "--cert", str(cert), "--key", str(key), *endpoints(role)]  # fmt: skip
        log = base / f"{role}.log"
        servers.append(ManagedProcess(f"bigpage-{role}", netns_argv(namespaces[role], argv),
                                      log, ready=ready, cwd=repo_root))  # fmt: skip
    return servers


def ready_checks() -> list[str]:
    """ipv6scan.lab.probe `wait` checks: every page answers TCP on both families."""
    return [f"tcp,{a},{port}" for host, (_, port) in PAGES.items() for a in sc.addresses(host)]
