"""The explicit list of checks. The id here is the only place a check is named.

A check pairs a probe-side `observe` (I/O, returns an observation) with a pure
`judge` (observation -> Verdict), and says which kind of subject it looks at.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ipv6scan.checks import dns as dns_checks
from ipv6scan.checks import mail as mail_checks
from ipv6scan.checks import net as net_checks
from ipv6scan.checks import resolver as resolver_checks
from ipv6scan.checks import web as web_checks
from ipv6scan.model import Verdict

Observe = Callable[[Any, Any], Awaitable[Any]]  # (ScanContext, Subject) -> observation
Judge = Callable[[Any], Verdict]


@dataclass(frozen=True)
class Check:
    id: str
    subject_kinds: tuple[str, ...]  # of "domain", "host", "address", "url", "resolver"
    observe: Observe
    judge: Judge

    @property
    def family(self) -> str:
        return self.id.split(".", 1)[0]


def _dns_observers() -> dict[str, Observe]:
    # imported here so that the pure judges and this table load without the probe stack
    from ipv6scan.probes import dns_observe as o

    return {
        "aaaa": o.observe_aaaa,
        "ns": o.observe_name_servers,
        "ns_reach": o.observe_ns_reachability,
        "mx": o.observe_mail_exchangers,
        "resolver": o.observe_resolver,
    }


def _mail_net_observers() -> dict[str, Observe]:
    from ipv6scan.probes import net_observe, smtp

    return {
        "smtp": smtp.observe_smtp,
        "ping": net_observe.observe_ping,
        "trace": net_observe.observe_trace,
    }


def _web_observers() -> dict[str, Observe]:
    from ipv6scan.probes import web_observe as w

    return {
        "web_site": w.observe_site,
        "web_http": w.observe_http,
        "web_parity": w.observe_parity,
        "web_links": w.observe_links,
        "web_latency": w.observe_latency,
    }


def _build() -> tuple[Check, ...]:
    o = {**_dns_observers(), **_mail_net_observers(), **_web_observers()}
    web = ("host", "url")
    return (
        Check("dns.aaaa", ("host",), o["aaaa"], dns_checks.judge_aaaa),
        Check("dns.ns_ipv6", ("domain",), o["ns"], dns_checks.judge_ns_ipv6),
        Check("dns.ns_reachable", ("domain",), o["ns_reach"], dns_checks.judge_ns_reachable),
        Check("dns.mx_ipv6", ("domain",), o["mx"], dns_checks.judge_mx_ipv6),
        Check("web.reachable", web, o["web_site"], web_checks.judge_reachable),
        Check("web.http", web, o["web_http"], web_checks.judge_http),
        Check("web.parity", web, o["web_parity"], web_checks.judge_parity),
        Check("web.links", web, o["web_links"], web_checks.judge_links),
        Check("web.latency", web, o["web_latency"], web_checks.judge_latency),
        Check("mail.smtp", ("domain",), o["smtp"], mail_checks.judge_smtp),
        Check("net.ping", ("address", "host"), o["ping"], net_checks.judge_ping),
        Check("net.trace", ("address", "host"), o["trace"], net_checks.judge_trace),
        Check("resolver.ipv6", ("resolver",), o["resolver"], resolver_checks.judge_resolver_ipv6),
    )


CHECKS: tuple[Check, ...] = _build()
CHECK_IDS: tuple[str, ...] = tuple(c.id for c in CHECKS)
FAMILIES: tuple[str, ...] = ("dns", "web", "mail", "net", "resolver")
BY_ID: dict[str, Check] = {c.id: c for c in CHECKS}


def select(names: Iterable[str] | None) -> tuple[Check, ...]:
    """Checks named by id or family; all when `names` is None. Unknown names raise ValueError."""
    if names is None:
        return CHECKS
    chosen: list[Check] = []
    for name in names:
        if name in BY_ID:
            found = [BY_ID[name]]
        elif name in FAMILIES:
            found = [c for c in CHECKS if c.family == name]
        else:
            raise ValueError(f"unknown check {name!r}; known: {', '.join((*FAMILIES, *CHECK_IDS))}")
        chosen.extend(c for c in found if c not in chosen)
    return tuple(chosen)
