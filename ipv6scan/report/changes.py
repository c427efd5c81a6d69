"""What changed since the previous run, and what the gates decided: summary.json's
`changes` and `gates`, which the report's first screen shows.

The comparison itself is diff.py's (RANK, intermittent results, steady statuses); this
module only bounds it for the summary: every count, and the first LIMIT changes of each
kind, so that a night in which everything moved still gives a small summary (the whole
list is `ipv6scan diff`'s). Gate decisions are data (a key, passed or not, and figures);
the report words them in its language, the terminal keeps its own lines.

Imports nothing heavy: the finish stage calls it with a Diff in hand.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ipv6scan.diff import Change, Diff

LIMIT = 50  # changes of each kind kept in summary.json
MAX_TARGETS = 100_000  # larger runs are compared only for --fail-on-regression (its cost)

KINDS = ("regressed", "improved", "intermittent", "undecided", "appeared", "disappeared")

# gate keys (summary.json's gates[].gate)
REGRESSION = "fail-on-regression"
FAIL_UNDER = "fail-under"


def changes_json(
    diff: Diff,
    previous: Mapping[str, Any],
    old_targets: Iterable[str],
    new_targets: Iterable[str],
    limit: int = LIMIT,
) -> dict[str, Any]:
    """summary.json's `changes`: `previous` is {"id", "started"} of the run compared with;
    the target names of both runs tell the targets added and removed."""
    old, new = set(old_targets), set(new_targets)
    added, removed = sorted(new - old), sorted(old - new)
    lists: dict[str, list[Change]] = {kind: getattr(diff, kind) for kind in KINDS}
    # a whole target added or removed is listed once, as a target, not result by result
    lists["appeared"] = [c for c in lists["appeared"] if c.target not in new - old]
    lists["disappeared"] = [c for c in lists["disappeared"] if c.target not in old - new]
    fell = [s for s in diff.scores if s.fell]
    rose = [s for s in diff.scores if s.rose]
    counts = {kind: len(changes) for kind, changes in lists.items()}
    counts |= {"scores_fell": len(fell), "scores_rose": len(rose)}
    counts |= {"targets_added": len(added), "targets_removed": len(removed)}
    out: dict[str, Any] = {"previous": dict(previous), "counts": counts}
    for kind, changes in lists.items():
        out[kind] = [_change(c) for c in changes[:limit]]
    out["scores"] = [
        {"target": s.target, "old": s.old, "new": s.new} for s in [*fell, *rose][:limit]
    ]
    out["overall"] = {"old": diff.overall.old, "new": diff.overall.new}
    out["targets_added"] = added[:limit]
    out["targets_removed"] = removed[:limit]
    return out


def _change(c: Change) -> dict[str, Any]:
    """diff's record of a change, with its detail's key and parameters (results.jsonl's
    names) so that the report says it in its language."""
    out = c.to_json()
    key = getattr(c.detail, "key", None)
    if key is not None:
        out["detail_key"] = key
        out["detail_params"] = getattr(c.detail, "params", {})
    return out


def regression_gate(findings: int, reason: str) -> dict[str, Any]:
    """--fail-on-regression's decision. `reason`: regressed, no-regression,
    no-previous-run, interrupted (nothing compared) or history-failed (that fails)."""
    return {"gate": REGRESSION, "passed": not findings, "reason": reason, "findings": findings}


def fails_under(overall: float | None, threshold: float) -> bool:
    """--fail-under: an unscored run fails it too (nothing says it is good enough)."""
    return overall is None or overall < threshold


def fail_under_gate(overall: float | None, threshold: float) -> dict[str, Any]:
    return {
        "gate": FAIL_UNDER,
        "passed": not fails_under(overall, threshold),
        "threshold": threshold,
        "score": overall,
    }


def coverage(complete: bool, shard: tuple[int, int] | None) -> dict[str, Any]:
    """summary.json's `coverage`: whether the run is whole, and which shard it is."""
    return {"complete": complete, "shard": list(shard) if shard else None}
