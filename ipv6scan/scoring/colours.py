"""NIST USGv6-monitor style colours per service (DNS, mail, web) of a target.

red: no IPv6 address in the DNS for (some of) the service; yellow: addresses, but the service
does not (fully) work over IPv6; green: every decided result of the service passes; grey: the
service is not present (no MX); None: not assessed (the deciding checks did not run or could
not decide). Worst wins across a target's names: one host without AAAA makes web red.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

COLOURS: tuple[str, ...] = ("green", "yellow", "red", "grey")
COLOUR_NAMES: dict[str, dict[str, str]] = {
    "green": {"en": "works over IPv6", "zh-CN": "IPv6可用"},
    "yellow": {"en": "IPv6 address, service not working", "zh-CN": "有IPv6地址，服务不可用"},
    "red": {"en": "no IPv6 address", "zh-CN": "无IPv6地址"},
    "grey": {"en": "service not present", "zh-CN": "无此服务"},
}

# service -> (the check that finds its IPv6 addresses, the checks that use them)
SERVICES: dict[str, tuple[str, tuple[str, ...]]] = {
    "dns": ("dns.ns_ipv6", ("dns.ns_reachable", "dns.delegation")),
    "mail": ("dns.mx_ipv6", ("mail.smtp",)),
    # web.pmtu: a page whose body never arrives (a path-MTU black hole) does not work
    "web": ("dns.aaaa", ("web.reachable", "web.http", "web.pmtu")),
}
SERVICE_NAMES: dict[str, dict[str, str]] = {
    "dns": {"en": "Name servers", "zh-CN": "域名服务器"},
    "mail": {"en": "Mail", "zh-CN": "邮件"},
    "web": {"en": "Web", "zh-CN": "网站"},
}

_DECIDED = ("pass", "warn", "fail")


def _merged(counts: Mapping[str, Mapping[str, int]], checks: Iterable[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for check in checks:
        for status, n in counts.get(check, {}).items():
            out[status] = out.get(status, 0) + n
    return out


def colour(
    counts: Mapping[str, Mapping[str, int]], address: str, operation: tuple[str, ...]
) -> str | None:
    """The colour of one service from a target's services-tier status counts per check."""
    found = counts.get(address, {})
    if not any(found.get(s) for s in _DECIDED):
        # only skips (no MX, null MX): the service is absent; errors or nothing: unknown
        return "grey" if found.get("skip") and not found.get("error") else None
    if found.get("fail"):
        return "red"
    used = _merged(counts, operation)
    if used.get("fail") or used.get("warn"):
        return "yellow"
    if not used.get("pass"):
        return None  # addresses published, but whether the service works was not decided
    return "yellow" if found.get("warn") else "green"


def service_colours(counts: Mapping[str, Mapping[str, int]]) -> dict[str, str | None]:
    return {name: colour(counts, a, ops) for name, (a, ops) in SERVICES.items()}
