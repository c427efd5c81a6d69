"""The finish's own pass made faster (issue 17) gives what it gave: the grouping window
with its last-target shortcut and its split of names that share an id, the summary's and
the fix tally's sums by shape against sums by row, an owned line read without copies,
and summary.json's rows copied as bytes."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from ipv6scan.finish import groups as window
from ipv6scan.finish.groups import Group, WindowGroups
from ipv6scan.finish.summary_file import RowSpool, write_summary_file
from ipv6scan.model import CheckResult, Status, json_loads
from ipv6scan.report.pretty import pretty
from ipv6scan.scoring import fix_tally
from ipv6scan.scoring import summary as sums
from ipv6scan.scoring.fix_tally import FixTally
from ipv6scan.scoring.profile import DEFAULT_PROFILE
from ipv6scan.scoring.shapes import ShapeScorer
from ipv6scan.scoring.summary import SummaryBuilder
from tests.unit.sample_results import sample_lines


def _result(target: str, i: int, status: Status = Status.PASS) -> CheckResult:
    return CheckResult(target, "enterprise", "services", f"s{i}.{target}", "dns.aaaa", status,
                       "detail", {"n": i})  # fmt: skip


def _handed(results: list[CheckResult], size: int) -> tuple[list[list[CheckResult]], bool]:
    got: list[list[CheckResult]] = []
    groups = WindowGroups(lambda g: got.append(g.results), size)
    for n, r in enumerate(results):
        groups.add(r, (n, 1))
    groups.close()
    return got, groups.broken


def _by_target(results: list[CheckResult]) -> list[list[CheckResult]]:
    by: dict[str, list[CheckResult]] = {}
    for r in results:
        by.setdefault(r.target, []).append(r)
    return list(by.values())


def _interleaved(size: int, seed: int) -> list[CheckResult]:
    """400 targets, each finished before `size` younger ones have begun (what the window
    holds), their results mixed at random otherwise; often a target's in a row."""
    rng = random.Random(seed)
    results: list[CheckResult] = []
    open_now: list[list[object]] = []  # [tid, name, results left], oldest first

    def emit(entry: list[object]) -> None:
        left = int(entry[2])  # type: ignore[call-overload]
        results.append(_result(str(entry[1]), left))
        entry[2] = left - 1
        if left == 1:
            open_now.remove(entry)

    for t in range(400):
        while open_now and int(open_now[0][0]) <= t - size:  # type: ignore[call-overload]
            emit(open_now[0])
        open_now.append([t, f"t{t}", rng.randrange(1, 5)])
        emit(open_now[-1])  # a target's first result comes when it begins: ids in order
        for _ in range(rng.randrange(0, 4)):
            if open_now:
                emit(open_now[-1] if rng.random() < 0.5 else rng.choice(open_now))
    while open_now:
        emit(rng.choice(open_now))
    return results


@pytest.mark.parametrize("size", [1, 3, 8, window.WINDOW])
def test_the_window_hands_on_each_target_whole_in_order(size: int) -> None:
    results = _interleaved(size, seed=size)
    got, broken = _handed(results, size)
    assert not broken
    assert got == _by_target(results)
    assert len(got) == 400


def test_a_straggler_breaks_the_window() -> None:
    results = [_result(f"t{t}", 0) for t in range(5)] + [_result("t0", 1)]
    _, broken = _handed(results, 3)
    assert broken
    _, held = _handed(results, 5)  # t0 still open: it joins its group
    assert not held


class _SharedIds:
    """Every name of `shared` has id 0, as two names with one hash would (_Ids)."""

    def __init__(self, shared: set[str]) -> None:
        self.shared = shared
        self.ids: dict[str, int] = {}

    def get(self, name: str) -> int:
        if name in self.shared:
            name = "shared"
        return self.ids.setdefault(name, len(self.ids))


def test_names_that_share_an_id_are_handed_on_apart() -> None:
    got: list[list[CheckResult]] = []
    groups = WindowGroups(lambda g: got.append(g.results), 4)
    groups._ids = _SharedIds({"a", "b"})  # type: ignore[assignment]
    order = [_result("a", 0), _result("b", 1), _result("b", 2), _result("a", 3),
             _result("c", 4)]  # fmt: skip
    for n, r in enumerate(order):
        groups.add(r, (n, 1))
    groups.close()
    assert [[r.subject for r in g] for g in got] == [["s0.a", "s3.a"], ["s1.b", "s2.b"], ["s4.c"]]


def test_a_group_of_one_name_is_not_split() -> None:
    group = Group([_result("a", 0), _result("a", 1)], [(0, 1), (1, 1)])
    assert window._split(group) == [group]


# ------------------------------------------------------------------ sums by shape


def _rows_and_shapes() -> list[tuple[dict[str, Any], object]]:
    results = [CheckResult.from_json(json_loads(line)) for line in sample_lines(900, seed=8)]
    rng = random.Random(9)
    for i in range(200):  # intermittent warns: their fix key is their own
        status = rng.choice([Status.WARN, Status.FAIL, Status.PASS])
        evidence = {"intermittent": True} if status is Status.WARN and i % 2 else {}
        results.append(CheckResult(f"w{i}.example", "government", "services",
                                   f"w{i}.example", "dns.aaaa", status, "d", evidence))  # fmt: skip
    scorer = ShapeScorer(DEFAULT_PROFILE)
    out: list[tuple[dict[str, Any], object]] = []
    for group in _by_target(results):
        row = scorer.row(group)
        out.append((row, scorer.shape))
    return out


