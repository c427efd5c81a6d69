"""Policy milestones of a target list (`milestones:` at its top level): parsed and checked
here, with file:line errors, then evaluated against a run's summary and its history.

    milestones:
      - {name: "Government services score 90", metric: score, sector: government,
         tier: services, at_least: 90, by: 2025-12-31, from: 2024-01-01}

A milestone is `met` once its value reaches `at_least`; `behind` once its deadline has
passed without that, or while the value is below the straight line from its baseline to
`at_least` at `by`; otherwise `on-track`. `not-assessed` when nothing could be decided.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from yaml.nodes import Node, ScalarNode, SequenceNode

from ipv6scan.model import SECTORS, TIERS
from ipv6scan.safetext import quote
from ipv6scan.scoring.profile_yaml import known_checks
from ipv6scan.scoring.stages import STAGES, rank
from ipv6scan.targets import (
    YAML_SUFFIXES,
    ListReader,
    TargetError,
    TooManyErrors,
    YamlWalker,
    describe_node,
    load_yaml_targets,
    node_line,
)

METRICS = ("score", "pass_share", "stage_share")
KEYS: tuple[str, ...] = ("name", "metric", "sector", "tier", "target", "check", "stage")
KEYS += ("at_least", "by", "from", "start")
HISTORY_POINTS = 30  # per milestone in summary.json, the current run included


@dataclass(frozen=True)
class Milestone:
    name: str
    metric: str  # one of METRICS
    at_least: float  # 0-100
    by: dt.date
    sector: str | None = None
    tier: str | None = None
    target: str | None = None
    check: str | None = None  # pass_share
    stage: str | None = None  # stage_share
    start: dt.date | None = None  # `from`: where the straight line to the goal begins
    start_value: float | None = None  # `start`: the value at `from`, when known
    source: str = ""  # FILE:LINE

    def scope(self) -> dict[str, str]:
        keys = ("sector", "tier", "target", "check", "stage")
        return {k: v for k in keys if (v := getattr(self, k)) is not None}


class MilestoneErrors(Exception):
    def __init__(self, errors: list[TargetError]) -> None:
        super().__init__(errors)
        self.errors = errors

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)


# ------------------------------------------------------------------------------- parsing


class _Walker(YamlWalker):
    def __init__(self, path: str, target_names: set[str] | None) -> None:
        super().__init__(path)
        self.target_names = target_names  # None: plain lists too, any name may exist

    def date(self, node: Node, what: str) -> dt.date | None:
        value = self.construct(node) if isinstance(node, ScalarNode) else None
        if isinstance(value, str):
            try:
                value = dt.date.fromisoformat(value.strip())
            except ValueError:
                value = None
        if isinstance(value, dt.datetime):
            value = value.date()
        if not isinstance(value, dt.date):
            self.error(node, f"{what} must be a date YYYY-MM-DD, got {describe_node(node)}")
            return None
        return value

    def percent(self, node: Node, what: str) -> float | None:
        value = self.construct(node) if isinstance(node, ScalarNode) else None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
            self.error(node, f"{what} must be a number from 0 to 100, got {describe_node(node)}")
            return None
        return float(value)

    def choice(self, node: Node, what: str, allowed: Sequence[str]) -> str | None:
        text = self.string(node, what)
        if text is not None and text not in allowed:
            self.error(node, f"unknown {what} {quote(text)}; expected one of {', '.join(allowed)}")
            return None
        return text

    def milestone(self, node: Node) -> Milestone | None:
        before = len(self.errors)
        f = self.fields(node, "milestone", KEYS, ("name", "metric", "at_least", "by"))
        if f is None:
            return None
        v: dict[str, Any] = {}
        v["name"] = self.string(f["name"][1], "milestone name") if "name" in f else None
        v["metric"] = self.choice(f["metric"][1], "metric", METRICS) if "metric" in f else None
        v["at_least"] = self.percent(f["at_least"][1], "at_least") if "at_least" in f else None
        v["by"] = self.date(f["by"][1], "by") if "by" in f else None
        for key, allowed in (("sector", SECTORS), ("tier", TIERS), ("stage", STAGES)):
            if key in f:
                v[key] = self.choice(f[key][1], key, allowed)
        if "check" in f:
            v["check"] = self.choice(f["check"][1], "check", known_checks())
        if "target" in f:
            v["target"] = self.target(f["target"][1])
        if "from" in f:
            v["start"] = self.date(f["from"][1], "from")
        if "start" in f:
            v["start_value"] = self.percent(f["start"][1], "start")
        self.consistent(node, f, v)
        if len(self.errors) != before:
            return None
        return Milestone(**v, source=f"{self.path}:{node_line(node)}")

    def target(self, node: Node) -> str | None:
        name = self.string(node, "target")
        if name is not None and self.target_names is not None and name not in self.target_names:
            self.error(node, f"unknown target {quote(name)}: no target of that name in the lists")
            return None
        return name

    def consistent(self, node: Node, f: Mapping[str, Any], v: Mapping[str, Any]) -> None:
        """What each metric needs and refuses; `from` before `by`."""
        metric = v.get("metric")
        needs = {"pass_share": "check", "stage_share": "stage"}.get(str(metric))
        if needs and needs not in f:
            self.error(node, f"metric {metric} needs {quote(needs)}")
        refused = {"score": ("check", "stage"), "pass_share": ("stage",)}
        refused["stage_share"] = ("check", "tier")
        for key in refused.get(str(metric), ()):
            if key in f:
                self.error(f[key][0], f"metric {metric} does not take {quote(key)}")
        if "target" in f and "sector" in f:
            self.error(f["sector"][0], "give target or sector, not both")
        if "start" in f and "from" not in f:
            self.error(f["start"][0], "start (the value at `from`) needs `from`")
        start, by = v.get("start"), v.get("by")
        if start is not None and by is not None and start >= by:
            self.error(f["from"][1], f"from ({start}) must be before by ({by})")

    def all(self, node: Node | None, seen: dict[str, str]) -> list[Milestone]:
        if node is None:
            return []
        if not isinstance(node, SequenceNode):
            self.error(node, f"milestones must be a list, got {describe_node(node)}")
            return []
        out: list[Milestone] = []
        for item in node.value:
            m = self.milestone(item)
            if m is None:
                continue
            if m.name in seen:
                self.error(
                    item, f"duplicate milestone name {quote(m.name)} (first at {seen[m.name]})"
                )
                continue
            seen[m.name] = m.source
            out.append(m)
        return out


def load_milestones(
    paths: Iterable[str | os.PathLike[str]], reader: ListReader | None = None
) -> list[Milestone]:
    """The milestones of every YAML target list in `paths` (already validated as target
    lists); raise MilestoneErrors listing every problem. Plain lists have none. `reader`:
    the lists already read in this run."""
    spaths = [os.fspath(p) for p in paths]
    yaml_paths = [p for p in spaths if os.path.splitext(p)[1].lower() in YAML_SUFFIXES]
    load = reader.load if reader is not None else load_yaml_targets
    lists = [load(p) for p in yaml_paths]
    names: set[str] | None = {t.name for tl in lists for t in tl.targets}
    if len(yaml_paths) != len(spaths):
        names = None  # targets of plain lists are named after their domains: cannot check
    seen: dict[str, str] = {}
    milestones: list[Milestone] = []
    errors: list[TargetError] = []
    for tl in lists:
        walker = _Walker(tl.path, names)
        with contextlib.suppress(TooManyErrors):  # the walker noted it as its last error
            milestones.extend(walker.all(tl.milestones_node, seen))
        errors.extend(sorted(walker.errors, key=lambda e: e.line or 0))
    if errors:
        raise MilestoneErrors(errors)
    return milestones


# ---------------------------------------------------------------------------- evaluation


def _dict(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _num(value: object) -> float | None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    return float(value) if ok else None  # type: ignore[arg-type]


def _group(m: Milestone, summary: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The summary part a milestone looks at: a target row, a sector, or the whole run."""
    if m.target is not None:
        rows = [r for r in summary.get("targets") or [] if _dict(r).get("name") == m.target]
        return rows[0] if rows else None
    if m.sector is not None:
        return _dict(summary.get("sectors")).get(m.sector)
    return _dict(summary.get("overall"))


