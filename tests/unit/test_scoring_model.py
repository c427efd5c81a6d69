"""The scoring model beyond the basics of test_scoring.py: profiles, the single-name-server
cap, tier weights, what to fix first, NIST colours, stage rules and the group breakdowns."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from ipv6scan.model import CheckResult, Status
from ipv6scan.scoring import (
    DEFAULT_PROFILE,
    STAGE_NAMES,
    STAGE_RULES,
    STAGES,
    Requirement,
    colour,
    rank,
    stage_of,
    summarize,
)
from ipv6scan.scoring.stages import catalogue


def r(
    check: str,
    status: str,
    *,
    target: str = "Portal",
    sector: str = "government",
    tier: str = "services",
    subject: str = "gov.example",
    detail: str = "",
) -> CheckResult:
    return CheckResult(target, sector, tier, subject, check, Status(status), detail or status)


def row(summary: dict[str, Any], name: str = "Portal") -> dict[str, Any]:
    (found,) = [t for t in summary["targets"] if t["name"] == name]
    return found


# --------------------------------------------------------------------------- points and weights


def test_profile_warn_points_globally_and_per_check() -> None:
    results = [r("dns.aaaa", "warn"), r("dns.mx_ipv6", "warn")]  # weights 3 and 1
    assert row(summarize(results))["score"] == 50
    low = replace(DEFAULT_PROFILE, warn_points=0.2)
    assert row(summarize(results, profile=low))["score"] == 20
    aaaa_full = replace(DEFAULT_PROFILE, warn_points_by_check={"dns.aaaa": 1.0})
    assert row(summarize(results, profile=aaaa_full))["score"] == 87.5  # (3 + 0.5) / 4


def test_profile_weights_and_default_weight() -> None:
    results = [r("dns.aaaa", "pass"), r("x.custom", "fail")]
    assert row(summarize(results))["score"] == 75  # 3 of 4
    heavy_unknown = replace(DEFAULT_PROFILE, default_weight=3.0)
    assert row(summarize(results, profile=heavy_unknown))["score"] == 50
    zero = replace(DEFAULT_PROFILE, weights={**DEFAULT_PROFILE.weights, "dns.aaaa": 0})
    assert row(summarize(results, profile=zero))["score"] == 0  # only x.custom counts


@pytest.mark.parametrize("undecided", ["error", "skip"])
def test_undecided_results_never_count_even_with_a_profile(undecided: str) -> None:
    profile = replace(DEFAULT_PROFILE, warn_points=0.0, default_weight=5.0)
    results = [r("dns.aaaa", "pass"), r("x.other", undecided), r("dns.mx_ipv6", undecided)]
    target = row(summarize(results, profile=profile))
    assert target["score"] == 100
    assert target["fix_first"] == []


# --------------------------------------------------------------------------- one IPv6 name server


def ns_pair(ns: str, reach: str, *, reach_first: bool = False) -> list[CheckResult]:
    pair = [r("dns.ns_ipv6", ns), r("dns.ns_reachable", reach)]
    return pair[::-1] if reach_first else pair


@pytest.mark.parametrize("reach_first", [False, True])
def test_single_ipv6_name_server_earns_at_most_half(reach_first: bool) -> None:
    # ns_ipv6 warn: 2 x 0.5 = 1; ns_reachable pass capped at half: 2 x 0.5 = 1; of 4
    summary = summarize(ns_pair("warn", "pass", reach_first=reach_first))
    assert row(summary)["score"] == 50


def test_cap_applies_only_to_a_single_name_server_and_can_be_turned_off() -> None:
    assert row(summarize(ns_pair("pass", "pass")))["score"] == 100
    uncapped = replace(DEFAULT_PROFILE, single_ns_cap=1.0)
    assert row(summarize(ns_pair("warn", "pass"), profile=uncapped))["score"] == 75


def test_cap_is_per_domain() -> None:
    results = [
        *ns_pair("warn", "pass"),
        r("dns.ns_ipv6", "pass", subject="other.example"),
        r("dns.ns_reachable", "pass", subject="other.example"),
    ]
    assert row(summarize(results))["score"] == 75  # (2 + 4) / 8


def test_second_name_server_is_the_first_fix_and_lifts_the_cap() -> None:
    fixes = row(summarize(ns_pair("warn", "pass")))["fix_first"]
    assert [(f["check"], f["status"]) for f in fixes] == [("dns.ns_ipv6", "warn")]
    # fixing it gives back its own missing point and the capped half of reachability
    assert fixes[0]["points"] == 2.0
    assert fixes[0]["gain"] == 50.0


# --------------------------------------------------------------------------- tiers


def test_tier_weights_make_a_weighted_mean() -> None:
    results = [
        r("dns.aaaa", "pass"),
        r("resolver.ipv6", "fail", tier="backbone", subject="2001:db8::53"),
    ]
    assert row(summarize(results))["score"] == 50
    profile = replace(DEFAULT_PROFILE, tier_weights={"services": 3.0, "backbone": 1.0})
    assert row(summarize(results, profile=profile))["score"] == 75
    no_backbone = replace(DEFAULT_PROFILE, tier_weights={"backbone": 0.0})
    assert row(summarize(results, profile=no_backbone))["score"] == 100


def test_subject_scores() -> None:
    results = [
        r("dns.aaaa", "pass", subject="gov.example"),
        r("dns.mx_ipv6", "fail", subject="gov.example"),
        r("dns.aaaa", "warn", subject="www.gov.example"),
        r("dns.aaaa", "error", subject="mail.gov.example"),
    ]
    subjects = {s["subject"]: s["score"] for s in row(summarize(results))["subjects"]}
    assert subjects == {"gov.example": 75.0, "www.gov.example": 50.0, "mail.gov.example": None}


# --------------------------------------------------------------------------- fix first


def test_fix_first_orders_by_points_and_keeps_five_with_details() -> None:
    results = [
        r("dns.mx_ipv6", "fail", detail="no MX with AAAA"),  # 1 point
        r("dns.aaaa", "fail", subject="www.gov.example", detail="no AAAA"),  # 3 points
        r("dns.ns_ipv6", "pass"),
        r("net.trace", "warn", detail="half a trace"),  # 0.5 point
        r("web.parity", "fail", detail="different sites"),  # 2 points
        r("web.http", "warn", subject="www.gov.example", detail="slow"),  # 1.5 points
        r("web.links", "fail", detail="links"),  # 1 point, later than dns.mx_ipv6
        r("dns.aaaa", "pass"),
    ]
    fixes = row(summarize(results))["fix_first"]
    assert [(f["check"], f["points"]) for f in fixes] == [
        ("dns.aaaa", 3.0),
        ("web.parity", 2.0),
        ("web.http", 1.5),
        ("dns.mx_ipv6", 1.0),
        ("web.links", 1.0),
    ]
    assert fixes[0] == {
        "tier": "services",
        "subject": "www.gov.example",
        "check": "dns.aaaa",
        "status": "fail",
        "detail": "no AAAA",
        "weight": 3.0,
        "points": 3.0,
        "gain": round(100 * 3 / 16, 1),  # the tier's full points: 1+3+2+1+2+3+1+3
        "fix": "dns.aaaa.fail",  # report/fixes.py: how to fix it
    }


def test_fix_first_weighs_a_small_tier_by_its_share_of_the_target() -> None:
    results = [r(c, "pass") for c in ("web.http", "web.reachable", "web.parity")]
    results.append(r("dns.aaaa", "fail"))  # 3 of 11 services points
    results.append(r("net.ping", "fail", tier="backbone", subject="2001:db8::1"))  # 1 of 1
    fixes = row(summarize(results))["fix_first"]
    assert [f["check"] for f in fixes] == ["net.ping", "dns.aaaa"]
    assert fixes[0]["gain"] == 50.0  # the backbone is half the target's score
    assert fixes[1]["gain"] == round(50 * 3 / 11, 1)


def test_fix_first_count_comes_from_the_profile() -> None:
    results = [r("dns.aaaa", "fail", subject=f"h{i}.example") for i in range(8)]
    assert len(row(summarize(results))["fix_first"]) == 5
    assert (
        len(row(summarize(results, profile=replace(DEFAULT_PROFILE, fix_first=2)))["fix_first"])
        == 2
    )
    assert row(summarize(results, profile=replace(DEFAULT_PROFILE, fix_first=0)))["fix_first"] == []


# --------------------------------------------------------------------------- NIST colours

WEB = ("dns.aaaa", ("web.reachable", "web.http"))
MAIL = ("dns.mx_ipv6", ("mail.smtp",))


@pytest.mark.parametrize(
    ("counts", "service", "expected"),
    [
        ({"dns.aaaa": {"fail": 1}}, WEB, "red"),
        ({"dns.aaaa": {"pass": 1, "fail": 1}, "web.http": {"pass": 2}}, WEB, "red"),
        ({"dns.aaaa": {"pass": 2}, "web.reachable": {"fail": 1}}, WEB, "yellow"),
        (
            {"dns.aaaa": {"pass": 2}, "web.reachable": {"pass": 2}, "web.http": {"warn": 1}},
            WEB,
            "yellow",
        ),
        (
            {"dns.aaaa": {"warn": 1}, "web.reachable": {"pass": 1}, "web.http": {"pass": 1}},
            WEB,
            "yellow",
        ),
        (
            {"dns.aaaa": {"pass": 2}, "web.reachable": {"pass": 2}, "web.http": {"pass": 2}},
            WEB,
            "green",
        ),
        ({"dns.aaaa": {"pass": 2}, "web.http": {"pass": 1, "error": 1}}, WEB, "green"),
        ({"dns.aaaa": {"pass": 2}}, WEB, None),  # operation not tested: not claimed either way
        ({"dns.aaaa": {"pass": 2}, "web.http": {"error": 2}}, WEB, None),
        ({"dns.aaaa": {"error": 1}}, WEB, None),
        ({}, WEB, None),
        ({"dns.mx_ipv6": {"skip": 1}}, MAIL, "grey"),
        ({"dns.mx_ipv6": {"skip": 1, "error": 1}}, MAIL, None),
        ({"dns.mx_ipv6": {"skip": 1, "pass": 1}, "mail.smtp": {"pass": 1}}, MAIL, "green"),
        ({"dns.mx_ipv6": {"pass": 1}, "mail.smtp": {"fail": 1}}, MAIL, "yellow"),
    ],
)
def test_service_colour(
    counts: dict[str, dict[str, int]], service: tuple[str, tuple[str, ...]], expected: str | None
) -> None:
    assert colour(counts, *service) == expected


def test_target_row_carries_colours_of_its_services_tier_only() -> None:
    results = [
        r("dns.ns_ipv6", "pass"),
        r("dns.ns_reachable", "pass"),
        r("dns.mx_ipv6", "skip"),
        r("dns.aaaa", "fail", subject="www.gov.example"),
        r("dns.aaaa", "pass", tier="backbone", subject="core.gov.example"),  # not web
    ]
    assert row(summarize(results))["services"] == {"dns": "green", "mail": "grey", "web": "red"}


# --------------------------------------------------------------------------- stages


@pytest.mark.parametrize(
    ("req", "counts", "good", "met"),
    [
        (Requirement("c", 0), {"pass": 1, "fail": 9}, ("pass",), True),
        (Requirement("c", 0), {"fail": 3}, ("pass",), False),
        (Requirement("c", 0), {}, ("pass",), False),
        (Requirement("c", 0, if_present=True), {"skip": 2}, ("pass",), True),
        (Requirement("c", 100), {"pass": 2, "warn": 1}, ("pass",), False),
        (Requirement("c", 100), {"pass": 2, "warn": 1}, ("pass", "warn"), True),
        (Requirement("c", 60), {"pass": 3, "fail": 2, "error": 5}, ("pass",), True),
        (Requirement("c", 61), {"pass": 3, "fail": 2}, ("pass",), False),
        (Requirement("c", 100, if_present=True), {"error": 1}, ("pass",), True),
    ],
)
def test_requirement(
    req: Requirement, counts: dict[str, int], good: tuple[str, ...], met: bool
) -> None:
    assert req.met(counts, good) is met


def test_stage_thresholds_come_from_the_profile() -> None:
    half = {"dns.aaaa": {"pass": 1, "fail": 1}}
    assert stage_of(half) == "aaaa-published"
    strict = {**STAGE_RULES, "aaaa-published": (Requirement("dns.aaaa", 100),)}
    assert stage_of(half, strict) == "ipv4-only"
    lenient = {**STAGE_RULES, "ipv6-ready": (Requirement("dns.ns_ipv6", 100),)}
    ready = {
        "dns.aaaa": {"pass": 2},
        "web.reachable": {"pass": 1},
        "web.http": {"pass": 1},
        "web.parity": {"pass": 1},
        "dns.ns_ipv6": {"pass": 1},
    }
    assert stage_of(ready) == "dual-stack"  # default: links and reachability are missing
    assert stage_of(ready, lenient) == "ipv6-ready"


def test_ipv6_ready_wants_pass_where_lower_rungs_take_warn() -> None:
    seen = {
        "dns.aaaa": {"warn": 1},
        "web.reachable": {"warn": 1},
        "web.http": {"pass": 1},
        "web.parity": {"pass": 1},
        "dns.ns_ipv6": {"pass": 1},
        "dns.ns_reachable": {"pass": 1},
        "web.links": {"pass": 1},
    }
    assert stage_of(seen) == "dual-stack"  # dns.aaaa warns: "*" wants every check to pass
    assert stage_of({**seen, "dns.aaaa": {"pass": 1}, "web.reachable": {"pass": 1}}) == "ipv6-ready"


def test_stage_catalogue_names_every_stage_in_both_languages() -> None:
    entries = catalogue()
    assert [e["id"] for e in entries] == [*STAGES, "not-assessed"]
    assert [e["rank"] for e in entries] == [0, 1, 2, 3, 4, None]
    assert STAGE_NAMES["ipv4-only"] == {"en": "IPv4 only", "zh-CN": "仅IPv4"}
    assert STAGE_NAMES["dual-stack"]["zh-CN"] == "双栈一致"
    for e in entries:
        assert set(e["name"]) == {"en", "zh-CN"} and all(e["name"].values())
    assert rank("ipv6-ready") == 4 and rank("not-assessed") is None


# --------------------------------------------------------------------------- groups


def test_sector_and_overall_breakdowns() -> None:
    results = [
        r("dns.aaaa", "pass", target="A"),
        r("net.ping", "fail", target="A", tier="backbone", subject="2001:db8::1"),
        r("dns.aaaa", "fail", target="B"),
        r("dns.aaaa", "pass", target="C", sector="enterprise"),
        r("dns.mx_ipv6", "skip", target="C", sector="enterprise"),
    ]
    summary = summarize(results)
    gov = summary["sectors"]["government"]
    assert gov["score"] == 25.0  # A: (100 + 0) / 2, B: 0
    assert gov["tiers"]["services"] == {
        "score": 50.0,
        "targets": 2,
        "checks": {"dns.aaaa": {"pass": 1, "fail": 1}},
    }
    assert gov["tiers"]["backbone"]["score"] == 0.0
    assert gov["stages"] == {"aaaa-published": 1, "ipv4-only": 1}
    assert gov["services"]["web"] == {"not-assessed": 1, "red": 1}
    overall = summary["overall"]
    assert overall["tiers"]["services"]["checks"]["dns.aaaa"] == {"pass": 2, "fail": 1}
    assert overall["tiers"]["services"]["score"] == pytest.approx(66.7)
    assert overall["services"]["mail"] == {"not-assessed": 2, "grey": 1}
    assert summary["profile"] == {"name": "default", "source": None}
    assert [s["id"] for s in summary["stages"]][-1] == "not-assessed"
