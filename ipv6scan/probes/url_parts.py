"""The parts of an http(s) URL that the probes address: no I/O, no HTTP stack."""

from __future__ import annotations

from urllib.parse import urlsplit


def split_url(url: str) -> tuple[str, str, int, str]:
    """(scheme, host without brackets, port, path with query) of an http(s) URL."""
    parts = urlsplit(url)
    scheme = parts.scheme
    port = parts.port or (443 if scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, parts.hostname or "", port, path
