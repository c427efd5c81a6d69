"""TLS certificates as evidence: what the server sent, and whether it verifies.

Fetching never verifies (an expired or self-signed certificate must not turn a
response into "no response"); verification is a separate handshake with the
system's trust store and the host name, so the two questions stay apart.
The DER is parsed with `cryptography`: the standard library only decodes a
certificate it has verified itself.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import ssl

from cryptography import x509

from ipv6scan import stall_clock
from ipv6scan.observations.web import Certificate
from ipv6scan.safetext import safe_text

MAX_SAN = 20  # names kept in evidence; a CDN certificate may carry hundreds


def describe(der: bytes) -> Certificate:
    """The leaf certificate's identity and validity, from its DER."""
    digest = hashlib.sha256(der).hexdigest()
    try:
        cert = x509.load_der_x509_certificate(der)
        san: list[str] = []
        try:
            ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            san = [*ext.get_values_for_type(x509.DNSName)]
            san += [str(ip) for ip in ext.get_values_for_type(x509.IPAddress)]
        except x509.ExtensionNotFound:
            pass
        return Certificate(
            sha256=digest,
            subject=safe_text(cert.subject.rfc4514_string(), 300),
            issuer=safe_text(cert.issuer.rfc4514_string(), 300),
            not_before=cert.not_valid_before_utc.isoformat(),
            not_after=cert.not_valid_after_utc.isoformat(),
            san=tuple(safe_text(s, 255) for s in san[:MAX_SAN]),
        )
    except (ValueError, TypeError) as exc:  # malformed DER or an extension cryptography refuses
        return Certificate(
            sha256=digest, parse_error=safe_text(f"{type(exc).__name__}: {exc}", 300)
        )


@functools.cache
def _verifying_context() -> ssl.SSLContext:
    # built once: loading the trust store reads files, which is slow and blocks
    return ssl.create_default_context()


async def verify(host: str, address: str, port: int, timeout: float) -> tuple[bool | None, str]:
    """Whether the server at `address` presents a chain valid for `host` (None: could
    not tell, the handshake failed for another reason), and why not."""
    try:
        async with stall_clock.timeout(timeout):
            _, writer = await asyncio.open_connection(
                address, port, ssl=_verifying_context(), server_hostname=host
            )
    except ssl.SSLCertVerificationError as exc:
        return False, safe_text(str(exc.verify_message or exc.reason or exc), 300)
    except TimeoutError:
        return None, f"verification handshake: no answer within {timeout:g} s"
    except (OSError, ssl.SSLError) as exc:
        return None, safe_text(f"verification handshake: {type(exc).__name__}: {exc}", 300)
    writer.transport.abort()  # no close_notify exchange: the answer is in
    return True, ""