@pytest.mark.parametrize("pending", [4096, 2])
def test_sums_and_fixes_by_shape_are_those_by_row(
    monkeypatch: pytest.MonkeyPatch, pending: int
) -> None:
    monkeypatch.setattr(sums, "PENDING_LIMIT", pending)
    monkeypatch.setattr(fix_tally, "PENDING_LIMIT", pending)
    rows = _rows_and_shapes()
    assert sum(shape is not None for _, shape in rows) > len(rows) // 2
    by_shape, by_row = SummaryBuilder(), SummaryBuilder()
    for row, shape in rows:
        by_shape.add(row, shape)
        by_row.add(row)
    got, want = by_shape.summary([]), by_row.summary([])
    assert json.dumps(got, ensure_ascii=False) == json.dumps(want, ensure_ascii=False)
    every_fix = by_shape.fixes.to_json(top=100)
    assert every_fix == by_row.fixes.to_json(top=100)
    assert any(item["fix"] == "dns.aaaa.intermittent" for item in every_fix["top"])


def test_points_are_added_a_row_at_a_time() -> None:
    # 0.1 + 0.2 + 0.3 is not 0.3 + 0.1 + 0.2 in floats: the points keep the rows' order
    gains = [0.1, 0.2, 0.3] * 7
    shapes = [object(), object(), object()]
    by_shape, by_row = FixTally(), FixTally()
    for n, gain in enumerate(gains):
        row = {"score": 50.0, "tiers": {"services": {"checks": {"dns.aaaa": {"fail": 1}}}},
               "fix_first": [{"check": "dns.aaaa", "status": "fail", "fix": "dns.aaaa.fail",
                              "gain": gain}]}  # fmt: skip
        by_shape.add(row, shapes[n % 3])
        by_row.add(row)
    assert by_shape.points == by_row.points
    assert by_shape.to_json() == by_row.to_json()


# ------------------------------------------------------------------ reading a line


def test_an_owned_line_reads_as_a_copied_one() -> None:
    for line in sample_lines(300, seed=5)[:400]:
        copied = CheckResult.from_json(json_loads(line))
        data = json_loads(line)
        owned = CheckResult.from_json(data, owned=True)
        assert owned == copied
        assert owned.to_line() == copied.to_line()
        assert getattr(owned.detail, "key", None) == getattr(copied.detail, "key", None)
        assert owned.evidence is data["evidence"]  # kept, not copied
    data = json_loads(sample_lines(300, seed=5)[0])
    assert CheckResult.from_json(data).evidence is not data["evidence"]  # not owned: a copy


@pytest.mark.parametrize("owned", [False, True])
def test_a_foreign_line_fails_as_before(owned: bool) -> None:
    # read_results catches ValueError, KeyError and TypeError: a list is a TypeError
    with pytest.raises(TypeError):
        CheckResult.from_json([1, 2], owned=owned)  # type: ignore[arg-type]
    with pytest.raises(KeyError):
        CheckResult.from_json({"sector": "x"}, owned=owned)
    odd = {"target": "t", "sector": "s", "tier": "services", "subject": "s", "check": "c",
           "status": "pass", "detail": "d", "detail_key": "k", "detail_params": [1],
           "evidence": [], "duration_ms": 1}  # fmt: skip
    r = CheckResult.from_json(odd, owned=owned)
    assert r.evidence == {} and getattr(r.detail, "params", None) == {}


# ------------------------------------------------------------------ summary.json


def _old_summary_file(summary: dict[str, object], rows: list[str], path: Path) -> None:
    """write_summary_file before issue 17: a text file, the rows decoded and encoded."""
    with path.open("w", encoding="utf-8") as fh:
        separator = "{\n "
        for key, value in summary.items():
            fh.write(separator)
            separator = ",\n "
            fh.write(json.dumps(key, ensure_ascii=False) + ": ")
            if key == "targets":
                fh.write("[\n  " + ",\n  ".join(rows) + "\n ]" if rows else "[]")
            else:
                fh.write(pretty(value, 1))
        fh.write("\n}\n" if separator != "{\n " else "{}\n")


@pytest.mark.parametrize("count", [0, 1, 3000])
def test_summary_rows_are_copied_byte_for_byte(tmp_path: Path, count: int) -> None:
    rows = [json.dumps({"name": f"门户 {i}\u2028", "x": "\U0001f600"}, ensure_ascii=False)
            for i in range(count)]  # fmt: skip
    spool = RowSpool(tmp_path / "targets.part")
    for text in rows:
        spool.add(text)
    summary = {"schema": 1, "overall": {"score": 41.7, "名": "中文", "l": [1, 2]},
               "targets": [], "end": None}  # fmt: skip
    write_summary_file(summary, spool, tmp_path / "summary.json")
    _old_summary_file(summary, rows, tmp_path / "old.json")
    got = (tmp_path / "summary.json").read_bytes()
    assert got == (tmp_path / "old.json").read_bytes()
    assert len(json.loads(got)["targets"]) == count
