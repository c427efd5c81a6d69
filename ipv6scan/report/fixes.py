"""How to fix each `fail` and `warn`: what to change, for whom, and the rule it comes from.

One table, keyed by a stable key "<check id>.<outcome>" (outcome: `fail`, `warn`, or
`intermittent` for a warn whose only fault is failed tries, checks/intermittent.py).
summary.json's "what to fix first" items carry the key (`fix`) for programs; the report
shows the text, the role and the references in its language. The English text is the
catalogue's msgid; the Chinese is in locale/zh_CN (the national platform's wording).

References are names (RFC numbers, YD/T 3118-2016, NIST SP 800-119), not translated.
This module imports nothing heavy: the scorer reads `fix_key` for every finding.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ipv6scan.checks.intermittent import is_intermittent

FAIL, WARN, INTERMITTENT = "fail", "warn", "intermittent"
OUTCOMES: tuple[str, ...] = (FAIL, WARN, INTERMITTENT)


def N_(message: str) -> str:
    """Marks a string for extraction (Babel finds N_ by name); translated where shown.
    Not report.i18n's, which would load Babel into the scorer."""
    return message


# What the outcome is called where the report lists every fix once.
OUTCOME_NAMES: dict[str, str] = {
    FAIL: N_("when it fails"),
    WARN: N_("when it warns"),
    INTERMITTENT: N_("when it works only intermittently"),
}

# Who makes the change: the key, and its name in the report.
ROLES: dict[str, str] = {
    "dns": N_("DNS administrator"),
    "web": N_("Web administrator"),
    "mail": N_("Mail administrator"),
    "network": N_("Network administrator"),
}

YDT = "YD/T 3118-2016"  # 网站IPv6支持度评测指标与测试方法
NIST = "NIST SP 800-119"


@dataclass(frozen=True)
class Fix:
    key: str  # "<check>.<outcome>": stable, for programs
    role: str  # a key of ROLES
    references: tuple[str, ...]
    text: str  # English; the catalogue's msgid


@dataclass(frozen=True)
class ShownFix:
    """A fix in the report's language."""

    key: str
    check: str
    outcome: str  # OUTCOME_NAMES's, translated
    role: str
    references: str
    text: str


