"""Scores per tier, target, sector and overall; the stage ladder."""

from __future__ import annotations

import pytest

from ipv6scan.model import CheckResult, Status
from ipv6scan.scoring import STAGES, WEIGHTS, Tally, stage_of, summarize


def result(
    check: str,
    status: str,
    *,
    target: str = "Portal",
    sector: str = "government",
    tier: str = "services",
    subject: str = "example.gov",
) -> CheckResult:
    return CheckResult(target, sector, tier, subject, check, Status(status), "why")


def headline(group: dict[str, object]) -> dict[str, object]:
    """The score and target count of a sector or of the whole run (they also carry
    breakdowns per tier, stage and service, tested in test_scoring_model.py)."""
    return {"score": group["score"], "targets": group["targets"]}


def target_row(summary: dict[str, object], name: str) -> dict[str, object]:
    rows = [r for r in summary["targets"] if r["name"] == name]  # type: ignore[attr-defined]
    assert len(rows) == 1
    return rows[0]


CHECKS = ("dns.aaaa", "dns.ns_ipv6", "dns.ns_reachable", "dns.mx_ipv6", "resolver.ipv6")


def test_all_pass_scores_100() -> None:
    summary = summarize([result(c, "pass") for c in CHECKS])
    row = target_row(summary, "Portal")
    assert row["score"] == 100
    assert row["tiers"]["services"]["score"] == 100  # type: ignore[index]
    assert summary["overall"]["score"] == 100  # type: ignore[index]


def test_all_fail_scores_0() -> None:
    summary = summarize([result(c, "fail") for c in CHECKS])
    assert target_row(summary, "Portal")["score"] == 0
    assert summary["overall"]["score"] == 0  # type: ignore[index]


def test_warn_counts_half() -> None:
    summary = summarize([result("dns.aaaa", "warn"), result("dns.ns_ipv6", "warn")])
    assert target_row(summary, "Portal")["score"] == 50


@pytest.mark.parametrize("undecided", ["error", "skip"])
def test_error_and_skip_never_count(undecided: str) -> None:
    summary = summarize(
        [
            result("dns.aaaa", "pass"),
            result("dns.ns_ipv6", undecided),
            result("dns.mx_ipv6", undecided),
        ]
    )
    row = target_row(summary, "Portal")
    assert row["score"] == 100
    assert row["tiers"]["services"]["counts"] == {"pass": 1, undecided: 2}  # type: ignore[index]


def test_target_with_only_errors_is_not_scored() -> None:
    summary = summarize([result("dns.aaaa", "error"), result("dns.ns_ipv6", "skip")])
    row = target_row(summary, "Portal")
    assert row["score"] is None
    assert row["tiers"]["services"]["score"] is None  # type: ignore[index]
    assert summary["overall"]["score"] is None  # type: ignore[index]
    government = summary["sectors"]["government"]  # type: ignore[index]
    assert headline(government) == {"score": None, "targets": 1}


def test_weights_are_applied_within_a_tier() -> None:
    # dns.aaaa weighs 3, dns.mx_ipv6 weighs 1
    assert WEIGHTS["dns.aaaa"] == 3 and WEIGHTS["dns.mx_ipv6"] == 1
    summary = summarize([result("dns.aaaa", "pass"), result("dns.mx_ipv6", "fail")])
    assert target_row(summary, "Portal")["score"] == 75
    summary = summarize([result("dns.aaaa", "fail"), result("dns.mx_ipv6", "pass")])
    assert target_row(summary, "Portal")["score"] == 25


def test_custom_weights_and_unknown_checks() -> None:
    results = [result("dns.aaaa", "pass"), result("x.custom", "fail")]
    # an unknown check weighs 1
    assert target_row(summarize(results, {"dns.aaaa": 1}), "Portal")["score"] == 50
    assert target_row(summarize(results, {"dns.aaaa": 4}), "Portal")["score"] == 80
    assert target_row(summarize(results, {"dns.aaaa": 1, "x.custom": 3}), "Portal")["score"] == 25


def test_tally_directly() -> None:
    tally = Tally()
    assert tally.score is None
    for status in ("pass", "warn", "fail", "error", "skip"):
        tally.add(result("dns.ns_ipv6", status), {"dns.ns_ipv6": 2})
    assert tally.points == 3.0  # 2 * 1 + 2 * 0.5
    assert tally.full == 6.0
    assert tally.score == 50.0
    assert tally.counts == {"pass": 1, "warn": 1, "fail": 1, "error": 1, "skip": 1}


def test_target_score_is_the_mean_of_tier_scores() -> None:
    results = [result("dns.aaaa", "pass", subject=f"h{i}.example") for i in range(10)]
    results.append(result("resolver.ipv6", "fail", tier="backbone", subject="2001:db8::53"))
    results.append(result("dns.aaaa", "warn", tier="metro", subject="bras.example"))
    row = target_row(summarize(results), "Portal")
    tiers = row["tiers"]
    assert tiers["services"]["score"] == 100  # type: ignore[index]
    assert tiers["backbone"]["score"] == 0  # type: ignore[index]
    assert tiers["metro"]["score"] == 50  # type: ignore[index]
    assert row["score"] == 50  # (100 + 0 + 50) / 3, not weighted by result count
    assert list(tiers) == ["services", "backbone", "metro"]  # type: ignore[arg-type]


def test_an_unscored_tier_does_not_drag_the_target() -> None:
    results = [
        result("dns.aaaa", "pass"),
        result("resolver.ipv6", "error", tier="backbone", subject="2001:db8::53"),
    ]
    row = target_row(summarize(results), "Portal")
    assert row["tiers"]["backbone"]["score"] is None  # type: ignore[index]
    assert row["score"] == 100


