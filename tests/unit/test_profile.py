"""Scoring profiles in YAML: the shipped default matches the code, overrides apply, and every
mistake is reported with file:line (exit 2 before any scan)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

import ipv6scan.cli as cli
from ipv6scan.cli import main
from ipv6scan.model import CheckResult, Status
from ipv6scan.scoring import DEFAULT_PROFILE, Requirement, summarize
from ipv6scan.scoring.profile_yaml import ProfileError, load_profile

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str, name: str = "profile.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def errors_of(path: Path) -> list[str]:
    with pytest.raises(ProfileError) as exc:
        load_profile(path)
    return [str(e) for e in exc.value.errors]


def test_shipped_default_profile_is_the_built_in_default() -> None:
    shipped = load_profile(ROOT / "profiles" / "default.yaml")
    for f in dataclasses.fields(DEFAULT_PROFILE):
        if f.name == "source":
            continue
        ours, theirs = getattr(shipped, f.name), getattr(DEFAULT_PROFILE, f.name)
        if isinstance(theirs, dict) or hasattr(theirs, "items"):
            ours, theirs = dict(ours), dict(theirs)
        assert ours == theirs, f.name


def test_overrides_merge_with_the_defaults(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
name: strict
points: {warn: 0.25}
warn_points: {dns.aaaa: 0.75}
weights: {dns.mx_ipv6: 4}
default_weight: 2
tiers: {backbone: 3}
single_ipv6_name_server: 1
fix_first: 3
stages:
  aaaa-published: {dns.aaaa: 100}
  ipv6-ready:
    dns.ns_ipv6: 100
    "*": {at_least: 90, if_present: true}
""",
    )
    p = load_profile(path)
    assert p.name == "strict" and p.source == str(path)
    assert p.warn_points == 0.25 and p.warn_points_by_check == {"dns.aaaa": 0.75}
    assert p.weight("dns.mx_ipv6") == 4 and p.weight("dns.aaaa") == 3  # merged
    assert p.weight("x.unknown") == 2
    assert p.tier_weight("backbone") == 3 and p.tier_weight("services") == 1
    assert p.single_ns_cap == 1 and p.fix_first == 3
    assert p.stages["aaaa-published"] == (Requirement("dns.aaaa", 100),)
    assert p.stages["ipv6-ready"] == (
        Requirement("dns.ns_ipv6", 100),
        Requirement("*", 90, if_present=True),
    )
    assert p.stages["dual-stack"] == DEFAULT_PROFILE.stages["dual-stack"]  # untouched rung


def test_a_profile_changes_the_scores(tmp_path: Path) -> None:
    results = [
        CheckResult("T", "government", "services", "d.example", "dns.aaaa", Status.PASS, ""),
        CheckResult("T", "government", "services", "d.example", "dns.mx_ipv6", Status.FAIL, ""),
    ]
    assert summarize(results)["targets"][0]["score"] == 75
    p = load_profile(write(tmp_path, "weights: {dns.aaaa: 1, dns.mx_ipv6: 3}\n"))
    summary = summarize(results, profile=p)
    assert summary["targets"][0]["score"] == 25
    assert summary["profile"] == {"name": "profile", "source": str(tmp_path / "profile.yaml")}


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("weights:\n  dns.aaaa: 3\n  dns.bogus: 1\n", 3, "unknown check 'dns.bogus'"),
        ("weights:\n  dns.aaaa: -1\n", 2, "weights.dns.aaaa must be a number at least 0"),
        ("weights:\n  dns.aaaa: heavy\n", 2, "must be a number"),
        ("weights:\n  dns.aaaa: .inf\n", 2, "must be a number"),
        ("points:\n  pass: 0.9\n", 2, "points.pass is fixed at 1"),
        ("points:\n  fail: 0.1\n", 2, "points.fail is fixed at 0"),
        ("points:\n  warn: 2\n", 2, "points.warn must be a number between 0 and 1"),
        ("points:\n  meh: 0.5\n", 2, "unknown key 'meh' in points"),
        ("version: 1\nweigths: {}\n", 2, "did you mean 'weights'?"),
        ("tiers:\n  core: 1\n", 2, "unknown key 'core' in tiers"),
        ("single_ipv6_name_server: 1.5\n", 1, "between 0 and 1"),
        ("fix_first: 2.5\n", 1, "fix_first must be a whole number"),
        ("stages:\n  ready: {dns.aaaa: 1}\n", 2, "unknown key 'ready' in stages"),
        ("stages:\n  ipv4-only: {dns.aaaa: 1}\n", 2, "unknown key 'ipv4-only'"),
        ("stages:\n  reachable:\n    web.http: 120\n", 3, "between 0 and 100"),
        (
            "stages:\n  reachable:\n    web.http: {at_least: 50, if_present: yes please}\n",
            3,
            "if_present must be true or false",
        ),
        (
            "stages:\n  reachable:\n    web.http: {if_present: true}\n",
            3,
            "missing required key 'at_least'",
        ),
        ("stages:\n  aaaa-published: {'*': 0}\n", 2, "must name at least one check"),
        ("version: 2\n", 1, "version must be 1"),
        ("weights: [dns.aaaa]\n", 1, "weights must be a mapping of check ids"),
        ("- 1\n", 1, "the top level must be a mapping"),
        ("weights: {dns.aaaa: 3\n", 2, "YAML syntax"),
    ],
)
def test_profile_errors_name_file_and_line(
    tmp_path: Path, text: str, line: int, words: str
) -> None:
    path = write(tmp_path, text)
    errors = errors_of(path)
    assert any(e.startswith(f"{path}:{line}: ") and words in e for e in errors), errors


