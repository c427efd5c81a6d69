"""Policy milestones: the format and its file:line errors, each metric, and each state."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from ipv6scan.cli import main
from ipv6scan.milestones import (
    Milestone,
    MilestoneErrors,
    evaluate,
    evaluate_one,
    load_milestones,
    value_of,
)
from ipv6scan.model import CheckResult, Status
from ipv6scan.scoring import summarize

HEAD = """\
version: 1
name: Milestones
targets:
  - name: Portal
    sector: government
    domains: [gov.example]
  - name: Telco
    sector: operator
    domains: [telco.example]
"""

GOOD = (
    HEAD
    + """\
milestones:
  - {name: "Government services score 90", sector: government, tier: services, metric: score,
     at_least: 90, by: 2025-12-31, from: 2024-01-01}
  - name: Backbone addresses answering over IPv6
    sector: operator
    tier: backbone
    metric: pass_share
    check: net.ping
    at_least: 80
    by: "2026-12-31"
  - {name: "Half ready", metric: stage_share, stage: ipv6-ready, at_least: 50, by: 2027-06-30,
     from: 2025-01-01, start: 10}
  - {name: "Portal", metric: score, target: Portal, at_least: 95, by: 2026-01-01}
"""
)


def write(tmp_path: Path, text: str, name: str = "targets.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_parse_the_documented_format(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    ms = load_milestones([path])
    assert [m.name for m in ms] == [
        "Government services score 90",
        "Backbone addresses answering over IPv6",
        "Half ready",
        "Portal",
    ]
    gov, backbone, ready, portal = ms
    assert gov == Milestone(
        name="Government services score 90",
        metric="score",
        at_least=90.0,
        by=dt.date(2025, 12, 31),
        sector="government",
        tier="services",
        start=dt.date(2024, 1, 1),
        source=f"{path}:11",
    )
    assert backbone.check == "net.ping" and backbone.by == dt.date(2026, 12, 31)
    assert ready.stage == "ipv6-ready" and ready.start_value == 10
    assert portal.target == "Portal" and portal.scope() == {"target": "Portal"}


def test_a_list_without_milestones_has_none(tmp_path: Path) -> None:
    assert load_milestones([write(tmp_path, HEAD)]) == []


@pytest.mark.parametrize(
    ("item", "words"),
    [
        ("{name: A, metric: speed, at_least: 1, by: 2026-01-01}", "unknown metric 'speed'"),
        ("{name: A, metric: score, by: 2026-01-01}", "missing required key 'at_least'"),
        ("{name: A, metric: score, at_least: 120, by: 2026-01-01}", "from 0 to 100"),
        ("{name: A, metric: score, at_least: high, by: 2026-01-01}", "from 0 to 100"),
        ("{name: A, metric: score, at_least: 9, by: soon}", "by must be a date YYYY-MM-DD"),
        (
            "{name: A, metric: score, at_least: 9, by: 2026-01-01, from: 2026-02-01}",
            "must be before by",
        ),
        ("{name: A, metric: pass_share, at_least: 9, by: 2026-01-01}", "needs 'check'"),
        (
            "{name: A, metric: pass_share, check: dns.nope, at_least: 9, by: 2026-01-01}",
            "unknown check",
        ),
        ("{name: A, metric: stage_share, at_least: 9, by: 2026-01-01}", "needs 'stage'"),
        (
            "{name: A, metric: stage_share, stage: ready, at_least: 9, by: 2026-01-01}",
            "unknown stage",
        ),
        (
            "{name: A, metric: stage_share, stage: reachable, tier: services, at_least: 9,"
            " by: 2026-01-01}",
            "does not take 'tier'",
        ),
        (
            "{name: A, metric: score, check: dns.aaaa, at_least: 9, by: 2026-01-01}",
            "does not take 'check'",
        ),
        (
            "{name: A, metric: score, sector: military, at_least: 9, by: 2026-01-01}",
            "unknown sector",
        ),
        ("{name: A, metric: score, tier: core, at_least: 9, by: 2026-01-01}", "unknown tier"),
        (
            "{name: A, metric: score, target: Nobody, at_least: 9, by: 2026-01-01}",
            "unknown target 'Nobody'",
        ),
        (
            "{name: A, metric: score, target: Portal, sector: government, at_least: 9,"
            " by: 2026-01-01}",
            "not both",
        ),
        ("{name: A, metric: score, start: 5, at_least: 9, by: 2026-01-01}", "needs `from`"),
        (
            "{name: A, metric: score, at_least: 9, by: 2026-01-01, deadline: 2026-01-01}",
            "unknown key 'deadline'",
        ),
        ("just a string", "milestone must be a mapping"),
    ],
)
def test_milestone_errors_name_file_and_line(tmp_path: Path, item: str, words: str) -> None:
    path = write(
        tmp_path,
        HEAD
        + "milestones:\n  - {name: Fine, metric: score, at_least: 1, by: 2030-01-01}\n  - "
        + item
        + "\n",
    )
    with pytest.raises(MilestoneErrors) as exc:
        load_milestones([path])
    messages = [str(e) for e in exc.value.errors]
    assert any(m.startswith(f"{path}:12: ") and words in m for m in messages), messages


def test_milestones_must_be_a_list_and_names_unique(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + "milestones: {name: A}\n")
    with pytest.raises(MilestoneErrors, match=rf"{path}:10: milestones must be a list"):
        load_milestones([path])
    twice = "  - {name: A, metric: score, at_least: 1, by: 2030-01-01}\n"
    path = write(tmp_path, HEAD + "milestones:\n" + twice + twice)
    with pytest.raises(
        MilestoneErrors, match=rf"{path}:12: duplicate milestone name 'A' \(first at {path}:11\)"
    ):
        load_milestones([path])


def test_validate_and_scan_exit_2_on_a_bad_milestone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(
        tmp_path,
        HEAD + "milestones:\n  - {name: A, metric: score, at_least: 101, by: 2030-01-01}\n",
    )
    assert main(["validate", str(path)]) == 2
    assert f"{path}:11:" in capsys.readouterr().err
    out = tmp_path / "out"
    assert main(["scan", str(path), "--out", str(out), "--quiet"]) == 2
    assert f"{path}:11:" in capsys.readouterr().err
    assert not out.exists()
    assert main(["validate", str(write(tmp_path, GOOD, "good.yaml"))]) == 0
    assert "4 milestone(s)" in capsys.readouterr().out


# --------------------------------------------------------------------------- metrics


def r(check: str, status: str, target: str, sector: str, tier: str = "services") -> CheckResult:
    return CheckResult(target, sector, tier, f"{target}.example", check, Status(status), "")


SUMMARY = summarize(
    [
        r("dns.aaaa", "pass", "gov1", "government"),
        r("dns.aaaa", "fail", "gov2", "government"),
        r("dns.aaaa", "pass", "telco", "operator"),
        r("net.ping", "pass", "telco", "operator", "backbone"),
        r("net.ping", "fail", "telco", "operator", "backbone"),
        r("net.ping", "warn", "telco", "operator", "backbone"),
        r("net.ping", "error", "telco", "operator", "backbone"),
        r("dns.aaaa", "error", "unknown", "enterprise"),
    ]
)


def m(metric: str, **kw: Any) -> Milestone:
    return Milestone("m", metric, kw.pop("at_least", 50), kw.pop("by", dt.date(2030, 1, 1)), **kw)


@pytest.mark.parametrize(
    ("milestone", "value"),
    [
        (m("score"), 58.3),  # gov1 100, gov2 0, telco (100 + 50) / 2; unknown: unscored
        (m("score", sector="government"), 50.0),
        (m("score", sector="operator", tier="backbone"), 50.0),  # (1 + 0.5 + 0) / 3
        (m("score", tier="backbone"), 50.0),
        (m("score", target="gov2"), 0.0),
        (m("score", target="telco", tier="services"), 100.0),
        (m("score", sector="enterprise"), None),  # nothing decided
        (m("score", target="nobody"), None),
        (m("pass_share", check="net.ping"), 33.3),  # error is not decided
        (m("pass_share", check="dns.aaaa", sector="government"), 50.0),
        (m("pass_share", check="dns.aaaa", tier="services"), pytest.approx(66.7)),
        (m("pass_share", check="dns.aaaa", target="telco"), 100.0),
        (m("pass_share", check="web.http"), None),
        (m("stage_share", stage="aaaa-published"), pytest.approx(66.7)),  # not-assessed left out
        (m("stage_share", stage="ipv4-only"), 100.0),
        (m("stage_share", stage="aaaa-published", sector="government"), 50.0),
        (m("stage_share", stage="aaaa-published", target="gov2"), 0.0),
        (m("stage_share", stage="ipv6-ready", sector="enterprise"), None),
    ],
)
def test_metric_values(milestone: Milestone, value: object) -> None:
    assert value_of(milestone, SUMMARY) == value


# --------------------------------------------------------------------------- states

GOAL = Milestone("g", "score", 90, dt.date(2026, 12, 31), start=dt.date(2026, 1, 1))
D = dt.date


@pytest.mark.parametrize(
    ("milestone", "value", "today", "history", "state", "expected"),
    [
        (GOAL, 90.0, D(2026, 6, 1), [], "met", None),
        (GOAL, 95.0, D(2027, 6, 1), [], "met", None),  # late, but met
        (GOAL, 89.9, D(2027, 1, 1), [(D(2026, 1, 1), 10.0)], "behind", None),  # deadline passed
        # from 50 on 2026-01-01 to 90 on 2026-12-31: the line is at about 70 on 2026-07-02
        (GOAL, 71.0, D(2026, 7, 2), [(D(2026, 1, 1), 50.0)], "on-track", 70.0),
        (GOAL, 69.0, D(2026, 7, 2), [(D(2026, 1, 1), 50.0)], "behind", 70.0),
        # the last value measured by `from` stands for it
        (
            GOAL,
            69.0,
            D(2026, 7, 2),
            [(D(2025, 6, 1), 20.0), (D(2025, 12, 1), 30.0)],
            "on-track",
            60.0,
        ),
        (GOAL, 40.0, D(2026, 3, 1), [], "on-track", None),  # the first measurement
        (GOAL, 40.0, D(2025, 12, 1), [(D(2025, 11, 1), 10.0)], "on-track", None),  # before `from`
        (GOAL, None, D(2026, 3, 1), [(D(2026, 1, 1), 10.0)], "not-assessed", None),
        (GOAL, None, D(2027, 3, 1), [], "not-assessed", None),
        # without `from`: the line starts at the first run in history
        (
            Milestone("g", "score", 100, D(2026, 12, 31)),
            45.0,
            D(2026, 7, 1),
            [(D(2026, 1, 1), 0.0)],
            "behind",
            49.7,  # 181 of 364 days
        ),
        # an explicit start value at `from`
        (
            Milestone("g", "score", 80, D(2026, 12, 31), start=D(2026, 1, 1), start_value=20.0),
            40.0,
            D(2026, 7, 2),
            [],
            "behind",
            50.0,
        ),
    ],
)
def test_states(
    milestone: Milestone,
    value: float | None,
    today: dt.date,
    history: list[tuple[dt.date, float | None]],
    state: str,
    expected: float | None,
) -> None:
    out = evaluate_one(milestone, value, today, history)
    assert out["state"] == state
    assert out["expected"] == expected


def test_evaluation_output_fields() -> None:
    ms = [m("pass_share", check="dns.aaaa", sector="government", at_least=40, by=D(2026, 12, 31))]
    earlier = summarize([r("dns.aaaa", "fail", "gov1", "government")])
    (out,) = evaluate(ms, SUMMARY, D(2026, 6, 1), [(D(2026, 1, 1), earlier)])
    assert out == {
        "name": "m",
        "metric": "pass_share",
        "scope": {"sector": "government", "check": "dns.aaaa"},
        "value": 50.0,
        "target_value": 40,
        "by": "2026-12-31",
        "from": None,
        "state": "met",
        "expected": None,
        "baseline": {"date": "2026-01-01", "value": 0.0},
        "history": [["2026-01-01", 0.0], ["2026-06-01", 50.0]],
        "source": "",
    }
