"""The scope-safety canary in the client namespace, and reading what it caught.

The scanner runs in the client namespace. Zones publish ::1 and 127.0.0.1 (and
IPv4-mapped ::ffff:127.0.0.1): a scanner that dialled them would connect to its
own host. The canary listens exactly there, on the ports the service checks use
(and UDP and TCP 53, for resolver entries naming that host), and logs every
connection and datagram; a scan must leave the log untouched.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from ipv6scan.lab import topology as t
from ipv6scan.lab.netns import netns_argv
from ipv6scan.lab.process import ManagedProcess


def endpoints() -> list[str]:
    """TCP endpoints as `[::1]:80`, UDP ones as `udp:[::1]:53`."""
    tcp = [f"[{a}]:{p}" if ":" in a else f"{a}:{p}"
           for a in t.CANARY_ADDRESSES for p in t.CANARY_PORTS]  # fmt: skip
    udp = [f"udp:[{a}]:{p}" if ":" in a else f"udp:{a}:{p}"
           for a in t.CANARY_ADDRESSES for p in t.CANARY_UDP_PORTS]  # fmt: skip
    return tcp + udp


def log_path(workdir: Path) -> Path:
    return workdir / "canary" / "connections.jsonl"


def prepare(workdir: Path, ns: str, repo_root: Path) -> list[ManagedProcess]:
    base = workdir / "canary"
    base.mkdir(parents=True, exist_ok=True)
    ready = base / "canary.ready"
    argv = [sys.executable, "-m", "ipv6scan.lab.servers.canary", "--ready", str(ready),
            "--log", str(log_path(workdir)), *endpoints()]  # fmt: skip
    return [ManagedProcess("canary", netns_argv(ns, argv), base / "canary.log", ready=ready,
                           cwd=repo_root)]  # fmt: skip


def hits(workdir: Path, since: float = 0.0, until: float | None = None) -> list[dict[str, Any]]:
    """Connections the canary logged between two time.time() values."""
    path = log_path(workdir)
    if not path.exists():
        return []
    found = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [h for h in found if h["time"] >= since and (until is None or h["time"] <= until)]
