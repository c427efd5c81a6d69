"""Scoring profiles from YAML (`--profile FILE`), checked node by node so that every error
names its file and line, all of them at once (as target lists do).

Everything is optional; what a profile names overrides the default, the rest stays. See
profiles/default.yaml for every key with its default.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode

from ipv6scan.checks.registry import CHECK_IDS
from ipv6scan.model import TIERS
from ipv6scan.safetext import quote
from ipv6scan.scoring.profile import ANY_CHECK, DEFAULT_PROFILE, STAGE_RULES, Profile, Requirement
from ipv6scan.scoring.stages import STAGES
from ipv6scan.targets import (
    TargetError,
    TooManyErrors,
    YamlWalker,
    compose_yaml,
    describe_node,
)

TOP_KEYS = (
    "version",
    "name",
    "points",
    "warn_points",
    "weights",
    "default_weight",
    "tiers",
    "single_ipv6_name_server",
    "fix_first",
    "vantage_share",
    "stages",
)
POINT_KEYS = ("pass", "warn", "fail")
RULE_KEYS = ("at_least", "if_present")
_TAG = "tag:yaml.org,2002:"


class ProfileError(Exception):
    """A profile that does not load; `errors` are file:line problems."""

    def __init__(self, errors: list[TargetError]) -> None:
        super().__init__(errors)
        self.errors = errors

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)


def known_checks() -> tuple[str, ...]:
    """The registry's checks: a profile may name nothing else."""
    return CHECK_IDS


