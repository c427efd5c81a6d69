"""What a scan does before its first probe: its command line imports no more than the scan
needs, and each YAML target list is read once for validation, milestones and the scan."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ipv6scan.milestones import load_milestones
from ipv6scan.targets import ListReader, TargetSource, iter_targets, validate_files
from ipv6scan.targets import files as target_files

LIST = """\
version: 1
name: Once
targets:
  - name: Telco
    sector: operator
    systems:
      access: ["2001:db8:bb:1::1", "2001:db8:bb:1::2"]
milestones:
  - {name: "Telco pings", metric: pass_share, check: net.ping, at_least: 80, by: 2030-12-31}
"""


def test_the_scan_command_line_leaves_the_report_and_web_stacks_unloaded() -> None:
    # Given a fresh interpreter; When it imports the command line
    code = "import sys, ipv6scan.cli; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    # Then the report's templates, the web probes and scapy wait for their first use
    for heavy in ("jinja2", "aiohttp", "cryptography", "scapy", "ipv6scan.probes.web"):
        assert heavy not in out, heavy


def test_web_reachable_alone_leaves_the_http_stack_unloaded() -> None:
    # Given a fresh interpreter; When it loads what web.reachable runs
    code = (
        "import sys; from ipv6scan.checks.registry import BY_ID; "
        "check = BY_ID['web.reachable']; check.observe.load(); check.judge.load(); "
        "print(' '.join(sorted(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    # Then the TCP connects are there, and aiohttp (and its TLS contexts) is not
    assert "ipv6scan.probes.web_site" in out
    for heavy in ("aiohttp", "ipv6scan.probes.http", "ipv6scan.probes.web"):
        assert heavy not in out, heavy


def test_a_yaml_list_is_read_once_for_validation_milestones_and_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a list with targets and milestones, and a count of the reads
    path = tmp_path / "t.yaml"
    path.write_text(LIST, encoding="utf-8")
    reads: list[str] = []
    real = target_files.load_yaml_targets

    def counting(p: str) -> object:
        reads.append(p)
        return real(p)

    monkeypatch.setattr(target_files, "load_yaml_targets", counting)
    lists = ListReader()
    # When the run validates it, takes its milestones and scans it
    assert validate_files([path], "enterprise", lists) == []
    (milestone,) = load_milestones([path], lists)
    targets = list(TargetSource((str(path),), "enterprise", lists))
    # Then it was read once, and the reads agree with a list read afresh
    assert reads == [str(path)]
    assert milestone.name == "Telco pings"
    assert targets == list(iter_targets([path]))
    assert [e.value for e in targets[0].systems] == ["2001:db8:bb:1::1", "2001:db8:bb:1::2"]


def test_a_list_that_does_not_validate_is_not_kept(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(textwrap.dedent(LIST).replace("operator", "operatr"), encoding="utf-8")
    lists = ListReader()
    (error,) = validate_files([path], "enterprise", lists)
    assert "unknown sector 'operatr'" in str(error) and error.line == 5
    assert lists._lists == {}


def test_every_check_names_functions_that_exist() -> None:
    """The registry names its functions as text (imported on first call): a misspelt one
    would otherwise fail only when a scan first runs that check."""
    from ipv6scan.checks import registry

    for check in registry.BY_ID.values():
        for function in (check.observe, check.judge):
            assert callable(function.load()), f"{check.id}: {function!r}"  # type: ignore[attr-defined]
