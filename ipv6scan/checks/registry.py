"""The explicit list of checks. The id here is the only place a check is named.

A check pairs a probe-side `observe` (I/O, returns an observation) with a pure
`judge` (observation -> Verdict), and says which kind of subject it looks at.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ipv6scan.model import Verdict

Observe = Callable[[Any, Any], Awaitable[Any]]  # (ScanContext, Subject) -> observation
Judge = Callable[[Any, Any], Verdict]  # (observation, CheckOptions) -> Verdict


@dataclass(frozen=True)
class Check:
    id: str
    subject_kinds: tuple[str, ...]  # of "domain", "host", "address", "url", "resolver"
    observe: Observe
    judge: Judge

    @property
    def family(self) -> str:
        return self.id.split(".", 1)[0]


class _Lazy:
    """A function of a check module or a probe module, imported on its first call: a scan
    loads only the stacks of the checks it runs (the web probes' aiohttp and cryptography
    alone cost a fifth of a second), and reading a target list loads none."""

    __slots__ = ("_function", "_module", "_name")

    def __init__(self, module: str, name: str) -> None:
        self._module, self._name = module, name
        self._function: Callable[..., Any] | None = None

    def __call__(self, *args: Any) -> Any:
        function = self._function
        if function is None:
            function = self.load()
        return function(*args)

    def load(self) -> Callable[..., Any]:
        """The function itself, imported now."""
        if self._function is None:
            self._function = getattr(importlib.import_module(self._module), self._name)
        return self._function

    def __repr__(self) -> str:
        return f"{self._module}.{self._name}"


def _check(check_id: str, kinds: tuple[str, ...], observe: str, judge: str) -> Check:
    """`observe`: probes.MODULE.FUNCTION; `judge`: checks.MODULE.FUNCTION."""
    probe_module, probe = observe.rsplit(".", 1)
    judge_module, judge_name = judge.rsplit(".", 1)
    return Check(
        check_id,
        kinds,
        _Lazy(f"ipv6scan.probes.{probe_module}", probe),
        _Lazy(f"ipv6scan.checks.{judge_module}", judge_name),
    )


def _build() -> tuple[Check, ...]:
    web = ("host", "url")
    return (
        _check("dns.aaaa", ("host",), "dns.observe_aaaa", "dns.judge_aaaa"),
        _check("dns.ns_ipv6", ("domain",), "dns.observe_name_servers",
               "dns.judge_ns_ipv6"),
        _check("dns.ns_reachable", ("domain",), "dns.observe_ns_reachability",
               "dns.judge_ns_reachable"),
        _check("dns.mx_ipv6", ("domain",), "dns.observe_mail_exchangers",
               "dns.judge_mx_ipv6"),
        _check("dns.delegation", ("domain",), "delegation.observe_delegation",
               "delegation.judge_delegation"),
        _check("web.reachable", web, "web_site.observe_site", "web.judge_reachable"),
        _check("web.http", web, "web.observe_http", "web.judge_http"),
        _check("web.parity", web, "web.observe_parity", "web.judge_parity"),
        _check("web.links", web, "web.observe_links", "web.judge_links"),
        _check("web.latency", web, "web.observe_latency", "web.judge_latency"),
        _check("web.resources", web, "web_resources.observe_resources",
               "web_resources.judge_resources"),
        _check("web.pmtu", web, "pmtu.observe_pmtu", "pmtu.judge_pmtu"),
        _check("mail.smtp", ("domain",), "mail.observe_smtp", "mail.judge_smtp"),
        _check("net.ping", ("address", "host"), "net.observe_ping", "net.judge_ping"),
        _check("net.trace", ("address", "host"), "net.observe_trace",
               "net.judge_trace"),
        _check("resolver.ipv6", ("resolver",), "dns.observe_resolver",
               "resolver.judge_resolver_ipv6"),
    )  # fmt: skip


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