def test_sector_and_overall_means() -> None:
    results = [
        result("dns.aaaa", "pass", target="Gov A"),
        result("dns.aaaa", "warn", target="Gov B"),
        result("dns.aaaa", "error", target="Gov C"),  # not scored: not in the mean
        result("dns.aaaa", "fail", target="Shop", sector="enterprise"),
        result("dns.aaaa", "pass", target="Telco", sector="operator"),
        result("dns.ns_ipv6", "fail", target="Telco", sector="operator"),
    ]
    summary = summarize(results)
    assert summary["schema"] == 1
    sectors = summary["sectors"]
    assert {name: headline(group) for name, group in sectors.items()} == {  # type: ignore[attr-defined]
        "enterprise": {"score": 0.0, "targets": 1},
        "government": {"score": 75.0, "targets": 3},
        "operator": {"score": 60.0, "targets": 1},
    }
    assert list(sectors) == ["enterprise", "government", "operator"]  # type: ignore[arg-type]
    # overall: mean over the scored targets (100, 50, 0, 60)
    assert headline(summary["overall"]) == {"score": 52.5, "targets": 5}  # type: ignore[arg-type]
    assert [r["name"] for r in summary["targets"]] == [  # type: ignore[attr-defined]
        "Gov A",
        "Gov B",
        "Gov C",
        "Shop",
        "Telco",
    ]


def test_empty_results() -> None:
    summary = summarize([])
    assert headline(summary["overall"]) == {"score": None, "targets": 0}  # type: ignore[arg-type]
    assert summary["sectors"] == {}
    assert summary["targets"] == []


# --------------------------------------------------------------------------- stages


READY = {
    "dns.aaaa": {"pass"},
    "web.reachable": {"pass"},
    "web.http": {"pass"},
    "web.parity": {"pass"},
}
# ipv6-ready also needs the name servers and the links (mail only where there is mail)
FULL = {**READY, "dns.ns_ipv6": {"pass"}, "dns.ns_reachable": {"pass"}, "web.links": {"pass"}}


@pytest.mark.parametrize(
    ("seen", "stage"),
    [
        ({}, "not-assessed"),
        ({"dns.aaaa": {"fail"}}, "ipv4-only"),
        ({"dns.aaaa": {"fail"}, "web.http": {"pass"}}, "ipv4-only"),
        ({"dns.aaaa": {"pass"}}, "aaaa-published"),
        ({"dns.aaaa": {"warn"}}, "aaaa-published"),
        ({"dns.aaaa": {"pass"}, "web.reachable": {"pass"}}, "aaaa-published"),
        ({"dns.aaaa": {"pass"}, "web.reachable": {"fail"}, "web.http": {"pass"}}, "aaaa-published"),
        ({"dns.aaaa": {"pass"}, "web.reachable": {"pass"}, "web.http": {"pass"}}, "reachable"),
        ({"dns.aaaa": {"pass"}, "web.reachable": {"warn"}, "web.http": {"pass"}}, "reachable"),
        ({**FULL, "web.parity": {"pass", "fail"}}, "reachable"),
        ({**READY, "web.parity": {"skip"}}, "reachable"),
        ({**READY, "dns.ns_ipv6": {"warn"}}, "dual-stack"),
        ({**READY, "dns.mx_ipv6": {"fail"}}, "dual-stack"),
        ({**READY, "dns.aaaa": {"pass", "fail"}}, "dual-stack"),
        (READY, "dual-stack"),
        ({**FULL, "dns.ns_ipv6": {"warn"}}, "dual-stack"),
        ({**FULL, "web.links": {"error"}}, "dual-stack"),
        ({**FULL, "mail.smtp": {"fail"}}, "dual-stack"),
        (FULL, "ipv6-ready"),
        ({**FULL, "dns.mx_ipv6": {"skip"}, "net.ping": {"error"}}, "ipv6-ready"),
        # a target with systems only (no dns.aaaa of services)
        ({"resolver.ipv6": {"pass"}}, "ipv6-ready"),
        ({"resolver.ipv6": {"pass", "fail"}}, "reachable"),
        ({"resolver.ipv6": {"fail"}}, "ipv4-only"),
    ],
)
def test_stage_ladder(seen: dict[str, set[str]], stage: str) -> None:
    assert stage_of(seen) == stage
    assert stage in (*STAGES, "not-assessed")


def test_every_stage_is_reachable() -> None:
    found = {
        stage_of(s)
        for s in (
            {"dns.aaaa": {"fail"}},
            {"dns.aaaa": {"pass"}},
            {"dns.aaaa": {"pass"}, "web.reachable": {"pass"}, "web.http": {"pass"}},
            {**READY, "dns.ns_ipv6": {"fail"}},
            FULL,
        )
    }
    assert found == set(STAGES)


def test_summary_carries_the_stage() -> None:
    results = [
        result("dns.aaaa", "pass"),
        result("web.reachable", "pass"),
        result("web.http", "pass"),
        result("web.parity", "pass"),
        result("dns.ns_ipv6", "pass"),
        result("dns.ns_reachable", "pass"),
        result("web.links", "pass"),
        result("dns.aaaa", "fail", target="Old"),
    ]
    summary = summarize(results)
    assert target_row(summary, "Portal")["stage"] == "ipv6-ready"
    assert target_row(summary, "Old")["stage"] == "ipv4-only"


@pytest.mark.parametrize(
    "seen",
    [
        {"dns.aaaa": {"error"}},
        {"dns.aaaa": {"error"}, "dns.ns_ipv6": {"error"}},
        {"resolver.ipv6": {"error"}},
    ],
)
def test_only_undecided_results_are_not_assessed(seen: dict[str, set[str]]) -> None:
    assert stage_of(seen) == "not-assessed"
