"""The command line: validate, scan's usage errors (exit 2 before any scan starts),
and report re-rendering. No scan is run here: a scan would ask the host's resolver."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import ipv6scan.cli as cli
import ipv6scan.engine.run as run
from ipv6scan.cli import main
from ipv6scan.report.packed import unpack_page

GOOD = """\
version: 1
name: Example audit
targets:
  - name: Provincial Government Portal
    sector: government
    domains: [gov.example]
  - name: Example Operator
    sector: operator
    domains: [operator.example]
    systems:
      backbone: [core1.operator.example, "2001:db8:1::1"]
      metro:    [{resolver: "2001:db8:53::53"}, bras1.operator.example]
      access:   ["https://selfcare.operator.example/"]
"""

BAD = """\
version: 1
name: Broken
targets:
  - name: A
    sector: government
    domains: [a.example]
  - name: B
    sector: military
    domains: [b.example]
"""


@pytest.fixture(autouse=True)
def no_scan(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Any attempt to start a scan (and so touch the network) fails the test loudly."""
    started: list[object] = []

    async def forbidden(*args: object, **kw: object) -> object:
        started.append(args)
        raise AssertionError("a scan was started")

    monkeypatch.setattr(cli, "scan", forbidden)
    monkeypatch.setattr(run, "prepare_context", forbidden)
    return started


@pytest.fixture
def good(tmp_path: Path) -> Path:
    path = tmp_path / "good.yaml"
    path.write_text(GOOD, encoding="utf-8")
    return path


@pytest.fixture
def bad(tmp_path: Path) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(BAD, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- validate


def test_validate_good_file(good: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(good)]) == 0
    out, err = capsys.readouterr()
    assert "ok: 2 targets in 1 file(s)" in out
    assert err == ""


def test_validate_broken_file_exits_2_naming_file_and_line(
    bad: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(bad)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert f"{bad}:8:" in err
    assert "military" in err


def test_validate_yaml_syntax_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "syntax.yaml"
    path.write_text("version: 1\ntargets:\n  - name: [unclosed\n", encoding="utf-8")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err
    assert "YAML" in err


def test_validate_reports_every_file(
    good: Path, bad: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(good), str(bad)]) == 2
    assert f"{bad}:8:" in capsys.readouterr().err


def test_validate_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.yaml"
    assert main(["validate", str(missing)]) == 2
    assert str(missing) in capsys.readouterr().err


# --------------------------------------------------------------------------- scan usage errors


def scan_args(targets: Path, out: Path, *extra: str) -> list[str]:
    return ["scan", str(targets), "--out", str(out), "--quiet", *extra]


@pytest.mark.parametrize("checks", ["dns.bogus", "dns,smtp", "DNS"])
def test_scan_bad_checks_exits_2_before_scanning(
    good: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    no_scan: list[object],
    checks: str,
) -> None:
    out = tmp_path / "out"
    assert main(scan_args(good, out, "--checks", checks)) == 2
    err = capsys.readouterr().err
    assert "--checks" in err and "unknown check" in err
    assert not no_scan
    assert not out.exists()


@pytest.mark.parametrize("rate", ["fast", "0", "-100", "nan", "inf", "2e6"])
def test_scan_bad_ping_rate_exits_2_before_scanning(
    good: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    no_scan: list[object],
    monkeypatch: pytest.MonkeyPatch,
    rate: str,
) -> None:
    monkeypatch.setenv("IPV6SCAN_PING_RATE", rate)
    out = tmp_path / "out"
    assert main(scan_args(good, out)) == 2
    err = capsys.readouterr().err
    assert f"IPV6SCAN_PING_RATE={rate!r}" in err and "echo requests a second" in err
    assert not no_scan
    assert not out.exists()


@pytest.mark.parametrize("shard", ["3/2", "0/4", "1", "a/b", "2/0"])
def test_scan_bad_shard_exits_2_before_scanning(
    good: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    no_scan: list[object],
    shard: str,
) -> None:
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exc:
        main(scan_args(good, out, "--shard", shard))
    assert exc.value.code == 2
    assert "--shard" in capsys.readouterr().err
    assert not no_scan
    assert not out.exists()


@pytest.mark.parametrize(
    ("prefix", "why"),
    [
        ("2001:db8::1/32", "host bits"),
        ("not-a-prefix", "not an IPv4 or IPv6 CIDR"),
        ("fe80::%eth0/64", "zone"),
    ],
)
def test_scan_bad_allow_prefix_exits_2_before_scanning(
    good: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    no_scan: list[object],
    prefix: str,
    why: str,
) -> None:
    out = tmp_path / "out"
    assert (
        main(scan_args(good, out, "--allow-prefix", "2001:db8::/32", "--allow-prefix", prefix)) == 2
    )
    err = capsys.readouterr().err
    assert "--allow-prefix" in err and why in err
    assert not no_scan
    assert not out.exists()


