"""Can the lab run here? Checked before anything is created."""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil
import sys

# binary -> Debian package that provides it
REQUIRED_BINARIES: dict[str, str] = {
    "ip": "iproute2",
    "nsd": "nsd",
    "unbound": "unbound",
    "nft": "nftables",
    "sysctl": "procps",
    "nginx": "nginx-light",
    "openssl": "openssl",  # the web servers' self-signed certificates
}
_CAP_NET_ADMIN = 12
_CAP_SYS_ADMIN = 21  # `ip netns add/exec` mount namespaces and bind mounts


# Servers and admin tools live in sbin, which a non-login root shell may lack on PATH.
_EXTRA_PATH = ("/usr/sbin", "/sbin", "/usr/bin", "/bin")


@functools.cache
def find_binary(name: str) -> str | None:
    found = shutil.which(name)
    if found is None:
        found = shutil.which(name, path=os.pathsep.join(_EXTRA_PATH))
    return found


def binary(name: str) -> str:
    """Absolute path of a required binary (the bare name if not found: the error names it)."""
    return find_binary(name) or name


class LabUnavailable(Exception):
    """The lab cannot run on this machine; the message says why."""


def _effective_caps() -> int | None:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("CapEff:"):
                    return int(line.split()[1], 16)
    except OSError:
        return None
    return None


def lab_unavailable_reason() -> str | None:
    """None when the lab can run here, else a sentence saying what is missing."""
    if not sys.platform.startswith("linux"):
        return f"the namespace lab needs Linux (this is {sys.platform})"
    if os.geteuid() != 0:
        return "the namespace lab needs root (network namespaces, veth links, servers on port 53)"
    caps = _effective_caps()
    if caps is not None:
        for bit, name in ((_CAP_NET_ADMIN, "CAP_NET_ADMIN"), (_CAP_SYS_ADMIN, "CAP_SYS_ADMIN")):
            if not caps & (1 << bit):
                return f"the namespace lab needs {name}, which this process does not have"
    for binary, package in REQUIRED_BINARIES.items():
        if find_binary(binary) is None:
            return f"missing binary {binary} (Debian package {package})"
    if importlib.util.find_spec("dns") is None:
        return "missing Python package dnspython (needed by the in-namespace probe)"
    return None


def require_lab() -> None:
    reason = lab_unavailable_reason()
    if reason is not None:
        raise LabUnavailable(reason)
