"""What an HTTP request is for and what it sends: names the web probes share without
loading the HTTP client (probes/http.py: aiohttp and cryptography load with the first
fetch, not when the registry imports the web probes)."""

from __future__ import annotations

PAGE = "page"  # the whole body (up to the limit): fingerprint and links kept
STATUS = "status"  # only the status matters: a short read, nothing kept
STYLE = "style"  # a style sheet: its url(...) and @import targets kept (web.resources)
REDIRECTS = frozenset({301, 302, 303, 307, 308})
HEADERS = {
    "User-Agent": "ipv6scan/0.1 (IPv6 readiness scanner)",
    "Accept": "text/html,application/xhtml+xml,*/*;q=0.8",
    "Accept-Encoding": "gzip, deflate",
}
