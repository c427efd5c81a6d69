"""The parts of a distributed scan in the namespace lab: a real redis-server on a lab
address of the dns namespace, workers in client namespaces, the CLI's scan through them.

Every process is started here, tracked by its PID and stopped by it; the broker's
addresses and the nft table that makes a second vantage point are removed afterwards.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import ipv6scan
from ipv6scan.lab import Lab

REPO = Path(ipv6scan.__file__).resolve().parent.parent
BROKER4, BROKER6 = "198.51.100.90", "2001:db8:53::90"  # spare DNS-prefix addresses
PORT = 6390
BROKER_URL = f"redis://{BROKER4}:{PORT}/0"
NOBODY = 65534  # the second vantage point's worker runs as nobody: no root, no raw socket


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "HOME": "/tmp"}


def stop(proc: subprocess.Popen[Any], sig: int = signal.SIGTERM, grace: float = 15) -> None:
    """Stop one process we started, by its PID."""
    if proc.poll() is not None:
        return
    os.kill(proc.pid, sig)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(5)


@contextmanager
def broker(lab: Lab, workdir: Path) -> Iterator[str]:
    """redis-server in the dns namespace on its own lab addresses; yields the URL."""
    ns = lab.dns_ns
    added: list[str] = []
    proc: subprocess.Popen[bytes] | None = None
    try:
        for addr in (f"{BROKER4}/32", f"{BROKER6}/128"):
            lab.run(ns, ["ip", "addr", "add", addr, "dev", "lo"], check=True)
            added.append(addr)
        argv = ["redis-server", "--bind", BROKER4, BROKER6, "--port", str(PORT), "--save", "",
                "--appendonly", "no", "--dir", str(workdir), "--protected-mode", "no",
                "--daemonize", "no", "--logfile", str(workdir / "redis.log")]  # fmt: skip
        proc = subprocess.Popen(lab.netns_argv(ns, argv), stdout=subprocess.DEVNULL)
        _wait_redis(lab, proc)
        yield BROKER_URL
    finally:
        if proc is not None:
            stop(proc)
        for addr in added:
            lab.run(ns, ["ip", "addr", "del", addr, "dev", "lo"], check=False)


def redis_cli(lab: Lab, *args: str) -> str:
    argv = ["redis-cli", "-h", BROKER4, "-p", str(PORT), *args]
    done = lab.run(lab.dns_ns, argv, capture_output=True, text=True, timeout=10, check=False)
    return done.stdout.strip()


def _wait_redis(lab: Lab, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"redis-server exited {proc.returncode}")
        if redis_cli(lab, "ping") == "PONG":
            return
        time.sleep(0.1)
    raise RuntimeError("redis-server did not answer within 15 s")


class Workers:
    """Workers started in lab namespaces, each stopped by its PID at the end."""

    def __init__(self, lab: Lab, url: str, logs: Path) -> None:
        self.lab, self.url, self.logs = lab, url, logs
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(
        self, ns: str, vantage: str | None = None, *, uid: int | None = None,
        extra: Sequence[str] = (),
    ) -> subprocess.Popen[bytes]:  # fmt: skip
        argv = [sys.executable, "-m", "ipv6scan", "worker", "--broker", self.url, *extra]
        if vantage is not None:
            argv += ["--vantage", vantage]
        if uid is not None:  # no root, no raw socket; read access only, to reach this venv's
            # interpreter wherever it lives (it may be under root's 0700 home)
            caps = ["--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search"]
            argv = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", *caps, *argv]
        log = (self.logs / f"worker-{len(self.procs)}.log").open("wb")
        proc = subprocess.Popen(self.lab.netns_argv(ns, argv), cwd=REPO, env=env(),
                                stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
        self.procs.append(proc)
        return proc

    def wait_alive(self, count: int, timeout: float = 30) -> None:
        """Until `count` heartbeat keys are in Redis (each worker's, when it serves)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            keys = redis_cli(self.lab, "--scan", "--pattern", "ipv6scan:alive:*").split()
            if len(keys) >= count:
                return
            time.sleep(0.2)
        raise RuntimeError(f"{count} workers not alive within {timeout} s: {self.log_tails()}")

    def log_tails(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-1500:]
                         for p in sorted(self.logs.glob("worker-*.log")))  # fmt: skip

    def stop_all(self) -> None:
        for proc in self.procs:
            stop(proc)
        self.procs.clear()


@contextmanager
def dropped(lab: Lab, ns: str, address: str) -> Iterator[None]:
    """In `ns`, every packet to `address` is dropped: a vantage point (a client namespace)
    that cannot reach one server, where the other client namespace can."""
    table = f"v6vantage_{secrets.token_hex(3)}"
    family = "ip6" if ":" in address else "ip"
    rules = (f"table inet {table} {{\n chain out {{\n  type filter hook output priority 0;\n"
             f"  {family} daddr {address} drop\n }}\n}}\n")  # fmt: skip
    lab.run(ns, ["nft", "-f", "-"], input=rules, text=True, check=True)
    try:
        yield
    finally:
        lab.run(ns, ["nft", "delete", "table", "inet", table], check=False)


def scan_argv(lab: Lab, targets: Path, out: Path, checks: str, *extra: str) -> list[str]:
    return lab.scan_argv(targets, out, checks=checks, timeout=2, extra=["--attempts", "1", *extra])


@contextmanager
def syn_counter(lab: Lab, ns: str, address: str) -> Iterator[Callable[[], int]]:
    """Counts the TCP SYNs leaving `ns` for `address` (nft); yields a reader."""
    table = f"v6syn_{secrets.token_hex(3)}"
    family = "ip6" if ":" in address else "ip"
    match = f"{family} daddr {address} tcp flags & (syn | ack) == syn"
    rules = (f"table inet {table} {{\n chain out {{\n  type filter hook output priority 0;\n"
             f"  {match} counter\n }}\n}}\n")  # fmt: skip
    lab.run(ns, ["nft", "-f", "-"], input=rules, text=True, check=True)

    def read() -> int:
        done = lab.run(ns, ["nft", "-j", "list", "table", "inet", table], capture_output=True,
                       text=True, check=True)  # fmt: skip
        for item in json.loads(done.stdout)["nftables"]:
            for expr in item.get("rule", {}).get("expr", []):
                if "counter" in expr:
                    return int(expr["counter"]["packets"])
        raise RuntimeError("no counter in the table")

    try:
        yield read
    finally:
        lab.run(ns, ["nft", "delete", "table", "inet", table], check=False)
