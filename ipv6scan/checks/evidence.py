"""Small helpers that turn observations into evidence fields, the same way for every check."""

from __future__ import annotations

from typing import Any

from ipv6scan.dnsclient.resolution import Lookup
from ipv6scan.model import Status
from ipv6scan.observations.dns import Addresses


def lookup_evidence(lookup: Lookup) -> dict[str, Any]:
    out: dict[str, Any] = {"rcode": lookup.rcode}
    if lookup.cname_chain:
        out["cname_chain"] = list(lookup.cname_chain)
    if lookup.server:
        out["resolver"] = lookup.server
    if lookup.error:
        out["error"] = lookup.error
    return out


def address_list(found: Addresses) -> list[dict[str, Any]]:
    rows = []
    for c in found.classes:
        row: dict[str, Any] = {"address": c.address, "category": c.category, "global": c.is_global}
        if c.allowed_by:
            row["allowed_by"] = c.allowed_by
        if c.embedded_ipv4:
            row["embedded_ipv4"] = c.embedded_ipv4
        rows.append(row)
    return rows


def share_status(good: int, bad: int) -> Status:
    """The catalogue's all / some / none rule: pass, warn, fail."""
    return Status.PASS if not bad else Status.WARN if good else Status.FAIL


def decided(good: int, bad: int, unknown: int) -> Status | None:
    """The all/some/none status when the unknown ones cannot change it, else None."""
    low, high = share_status(good, bad + unknown), share_status(good + unknown, bad)
    return low if low is high else None


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
