"""The checks: the one table that names each check and says everything that is per check.

A check pairs a probe-side `observe` (I/O, returns an observation) with a pure `judge`
((observation, CheckOptions) -> Verdict), says which kinds of subject it looks at, what it
weighs in the default scoring profile, what the report calls it and which outcomes have
advice of their own in report/fixes.py. The order here is the report's order: charts,
drill-downs and the list of fixes show checks in it.

Everything else is derived from this table or tested against it: report/labels.py's
check names and order, scoring/profile.py's default weights, profiles/default.yaml, and
report/fixes.py's keys (tests/unit/test_registry_tables.py).

The functions are imported plainly, so that readers and tools can follow the calls. The
DNS, net and resolver families' are imported with this table: the fast paths need them
anyway. The web (with pmtu), mail and delegation families' modules, and the observations'
classes they bring, cost about 50 ms of start-up, a few percent of a 10,000-address ping
run that never calls them: each of those families lists its functions in a loader of its
own (`_web`, ...), plain imports inside, run on a check's first call (`Check.later`). The
probe modules import their heavy stacks (aiohttp, cryptography) on their first fetch.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from ipv6scan.checks.dns import judge_aaaa, judge_mx_ipv6, judge_ns_ipv6, judge_ns_reachable
from ipv6scan.checks.net import judge_ping, judge_trace
from ipv6scan.checks.resolver import judge_resolver_ipv6
from ipv6scan.model import Verdict
from ipv6scan.probes.dns import (
    observe_aaaa,
    observe_mail_exchangers,
    observe_name_servers,
    observe_ns_reachability,
    observe_resolver,
)
from ipv6scan.probes.net import observe_ping, observe_trace

Observe = Callable[[Any, Any], Awaitable[Any]]  # (ScanContext, Subject) -> observation
Judge = Callable[[Any, Any], Verdict]  # (observation, CheckOptions) -> Verdict

# Outcomes with advice of their own in report/fixes.py (a warn without its own advice
# gets the fail advice: the same change makes it pass). Every check with advice also has
# its family's advice for an intermittent warn.
FAIL_FIX: tuple[str, ...] = ("fail",)
FAIL_WARN_FIX: tuple[str, ...] = ("fail", "warn")
INTERMITTENT = "intermittent"
DEFAULT_WEIGHT = 1.0  # a check made elsewhere (a test's, a custom one)


def N_(message: str) -> str:
    """Marks a label for the report's catalogue (report/locale/babel.cfg reads this file);
    translated where it is shown. Not report.i18n's, which would load Babel."""
    return message


@dataclass(frozen=True)
class Check:
    id: str
    subject_kinds: tuple[str, ...]  # of "domain", "host", "address", "url", "resolver"
    observe: Observe
    judge: Judge
    weight: float = DEFAULT_WEIGHT  # in its tier, in the default scoring profile
    label: str = ""  # the report's name for it: an English msgid; "" shows the id
    fixes: tuple[str, ...] = ()  # outcomes with advice of their own (report/fixes.py)

    @classmethod
    def later(
        cls,
        id: str,
        subject_kinds: tuple[str, ...],
        family: Family,
        weight: float,
        label: str,
        fixes: tuple[str, ...],
    ) -> Check:
        """A check whose functions `family` (a loader below) imports on their first call."""
        return cls(id, subject_kinds, _Later(family, id, 0), _Later(family, id, 1), weight,
                   label, fixes)  # fmt: skip

    def functions(self) -> tuple[Observe, Judge]:
        """The observe and judge functions themselves, imported now if they were not."""
        return _resolved(self.observe), _resolved(self.judge)

    @property
    def family(self) -> str:
        return self.id.split(".", 1)[0]

    @property
    def fix_keys(self) -> tuple[str, ...]:
        """report/fixes.py's keys for this check: "<id>.<fail|warn|intermittent>"."""
        outcomes = (*self.fixes, INTERMITTENT) if self.fixes else ()
        return tuple(f"{self.id}.{outcome}" for outcome in outcomes)


Functions = dict[str, tuple[Observe, Judge]]  # check id -> (observe, judge)
Family = Callable[[], Functions]  # a family's loader: imports its modules, names its functions