def test_every_error_at_once_in_file_order(tmp_path: Path) -> None:
    path = write(tmp_path, "fix_first: -1\nweights:\n  nope: 1\npoints: {warn: x}\n")
    errors = errors_of(path)
    assert [e.split(": ", 1)[0] for e in errors] == [f"{path}:1", f"{path}:3", f"{path}:4"]


def test_empty_and_missing_profiles(tmp_path: Path) -> None:
    assert "profile is empty" in errors_of(write(tmp_path, "# nothing\n"))[0]
    assert "cannot read file" in errors_of(tmp_path / "missing.yaml")[0]


# --------------------------------------------------------------------------- command line

TARGETS = """\
version: 1
name: Profiles
targets:
  - name: Portal
    sector: government
    domains: [gov.example]
"""


@pytest.fixture
def targets(tmp_path: Path) -> Path:
    return write(tmp_path, TARGETS, "targets.yaml")


def test_scan_with_a_bad_profile_exits_2_before_scanning(
    tmp_path: Path,
    targets: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    started: list[object] = []

    async def forbidden(*args: object) -> object:
        started.append(args)
        raise AssertionError("a scan was started")

    monkeypatch.setattr(cli, "scan", forbidden)
    bad = write(tmp_path, "weights:\n  dns.aaaa: lots\n", "bad.yaml")
    out = tmp_path / "out"
    code = main(["scan", str(targets), "--out", str(out), "--quiet", "--profile", str(bad)])
    assert code == 2
    assert f"{bad}:2:" in capsys.readouterr().err
    assert not started and not out.exists()


def test_report_and_diff_use_the_profile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [
        {
            "target": "Portal",
            "sector": "government",
            "tier": "services",
            "subject": "gov.example",
            "check": check,
            "status": status,
            "detail": "",
            "evidence": {},
        }
        for check, status in (("dns.aaaa", "pass"), ("dns.mx_ipv6", "fail"))
    ]
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        text = "\n".join(json.dumps(x) for x in lines) + "\n"
        (tmp_path / name / "results.jsonl").write_text(text, encoding="utf-8")
    profile = write(tmp_path, "weights: {dns.mx_ipv6: 3}\n", "p.yaml")
    bad = write(tmp_path, "weights: {dns.mx_ipv6: x}\n", "bad.yaml")
    args = ["diff", str(tmp_path / "a"), str(tmp_path / "b"), "--json"]
    assert main([*args, "--profile", str(profile)]) == 0
    assert json.loads(capsys.readouterr().out)["overall"] == {"old": 50.0, "new": 50.0}
    assert main([*args, "--profile", str(bad)]) == 2
    assert f"{bad}:1:" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "a"), "--profile", str(bad)]) == 2
