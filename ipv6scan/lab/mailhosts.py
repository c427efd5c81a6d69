"""The mail namespace: SMTP greeters on the MX addresses of the zone data.

Every address of the zone data inside the mail prefixes is on the mail
namespace's lo. On port 25 it greets (220), unless listed here: closed (no
listener, so the kernel resets) or rejecting (554). IPv4 always greets, so the
scenarios differ only in what IPv6 does.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ipv6scan.lab import scenarios as sc
from ipv6scan.lab import topology as t
from ipv6scan.lab.netns import netns_argv
from ipv6scan.lab.process import ManagedProcess

SMTP_PORT = 25
CLOSED6: frozenset[str] = frozenset({"mx2.smtpwarn.example", "mx1.smtpfail.example"})
REJECT6: frozenset[str] = frozenset({"mx2.smtpfail.example"})


def mail_hosts() -> dict[str, list[str]]:
    """Host name -> its addresses inside the mail prefixes, from the zone data."""
    hosts: dict[str, list[str]] = {}
    for s in sc.SCENARIOS:
        for owner, kind, rdata in s.records:
            if kind in ("A", "AAAA") and t.inside(rdata, t.MAIL_NET6, t.MAIL_NET4):
                hosts.setdefault(s.subject(owner), []).append(rdata)
    return hosts


def mode(host: str, address: str) -> str | None:
    """greet, reject, or None (closed) for one address of one MX host."""
    if ":" in address and host in CLOSED6:
        return None
    if ":" in address and host in REJECT6:
        return "reject"
    return "greet"


def endpoints() -> list[str]:
    """ENDPOINT=MODE=NAME arguments of the greeter, one per listening address."""
    out: list[str] = []
    for host, addresses in mail_hosts().items():
        for address in addresses:
            m = mode(host, address)
            if m is not None:
                where = f"[{address}]" if ":" in address else address
                out.append(f"{where}:{SMTP_PORT}={m}={host}")
    return out


def prepare(workdir: Path, ns: str, repo_root: Path) -> list[ManagedProcess]:
    base = workdir / "mail"
    base.mkdir(parents=True, exist_ok=True)
    ready = base / "smtp.ready"
    argv = [sys.executable, "-m", "ipv6scan.lab.servers.smtp", "--ready", str(ready),
            *endpoints()]  # fmt: skip
    return [ManagedProcess("smtp", netns_argv(ns, argv), base / "smtp.log", ready=ready,
                           cwd=repo_root)]  # fmt: skip