def test_scan_broken_target_file_exits_2_before_scanning(
    bad: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], no_scan: list[object]
) -> None:
    out = tmp_path / "out"
    assert main(scan_args(bad, out)) == 2
    assert f"{bad}:8:" in capsys.readouterr().err
    assert not no_scan
    assert not out.exists()


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--timeout", "0"),
        ("--timeout", "soon"),
        ("--concurrency", "0"),
        ("--fail-under", "101"),
        ("--resolver", "not-an-address"),
        ("--lang", "fr"),
        ("--sector", "military"),
    ],
)
def test_scan_bad_option_values_exit_2(
    good: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    no_scan: list[object],
    option: str,
    value: str,
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(scan_args(good, tmp_path / "out", option, value))
    assert exc.value.code == 2
    assert option in capsys.readouterr().err
    assert not no_scan


def test_good_arguments_reach_the_scan(
    good: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The usage tests above mean something only if good arguments do get through."""
    seen: dict[str, object] = {}

    class Reached(BaseException):  # not an Exception: main would report it as a crash
        pass

    async def fake_scan(config: run.ScanConfig, targets: object, total: object) -> object:
        seen["config"], seen["total"] = config, total
        raise Reached

    monkeypatch.setattr(cli, "scan", fake_scan)
    monkeypatch.setattr(cli, "use_fast_loop", lambda: None)
    # as on a terminal: the progress line wants the number of targets
    watching = {"on": True}
    monkeypatch.setattr(cli.Progress, "wanted", staticmethod(lambda quiet: watching["on"]))
    args = scan_args(
        good,
        tmp_path / "out",
        "--checks",
        "dns.aaaa,resolver",
        "--shard",
        "2/3",
        "--allow-prefix",
        "2001:db8::/32",
        "--resolver",
        "2001:db8::53#5353",
        "--lang",
        "zh-CN",
    )
    with pytest.raises(Reached):
        main(args)
    config = seen["config"]
    assert isinstance(config, run.ScanConfig)
    assert [c.id for c in config.checks] == ["dns.aaaa", "resolver.ipv6"]
    assert config.shard == (2, 3)
    assert config.allow_prefixes == ("2001:db8::/32",)
    assert [(s.address, s.port) for s in config.resolvers] == [("2001:db8::53", 5353)]
    assert config.lang == "zh-CN"
    assert seen["total"] == 2
    # and with nobody watching (--quiet, or no terminal) the list is not read again to count it
    watching["on"] = False
    with pytest.raises(Reached):
        main(args)
    assert seen["total"] is None


# --------------------------------------------------------------------------- report

RECORDS = [
    {
        "target": "Provincial Government Portal",
        "sector": "government",
        "tier": "services",
        "subject": "www.gov.example",
        "check": "dns.aaaa",
        "status": "pass",
        "detail": "1 global AAAA record: 2001:db8::80.",
        "evidence": {"addresses": [{"address": "2001:db8::80", "global": True}]},
        "duration_ms": 4.2,
    },
    {
        "target": "Provincial Government Portal",
        "sector": "government",
        "tier": "services",
        "subject": "gov.example",
        "check": "dns.mx_ipv6",
        "status": "fail",
        "detail": "No MX host has a global AAAA: mx.gov.example.",
        "evidence": {},
        "duration_ms": 3.0,
    },
]


@pytest.fixture
def results_dir(tmp_path: Path) -> Path:
    out = tmp_path / "run"
    out.mkdir()
    lines = [json.dumps(r, ensure_ascii=False) for r in RECORDS]
    (out / "results.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def test_report_rerenders_from_results(
    results_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", str(results_dir), "--lang", "en"]) == 0
    html = (results_dir / "report.html").read_text(encoding="utf-8")
    assert "IPv6 readiness report" in html
    assert "Provincial Government Portal" in html
    shown = html + json.dumps(unpack_page(html), ensure_ascii=False)  # rows in the packed block
    assert "www.gov.example" in shown and "mx.gov.example" in shown
    assert "75.0" in html  # dns.aaaa pass (weight 3) beside dns.mx_ipv6 fail (weight 1)
    assert "report.html" in capsys.readouterr().out


def test_report_chinese_to_another_file(results_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.html"
    assert main(["report", str(results_dir), "--out", str(target), "--lang", "zh-CN"]) == 0
    html = target.read_text(encoding="utf-8")
    assert "IPv6 就绪度报告" in html
    assert "www.gov.example" in json.dumps(unpack_page(html))
    assert not (results_dir / "report.html").exists()


def test_report_ignores_a_torn_last_line(results_dir: Path) -> None:
    with (results_dir / "results.jsonl").open("a", encoding="utf-8") as fh:
        fh.write('{"target": "Half", "sec')
    assert main(["report", str(results_dir), "--lang", "en"]) == 0
    html = (results_dir / "report.html").read_text(encoding="utf-8")
    assert "Half" not in html
    assert "www.gov.example" in json.dumps(unpack_page(html))


def test_report_keeps_a_broken_summary_from_stopping_it(results_dir: Path) -> None:
    (results_dir / "summary.json").write_text("{not json", encoding="utf-8")
    assert main(["report", str(results_dir), "--lang", "en"]) == 0
    assert (results_dir / "report.html").is_file()


def test_report_without_results_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(tmp_path), "--lang", "en"]) == 2
    err = capsys.readouterr().err
    assert "results.jsonl" in err and str(tmp_path) in err