class _Later:
    """One function of a family whose modules are imported on its first call."""

    __slots__ = ("_family", "_function", "_id", "_part")

    def __init__(self, family: Family, check_id: str, part: int) -> None:
        self._family, self._id, self._part = family, check_id, part
        self._function: Callable[..., Any] | None = None

    def resolve(self) -> Callable[..., Any]:
        if self._function is None:
            self._function = self._family()[self._id][self._part]
        return self._function

    def __call__(self, *args: Any) -> Any:
        return self.resolve()(*args)


@cache
def _resolved(function: Callable[..., Any]) -> Any:
    return function.resolve() if isinstance(function, _Later) else function


@cache
def _delegation() -> Functions:
    from ipv6scan.checks.delegation import judge_delegation
    from ipv6scan.probes.delegation import observe_delegation

    return {"dns.delegation": (observe_delegation, judge_delegation)}


@cache
def _mail() -> Functions:
    from ipv6scan.checks.mail import judge_smtp
    from ipv6scan.probes.mail import observe_smtp

    return {"mail.smtp": (observe_smtp, judge_smtp)}


@cache
def _web() -> Functions:
    from ipv6scan.checks import web
    from ipv6scan.checks.pmtu import judge_pmtu
    from ipv6scan.checks.web_resources import judge_resources
    from ipv6scan.probes import web as probes
    from ipv6scan.probes.pmtu import observe_pmtu
    from ipv6scan.probes.web_resources import observe_resources
    from ipv6scan.probes.web_site import observe_site

    return {
        "web.reachable": (observe_site, web.judge_reachable),
        "web.http": (probes.observe_http, web.judge_http),
        "web.parity": (probes.observe_parity, web.judge_parity),
        "web.links": (probes.observe_links, web.judge_links),
        "web.latency": (probes.observe_latency, web.judge_latency),
        "web.resources": (observe_resources, judge_resources),
        "web.pmtu": (observe_pmtu, judge_pmtu),
    }


HOST = ("host",)
DOMAIN = ("domain",)
WEB = ("host", "url")
SYSTEM = ("address", "host")

CHECKS: tuple[Check, ...] = (
    Check("dns.aaaa", HOST, observe_aaaa, judge_aaaa, 3,
          N_("IPv6 address (AAAA record)"), FAIL_WARN_FIX),
    Check("dns.ns_ipv6", DOMAIN, observe_name_servers, judge_ns_ipv6, 2,
          N_("Name servers have IPv6 addresses"), FAIL_WARN_FIX),
    Check("dns.ns_reachable", DOMAIN, observe_ns_reachability, judge_ns_reachable, 2,
          N_("Name servers answer over IPv6"), FAIL_WARN_FIX),
    Check("dns.mx_ipv6", DOMAIN, observe_mail_exchangers, judge_mx_ipv6, 1,
          N_("Mail servers have IPv6 addresses"), FAIL_WARN_FIX),
    Check.later("dns.delegation", DOMAIN, _delegation, 2,
          N_("Whole delegation chain reachable over IPv6"), FAIL_FIX),
    Check.later("mail.smtp", DOMAIN, _mail, 1,
          N_("Mail (SMTP) over IPv6"), FAIL_WARN_FIX),
    Check.later("web.reachable", WEB, _web, 3,
          N_("Web ports open over IPv6"), FAIL_WARN_FIX),
    Check.later("web.http", WEB, _web, 3,
          N_("Website answers over IPv6"), FAIL_FIX),
    Check.later("web.parity", WEB, _web, 2,
          N_("Same website over IPv6 and IPv4"), FAIL_FIX),
    Check.later("web.links", WEB, _web, 1,
          N_("Linked pages reachable over IPv6"), FAIL_FIX),
    Check.later("web.latency", WEB, _web, 1,
          N_("IPv6 as fast as IPv4"), FAIL_WARN_FIX),
    Check.later("web.resources", WEB, _web, 1,
          N_("Page resources load over IPv6"), FAIL_WARN_FIX),
    Check.later("web.pmtu", WEB, _web, 2,
          N_("Large packets arrive over IPv6 (path MTU)"), FAIL_FIX),
    Check("net.ping", SYSTEM, observe_ping, judge_ping, 1,
          N_("Answers ping over IPv6"), FAIL_FIX),
    Check("net.trace", SYSTEM, observe_trace, judge_trace, 1,
          N_("IPv6 route to the system"), FAIL_FIX),
    Check("resolver.ipv6", ("resolver",), observe_resolver, judge_resolver_ipv6, 2,
          N_("Resolver serves IPv6 clients"), FAIL_FIX),
)  # fmt: skip
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
