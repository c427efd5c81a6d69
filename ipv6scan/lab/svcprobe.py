"""Service probes run *inside* a lab namespace (`ip netns exec NS python -m ...`).

Used by the lab's readiness wait and its own tests, never by the scanner:

    python -m ipv6scan.lab.svcprobe tcp ADDR PORT [--timeout S]
    python -m ipv6scan.lab.svcprobe http ADDR PORT HOST PATH [--tls] [--no-sni] [--timeout S]
    python -m ipv6scan.lab.svcprobe smtp ADDR [--timeout S]
    python -m ipv6scan.lab.svcprobe echo ADDR [--hop-limit N] [--timeout S]
    python -m ipv6scan.lab.svcprobe batch JSON   # [{"op": "tcp", "address": ..., ...}, ...]

Each prints one JSON object (batch: a list, in order). Standard library only
(plus openssl for certificates). A batch saves a process start per probe.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

MAX_BODY = 2_000_000  # bytes read of any body: enough to see that huge.example is huge


def _family(address: str) -> int:
    return socket.AF_INET6 if ":" in address else socket.AF_INET


def tcp(address: str, port: int, timeout: float = 1.0) -> dict[str, Any]:
    """open, refused (RST), timeout, or the socket error."""
    started = time.monotonic()
    with socket.socket(_family(address), socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect((address, port))
            result = "open"
        except ConnectionRefusedError:
            result = "refused"
        except TimeoutError:
            result = "timeout"
        except OSError as exc:
            result = f"error: {exc.strerror or exc}"
    return {"result": result, "elapsed_ms": round((time.monotonic() - started) * 1000, 1)}


def _cert(der: bytes | None) -> dict[str, Any] | None:
    if not der:
        return None
    with tempfile.NamedTemporaryFile(suffix=".der") as f:
        f.write(der)
        f.flush()
        proc = subprocess.run(
            ["openssl", "x509", "-inform", "DER", "-in", f.name, "-noout", "-subject",
             "-ext", "subjectAltName", "-nameopt", "RFC2253"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
    lines = [ln.strip() for ln in proc.stdout.splitlines()]
    subject = next((ln.split("=", 1)[1] for ln in lines if ln.startswith("subject=")), "")
    sans = [p.strip()[4:] for ln in lines if "DNS:" in ln for p in ln.split(",")]
    return {"subject": subject, "san": sans}


def http(
    address: str, port: int, host: str, path: str = "/", *, tls: bool = False,
    sni: bool = True, timeout: float = 3.0,
) -> dict[str, Any]:  # fmt: skip
    """One GET to address:port with Host (and SNI) `host`; the whole exchange bounded by timeout."""
    started = time.monotonic()
    deadline = started + timeout
    out: dict[str, Any] = {"status": None, "error": None}
    sock = socket.socket(_family(address), socket.SOCK_STREAM)
    sock.settimeout(timeout)
    der: bytes | None = None
    try:
        sock.connect((address, port))
        out["connect_ms"] = round((time.monotonic() - started) * 1000, 1)
        conn: socket.socket = sock
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE  # the lab's certificates are self-signed
            conn = ctx.wrap_socket(sock, server_hostname=host if sni else None)
            der = conn.getpeercert(binary_form=True)  # decoded after the timing
        request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        conn.sendall(request.encode())
        data = b""
        while len(data) < MAX_BODY:
            conn.settimeout(max(0.01, deadline - time.monotonic()))
            chunk = conn.recv(65536)
            if not chunk:
                break
            if not data:
                out["ttfb_ms"] = round((time.monotonic() - started) * 1000, 1)
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        out["status"] = int(lines[0].split()[1])
        out["headers"] = dict(ln.split(": ", 1) for ln in lines[1:] if ": " in ln)
        out["body_len"] = len(body)
        out["body"] = body[:4000].decode("utf-8", "replace")
    except (OSError, ValueError, IndexError) as exc:
        out["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        sock.close()
    out["elapsed_ms"] = round((time.monotonic() - started) * 1000, 1)
    if tls:
        out["cert"] = _cert(der)
    return out


def smtp(address: str, port: int = 25, timeout: float = 3.0) -> dict[str, Any]:
    out: dict[str, Any] = {"greeting": None, "quit": None, "error": None}
    try:
        with socket.create_connection((address, port), timeout=timeout) as sock:
            reader = sock.makefile("rb")
            out["greeting"] = reader.readline().decode().strip()
            sock.sendall(b"QUIT\r\n")
            out["quit"] = reader.readline().decode().strip()
    except OSError as exc:
        out["error"] = f"{type(exc).__name__}: {exc}"
    return out


_ECHO_REQUEST, _ECHO_REPLY, _UNREACHABLE, _TIME_EXCEEDED = 128, 129, 1, 3


def echo(address: str, hop_limit: int = 64, timeout: float = 1.0) -> dict[str, Any]:
    """One ICMPv6 echo request with a hop limit: who answered, and how."""
    ident = os.getpid() & 0xFFFF
    seq = int(time.monotonic() * 1000) & 0xFFFF
    # The kernel fills in the ICMPv6 checksum of a raw ICMPv6 socket.
    packet = struct.pack("!BBHHH", _ECHO_REQUEST, 0, 0, ident, seq) + b"ipv6scan-lab"
    started = time.monotonic()
    with socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6) as sock:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, hop_limit)
        sock.sendto(packet, (address, 0))
        while (left := started + timeout - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                data, peer = sock.recvfrom(2048)
            except TimeoutError:
                break
            kind = data[0]
            # An error message quotes our request after its 8 bytes and a 40-byte IPv6 header.
            quoted = data[48:56] if kind in (_UNREACHABLE, _TIME_EXCEEDED) else data[:8]
            if len(quoted) < 8 or struct.unpack("!HH", quoted[4:8]) != (ident, seq):
                continue
            names = {_ECHO_REPLY: "reply", _TIME_EXCEEDED: "time-exceeded",
                     _UNREACHABLE: "unreachable"}  # fmt: skip
            if kind in names:
                return {"kind": names[kind], "code": data[1], "responder": peer[0],
                        "rtt_ms": round((time.monotonic() - started) * 1000, 2)}  # fmt: skip
    return {"kind": "timeout", "code": None, "responder": None, "rtt_ms": None}


OPS: dict[str, Callable[..., dict[str, Any]]] = {
    "tcp": tcp,
    "http": http,
    "smtp": smtp,
    "echo": echo,
}


def batch(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run each {"op": NAME, **keyword arguments} in turn."""
    return [OPS[r.pop("op")](**r) for r in requests]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ipv6scan.lab.svcprobe")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("tcp")
    p.add_argument("address")
    p.add_argument("port", type=int)
    p.add_argument("--timeout", type=float, default=1.0)
    p = sub.add_parser("http")
    p.add_argument("address")
    p.add_argument("port", type=int)
    p.add_argument("host")
    p.add_argument("path", nargs="?", default="/")
    p.add_argument("--tls", action="store_true")
    p.add_argument("--no-sni", action="store_true")
    p.add_argument("--timeout", type=float, default=3.0)
    p = sub.add_parser("smtp")
    p.add_argument("address")
    p.add_argument("--port", type=int, default=25)
    p.add_argument("--timeout", type=float, default=3.0)
    p = sub.add_parser("echo")
    p.add_argument("address")
    p.add_argument("--hop-limit", type=int, default=64)
    p.add_argument("--timeout", type=float, default=1.0)
    p = sub.add_parser("batch")
    p.add_argument("requests", help="a JSON list of {op, ...keyword arguments}")
    args = parser.parse_args(argv)
    result: Any
    if args.command == "batch":
        result = batch(json.loads(args.requests))
    elif args.command == "tcp":
        result = tcp(args.address, args.port, args.timeout)
    elif args.command == "http":
        result = http(args.address, args.port, args.host, args.path, tls=args.tls,
                      sni=not args.no_sni, timeout=args.timeout)  # fmt: skip
    elif args.command == "smtp":
        result = smtp(args.address, args.port, args.timeout)
    else:
        result = echo(args.address, args.hop_limit, args.timeout)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
