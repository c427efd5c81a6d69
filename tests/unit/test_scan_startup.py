"""What a scan does before its first probe: its command line imports no more than the scan
needs, and each YAML target list is read once for validation, milestones and the scan."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ipv6scan.finish import tables_beside
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


# What a command that reads target lists only may not load: the HTTP client and its
# certificates (a fifth of a second), the report's templates and Babel, scapy.
HEAVY = ("aiohttp", "cryptography", "jinja2", "babel", "scapy", "ipv6scan.probes.http")


def _modules_after(code: str, *args: str, exits: tuple[int, ...] = (0,)) -> set[str]:
    """The modules a fresh interpreter holds after running `code`, which exits with one
    of `exits`."""
    wrapped = (
        "import atexit, sys\n"
        "atexit.register(lambda: sys.__stderr__.write('MODULES ' + ' '.join(sys.modules)))\n" + code
    )
    done = subprocess.run(
        [sys.executable, "-c", wrapped, *args],
        capture_output=True,
        text=True,
        check=False,
    )
    line = [ln for ln in done.stderr.splitlines() if ln.startswith("MODULES ")]
    assert line and done.returncode in exits, done.stderr
    return set(line[-1].split()[1:])


# The families the registry imports on a check's first call (checks/registry.py: about
# 50 ms of start-up that a DNS-only or ping scan never uses)
LATER = ("ipv6scan.probes.web", "ipv6scan.probes.pmtu", "ipv6scan.probes.mail",
         "ipv6scan.probes.delegation", "ipv6scan.observations.web", "ipv6scan.checks.web",
         "ipv6scan.checks.mail")  # fmt: skip


def test_the_command_line_and_the_registry_leave_the_heavy_stacks_unloaded() -> None:
    # Given a fresh interpreter; When it imports the command line, which imports the
    # registry, and the fast paths
    loaded = _modules_after(
        "import ipv6scan.cli, ipv6scan.engine.ping_only, ipv6scan.engine.dns_only"
    )
    # Then the DNS and net probes are there, the other families wait for their first check,
    # and the heavy stacks for the first fetch
    assert {"ipv6scan.checks.registry", "ipv6scan.probes.dns", "ipv6scan.probes.net"} <= loaded
    assert not loaded & set(LATER), loaded & set(LATER)
    assert not loaded & set(HEAVY)


def test_a_later_family_is_imported_by_its_first_check() -> None:
    code = "from ipv6scan.checks.registry import BY_ID\nBY_ID['{}'].functions()"
    loaded = _modules_after(
        ";".join(code.format(c) for c in ("web.http", "mail.smtp", "dns.delegation"))
    )
    assert set(LATER) <= loaded
    assert not loaded & set(HEAVY)


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["validate", "LIST"]],
    ids=["help", "validate"],
)
def test_help_and_validate_leave_the_heavy_stacks_unloaded(argv: list[str], tmp_path: Path) -> None:
    # Given a target list whose entry names checks (validated against the registry)
    path = tmp_path / "t.yaml"
    entry = '- {address: "2001:db8:bb:1::3", checks: [web, net.ping]}'
    path.write_text(
        LIST.replace("milestones:", f"      support:\n        {entry}\nmilestones:"), "utf-8"
    )
    argv = [str(path) if a == "LIST" else a for a in argv]
    # When `ipv6scan --help` or `ipv6scan validate LIST` runs
    loaded = _modules_after("from ipv6scan.entry import main; sys.exit(main())", *argv)
    # Then it ran, and loaded none of the heavy stacks
    assert "ipv6scan.cli" in loaded
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_reading_a_target_list_leaves_the_heavy_stacks_unloaded(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(LIST, "utf-8")
    code = "from ipv6scan.targets import iter_targets; list(iter_targets([sys.argv[1]]))"
    loaded = _modules_after(code, str(path))
    assert "ipv6scan.targets" in loaded
    assert not loaded & set(HEAVY)


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


def test_the_first_fetch_loads_the_http_client() -> None:
    # Given a fresh interpreter with the registry loaded (and so the web probes)
    code = (
        "import asyncio\n"
        "import ipv6scan.checks.registry\n"
        "from ipv6scan.addresses import AddressPolicy\n"
        "from ipv6scan.context import Connectivity, Limits, ScanContext\n"
        "from ipv6scan.probes.redirects import follow\n"
        "assert 'aiohttp' not in sys.modules\n"
        "async def first() -> object:\n"
        "    ctx = ScanContext(None, None, AddressPolicy(), Connectivity(True, True),\n"
        "                      Limits(4, 4), 0.5)\n"
        "    return await follow(ctx, 6, 'http://[2001:db8::1]:9/', address='2001:db8::1')\n"
        "chain = asyncio.run(first())\n"
        "assert chain.hops, chain\n"
    )
    # When a redirect chain makes its first fetch (to a closed port on ::1)
    loaded = _modules_after(code)
    # Then the HTTP client came with it
    assert {"aiohttp", "ipv6scan.probes.http"} <= loaded


def test_the_finishs_second_process_loads_its_writers_and_not_the_scoring() -> None:
    # Given a fresh interpreter; When it imports what the process beside the finish runs
    # (finish/tables_beside.py: results.csv and junit.xml)
    loaded = _modules_after(tables_beside.CHILD.replace("sys.exit(main())", "main"))
    # Then its writers are there, and not the pass, the profile or, through the profile's
    # check weights, the check families and dnspython (32 MB against 18 for the process)
    assert {"ipv6scan.report.tables", "ipv6scan.scoring.vantage"} <= loaded
    heavy = {"ipv6scan.finish.stage", "ipv6scan.scoring.profile", "ipv6scan.checks.registry",
             "ipv6scan.report.workspace", "dns"}  # fmt: skip
    assert not loaded & heavy, loaded & heavy