# (check, outcome) -> (role, references, text). A check's warn is here only where its
# judge can warn for a reason of its own (INTERFACE.md's catalogue).
_TEXTS: dict[tuple[str, str], tuple[str, tuple[str, ...], str]] = {
    ("dns.aaaa", FAIL): ("dns", ("RFC 3596", YDT), N_(
        "Give the host an IPv6 address and publish it as an AAAA record beside the A record;"
        " if the name is a CNAME, publish it at the name the CNAME points to.")),
    ("dns.aaaa", WARN): ("dns", ("RFC 3596", "RFC 6890"), N_(
        "Remove the AAAA records that hold non-global addresses (unique-local, link-local,"
        " documentation, IPv4-mapped) from public DNS; keep only global ones.")),
    ("dns.ns_ipv6", FAIL): ("dns", ("RFC 3901", "RFC 2182"), N_(
        "Give at least two of the domain's name servers a global IPv6 address: an AAAA record"
        " for each, and glue AAAA records at the parent zone for servers inside the domain.")),
    ("dns.ns_ipv6", WARN): ("dns", ("RFC 3901", "RFC 2182"), N_(
        "Only one name server has IPv6: give a second one, preferably on another network,"
        " a global IPv6 address and an AAAA record.")),
    ("dns.ns_reachable", FAIL): ("dns", ("RFC 3901",), N_(
        "Make the name servers answer over IPv6: listen on their IPv6 addresses, serve the"
        " zone authoritatively there, and open UDP and TCP port 53 for IPv6 in every firewall"
        " before them.")),
    ("dns.ns_reachable", WARN): ("dns", ("RFC 3901",), N_(
        "Some name server addresses do not answer authoritatively over IPv6: fix their"
        " listening address, firewall or zone data, or remove their AAAA records.")),
    ("dns.mx_ipv6", FAIL): ("mail", ("RFC 3974", "RFC 5321"), N_(
        "Give the mail servers named by the MX records a global IPv6 address and an AAAA"
        " record, or point the MX records at mail servers that have one.")),
    ("dns.mx_ipv6", WARN): ("mail", ("RFC 3974", "RFC 5321"), N_(
        "Some MX hosts have no IPv6 address: publish AAAA records for them too, so that"
        " senders with IPv6 only can reach every mail server.")),
    ("dns.delegation", FAIL): ("dns", ("RFC 3901", YDT), N_(
        "At the zone the detail names, have at least one name server with a global AAAA"
        " answer authoritatively over IPv6; if that zone is a parent's, ask its operator"
        " (the registry or the parent domain's administrator).")),
    ("mail.smtp", FAIL): ("mail", ("RFC 3974", "RFC 5321"), N_(
        "Make the mail servers accept SMTP over IPv6: listen on their IPv6 addresses on"
        " port 25, open TCP port 25 for IPv6 in the firewall, and give each address a"
        " reverse (PTR) record.")),
    ("mail.smtp", WARN): ("mail", ("RFC 3974", "RFC 5321"), N_(
        "Some MX IPv6 addresses give no SMTP greeting on port 25: fix their listener and"
        " firewall, or remove their AAAA records.")),
    ("web.reachable", FAIL): ("web", (YDT, NIST), N_(
        "Make the web server listen on its IPv6 addresses on the ports it serves over IPv4"
        " (80 and 443), and allow them for IPv6 in every firewall and load balancer.")),
    ("web.reachable", WARN): ("web", (YDT, NIST), N_(
        "Some ports open over IPv4 are closed over IPv6: open the same ports on every AAAA"
        " address, or remove the AAAA records of servers that cannot serve.")),
    ("web.http", FAIL): ("web", (YDT, NIST), N_(
        "Make the site answer over IPv6 without a server error (check the IPv6 listener's"
        " virtual host, the CDN and the load balancer), and let every redirect lead to a"
        " host with an IPv6 address.")),
    ("web.parity", FAIL): ("web", (YDT,), N_(
        "Serve the same site over IPv6 as over IPv4: the same virtual host, status and final"
        " URL; make sure no firewall or rate limit (403, 429) treats IPv6 visitors apart.")),
    ("web.links", FAIL): ("web", (YDT,), N_(
        "Make the pages the home page links to reachable over IPv6: publish AAAA records for"
        " their hosts, or link to hosts that have them.")),
    ("web.latency", FAIL): ("network", (YDT, "RFC 8305"), N_(
        "IPv6 is much slower than IPv4 here: look for a tunnel, a detour or an overloaded"
        " IPv6 gateway on the way to the server, and route IPv6 natively, like IPv4.")),
    ("web.latency", WARN): ("network", (YDT, "RFC 8305"), N_(
        "IPv6 is more than a fifth slower than IPv4: compare the IPv6 and IPv4 routes to the"
        " server, and how its load balancer handles IPv6.")),
    ("web.resources", FAIL): ("web", (YDT, NIST), N_(
        "Serve the page's scripts, style sheets, images and fonts from hosts with IPv6 (AAAA"
        " records): move them, or choose third-party and CDN hosts that support IPv6.")),
    ("web.resources", WARN): ("web", (YDT, NIST), N_(
        "A few of the page's resources do not load over IPv6: the hosts listed in the"
        " evidence need AAAA records, or the resources need to move.")),
    ("web.pmtu", FAIL): ("network", ("RFC 8201", "RFC 4890"), N_(
        "Let ICMPv6 Packet Too Big (type 2) through every firewall on the path to the server"
        " (RFC 4890), or clamp the TCP MSS on the tunnel or PPPoE link.")),
    ("net.ping", FAIL): ("network", ("RFC 4890", "RFC 4443"), N_(
        "Let ICMPv6 echo request and reply (types 128 and 129) reach and leave the system,"
        " as RFC 4890 recommends: rate-limit them rather than drop them.")),
    ("net.trace", FAIL): ("network", ("RFC 4443", "RFC 4890"), N_(
        "Make the system reachable over IPv6 end to end: check the route to its prefix, and"
        " let ICMPv6 Time Exceeded and Destination Unreachable through; a hop that answers"
        " Destination Unreachable shows where the path breaks.")),
    ("resolver.ipv6", FAIL): ("dns", ("RFC 3901",), N_(
        "Make the resolver answer recursive queries over IPv6: listen on its IPv6 address,"
        " allow the IPv6 client prefixes in its access list, and open UDP and TCP port 53"
        " for IPv6.")),
}  # fmt: skip

