"""Wait, inside the client namespace, until the benchmark's servers answer.

    python -m bench.probe DEADLINE CHECK ...    CHECK: dns,SERVER,NAME | tcp,ADDR,PORT | echo,ADDR

Exit 0 when every check passed before DEADLINE seconds, else 1 and what failed.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import dns.message
import dns.query


def _ok(check: str) -> bool:
    kind, *rest = check.split(",")
    try:
        if kind == "dns":
            server, name = rest
            reply = dns.query.udp(dns.message.make_query(name, "AAAA"), server, timeout=1)
            return reply.rcode() == 0
        if kind == "tcp":
            address, port = rest
            with socket.create_connection((address, int(port)), timeout=1):
                return True
        if kind == "echo":
            argv = ["fping", "-6", "-q", "-r", "0", "-t", "500", rest[0]]
            return subprocess.run(argv, capture_output=True, timeout=5, check=False).returncode == 0
    except (OSError, ValueError, subprocess.SubprocessError, dns.exception.DNSException):
        return False
    raise SystemExit(f"unknown check {check!r}")


def main(argv: list[str]) -> int:
    deadline = time.monotonic() + float(argv[0])
    waiting = list(argv[1:])
    while waiting and time.monotonic() < deadline:
        waiting = [c for c in waiting if not _ok(c)]
        if waiting:
            time.sleep(0.2)
    if waiting:
        print("not ready: " + " ".join(waiting))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