class _ProfileWalker(YamlWalker):
    def number(self, node: Node, what: str, low: float, high: float | None = None) -> float | None:
        value = self.construct(node) if isinstance(node, ScalarNode) else None
        number = None
        if node.tag in (_TAG + "int", _TAG + "float") and isinstance(value, (int, float)):
            number = float(value)
        if (
            number is None
            or not math.isfinite(number)
            or number < low
            or (high is not None and number > high)
        ):
            bounds = f"between {low:g} and {high:g}" if high is not None else f"at least {low:g}"
            self.error(node, f"{what} must be a number {bounds}, got {describe_node(node)}")
            return None
        return number

    def check_id(self, node: Node, what: str, allow_any: bool = False) -> str | None:
        text = self.string(node, what)
        known = known_checks()
        if text is not None and text not in known and not (allow_any and text == ANY_CHECK):
            extra = f" or {quote(ANY_CHECK)}" if allow_any else ""
            self.error(
                node,
                f"unknown check {quote(text)} in {what}; expected one of {', '.join(known)}{extra}",
            )
            return None
        return text

    def table(
        self, node: Node, what: str, read: Callable[[Node, str], Any], *, any_key: bool = False
    ) -> dict[str, Any]:
        """A mapping of check id -> value, read by `read`."""
        if not isinstance(node, MappingNode):
            self.error(node, f"{what} must be a mapping of check ids, got {describe_node(node)}")
            return {}
        out: dict[str, Any] = {}
        for key, value in node.value:
            check = self.check_id(key, what, allow_any=any_key)
            if check is None:
                continue
            if check in out:
                self.error(key, f"duplicate check {quote(check)} in {what}")
                continue
            parsed = read(value, f"{what}.{check}")
            if parsed is not None:
                out[check] = parsed
        return out

    def requirement(self, node: Node, what: str) -> tuple[float, bool] | None:
        if isinstance(node, MappingNode):
            fields = self.fields(node, what, RULE_KEYS, ("at_least",))
            if fields is None or "at_least" not in fields:
                return None
            at_least = self.number(fields["at_least"][1], f"{what}.at_least", 0, 100)
            if_present = False
            if "if_present" in fields:
                flag = fields["if_present"][1]
                if flag.tag != _TAG + "bool":
                    self.error(
                        flag, f"{what}.if_present must be true or false, got {describe_node(flag)}"
                    )
                else:
                    if_present = bool(self.construct(flag))
            return None if at_least is None else (at_least, if_present)
        at_least = self.number(node, what, 0, 100)
        return None if at_least is None else (at_least, False)

    def stages(self, node: Node) -> dict[str, tuple[Requirement, ...]]:
        rungs = self.fields(node, "stages", STAGES[1:], ())
        out: dict[str, tuple[Requirement, ...]] = dict(STAGE_RULES)
        for rung, (key, value) in (rungs or {}).items():
            table = self.table(value, f"stages.{rung}", self.requirement, any_key=True)
            out[rung] = tuple(Requirement(c, a, p) for c, (a, p) in table.items())
            if rung == STAGES[1] and not [c for c in table if c != ANY_CHECK]:
                self.error(key, f"stages.{rung} must name at least one check: it decides ipv4-only")
        return out

    def profile(self, root: Node | None) -> Profile | None:
        if root is None:
            self.error(None, "profile is empty; expected a mapping (see profiles/default.yaml)")
            return None
        fields = self.fields(root, "the top level", TOP_KEYS, ())
        if fields is None:
            return None
        values: dict[str, Any] = {"source": self.path}
        got = {k: v for k, (_key, v) in fields.items()}
        if "version" in got and self.construct(got["version"]) != 1:
            self.error(got["version"], f"version must be 1, got {describe_node(got['version'])}")
        if "name" in got:
            values["name"] = self.string(got["name"], "name")
        else:
            values["name"] = os.path.splitext(os.path.basename(self.path))[0]
        if "points" in got:
            values.update(self.points(got["points"]))
        if "warn_points" in got:
            values["warn_points_by_check"] = self.table(
                got["warn_points"], "warn_points", lambda n, w: self.number(n, w, 0, 1)
            )
        if "weights" in got:
            weights = self.table(got["weights"], "weights", lambda n, w: self.number(n, w, 0))
            values["weights"] = {**DEFAULT_PROFILE.weights, **weights}
        if "default_weight" in got:
            values["default_weight"] = self.number(got["default_weight"], "default_weight", 0)
        if "tiers" in got:
            tiers = self.fields(got["tiers"], "tiers", TIERS, ())
            values["tier_weights"] = {
                **DEFAULT_PROFILE.tier_weights,
                **{t: self.number(v, f"tiers.{t}", 0) for t, (_k, v) in (tiers or {}).items()},
            }
        if "single_ipv6_name_server" in got:
            node = got["single_ipv6_name_server"]
            values["single_ns_cap"] = self.number(node, "single_ipv6_name_server", 0, 1)
        if "fix_first" in got:
            count = self.number(got["fix_first"], "fix_first", 0, 100)
            if count is not None and count != int(count):
                self.error(got["fix_first"], "fix_first must be a whole number")
            values["fix_first"] = None if count is None else int(count)
        if "vantage_share" in got:
            share = self.number(got["vantage_share"], "vantage_share", 0, 1)
            if share is not None and share <= 0:
                self.error(got["vantage_share"], "vantage_share must be above 0")
            values["vantage_share"] = share
        if "stages" in got:
            values["stages"] = self.stages(got["stages"])
        if self.errors or any(v is None for v in values.values()):
            return None
        return Profile(**values)

    def points(self, node: Node) -> dict[str, float]:
        fields = self.fields(node, "points", POINT_KEYS, ())
        out: dict[str, float] = {}
        for status, fixed in (("pass", 1.0), ("fail", 0.0)):
            if fields and status in fields:
                value = self.number(fields[status][1], f"points.{status}", 0, 1)
                if value is not None and value != fixed:
                    # the contract: every check passing scores 100, every check failing 0
                    self.error(fields[status][1], f"points.{status} is fixed at {fixed:g}")
        if fields and "warn" in fields:
            warn = self.number(fields["warn"][1], "points.warn", 0, 1)
            if warn is not None:
                out["warn_points"] = warn
        return out


def load_profile(path: str | os.PathLike[str]) -> Profile:
    """Load and check a YAML scoring profile; raise ProfileError listing every problem."""
    spath = os.fspath(path)
    try:
        root = compose_yaml(spath)
    except TargetError as exc:
        raise ProfileError([exc]) from None
    walker = _ProfileWalker(spath)
    try:
        profile = walker.profile(root)
    except TooManyErrors:
        profile = None
    if walker.errors or profile is None:
        raise ProfileError(sorted(walker.errors, key=lambda e: e.line or 0))
    return profile