# An intermittent warn: the same advice for a whole family, keyed per check all the same.
_INTERMITTENT: dict[str, tuple[str, tuple[str, ...], str]] = {
    "dns": ("dns", ("RFC 3901",), N_(
        "IPv6 worked only after failed tries: check the name servers' response rate limits,"
        " their anycast nodes and the firewall's state for IPv6.")),
    "web": ("web", (NIST,), N_(
        "IPv6 worked only after failed tries: check that every server behind the load"
        " balancer answers over IPv6, and the firewall's state tables and rate limits for"
        " IPv6.")),
    "mail": ("mail", ("RFC 3974",), N_(
        "SMTP over IPv6 worked only after failed tries: check every mail server behind the"
        " address, its connection limits, and the firewall's state for IPv6.")),
    "net": ("network", ("RFC 4443", "RFC 4890"), N_(
        "Some ICMPv6 probes were lost before one got through: check ICMPv6 rate limits and"
        " packet loss on the path.")),
    "resolver": ("dns", ("RFC 3901",), N_(
        "The resolver answered over IPv6 only after failed tries: check its load, its rate"
        " limits and the firewall's state for IPv6.")),
}  # fmt: skip


def _table() -> dict[str, Fix]:
    fixes: dict[str, Fix] = {}
    for (check, outcome), (role, refs, text) in _TEXTS.items():
        fixes[f"{check}.{outcome}"] = Fix(f"{check}.{outcome}", role, refs, text)
    for check in dict.fromkeys(c for c, _ in _TEXTS):
        role, refs, text = _INTERMITTENT[check.split(".", 1)[0]]
        key = f"{check}.{INTERMITTENT}"
        fixes[key] = Fix(key, role, refs, text)
    return fixes


FIXES: dict[str, Fix] = _table()


def outcome_of(status: str, evidence: Mapping[str, Any]) -> str | None:
    """`fail`, `warn` or `intermittent`; None for a status that needs no fix."""
    if status == FAIL:
        return FAIL
    if status == WARN:
        return INTERMITTENT if is_intermittent(status, evidence) else WARN
    return None


def fix_key(check: str, status: str, evidence: Mapping[str, Any]) -> str | None:
    """The stable key of a result's fix; None when it needs none or none is written. A
    warn of a check whose catalogue has none of its own (a result made elsewhere) gets
    the check's fail fix: the same change makes it pass."""
    outcome = outcome_of(status, evidence)
    if outcome is None:
        return None
    key = f"{check}.{outcome}"
    if key not in FIXES and outcome == WARN:
        key = f"{check}.{FAIL}"
    return key if key in FIXES else None


def shown_fix(key: object, gettext: Callable[[str], str]) -> ShownFix | None:
    """The fix of `key` (a summary's, so anything) in the report's language. The texts
    hold no `%`: the report's gettext formats every message."""
    fix = FIXES.get(key) if isinstance(key, str) else None
    if fix is None:
        return None
    check, outcome = fix.key.rsplit(".", 1)
    return ShownFix(
        fix.key,
        check,
        gettext(OUTCOME_NAMES[outcome]),
        gettext(ROLES[fix.role]),
        ", ".join(fix.references),
        gettext(fix.text),
    )


def used_keys(keys: Iterable[object]) -> list[str]:
    """The known keys among `keys`, once each, in the table's order: the report's list."""
    present = set(keys)
    return [key for key in FIXES if key in present]
