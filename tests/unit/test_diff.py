"""`ipv6scan diff OLD_DIR NEW_DIR`: exactly what changed, sorted into regressed, improved,
undecided, appeared and disappeared; target score changes; exit 1 only on a regression."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ipv6scan.cli import main
from ipv6scan.diff import compare
from ipv6scan.model import CheckResult, Status

BASE = [
    ("Portal", "gov.example", "dns.aaaa", "pass"),
    ("Portal", "www.gov.example", "dns.aaaa", "pass"),
    ("Portal", "gov.example", "dns.ns_ipv6", "pass"),
    ("Portal", "gov.example", "dns.mx_ipv6", "warn"),
    ("Portal", "gov.example", "dns.ns_reachable", "pass"),
    ("Shop", "shop.example", "dns.aaaa", "fail"),
]


def results_dir(path: Path, rows: list[tuple[str, str, str, str]]) -> Path:
    path.mkdir(parents=True)
    lines = [
        json.dumps(
            {
                "target": target,
                "sector": "government" if target == "Portal" else "enterprise",
                "tier": "services",
                "subject": subject,
                "check": check,
                "status": status,
                "detail": f"{subject} {check} {status}",
                "evidence": {},
            }
        )
        for target, subject, check, status in rows
    ]
    (path / "results.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def with_status(
    rows: list[tuple[str, str, str, str]], subject: str, check: str, status: str
) -> list[tuple[str, str, str, str]]:
    return [(t, s, c, status if (s, c) == (subject, check) else st) for t, s, c, st in rows]


def run_diff(tmp_path: Path, old: list[Any], new: list[Any], *extra: str) -> int:
    a, b = results_dir(tmp_path / "old", old), results_dir(tmp_path / "new", new)
    return main(["diff", str(a), str(b), *extra])


def test_a_deliberate_regression_is_listed_exactly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new = with_status(BASE, "www.gov.example", "dns.aaaa", "fail")
    code = run_diff(tmp_path, BASE, new, "--json")
    assert code == 1
    out = json.loads(capsys.readouterr().out)
    assert out["regression"] is True
    assert out["regressed"] == [
        {
            "target": "Portal",
            "tier": "services",
            "subject": "www.gov.example",
            "check": "dns.aaaa",
            "old": "pass",
            "new": "fail",
            "detail": "www.gov.example dns.aaaa fail",
        }
    ]
    for key in ("improved", "changed_undecided", "appeared", "disappeared"):
        assert out[key] == [], key
    assert out["scores"] == [{"target": "Portal", "old": 95.5, "new": 68.2, "fell": True}]
    assert out["overall"] == {"old": 47.8, "new": 34.1}


def test_the_text_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    new = with_status(BASE, "www.gov.example", "dns.aaaa", "fail")
    new = with_status(new, "gov.example", "dns.mx_ipv6", "pass")
    new = with_status(new, "gov.example", "dns.ns_reachable", "error")
    new = [*new[:-1], ("Shop", "www.shop.example", "dns.aaaa", "pass")]  # one gone, one new
    code = run_diff(tmp_path, BASE, new)
    assert code == 1
    assert capsys.readouterr().out.splitlines() == [
        "Regressed (1):",
        "  Portal / www.gov.example / dns.aaaa: pass -> fail  (www.gov.example dns.aaaa fail)",
        "Improved (1):",
        "  Portal / gov.example / dns.mx_ipv6: warn -> pass  (gov.example dns.mx_ipv6 pass)",
        "Changed, undecided (1):",
        "  Portal / gov.example / dns.ns_reachable: pass -> error"
        "  (gov.example dns.ns_reachable error)",
        "Appeared (1):",
        "  Shop / www.shop.example / dns.aaaa: - -> pass  (www.shop.example dns.aaaa pass)",
        "Disappeared (1):",
        "  Shop / shop.example / dns.aaaa: fail -> -  (shop.example dns.aaaa fail)",
        "Target scores (2):",
        "  Portal: 95.5 -> 66.7 (-28.8)  fell",
        "  Shop: 0 -> 100 (+100.0)  rose",
        "Overall score: 47.8 -> 83.3 (+35.5)",
        "regression: 1 regressed, 1 improved, 1 target score(s) fell",
    ]


def test_improvements_only_exit_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    new = with_status(BASE, "shop.example", "dns.aaaa", "pass")
    code = run_diff(tmp_path, BASE, new, "--json")
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["regression"] is False and out["regressed"] == []
    assert [c["subject"] for c in out["improved"]] == ["shop.example"]


def test_identical_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = run_diff(tmp_path, BASE, BASE)
    assert code == 0
    assert capsys.readouterr().out.splitlines() == [
        "Overall score: 47.8 -> 47.8",
        "no regression: 0 regressed, 0 improved, 0 target score(s) fell",
    ]


@pytest.mark.parametrize(
    ("old", "new", "kind"),
    [
        ("pass", "warn", "regressed"),
        ("warn", "fail", "regressed"),
        ("pass", "fail", "regressed"),
        ("fail", "warn", "improved"),
        ("warn", "pass", "improved"),
        ("pass", "error", "undecided"),
        ("error", "fail", "undecided"),
        ("skip", "pass", "undecided"),
    ],
)
def test_each_transition_is_sorted_where_it_belongs(old: str, new: str, kind: str) -> None:
    def one(status: str) -> list[CheckResult]:
        return [
            CheckResult("T", "enterprise", "services", "t.example", "dns.aaaa", Status(status), "")
        ]

    diff = compare(lambda: one(old), lambda: one(new))
    lists = {k: getattr(diff, k) for k in ("regressed", "improved", "undecided")}
    assert [k for k, v in lists.items() if v] == [kind]
    assert diff.has_regression is (kind == "regressed")
    # the gate of --fail-on-regression is narrower: only what passed before
    regressed = [line for line in diff.gate() if line.startswith("regressed:")]
    assert bool(regressed) is (old == "pass" and kind == "regressed")


def test_a_fallen_score_alone_is_a_regression() -> None:
    def run(*statuses: str) -> list[CheckResult]:
        checks = ("dns.aaaa", "dns.mx_ipv6")
        return [
            CheckResult("T", "enterprise", "services", "t.example", c, Status(s), "")
            for c, s in zip(checks, statuses, strict=False)
        ]

    # a check that newly fails (appeared) is no status regression, but the score falls
    diff = compare(lambda: run("pass"), lambda: run("pass", "fail"))
    assert diff.regressed == [] and [c.check for c in diff.appeared] == ["dns.mx_ipv6"]
    assert diff.has_regression and diff.gate() == ["score fell: T: 100 -> 75 (-25.0)"]


@pytest.mark.parametrize("which", ["missing", "empty"])
def test_bad_dirs_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], which: str) -> None:
    good = results_dir(tmp_path / "good", BASE)
    bad = tmp_path / which
    if which == "empty":
        bad.mkdir()
    assert main(["diff", str(good), str(bad)]) == 2
    assert main(["diff", str(bad), str(good)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err
