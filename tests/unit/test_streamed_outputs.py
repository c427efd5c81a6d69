"""The outputs made in bounded memory (results grouped through an on-disk index, target rows
spooled to disk, summary.json and junit.xml written a part at a time) are the outputs the
in-memory code made of the same results.jsonl: byte for byte for summary.json, junit.xml,
results.csv and report.html. The references below are the earlier in-memory functions,
kept here as they were, run over a few thousand interleaved targets."""

from __future__ import annotations

import csv
import datetime as dt
import json
import tracemalloc
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import pytest

from ipv6scan import audit, history
from ipv6scan.diff import RANK, Change, Diff, ScoreChange
from ipv6scan.engine.run import write_outputs
from ipv6scan.finish import groups as window
from ipv6scan.milestones import Milestone, evaluate
from ipv6scan.model import CheckResult, Status
from ipv6scan.report import digest as digest_module
from ipv6scan.report import grouping, targets, view
from ipv6scan.report.html import render_html
from ipv6scan.report.jsonl import read_results
from ipv6scan.report.pretty import pretty
from ipv6scan.report.summary_json import read_fields, write_summary
from ipv6scan.report.tables import CSV_FIELDS
from ipv6scan.report.workspace import Workspace
from ipv6scan.scoring import summarize
from ipv6scan.scoring.rows import SpoolClosed
from tests.unit.sample_results import write_sample