def value_of(m: Milestone, summary: Mapping[str, Any]) -> float | None:
    """The milestone's metric (0-100) in one summary; None when nothing is decided."""
    group = _group(m, summary)
    if group is None:
        return None
    tiers = _dict(group.get("tiers"))
    if m.metric == "score":
        return _num(_dict(tiers.get(m.tier)).get("score") if m.tier else group.get("score"))
    if m.metric == "pass_share":
        picked = [tiers.get(m.tier)] if m.tier else list(tiers.values())
        counts = [_dict(_dict(_dict(t).get("checks")).get(m.check or "")) for t in picked]
        passed = sum(int(c.get("pass", 0)) for c in counts)
        decided = sum(int(c.get(s, 0)) for c in counts for s in ("pass", "warn", "fail"))
        return round(100 * passed / decided, 1) if decided else None
    # stage_share: a target row has one stage, a group counts them
    stages = {str(group.get("stage")): 1} if m.target else _dict(group.get("stages"))
    wanted = rank(str(m.stage))
    assessed = {s: int(n) for s, n in stages.items() if rank(s) is not None}
    total = sum(assessed.values())
    at_or_above = sum(n for s, n in assessed.items() if (rank(s) or 0) >= (wanted or 0))
    return round(100 * at_or_above / total, 1) if total else None


