"""Real web servers for the web probe tests: aiohttp on 127.0.0.1 and ::1 only,
on an ephemeral port, plus a self-signed certificate made on the spot.

Also the stand-ins the observe tests need: a resolver that answers from a table
and a policy that lets loopback count as global. That policy exists only here:
the scanner's own policy never allows loopback (see addresses.NEVER_ALLOWED).
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import socket
import ssl
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ipv6scan.addresses import AddressClass, AddressPolicy
from ipv6scan.checks.options import CheckOptions
from ipv6scan.context import Limits, ScanContext
from ipv6scan.dnsclient.resolution import Lookup
from ipv6scan.observations.dns import Connectivity

LOOPBACK = ("127.0.0.1", "::1")


@dataclass
class Seen:
    """What the server saw: one entry per request."""

    requests: list[tuple[str, str, str]] = field(default_factory=list)  # (family, host, path)


@asynccontextmanager
async def serve(
    app: web.Application,
    hosts: tuple[str, ...] = LOOPBACK,
    ssl_context: ssl.SSLContext | None = None,
) -> AsyncIterator[int]:
    """Serve `app` on every host of `hosts` at one ephemeral port; yields the port."""
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.1)
    await runner.setup()
    try:
        for _attempt in range(20):
            probe = socket.socket(socket.AF_INET6 if ":" in hosts[0] else socket.AF_INET)
            probe.bind((hosts[0], 0))
            port = probe.getsockname()[1]
            probe.close()
            sites = [web.TCPSite(runner, h, port, ssl_context=ssl_context) for h in hosts]
            try:
                for site in sites:
                    await site.start()
            except OSError:
                for site in sites:
                    await site.stop()
                continue
            break
        else:
            raise RuntimeError("no free port on loopback")
        yield port
    finally:
        await runner.cleanup()


def self_signed(tmp: Path, name: str = "site.test") -> tuple[ssl.SSLContext, str]:
    """A server context with a fresh self-signed certificate for `name` and 127.0.0.1,
    and the certificate's PEM path."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(name), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    return context, str(cert_path)


class TableResolver:
    """Answers look-ups from a table {(name, rdtype): values}; NOERROR/no data otherwise."""

    def __init__(self, table: Mapping[tuple[str, str], tuple[str, ...] | str]) -> None:
        self.table = dict(table)
        self.asked: list[tuple[str, str]] = []

    async def lookup(self, name: str, rdtype: str) -> Lookup:
        self.asked.append((name, rdtype))
        values = self.table.get((name, rdtype), ())
        if isinstance(values, str):  # an rcode: SERVFAIL, NXDOMAIN...
            return Lookup(name, rdtype, values, server="stub")
        return Lookup(name, rdtype, "NOERROR", values=values, server="stub")


class LoopbackAsGlobal(AddressPolicy):
    """Test-only: loopback counts as global so probes can reach the local servers;
    every other address is classified exactly as the real policy does."""

    def classify(self, addr: object) -> AddressClass:  # type: ignore[override]
        text = str(addr)
        if text in LOOPBACK:
            return AddressClass(text, 6 if ":" in text else 4, "global", True)
        return super().classify(text)


def context(
    resolver: TableResolver,
    *,
    policy: AddressPolicy | None = None,
    ipv6: bool = True,
    ipv4: bool = True,
    timeout: float = 2.0,
    **options: object,
) -> ScanContext:
    return ScanContext(
        resolver=resolver,  # type: ignore[arg-type]
        transport=None,  # type: ignore[arg-type]
        policy=policy if policy is not None else LoopbackAsGlobal(),
        connectivity=Connectivity(ipv6, ipv4),
        limits=Limits(64, 8),
        timeout=timeout,
        options=CheckOptions(**options),  # type: ignore[arg-type]
    )


async def settle() -> None:
    """Let aiohttp finish closing transports, so tests end without warnings."""
    await asyncio.sleep(0)
