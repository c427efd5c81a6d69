"""Which checks each kind of subject gets by default, per network tier.

An operator's systems are not websites: a backbone router is pinged and traced,
a metro resolver is asked a question, an access portal gets the web checks.
A `checks:` list on a systems entry replaces these defaults for that entry.
"""

from __future__ import annotations

# tier -> systems-entry kind -> check ids or families
SYSTEM_DEFAULTS: dict[str, dict[str, tuple[str, ...]]] = {
    "backbone": {
        "address": ("net.ping", "net.trace"),
        "host": ("dns.aaaa", "net.ping", "net.trace"),
        "url": ("web",),
        "resolver": ("resolver.ipv6",),
    },
    "metro": {
        "address": ("net.ping", "net.trace"),
        "host": ("dns.aaaa", "net.ping"),
        "url": ("web",),
        "resolver": ("resolver.ipv6",),
    },
    "access": {
        "address": ("net.ping",),
        # web.pmtu: tunnels and PPPoE below 1,500 bytes live in the access network
        "host": ("dns.aaaa", "web.reachable", "web.http", "web.pmtu"),
        "url": ("web",),
        "resolver": ("resolver.ipv6",),
    },
    "support": {
        "address": ("net.ping",),
        "host": ("dns.aaaa", "web.reachable", "web.http"),
        "url": ("web",),
        "resolver": ("resolver.ipv6",),
    },
}

# Families a domain's hosts get only when --checks names them: many sites filter
# ICMP, and NIST reports ping without scoring it.
DOMAIN_OPT_IN_FAMILIES: tuple[str, ...] = ("net",)


def default_checks(tier: str, kind: str) -> tuple[str, ...]:
    return SYSTEM_DEFAULTS.get(tier, {}).get(kind, ())