def _baseline(
    m: Milestone, points: Sequence[tuple[dt.date, float]]
) -> tuple[dt.date, float] | None:
    if m.start is not None and m.start_value is not None:
        return m.start, m.start_value
    if m.start is not None:
        before = [p for p in points if p[0] <= m.start]
        after = [p for p in points if p[0] > m.start]
        # the last value measured by `from` stands for it; else the first one after
        return (m.start, before[-1][1]) if before else (after[0] if after else None)
    return points[0] if points else None


def evaluate_one(
    m: Milestone,
    value: float | None,
    today: dt.date,
    history: Sequence[tuple[dt.date, float | None]] = (),
) -> dict[str, Any]:
    """State of one milestone. `history`: earlier runs' (date, value), oldest first."""
    points = sorted((d, v) for d, v in history if v is not None and d <= today)
    if value is not None:
        points.append((today, value))
    expected: float | None = None
    base = _baseline(m, points)
    if value is None:
        state = "not-assessed"
    elif value >= m.at_least:
        state = "met"
    elif today > m.by:
        state = "behind"
    elif base is None or today <= base[0]:
        state = "on-track"  # the first measurement, or before `from`: no path to keep yet
    else:
        start, start_value = base
        elapsed = (today - start).days / max((m.by - start).days, 1)
        expected = round(start_value + (m.at_least - start_value) * min(elapsed, 1.0), 1)
        state = "on-track" if value >= expected else "behind"
    return {
        "name": m.name,
        "metric": m.metric,
        "scope": m.scope(),
        "value": value,
        "target_value": m.at_least,
        "by": m.by.isoformat(),
        "from": m.start.isoformat() if m.start else None,
        "state": state,
        "expected": expected,
        "baseline": {"date": base[0].isoformat(), "value": base[1]} if base else None,
        "history": [[d.isoformat(), v] for d, v in points[-HISTORY_POINTS:]],
        "source": m.source,
    }


def evaluate(
    milestones: Iterable[Milestone],
    summary: Mapping[str, Any],
    today: dt.date,
    history: Sequence[tuple[dt.date, Mapping[str, Any]]] = (),
) -> list[dict[str, Any]]:
    """Every milestone against this run's summary and earlier runs' summaries."""
    milestones = list(milestones)
    # the target rows may be a spool of a million: read them once, keep the named ones
    named = _named_rows(summary.get("targets") or [], {m.target for m in milestones if m.target})
    current = {**summary, "targets": named}
    out = []
    for m in milestones:
        past = [(d, value_of(m, s)) for d, s in history]
        out.append(evaluate_one(m, value_of(m, current), today, past))
    return out


def _named_rows(rows: Iterable[Any], names: set[str]) -> list[Mapping[str, Any]]:
    """The first row of each name in `names`, in the order of `rows`."""
    found: dict[str, Mapping[str, Any]] = {}
    if names:
        for row in rows:
            name = _dict(row).get("name")
            if name in names and name not in found:
                found[name] = row
    return list(found.values())
