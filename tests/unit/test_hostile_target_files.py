"""Target files, milestones and profiles that used to crash or cost too much (issue 14,
item 6): each is now `FILE:LINE: what` and exit 2, bounded in memory and in message size."""

from __future__ import annotations

from pathlib import Path

import pytest

from ipv6scan.cli import main
from ipv6scan.targets import TargetErrors, load_yaml_targets, validate_files

TARGET = "  - name: A\n    sector: enterprise\n    domains: [a.example]\n"
HEAD = "version: 1\nname: t\ntargets:\n" + TARGET


def write(tmp_path: Path, text: str, name: str = "list.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def milestone(value: str) -> str:
    return HEAD + f"milestones:\n  - {{name: M, metric: score, at_least: 1, by: {value}}}\n"


NESTED = "[" * 250 + "]" * 250
CRASHED = {  # each gave a traceback and exit 1 before
    "impossible date": (milestone("2026-02-30"), 8, "day is out of range"),
    "5,000 digits": ("version: " + "9" * 5000 + "\n" + HEAD[11:], 1, "more than 4300 digits"),
    "!!int abc": ("version: !!int abc\n" + HEAD[11:], 1, "invalid literal for int()"),
    "nested 250 deep": (HEAD + f"milestones: {NESTED}\n", 7, "nested too deeply"),
    "nested in a milestone": (milestone(NESTED), 8, "nested too deeply"),
}


@pytest.mark.parametrize("case", CRASHED)
def test_a_value_the_constructor_refuses_is_file_line_and_exit_2(
    tmp_path: Path, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    text, line, words = CRASHED[case]
    path = write(tmp_path, text)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:{line}: YAML: " in err and words in err, err
    assert "Traceback" not in err
    out = tmp_path / "out"
    assert main(["scan", str(path), "--out", str(out), "--quiet"]) == 2
    assert f"{path}:{line}:" in capsys.readouterr().err


@pytest.mark.parametrize(
    "text", ["version: " + "9" * 5000 + "\n", "version: !!int abc\n", "version: 2026-02-30\n",
             f"version: {NESTED}\n"]
)  # fmt: skip
def test_a_profile_the_constructor_refuses_is_file_line_and_exit_2(
    tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    profile = write(tmp_path, text, "profile.yaml")
    targets = write(tmp_path, HEAD)
    out = tmp_path / "out"
    assert main(["scan", str(targets), "--out", str(out), "--profile", str(profile)]) == 2
    err = capsys.readouterr().err
    assert f"{profile}:" in err and "Traceback" not in err, err
    assert not (out / "results.jsonl").exists()


def test_a_yaml_list_has_a_budget_of_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The densest text (`{a,a,...}`: a value a byte) took 1.4 GB for 4 MiB: the budget
    counts values, whatever the bytes."""
    monkeypatch.setattr("ipv6scan.targets.yaml_nodes.MAX_YAML_NODES", 1000)
    monkeypatch.setattr("ipv6scan.targets.yaml_nodes.COUNT_NODES_ABOVE", 100)
    dense = write(tmp_path, HEAD + "    x: {" + "a," * 600 + "a}\n")
    with pytest.raises(TargetErrors) as info:
        load_yaml_targets(dense)
    (error,) = info.value.errors
    assert error.line == 7 and "more than 1,000 YAML values" in error.message
    assert ".txt or .csv" in error.message
    fine = write(tmp_path, HEAD + "".join(TARGET.replace("A", f"T{n}") for n in range(50)))
    assert len(load_yaml_targets(fine).targets) == 51  # 50 x 9 values: under the budget


def test_the_budget_bounds_memory_well_below_the_byte_cap() -> None:
    from ipv6scan.targets import yaml_nodes

    # measured: about 450 bytes of RSS a value at most; a value takes at least a byte
    assert yaml_nodes.MAX_YAML_NODES * 450 < 1 << 30
    assert yaml_nodes.COUNT_NODES_ABOVE * 450 < 1 << 30


def test_an_error_quotes_a_huge_value_as_a_bounded_excerpt(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD.replace("enterprise", "y" * 1_000_000))
    (error,) = validate_files([path])
    assert error.line == 5
    assert "unknown sector 'yyyy" in error.message and "(1,000,000 characters)" in error.message
    assert len(error.message) < 250


def test_a_huge_domain_is_quoted_as_an_excerpt(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD.replace("a.example", "c" * 1_000_000 + ".example"))
    (error,) = validate_files([path])
    assert "(1,000,008 characters)" in error.message and len(error.message) < 300


@pytest.mark.parametrize("line", ['1,"example.com', '1,"a.example"b'])
def test_csv_with_an_unterminated_quote_is_an_error(
    tmp_path: Path, line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, f"{line}\n2,b.example\n", "top.csv")
    assert main(["validate", str(path)]) == 2
    assert f"{path}:1: bad CSV" in capsys.readouterr().err
    good = write(tmp_path, '1,"a.example"\n2,b.example\n', "good.csv")
    assert validate_files([good]) == []
