"""A scoring profile: what each check weighs, what each status earns, how tiers combine and
what each rung of the stage ladder needs. The defaults below are the documented defaults
(profiles/default.yaml spells out the same values, tests/unit/test_registry_tables.py
holds them to it); a YAML profile overrides any part (ipv6scan.scoring.profile_yaml).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TypeVar

from ipv6scan.checks.registry import CHECKS, DEFAULT_WEIGHT
from ipv6scan.model import TIERS, Status

# Points per status, internet.nl style: full, half, none. `pass` and `fail` are fixed by the
# contract (every check passes: 100; every check fails: 0); `warn` is the profile's to set.
POINTS: dict[Status, float] = {Status.PASS: 1.0, Status.WARN: 0.5, Status.FAIL: 0.0}

# How much each check weighs within its tier (what users feel most weighs most): each
# check's weight in the registry. DEFAULT_WEIGHT: a check missing here (a custom one).
WEIGHTS: dict[str, float] = {check.id: float(check.weight) for check in CHECKS}

# A target's score is the weighted mean of its tier scores; equal weights by default so that
# a long list of service names does not drown the backbone.
TIER_WEIGHTS: dict[str, float] = dict.fromkeys(TIERS, 1.0)

# internet.nl: a domain with a single IPv6 name server earns at most half marks. dns.ns_ipv6
# already warns (half) for it; this caps the same domain's dns.ns_reachable at this share of
# its points, so that one reachable server is not worth as much as redundant ones.
SINGLE_NS_CAP = 0.5

FIX_FIRST = 5  # how many "what to fix first" items each target row lists

V = TypeVar("V")

ANY_CHECK = "*"  # in a stage rule: every check that the rung does not name


@dataclass(frozen=True)
class Requirement:
    """One condition of a stage rung, over a target's results of one check.

    Met when at least `at_least` percent of the decided (pass, warn, fail) results are good,
    and at least one is; with `if_present`, a check with no decided result (the service is
    absent: no MX, the check did not run, only errors) also meets it.
    """

    check: str  # a check id, or ANY_CHECK
    at_least: float  # 0-100
    if_present: bool = False

    def met(self, counts: Mapping[str, int], good: tuple[str, ...]) -> bool:
        decided = sum(counts.get(s, 0) for s in ("pass", "warn", "fail"))
        if decided == 0:
            return self.if_present
        ok = sum(counts.get(s, 0) for s in good)
        if ok == 0 and not self.if_present:
            return False
        return 100 * ok / decided >= self.at_least


# The service ladder above ipv4-only. Below ipv6-ready a `warn` is good (the thing exists,
# imperfectly); ipv6-ready wants `pass`. Each rung needs every rung below it.
STAGE_RULES: dict[str, tuple[Requirement, ...]] = {
    "aaaa-published": (Requirement("dns.aaaa", 0),),
    "reachable": (Requirement("web.reachable", 0), Requirement("web.http", 0)),
    "dual-stack": (Requirement("web.parity", 100),),
    "ipv6-ready": (
        Requirement("dns.ns_ipv6", 100),
        Requirement("dns.ns_reachable", 100),
        Requirement("dns.delegation", 100, if_present=True),
        Requirement("dns.mx_ipv6", 100, if_present=True),
        Requirement("mail.smtp", 100, if_present=True),
        Requirement("web.links", 100),
        Requirement(ANY_CHECK, 100, if_present=True),
    ),
}


def _frozen(mapping: Mapping[str, V]) -> Mapping[str, V]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class Profile:
    name: str = "default"
    source: str | None = None  # the YAML file it came from; None for the built-in defaults
    weights: Mapping[str, float] = field(default_factory=lambda: _frozen(WEIGHTS))
    default_weight: float = DEFAULT_WEIGHT
    warn_points: float = POINTS[Status.WARN]
    warn_points_by_check: Mapping[str, float] = field(default_factory=lambda: _frozen({}))
    tier_weights: Mapping[str, float] = field(default_factory=lambda: _frozen(TIER_WEIGHTS))
    single_ns_cap: float = SINGLE_NS_CAP
    fix_first: int = FIX_FIRST
    # scans from several vantage points: the share of them a result must hold from
    # (scoring/vantage.py); 1.0: a subject works only where it works from every one
    vantage_share: float = 1.0
    stages: Mapping[str, tuple[Requirement, ...]] = field(
        default_factory=lambda: _frozen(STAGE_RULES)
    )

    def weight(self, check: str) -> float:
        return float(self.weights.get(check, self.default_weight))

    def earned(self, check: str, status: str) -> float | None:
        """Points (0-1) a result earns; None when undecided (error, skip never count)."""
        if status == "pass":
            return 1.0
        if status == "fail":
            return 0.0
        if status == "warn":
            return float(self.warn_points_by_check.get(check, self.warn_points))
        return None

    def tier_weight(self, tier: str) -> float:
        return float(self.tier_weights.get(tier, 1.0))

    def describe(self) -> dict[str, object]:
        return {"name": self.name, "source": self.source}


DEFAULT_PROFILE = Profile()
