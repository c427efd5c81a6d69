"""Small helpers that turn observations into evidence fields, the same way for every check."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ipv6scan.checks.engine_details import no_resolver
from ipv6scan.dnsclient.reasons import FIXED, LOOKUP_ERROR
from ipv6scan.dnsclient.reasons import lookup_failure as dnsclient_lookup_failure
from ipv6scan.dnsclient.resolution import Lookup
from ipv6scan.messages import Detail, message
from ipv6scan.model import Status
from ipv6scan.observations.dns import Addresses

# The sentences several DNS-based checks share (dns.*, mail.*, net.*, dns.delegation).
UNDECIDED = message("dns.lookup.undecided", "Could not decide: %(why)s.")
AAAA_UNKNOWN = message("dns.lookup.aaaa_failed", "Could not look up the AAAA of %(hosts)s.")
NXDOMAIN_NAME = message("dns.lookup.nxdomain", "%(name)s does not exist (NXDOMAIN).")
# A list the English detail joins with "; " (its items have commas): each language
# joins it its own way, like any list (report/details.py).
LISTED = message("list.semicolons", "%(items)s")


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


def semicolons(items: Sequence[str]) -> Detail:
    """`items` as one parameter, "; "-joined in English."""
    listed = LISTED(items=list(items))
    return Detail("; ".join(items), listed.key, listed.params)


def dns_error(error: str) -> str:
    """A look-up's or a query's error as a detail. The transports' and the resolver's own
    reasons already are (dnsclient/reasons.py); the preflight's "no usable resolver" finding,
    text that names each resolver's error, is made one here; any other text is shown as it
    is, not guessed at."""
    if isinstance(error, Detail):
        return error
    return no_resolver(error, _resolver_error)


def _resolver_error(error: str) -> str:
    """One resolver's error inside the preflight's finding: a transport's fixed reason."""
    return FIXED.get(error, error)


def lookup_failure(lookup: Lookup) -> Detail:
    """Why a look-up gave no answer: what `Lookup.describe_failure` says, as a detail."""
    if lookup.error and not isinstance(lookup.error, Detail):
        return LOOKUP_ERROR(rdtype=lookup.rdtype, name=lookup.name, error=dns_error(lookup.error))
    return dnsclient_lookup_failure(lookup)
