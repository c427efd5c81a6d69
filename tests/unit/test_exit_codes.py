"""Exit codes (INTERFACE.md): 2 for an --out that cannot hold the files, 3 with one line and
a crash file for an internal error, 130 for an interruption at any moment, and never a
traceback or a Python `None` in what the user reads. In-process, no network: the scan
is replaced."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import pytest

import ipv6scan.cli as cli
from ipv6scan import audit, scanjob
from ipv6scan.cli import main
from ipv6scan.observations.dns import Connectivity

RECORD = {"target": "one.example", "sector": "enterprise", "tier": "services",
          "subject": "one.example", "check": "dns.aaaa", "status": "pass",
          "detail": "ok", "evidence": {}, "duration_ms": 1.0}  # fmt: skip


@pytest.fixture
def one(tmp_path: Path) -> Path:
    path = tmp_path / "one.txt"
    path.write_text("one.example\n")
    return path


@pytest.fixture
def scans(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The scans started; each writes one result, unless a test replaces it."""
    started: list[Any] = []

    async def fake_scan(config: Any, _targets: Any, _total: Any) -> Any:
        started.append(config)
        config.out.mkdir(parents=True, exist_ok=True)
        (config.out / "results.jsonl").write_text(json.dumps(RECORD) + "\n")
        return None, Connectivity(True, True, (), ())

    monkeypatch.setattr(cli, "scan", fake_scan)
    monkeypatch.setattr(cli, "use_fast_loop", lambda: None)
    return started


def _scan(one: Path, out: Path, *extra: str) -> int:
    return main(["scan", str(one), "--out", str(out), "--quiet", "--lang", "en", *extra])


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


# --------------------------------------------------------------------------- 2: --out


def test_out_naming_a_file_exits_2_in_one_line_before_scanning(
    tmp_path: Path, one: Path, scans: list[Any], capsys: pytest.CaptureFixture[str]
) -> None:
    taken = tmp_path / "taken"
    taken.write_text("mine")
    assert _scan(one, taken) == 2
    line = _one_line(capsys.readouterr().err)
    assert str(taken) in line and "is a file, not a directory" in line
    assert not scans and taken.read_text() == "mine"


def test_out_below_a_file_exits_2(
    tmp_path: Path, one: Path, scans: list[Any], capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "f").write_text("")
    assert _scan(one, tmp_path / "f" / "out") == 2
    assert "cannot be created" in _one_line(capsys.readouterr().err)
    assert not scans


def test_merge_out_naming_a_file_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    taken = tmp_path / "taken"
    taken.write_text("")
    assert main(["merge", str(tmp_path), "--out", str(taken), "--quiet"]) == 2
    assert "is a file" in _one_line(capsys.readouterr().err)


# --------------------------------------------------------------------------- 3: a crash


def test_an_internal_error_exits_3_naming_a_crash_file_in_out(
    tmp_path: Path, one: Path, scans: list[Any], monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    def broken(*_args: Any, **_kw: Any) -> Any:
        raise ZeroDivisionError("a bug in scoring")

    monkeypatch.setattr(audit, "finish_scan", broken)
    out = tmp_path / "out"
    assert _scan(one, out) == 3
    line = _one_line(capsys.readouterr().err)
    assert "internal error: ZeroDivisionError: a bug in scoring" in line
    (crash,) = out.glob("crash-*.txt")
    assert str(crash) in line
    text = crash.read_text()
    assert "Traceback" in text and "ZeroDivisionError" in text and "ipv6scan 0." in text
    assert "argv:" in text and str(one) in text


def test_a_crash_with_no_out_directory_goes_to_a_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)

    def broken(*_args: Any) -> Any:
        raise OSError(28, "No space left on device")

    monkeypatch.setitem(cli.COMMANDS, "validate", broken)
    assert main(["validate", str(tmp_path / "x.yaml")]) == 3
    line = _one_line(capsys.readouterr().err)
    assert "No space left on device" in line
    (crash,) = tmp_path.glob("ipv6scan-crash-*.txt")
    assert str(crash) in line


# --------------------------------------------------------------------------- 130


def test_interrupted_before_the_scan_exits_130_without_a_traceback(
    tmp_path: Path, one: Path, scans: list[Any], monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    def sigterm(*_args: Any) -> None:
        signal.raise_signal(signal.SIGTERM)  # as a CI timeout would, while the list is read

    monkeypatch.setattr(scanjob, "validate_targets", sigterm)  # what scan validates with
    before = signal.getsignal(signal.SIGTERM)
    assert _scan(one, tmp_path / "out") == 130
    assert "interrupted" in _one_line(capsys.readouterr().err)
    assert not scans
    assert signal.getsignal(signal.SIGTERM) is before  # put back for whoever runs main next


def test_interrupted_before_the_first_result_writes_empty_files_and_exits_130(
    tmp_path: Path, one: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async def stopped_early(config: Any, _targets: Any, _total: Any) -> Any:
        config.out.mkdir(parents=True, exist_ok=True)  # as run._scan does, then SIGTERM
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "scan", stopped_early)
    monkeypatch.setattr(cli, "use_fast_loop", lambda: None)
    out = tmp_path / "out"
    assert _scan(one, out) == 130
    err = capsys.readouterr().err
    assert "interrupted" in err and "Traceback" not in err
    assert (out / "results.jsonl").read_text() == ""
    summary = json.loads((out / "summary.json").read_text())
    assert summary["overall"]["score"] is None
    assert (out / "report.html").stat().st_size > 0 and (out / "junit.xml").exists()


def test_interrupted_while_writing_the_reports_exits_130(
    tmp_path: Path, one: Path, scans: list[Any], monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    def interrupted(*_args: Any, **_kw: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(audit, "finish_scan", interrupted)
    out = tmp_path / "out"
    assert _scan(one, out) == 130
    line = _one_line(capsys.readouterr().err)
    assert "results.jsonl holds every finished result" in line
    assert (out / "results.jsonl").read_text() == json.dumps(RECORD) + "\n"


# --------------------------------------------------------------------------- no None


def test_an_unscored_run_says_not_scored_never_none(
    tmp_path: Path, one: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async def undecided(config: Any, _targets: Any, _total: Any) -> Any:
        config.out.mkdir(parents=True, exist_ok=True)
        (config.out / "results.jsonl").write_text(json.dumps({**RECORD, "status": "error"}) + "\n")
        return None, Connectivity(True, True, (), ())

    monkeypatch.setattr(cli, "scan", undecided)
    monkeypatch.setattr(cli, "use_fast_loop", lambda: None)
    code = main(["scan", str(one), "--out", str(tmp_path / "out"), "--lang", "en",
                 "--fail-under", "60", "--fail-on-regression"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1
    assert "not scored" in err
    assert "None" not in err
