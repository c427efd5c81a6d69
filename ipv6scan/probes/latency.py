"""One latency sample: a fresh TCP connect and an HTTP request, timed by the kernel.

Timing inside a busy asyncio loop measures the loop, not the network: while other
checks parse pages or complete TLS handshakes, a connect that took 0.1 ms can be
seen 100 ms late, on either family at random; a worker thread waits for the GIL
just the same. So the kernel's own figures are read from TCP_INFO: the handshake
RTT (tcpi_rtt) for the connect, and for the first response byte the time since
the last data arrived (tcpi_last_data_recv), subtracted from our late wake-up.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import socket
import ssl
import struct
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from urllib.parse import urlsplit

USER_AGENT = "ipv6scan (IPv6 readiness measurement)"


# struct tcp_info (linux/tcp.h): u32 fields after an 8-byte header
_LAST_DATA_RECV = 52  # ms since the last data segment arrived
_RTT = 68  # smoothed RTT in µs; right after connect(), the handshake's own sample
_TCP_INFO_LEN = 104


def _tcp_info(sock: socket.socket) -> tuple[float, float] | None:
    """(rtt ms, ms since last data received), or None where TCP_INFO is not offered."""
    try:
        raw = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, _TCP_INFO_LEN)
    except (OSError, AttributeError):
        return None
    if len(raw) < _RTT + 4:
        return None
    (last_recv,) = struct.unpack_from("I", raw, _LAST_DATA_RECV)
    (rtt,) = struct.unpack_from("I", raw, _RTT)
    return rtt / 1000, float(last_recv)


_TLS: ssl.SSLContext | None = None


@dataclass(frozen=True)
class Timing:
    tcp_ms: float | None = None  # the TCP handshake's RTT
    ttfb_ms: float | None = None  # connect() to the first response byte, TLS included
    error: str | None = None


def _tls_context() -> ssl.SSLContext:
    # timing only: certificates are judged by web.http, never here (and no CA store to load)
    global _TLS
    if _TLS is None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        _TLS = context
    return _TLS


def time_request(address: str, url: str, timeout: float) -> Timing:
    """Blocking: run it in a worker thread (asyncio.to_thread). `address` must already be
    in scope: the caller checked it with the address policy."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    deadline = time.perf_counter() + timeout
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        started = time.perf_counter()
        sock.connect((address, port))
        connected = time.perf_counter()
        info = _tcp_info(sock)
        tcp_ms = info[0] if info else (connected - started) * 1000
        conn: socket.socket = sock
        if parts.scheme == "https":
            conn = _tls_context().wrap_socket(sock, server_hostname=host)
        host_header = host if ":" not in host else f"[{host}]"
        if parts.port is not None and parts.port != (443 if parts.scheme == "https" else 80):
            host_header += f":{parts.port}"
        request = (f"GET {path} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: {USER_AGENT}\r\n"
                   "Accept: */*\r\nConnection: close\r\n\r\n")  # fmt: skip
        conn.settimeout(max(0.001, deadline - time.perf_counter()))
        conn.sendall(request.encode("latin-1", "replace"))
        if not conn.recv(1):
            return Timing(tcp_ms, None, "closed before any response byte")
        woke = time.perf_counter()
        info = _tcp_info(sock)
        late = info[1] if info else 0.0  # how long the answer waited for us to wake up
        # TTFB as a browser feels it: from connect() to the first response byte, so a path
        # that delays the TLS handshake shows as much as one that delays the answer
        return Timing(tcp_ms, max(0.0, (woke - started) * 1000 - late))
    except (OSError, ssl.SSLError, ValueError) as exc:
        return Timing(error=f"{type(exc).__name__}: {exc}"[:200])
    finally:
        sock.close()


# Samples are taken in one separate worker process: in-process threads wait for the
# GIL while other checks parse pages and hash bodies, which adds tens of ms at random.
_POOL: ProcessPoolExecutor | None = None


def _pool() -> ProcessPoolExecutor:
    global _POOL
    if _POOL is None:
        # spawn, not fork: the scanner has threads and an event loop that must not be copied
        _POOL = ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn"))
    return _POOL


async def sample(address: str, url: str, timeout: float) -> Timing:
    """One sample, timed in the worker process (or in a thread if it cannot start)."""
    loop = asyncio.get_running_loop()
    try:
        return await loop.run_in_executor(_pool(), time_request, address, url, timeout)
    except (BrokenProcessPool, OSError, RuntimeError):
        return await asyncio.to_thread(time_request, address, url, timeout)


def shutdown() -> None:
    global _POOL
    if _POOL is not None:
        _POOL.shutdown(wait=False, cancel_futures=True)
        _POOL = None
