"""Evidence of the web checks: the same shape for a hop, a chain or a site in every check.

Bounded: URLs and header values are cut to URL_MAX characters, lists to a
few dozen entries, and a body is never included (only its size and digest).
"""

from __future__ import annotations

from typing import Any

from ipv6scan.checks.evidence import (
    UNDECIDED,
    address_list,
    lookup_evidence,
    lookup_failure,
)
from ipv6scan.messages import message
from ipv6scan.model import Status, Verdict
from ipv6scan.observations.reasons import address_category
from ipv6scan.observations.web import NO_ADDRESS, Certificate, Chain, Fetch, Site

URL_MAX = 300
LIST_MAX = 20
# What every web check says when it cannot apply or cannot be decided (`preconditions`).
NO_IPV6_PATH = message(
    "web.common.no_ipv6_path",
    "The scanner has no IPv6 path, so the site's IPv6 service could not be tested.",
)()
NO_IPV4_PATH = message(
    "web.common.no_ipv4_path",
    "The scanner has no IPv4 path, so there is no IPv4 side to compare with.",
)()
ONLY_NON_GLOBAL = message(
    "web.common.only_non_global_aaaa",
    "%(host)s has no global AAAA (only non-global ones, not probed: %(addresses)s).",
)
NO_AAAA = message("web.common.no_aaaa", "%(host)s has no global AAAA (none at all).")
NO_GLOBAL_IPV4 = message(
    "web.common.no_global_ipv4", "%(host)s has no global IPv4 address to compare with."
)


def cut(text: str | None, limit: int = URL_MAX) -> str | None:
    return None if text is None else text[:limit]


def certificate(cert: Certificate) -> dict[str, Any]:
    out: dict[str, Any] = {
        "sha256": cert.sha256,
        "subject": cert.subject,
        "issuer": cert.issuer,
        "not_before": cert.not_before,
        "not_after": cert.not_after,
        "san": list(cert.san),
        "verifies": cert.verifies,
    }
    if cert.verify_error:
        out["verify_error"] = cert.verify_error
    if cert.parse_error:
        out["parse_error"] = cert.parse_error
    return out


def hop(fetch: Fetch) -> dict[str, Any]:
    out: dict[str, Any] = {
        "url": cut(fetch.url),
        "family": fetch.family,
        "address": fetch.address,
        "outcome": fetch.outcome,
    }
    if fetch.responded:
        out["status"] = fetch.status
        out["ttfb_ms"] = round(fetch.ttfb_ms or 0.0, 1)
        out["body_bytes"] = fetch.body_bytes
        if fetch.truncated:
            out["truncated"] = True
        for name in ("location", "content_type", "server", "body_error"):
            if (value := getattr(fetch, name)) is not None:
                out[name] = cut(value)
    if fetch.error:
        out["error"] = cut(fetch.error)
    if fetch.certificate is not None:
        out["certificate"] = certificate(fetch.certificate)
    return out


def chain(c: Chain) -> dict[str, Any]:
    out: dict[str, Any] = {
        "start_url": cut(c.start_url),
        "family": c.family,
        "end": c.end,
        "hops": [hop(h) for h in c.hops],
    }
    if c.stopped_at:
        out["stopped_at"] = cut(c.stopped_at)
        out["reason"] = c.reason
    if c.end == NO_ADDRESS and c.family == 6:
        out["left_ipv6_at"] = cut(c.stopped_at)  # internet.nl's deliberate fail (#143, #668)
    return out


def site(s: Site) -> dict[str, Any]:
    """Who was looked up, which addresses were probed and which were not (and why)."""
    out: dict[str, Any] = {
        "host": s.host,
        "ports": list(s.ports),
        "aaaa": {**lookup_evidence(s.aaaa.lookup), "addresses": address_list(s.aaaa)},
        "a": {**lookup_evidence(s.a.lookup), "addresses": address_list(s.a)},
    }
    skipped = [
        {"address": c.address, "reason": f"not probed: {c.category}"}
        for found in (s.aaaa, s.a)
        for c in found.non_global
    ]
    if skipped:
        out["not_probed"] = skipped[:LIST_MAX]
    return out


def preconditions(s: Site, *, ipv4: bool = False) -> Verdict | None:
    """The verdict when the check cannot apply or cannot be decided for the site
    as a whole: look-ups failed, no global AAAA, or the scanner lacks a path."""
    evidence = site(s)
    if not s.aaaa.lookup.ok:
        return Verdict(Status.ERROR, UNDECIDED(why=lookup_failure(s.aaaa.lookup)), evidence)
    if not s.aaaa.global_:
        bad = [address_category(c.address, c.category) for c in s.aaaa.non_global]
        detail = ONLY_NON_GLOBAL(host=s.host, addresses=bad) if bad else NO_AAAA(host=s.host)
        return Verdict(Status.SKIP, detail, evidence)
    if not s.scanner_ipv6:
        return Verdict(Status.ERROR, NO_IPV6_PATH, evidence)
    if not ipv4:
        return None
    if not s.a.lookup.ok:
        return Verdict(Status.ERROR, UNDECIDED(why=lookup_failure(s.a.lookup)), evidence)
    if not s.a.global_:
        return Verdict(Status.SKIP, NO_GLOBAL_IPV4(host=s.host), evidence)
    if not s.scanner_ipv4:
        return Verdict(Status.ERROR, NO_IPV4_PATH, evidence)
    return None
