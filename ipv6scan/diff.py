"""What regressed and what improved between two runs, by (target, tier, subject, check).

A decided status getting worse (pass -> warn or fail, warn -> fail) is a regression, and so
is a target score that fell; the reverse is an improvement. A transition from or to `error`
or `skip` says nothing about the site, so it is listed apart as "changed, undecided". Scores
of both runs are computed here with one profile, so a changed profile cannot fake a change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ipv6scan.model import CheckResult
from ipv6scan.scoring import DEFAULT_PROFILE, Profile, summarize

RANK = {"fail": 0, "warn": 1, "pass": 2}
Key = tuple[str, str, str, str]  # target, tier, subject, check
Results = Callable[[], Iterable[CheckResult]]  # called once per pass over a run's results


@dataclass(frozen=True)
class Change:
    target: str
    tier: str
    subject: str
    check: str
    old: str | None  # None: the result appeared
    new: str | None  # None: the result disappeared
    detail: str = ""  # the newer result's detail, else the older one's

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "tier": self.tier,
            "subject": self.subject,
            "check": self.check,
            "old": self.old,
            "new": self.new,
            "detail": self.detail,
        }

    def line(self) -> str:
        where = f"{self.target} / {self.subject} / {self.check}"
        if self.tier != "services":
            where = f"{self.target} / {self.tier} / {self.subject} / {self.check}"
        text = f"{where}: {self.old or '-'} -> {self.new or '-'}"
        return f"{text}  ({self.detail})" if self.detail else text


@dataclass(frozen=True)
class ScoreChange:
    target: str
    old: float | None
    new: float | None

    @property
    def fell(self) -> bool:
        return self.old is not None and self.new is not None and self.new < self.old

    @property
    def rose(self) -> bool:
        return self.old is not None and self.new is not None and self.new > self.old

    def line(self) -> str:
        old = "not scored" if self.old is None else f"{self.old:g}"
        new = "not scored" if self.new is None else f"{self.new:g}"
        delta = ""
        if self.old is not None and self.new is not None and self.old != self.new:
            delta = f" ({self.new - self.old:+.1f})"
        return f"{self.target}: {old} -> {new}{delta}"


@dataclass
class Diff:
    regressed: list[Change] = field(default_factory=list)
    improved: list[Change] = field(default_factory=list)
    undecided: list[Change] = field(default_factory=list)
    appeared: list[Change] = field(default_factory=list)
    disappeared: list[Change] = field(default_factory=list)
    scores: list[ScoreChange] = field(default_factory=list)  # targets whose score changed
    overall: ScoreChange = field(default_factory=lambda: ScoreChange("overall", None, None))

    @property
    def fell(self) -> list[ScoreChange]:
        return [s for s in self.scores if s.fell]

    @property
    def has_regression(self) -> bool:
        return bool(self.regressed or self.fell)

    def gate(self) -> list[str]:
        """--fail-on-regression's findings: pass -> warn or fail, and scores that fell."""
        lines = [f"regressed: {c.line()}" for c in self.regressed if c.old == "pass"]
        return lines + [f"score fell: {s.line()}" for s in self.fell]

    def to_json(self) -> dict[str, Any]:
        return {
            "regression": self.has_regression,
            "regressed": [c.to_json() for c in self.regressed],
            "improved": [c.to_json() for c in self.improved],
            "changed_undecided": [c.to_json() for c in self.undecided],
            "appeared": [c.to_json() for c in self.appeared],
            "disappeared": [c.to_json() for c in self.disappeared],
            "scores": [
                {"target": s.target, "old": s.old, "new": s.new, "fell": s.fell}
                for s in self.scores
            ],
            "overall": {"old": self.overall.old, "new": self.overall.new},
        }

    def to_text(self) -> str:
        parts: list[str] = []
        for title, changes in (
            ("Regressed", self.regressed),
            ("Improved", self.improved),
            ("Changed, undecided", self.undecided),
            ("Appeared", self.appeared),
            ("Disappeared", self.disappeared),
        ):
            if changes:
                parts.append(f"{title} ({len(changes)}):")
                parts.extend(f"  {c.line()}" for c in changes)
        if self.scores:
            parts.append(f"Target scores ({len(self.scores)}):")
            for s in self.scores:
                mark = "  fell" if s.fell else ("  rose" if s.rose else "")
                parts.append(f"  {s.line()}{mark}")
        parts.append(f"Overall score: {self.overall.line().split(': ', 1)[1]}")
        verdict = "regression" if self.has_regression else "no regression"
        counts = f"{len(self.regressed)} regressed, {len(self.improved)} improved"
        parts.append(f"{verdict}: {counts}, {len(self.fell)} target score(s) fell")
        return "\n".join(parts)


def _sort(changes: list[Change]) -> list[Change]:
    return sorted(changes, key=lambda c: (c.target, c.tier, c.subject, c.check))


def compare(old: Results, new: Results, profile: Profile = DEFAULT_PROFILE) -> Diff:
    """Compare two runs' results; each is read twice (statuses, then scores), streamed."""
    before: dict[Key, tuple[str, str]] = {}
    for r in old():
        before[(r.target, r.tier, r.subject, r.check)] = (str(r.status), r.detail)
    diff = Diff()
    for r in new():
        key = (r.target, r.tier, r.subject, r.check)
        status = str(r.status)
        previous = before.pop(key, None)
        if previous is None:
            diff.appeared.append(Change(*key, None, status, r.detail))
            continue
        was = previous[0]
        if was == status:
            continue
        change = Change(*key, was, status, r.detail)
        if was not in RANK or status not in RANK:
            diff.undecided.append(change)
        elif RANK[status] < RANK[was]:
            diff.regressed.append(change)
        else:
            diff.improved.append(change)
    diff.disappeared = [Change(*k, was, None, detail) for k, (was, detail) in before.items()]
    for name in ("regressed", "improved", "undecided", "appeared", "disappeared"):
        setattr(diff, name, _sort(getattr(diff, name)))
    old_sum, new_sum = summarize(old(), profile=profile), summarize(new(), profile=profile)
    old_scores = {t["name"]: t["score"] for t in old_sum["targets"]}
    for t in new_sum["targets"]:
        if t["name"] in old_scores and old_scores[t["name"]] != t["score"]:
            diff.scores.append(ScoreChange(t["name"], old_scores[t["name"]], t["score"]))
    diff.scores.sort(key=lambda s: (not s.fell, s.target))
    diff.overall = ScoreChange("overall", old_sum["overall"]["score"], new_sum["overall"]["score"])
    return diff