NOW = dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1,500 targets: more than the report ranks (1,000), so its top and bottom are cut."""
    out = tmp_path_factory.mktemp("sample")
    write_sample(out / "results.jsonl", targets=1500)
    return out


@pytest.fixture(scope="module")
def written(sample: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("written")
    (out / "results.jsonl").write_bytes((sample / "results.jsonl").read_bytes())
    with pytest.MonkeyPatch.context() as mp:
        fixed_clock(mp)
        write_outputs(out, "en")
    return out


def fixed_clock(mp: pytest.MonkeyPatch) -> None:
    build = view.build_from  # view.build, and the finish stage, go through it

    def at_now(*args: Any, **kwargs: Any) -> view.Report:
        kwargs["now"] = NOW
        return build(*args, **kwargs)

    mp.setattr(view, "build_from", at_now)


def results_of(directory: Path) -> list[CheckResult]:
    return list(read_results(directory / "results.jsonl"))


# ------------------------------------------------------------- the earlier code, as it was


def old_group_mean(values: Iterable[object]) -> float | None:
    nums = [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return round(sum(nums) / len(nums), 1) if nums else None


def old_csv(results: Iterable[CheckResult], path: Path) -> None:
    def safe(text: str) -> str:
        return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text

    with path.open("w", encoding="utf-8-sig", newline="") as fh:  # with a byte-order mark
        writer = csv.writer(fh)
        writer.writerow(CSV_FIELDS)
        for r in results:
            row = r.to_json()
            row["evidence"] = json.dumps(row["evidence"], ensure_ascii=False, sort_keys=True)
            writer.writerow([safe(str(row.get(f, ""))) for f in CSV_FIELDS])


def old_junit(results: Iterable[CheckResult], path: Path) -> None:
    def ok(ch: str) -> bool:
        o = ord(ch)
        return (0x20 <= o <= 0xD7FF) or ch in "\t\n\r" or 0xE000 <= o <= 0xFFFD or o >= 0x10000

    def clean(text: str) -> str:
        return "".join(ch if ok(ch) else "\ufffd" for ch in text)

    by_target: dict[str, list[CheckResult]] = {}
    for r in results:
        by_target.setdefault(r.target, []).append(r)
    with path.open("w", encoding="utf-8") as fh:
        total = sum(len(v) for v in by_target.values())
        fails = sum(r.status is Status.FAIL for v in by_target.values() for r in v)
        errors = sum(r.status is Status.ERROR for v in by_target.values() for r in v)
        fh.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        fh.write(
            f'<testsuites name="ipv6scan" tests="{total}" failures="{fails}" errors="{errors}">\n'
        )
        for target, rows in by_target.items():
            f = sum(r.status is Status.FAIL for r in rows)
            e = sum(r.status is Status.ERROR for r in rows)
            s = sum(r.status is Status.SKIP for r in rows)
            t = sum(r.duration_ms for r in rows) / 1000
            fh.write(
                f'  <testsuite name={quoteattr(clean(target))} tests="{len(rows)}" '
                f'failures="{f}" errors="{e}" skipped="{s}" time="{t:.3f}">\n'
            )
            for r in rows:
                name = quoteattr(clean(f"{r.subject} {r.check}"))
                cls = quoteattr(clean(f"{r.target}.{r.tier}"))
                fh.write(
                    f'    <testcase classname={cls} name={name} time="{r.duration_ms / 1000:.3f}">'
                )
                msg = quoteattr(clean(r.detail[:500]))
                body = escape(clean(json.dumps(r.evidence, ensure_ascii=False)[:4000]))
                if r.status is Status.FAIL:
                    fh.write(f"<failure message={msg}>{body}</failure>")
                elif r.status is Status.ERROR:
                    fh.write(f"<error message={msg}>{body}</error>")
                elif r.status is Status.SKIP:
                    fh.write(f"<skipped message={msg}/>")
                elif r.status is Status.WARN:
                    fh.write(f"<system-out>{escape(clean('warn: ' + r.detail))}</system-out>")
                fh.write("</testcase>\n")
            fh.write("  </testsuite>\n")
        fh.write("</testsuites>\n")


def old_ranking(summary: dict[str, Any], limit: int) -> list[tuple[int, str]]:
    order = sorted(
        summary["targets"], key=lambda t: (t["score"] is None, -(t["score"] or 0.0), str(t["name"]))
    )
    ranked = list(enumerate((str(t["name"]) for t in order), 1))
    if len(ranked) <= limit:
        return ranked
    half = limit // 2
    return ranked[:half] + ranked[-half:]


def old_compare(old: list[CheckResult], new: list[CheckResult]) -> Diff:
    before = {(r.target, r.tier, r.subject, r.check): (str(r.status), r.detail) for r in old}
    diff = Diff()
    for r in new:
        key = (r.target, r.tier, r.subject, r.check)
        previous = before.pop(key, None)
        status = str(r.status)
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
    diff.disappeared = [Change(*k, was, None, d) for k, (was, d) in before.items()]
    for name in ("regressed", "improved", "undecided", "appeared", "disappeared"):
        changes = getattr(diff, name)
        setattr(diff, name, sorted(changes, key=lambda c: (c.target, c.tier, c.subject, c.check)))
    old_sum, new_sum = summarize(old), summarize(new)
    scores = {t["name"]: t["score"] for t in old_sum["targets"]}
    for t in new_sum["targets"]:
        if t["name"] in scores and scores[t["name"]] != t["score"]:
            diff.scores.append(ScoreChange(t["name"], scores[t["name"]], t["score"]))
    diff.scores.sort(key=lambda s: (not s.fell, s.target))
    diff.overall = ScoreChange("overall", old_sum["overall"]["score"], new_sum["overall"]["score"])
    return diff


# ------------------------------------------------------------------------------- grouping


def test_groups_are_the_in_memory_groups_in_first_appearance_order(
    sample: Path, tmp_path: Path
) -> None:
    # Given a file whose targets interleave, one of them spread over the whole file,
    # with a blank line and a torn last line
    expected: dict[str, list[CheckResult]] = {}
    for r in results_of(sample):
        expected.setdefault(r.target, []).append(r)
    # When it is grouped through the on-disk index
    with grouping.TargetIndex.build(sample / "results.jsonl", tmp_path) as index:
        got = list(index.groups())
        db = index.db
    # Then each target's results come together, in file order, targets as first seen
    assert got == list(expected.values())
    assert got[0][0].target == "t10.example" and len(got[0]) > 1
    assert not db.exists()


def test_names_that_share_a_hash_are_split_again(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a hash table where every name collides with two others
    real_get = grouping._Ids.get

    def colliding(self: grouping._Ids, name: str) -> int:
        return real_get(self, str(real_get(self, name) // 3))

    monkeypatch.setattr(grouping._Ids, "get", colliding)
    with grouping.TargetIndex.build(sample / "results.jsonl", tmp_path) as index:
        got = list(index.groups())
    # Then each group still holds one target, all of its results in file order
    expected: dict[str, list[CheckResult]] = {}
    for r in results_of(sample):
        expected.setdefault(r.target, []).append(r)
    assert all(len({r.target for r in g}) == 1 for g in got)
    assert sorted(got, key=lambda g: g[0].target) == sorted(
        expected.values(), key=lambda g: g[0].target
    )


def test_ids_follow_first_appearance_through_growth() -> None:
    ids = grouping._Ids(size=4)
    names = [f"n{i}.example" for i in range(5000)]
    assert [ids.get(n) for n in names] == list(range(5000))
    assert [ids.get(n) for n in reversed(names)] == list(reversed(range(5000)))


def test_spooled_results_group_like_a_file(sample: Path, tmp_path: Path) -> None:
    with Workspace(tmp_path) as work:
        index = work.spool(iter(results_of(sample)))
        spooled = list(index.groups())
        copy = index.results
    expected: dict[str, list[CheckResult]] = {}
    for r in results_of(sample):
        expected.setdefault(r.target, []).append(r)
    assert spooled == list(expected.values())
    assert not copy.exists() and list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------- the output files


def test_summary_json_holds_what_the_in_memory_code_made(sample: Path, written: Path) -> None:
    # the same content; since issue 17 each target row is one compact line, not indented
    reference = summarize(read_results(sample / "results.jsonl"))
    text = (written / "summary.json").read_text(encoding="utf-8")
    assert json.loads(text) == reference
    rows = [line for line in text.splitlines() if line.startswith('  {"name"')]
    assert [json.loads(line.rstrip(",")) for line in rows] == reference["targets"]


def test_group_means_are_the_old_list_means(written: Path) -> None:
    summary = json.loads((written / "summary.json").read_text(encoding="utf-8"))
    rows = summary["targets"]
    assert summary["overall"]["score"] == old_group_mean(t["score"] for t in rows)
    for name, sector in summary["sectors"].items():
        mine = [t for t in rows if t["sector"] == name]
        assert sector["score"] == old_group_mean(t["score"] for t in mine)
        assert sector["targets"] == len(mine)
        for tier, info in sector["tiers"].items():
            scores = [t["tiers"][tier]["score"] for t in mine if tier in t["tiers"]]
            assert info["score"] == old_group_mean(scores)


def test_junit_and_csv_are_byte_identical(sample: Path, written: Path, tmp_path: Path) -> None:
    old_junit(read_results(sample / "results.jsonl"), tmp_path / "junit.xml")
    old_csv(read_results(sample / "results.jsonl"), tmp_path / "results.csv")
    for name in ("junit.xml", "results.csv"):
        assert (written / name).read_bytes() == (tmp_path / name).read_bytes(), name
    assert not list(written.glob("*.part"))


def test_report_is_byte_identical(
    sample: Path, written: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fixed_clock(monkeypatch)
    results = results_of(sample)
    expected = render_html(results, summarize(results), "en")
    assert (written / "report.html").read_text(encoding="utf-8") == expected


def test_no_scratch_files_are_left(written: Path) -> None:
    names = sorted(p.name for p in written.iterdir())
    assert names == ["junit.xml", "report.html", "results.csv", "results.jsonl", "summary.json"]


def test_the_ranking_is_the_top_and_bottom_of_the_full_sort(sample: Path) -> None:
    summary = summarize(read_results(sample / "results.jsonl"))
    census = targets.survey(summary, limit=1000)
    got = [(v.rank, v.name) for v in census.ranking.rows]
    assert got == old_ranking(summary, 1000)
    assert census.ranking.hidden == len(summary["targets"]) - 1000
    small = targets.survey(summary, limit=len(summary["targets"]) + 5)
    assert [(v.rank, v.name) for v in small.ranking.rows] == old_ranking(summary, 10**9)


def test_milestones_read_a_spool_like_a_list(sample: Path, tmp_path: Path) -> None:
    ms = [
        Milestone("one", "score", 50, dt.date(2027, 1, 1), target="t10.example"),
        Milestone(
            "two", "stage_share", 10, dt.date(2027, 1, 1), stage="ipv4-only", target="门户 97"
        ),
        Milestone("all", "pass_share", 50, dt.date(2027, 1, 1), check="dns.aaaa"),
    ]
    listed = summarize(read_results(sample / "results.jsonl"))
    with Workspace(tmp_path) as work:
        spooled = work.score(sample / "results.jsonl")
        got = evaluate(ms, spooled, dt.date(2026, 6, 1), [(dt.date(2026, 1, 1), listed)])
    assert got == evaluate(ms, listed, dt.date(2026, 6, 1), [(dt.date(2026, 1, 1), listed)])
    assert [m["value"] for m in got][:2] != [None, None]


def test_a_spool_cannot_be_read_after_its_workspace(sample: Path, tmp_path: Path) -> None:
    with Workspace(tmp_path) as work:
        summary = work.score(sample / "results.jsonl")
    assert len(summary["targets"]) == 1500
    with pytest.raises(SpoolClosed):
        list(summary["targets"])


def test_diff_is_the_in_memory_diff(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    write_sample(a / "results.jsonl", targets=600, seed=1)
    write_sample(b / "results.jsonl", targets=650, seed=2)  # changed, and 50 targets more
    expected = old_compare(results_of(a), results_of(b))
    got = audit.diff_dirs(a, b)
    assert got.to_json() == expected.to_json()
    assert got.to_text() == expected.to_text()
    assert got.regressed and got.appeared and got.scores


def test_the_gate_diffs_against_the_history(tmp_path: Path) -> None:
    # Given two recorded runs of the same sample, the second one changed
    db = tmp_path / "h.db"
    dirs = [tmp_path / "r0", tmp_path / "r1"]
    done = []
    for i, d in enumerate(dirs):
        d.mkdir()
        write_sample(d / "results.jsonl", targets=400, seed=5 + i)
        conn = history.open_db(db)
        rec = audit.Recording(db=db, target_files=("t.yaml",), fail_on_regression=True)
        done.append(audit.finish_scan(conn, rec, d, "en", None, f"2026-03-0{i + 1}T10:00:00+00:00"))
        conn.close()
    # Then the gate lists what the in-memory diff finds
    expected = old_compare(results_of(dirs[0]), results_of(dirs[1]))
    assert done[1].gate == expected.gate() and done[1].gate
    assert sorted(p.name for p in dirs[1].iterdir() if p.name.startswith(".")) == []


def test_summary_fields_are_read_without_the_rows(written: Path) -> None:
    path = written / "summary.json"
    keys = ("overall", "stages", "legend", "nothing")
    whole = read_fields(path, keys)
    assert whole and set(whole) == {"overall", "stages", "legend"}
    assert read_fields(path, keys, whole_below=0) == whole  # line by line, as for a big file
    assert read_fields(written / "missing.json", keys) == {}


def test_the_spool_writes_the_rows_it_was_given(tmp_path: Path) -> None:
    rows = [{"name": "a", "score": 12.5, "x": [None, True, {"é": "</script>"}]}, {"name": "b"}]
    summary = {"schema": 1, "targets": rows, "after": {"k": []}}
    with Workspace(tmp_path) as work:
        spool = work.rows()
        spool.extend(rows)
        write_summary({**summary, "targets": spool}, tmp_path / "s.json")
    expected = json.dumps(summary, ensure_ascii=False, indent=1) + "\n"
    assert (tmp_path / "s.json").read_text(encoding="utf-8") == expected
    write_summary({**summary, "targets": []}, tmp_path / "e.json")
    expected = json.dumps({**summary, "targets": []}, ensure_ascii=False, indent=1) + "\n"
    assert (tmp_path / "e.json").read_text(encoding="utf-8") == expected


@pytest.mark.parametrize(
    "value",
    [
        {},
        [],
        {"a": [1, 2.5, float("nan"), float("inf"), -float("inf"), True, False, None]},
        {"nested": [[], {}, [[{"x": 'é\u2028"\\<'}]]], 1: {2.5: 1, True: 0, None: [[]]}},
        (1, (2, 3)),
        "plain",
    ],
)
def test_pretty_is_json_dumps_indent_1(value: object) -> None:
    for level in (0, 2):
        text = json.dumps(value, ensure_ascii=False, indent=1)
        assert pretty(value, level) == text.replace("\n", "\n" + " " * level)


# ------------------------------------------------------------------------- bounded memory


def dns_only(path: Path, targets: int) -> None:
    lines = []
    for i in range(targets):
        for subject in (f"d{i}.example", f"www.d{i}.example")[: 1 + i % 2]:
            status = ("pass", "fail", "fail", "error")[i % 4]
            record = {
                "target": f"d{i}.example",
                "sector": "enterprise",
                "tier": "services",
                "subject": subject,
                "check": "dns.aaaa",
                "status": status,
                "detail": "No AAAA record." if status == "fail" else status,
                "evidence": {"rcode": "NOERROR", "addresses": []},
                "duration_ms": 1.5,
            }
            lines.append(json.dumps(record))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def peak_of_outputs(tmp_path: Path, targets: int) -> int:
    out = tmp_path / f"n{targets}"
    out.mkdir()
    dns_only(out / "results.jsonl", targets)
    tracemalloc.start()
    try:
        write_outputs(out, "en")
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_the_targets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the report's own bounds and the finish stage's window of open targets made
    # small, so that a small run already reaches them
    monkeypatch.setattr(digest_module, "DRILL_BUDGET", 400)
    monkeypatch.setattr(digest_module, "TABLE_LIMIT", 200)
    monkeypatch.setattr(targets, "RANK_LIMIT", 100)
    monkeypatch.setattr(targets, "DRILL_LIMIT", 20)
    monkeypatch.setattr(window, "WINDOW", 64)
    peak_of_outputs(tmp_path, 50)  # the first run compiles the template: not a cost per run
    # When 600 and then 3,600 targets are written
    small, large = peak_of_outputs(tmp_path, 600), peak_of_outputs(tmp_path, 3600)
    # Then six times the targets take nearly the same memory (the table of the names'
    # hashes grows: 16 bytes a target, 64 while it doubles)
    assert large < small * 1.1 + 3600 * 64, (small, large)
