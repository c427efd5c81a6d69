"""The report's and tables' fast paths (issue 17) against the plain rules they speed up:
CSV lines joined as they are vs csv.writer, junit.xml's escaping memo vs escaping each
time, the digest's counts per cell vs counts per result, the census's reads per shared
dict vs per row, and the bounded ranking's early refusal vs a full sort."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from ipv6scan.messages import Detail
from ipv6scan.model import CheckResult, Status
from ipv6scan.report import digest as digest_module
from ipv6scan.report import tables
from ipv6scan.report.digest import Digest
from ipv6scan.report.tables import CsvWriter, JunitWriter
from ipv6scan.report.targets import Surveyor, _Keep, _services
from ipv6scan.scoring.mean import Mean
from tests.unit.finish_reference import old_csv, old_junit

# every character the CSV and XML rules look at, and some they do not
PIECES = [",", '"', "'", "\r", "\n", "\t", "=", "+", "-", "@", " ", "\x00", "&", "<", ">",
          "a", "b.c", "中文", "\ufffe", ",=", ",-x", "{}"]  # fmt: skip


def _text(rng: random.Random) -> str:
    if rng.random() < 0.5:  # mostly plain, as a real run: the fast path must be taken too
        return rng.choice(["n1.example", "services", "dns.aaaa", "No AAAA record.", ""])
    return "".join(rng.choice(PIECES) for _ in range(rng.randrange(5)))


def _results(seed: int, n: int = 3000) -> list[CheckResult]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        detail: str = _text(rng)
        if rng.random() < 0.3:
            detail = Detail(detail, "dns.aaaa.none", {"n": i})
        out.append(
            CheckResult(
                target=_text(rng) + str(i // 3),
                sector=_text(rng),
                tier=rng.choice(["services", "backbone", _text(rng)]),
                subject=_text(rng),
                check=rng.choice(["dns.aaaa", "web.http", _text(rng)]),
                status=rng.choice(list(Status)),
                detail=detail,
                evidence=rng.choice([{}, {"k": _text(rng)}, {"addresses": [], "rcode": "x"}]),
                duration_ms=rng.choice([0, 2.5, -1.25, 1234.5678, 1e-7, float(i)]),
                vantage=rng.choice([None, None, "", _text(rng)]),
            )
        )
    return out


@pytest.mark.parametrize("seed", range(4))
def test_csv_rows_are_what_csv_writer_writes(tmp_path: Path, seed: int) -> None:
    results = _results(seed)
    with CsvWriter(tmp_path / "new.csv") as writer:
        for r in results:
            writer.write(r)
    old_csv(results, tmp_path / "old.csv")
    assert (tmp_path / "new.csv").read_bytes() == (tmp_path / "old.csv").read_bytes()


def test_junit_memo_writes_what_escaping_each_time_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tables, "MEMO_SIZE", 3)  # the memo fills and is cleared often
    results = _results(7)
    long = "x<&>\"'" * 1000  # longer than MEMO_CHARS and than the 4000 kept
    results += [
        CheckResult("long", "s", "services", "h", "c", Status.FAIL, long, {"e": long}, 1.0),
        CheckResult("long", "s", "services", "h", "d", Status.WARN, long, {}, 1.0),
    ]
    groups: dict[str, list[CheckResult]] = {}
    for r in results:
        groups.setdefault(r.target, []).append(r)
    with JunitWriter(tmp_path / "new.xml") as junit:
        for group in groups.values():
            junit.add(group)
            # a long text is escaped each time, not held: the memo stays small
            assert all(len(k) <= tables.MEMO_CHARS for k in junit._text.done)
            assert all(len(k) <= tables.MEMO_CHARS for k in junit._attr.done)
    old_junit(groups.values(), tmp_path / "old.xml")
    assert (tmp_path / "new.xml").read_bytes() == (tmp_path / "old.xml").read_bytes()


def _nested(items: Any) -> Any:
    """Counters and dicts as lists of pairs: equal only in the same order."""
    if isinstance(items, dict):
        return [(k, _nested(v)) for k, v in items.items()]
    return items


def test_digest_counts_are_the_counts_per_result() -> None:
    results = _results(11)
    d = Digest.for_targets(())
    for r in results:
        d.count(r)
    total: Counter[str] = Counter()
    by_check: dict[str, Counter[str]] = {}
    by_sector: dict[str, dict[str, Counter[str]]] = {}
    by_tier: dict[str, dict[str, Counter[str]]] = {}
    for r in results:
        status = str(r.status)
        total[status] += 1
        by_check.setdefault(r.check, Counter())[status] += 1
        by_sector.setdefault(r.sector, {}).setdefault(r.check, Counter())[status] += 1
        by_tier.setdefault(r.tier, {}).setdefault(r.check, Counter())[status] += 1
    assert _nested(d.total) == _nested(total)
    assert _nested(d.by_check) == _nested(by_check)
    assert _nested(d.by_sector) == _nested(by_sector)
    assert _nested(d.by_tier) == _nested(by_tier)
    assert d.results == len(results)
    assert d.finding_count == sum(total[s] for s in ("fail", "warn", "error"))


def test_digest_keeps_the_findings_it_kept_when_each_result_had_a_row() -> None:
    # the earlier rule, written plainly: every result made a row, kept or not
    results = _results(12, 400)
    d = Digest.for_targets(())
    d.table_limit = 50
    for r in results:
        d.count(r)
    findings: dict[str, list[digest_module.Row]] = {}
    order = ("fail", "warn", "error")
    for r in results:
        status = str(r.status)
        if status not in order:
            continue
        row = digest_module._row(r, status)
        bucket = findings.setdefault(status, [])
        if sum(len(b) for b in findings.values()) < 50:
            bucket.append(row)
            continue
        for lower in reversed(order[order.index(status) + 1 :]):
            if findings.get(lower):
                findings[lower].pop()
                bucket.append(row)
                break
    assert not d.table_is_complete
    assert d.findings == findings
    assert d.table_rows() == [row for s in order for row in findings.get(s, [])][:50]


def _rows(seed: int, n: int = 500) -> list[dict[str, Any]]:
    """Target rows whose services and tiers dicts are shared, as rows of one shape are."""
    rng = random.Random(seed)
    shared = [
        ({"dns": None, "web": "green", "mail": None}, {"services": {"score": 100.0}}),
        ({"mail": "red", "dns": "amber", "x": 1}, {"services": {"score": 12.5}, "metro": {}}),
        ({}, {"backbone": {"score": None}, 3: {"score": "bad"}}),
    ]
    rows = []
    for _ in range(n):
        services, tiers = rng.choice(shared)
        score = rng.choice([None, 0.0, 50.0, 100.0, rng.uniform(0, 100)])
        rows.append({"name": f"t{rng.randrange(n)}", "sector": rng.choice("abc"), "score": score,
                     "stage": rng.choice(["", "aaaa-published", None]),
                     "services": services, "tiers": tiers})  # fmt: skip
    return rows


def _copied(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "services": dict(row["services"]), "tiers": dict(row["tiers"])}


def test_census_of_shared_dicts_is_the_census_of_copies() -> None:
    rows = _rows(3)
    shared, copies = Surveyor(limit=40), Surveyor(limit=40)
    for row in rows:
        shared.add(row, row["name"])
        copies.add(_copied(row), row["name"])
    a, b = shared.result({}), copies.result({})
    assert (a.total, a.stages, a.sectors, a.tiers) == (b.total, b.stages, b.sectors, b.tiers)
    assert _nested(a.services) == _nested(b.services)
    assert _nested(dict(a.tier_seen)) == _nested(dict(b.tier_seen))
    assert {k: v.value() for k, v in a.tier_scores.items()} == {
        k: v.value() for k, v in b.tier_scores.items()
    }
    assert [(v.index, v.rank, v.name) for v in a.ranking.rows] == [
        (v.index, v.rank, v.name) for v in b.ranking.rows
    ]
    assert a.extras == b.extras


def test_census_counts_what_each_row_says() -> None:
    rows = _rows(4)
    surveyor = Surveyor()
    for row in rows:
        surveyor.add(row)
    census = surveyor.result({})
    services: dict[str, Counter[str]] = {}
    seen: Counter[str] = Counter()
    means: dict[str, Mean] = {}
    for row in rows:
        for service, light in _services(row["services"]).items():
            services.setdefault(service, Counter())[light] += 1
        for tier, info in row["tiers"].items():
            seen[str(tier)] += 1
            score = info.get("score")
            if isinstance(score, float):
                means.setdefault(str(tier), Mean()).add(score)
    assert _nested(census.services) == _nested(services)
    assert census.tier_seen == seen and census.tiers == set(seen)
    assert {k: v.value() for k, v in census.tier_scores.items()} == {
        k: v.value() for k, v in means.items()
    }


@pytest.mark.parametrize("n", [0, 1, 7, 50])
@pytest.mark.parametrize("reverse", [False, True])
def test_bounded_ranking_keeps_what_a_full_sort_keeps(n: int, reverse: bool) -> None:
    rng = random.Random(n)
    keys = [(rng.random() < 0.1, -rng.choice([0.0, 50.0, 100.0]), f"t{rng.randrange(99)}", i)
            for i in range(1000)]  # fmt: skip
    keep = _Keep(n, reverse=reverse)
    for key in keys:
        keep.add(key, {}, None)
    got = [key for key, _row, _extra in keep.result()]
    want = sorted(keys, reverse=reverse)[:n]
    assert got == (want[::-1] if reverse else want)
