"""diff.compare of two runs the history holds, from what it stores (history_store): the
gate (--fail-on-regression) and the report's "what changed" without reading either run
whole again.

A result is stored as two keys, its verdict's and its evidence's. A (verdict, evidence)
pair found in both runs is a result that did not change: only the pairs found in one run
are read back and compared by diff's own rules (`diff._statuses`). The target scores are
the stored rows' (each run's summary.json rows), compared as diff compares scores.

That is diff.compare's answer when the runs were scored alike and nothing makes a stored
row differ from diff's own scoring; otherwise `compare_runs` says None and the caller
compares the runs whole:
- a profile other than the one the runs were scored with (summary.json's `profile`);
- an intermittent result in either run (diff scores it as the pass it would be);
- a result repeated within a run, or evidence dropped by retention.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from array import array
from itertools import chain
from typing import Any

from ipv6scan import history_store as store
from ipv6scan.diff import _SCHEMA, Diff, ScoreChange, _statuses
from ipv6scan.scoring.mean import Mean
from ipv6scan.scoring.profile import Profile

Keys = tuple["array[int]", "array[int]"]  # a run's verdict and evidence keys (run_keys)


def compare_runs(
    conn: sqlite3.Connection, before: int, after: int, profile: Profile
) -> Diff | None:
    """Run `after` against run `before`, both in the history at `conn`; None: compare
    them whole (diff.compare), this shortcut would not give its answer."""
    if not (_scored_with(conn, before, profile) and _scored_with(conn, after, profile)):
        return None
    old_keys, new_keys = store.run_keys(conn, before), store.run_keys(conn, after)
    if old_keys is None or new_keys is None:
        return None
    if store.NO_EVIDENCE in old_keys[1] or store.NO_EVIDENCE in new_keys[1]:
        return None
    changed = _changed(old_keys, new_keys)
    if changed is None:
        return None  # a result twice in one run: diff's rules then depend on the order
    if store.any_intermittent(conn, chain(old_keys[1], new_keys[1])):  # the texts of both, once
        return None
    gone, came = changed
    with contextlib.closing(sqlite3.connect(":memory:")) as scratch:
        scratch.executescript(_SCHEMA)
        diff = _statuses(scratch, store.load_results(conn, before, gone),
                         store.load_results(conn, after, came))  # fmt: skip
    _stored_scores(conn, before, after, diff)
    return diff


def _changed(old_keys: Keys, new_keys: Keys) -> tuple[list[int], list[int]] | None:
    """The positions, in each run, of the (verdict, evidence) pairs found in that run only;
    None: a pair twice in one run. A function of its own so that its sets, the size of
    both runs, are gone before the rest is read (the memory of the finish)."""
    old_pairs, new_pairs = list(zip(*old_keys, strict=True)), list(zip(*new_keys, strict=True))
    old_set, new_set = set(old_pairs), set(new_pairs)
    if len(old_set) != len(old_pairs) or len(new_set) != len(new_pairs):
        return None
    gone = [i for i, pair in enumerate(old_pairs) if pair not in new_set]
    came = [i for i, pair in enumerate(new_pairs) if pair not in old_set]
    return gone, came


def _scored_with(conn: sqlite3.Connection, run_id: int, profile: Profile) -> bool:
    found = conn.execute("SELECT profile FROM runs WHERE id = ?", (run_id,)).fetchone()
    if found is None or found[0] is None:
        return False
    try:
        stored: Any = json.loads(found[0])
    except ValueError:
        return False
    return bool(stored == profile.describe())


def _stored_scores(conn: sqlite3.Connection, before: int, after: int, diff: Diff) -> None:
    """diff._scores from the stored rows: a name's last row in the older run against each
    of the newer run's rows, and each run's mean score."""
    old_keys, new_keys = store.row_keys(conn, before), store.row_keys(conn, after)
    # each row looked up once, in key order (a row of both runs: once), then read in order
    rows = store.row_scores(conn, chain(old_keys, new_keys))
    old_scores: dict[str, float | None] = {}
    old_mean, new_mean = Mean(), Mean()
    for name, score in (rows[key] for key in old_keys if key in rows):
        old_scores[name] = score
        if score is not None:
            old_mean.add(score)
    for name, score in (rows[key] for key in new_keys if key in rows):
        if score is not None:
            new_mean.add(score)
        if name in old_scores and old_scores[name] != score:
            diff.scores.append(ScoreChange(name, old_scores[name], score))
    diff.scores.sort(key=lambda s: (not s.fell, s.target))
    diff.overall = ScoreChange("overall", old_mean.value(), new_mean.value())
