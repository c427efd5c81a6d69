"""The Python API (ipv6scan.api, re-exported lazily by `import ipv6scan`): target loading and
its file:line errors, options refused before any probe, a whole scan through it (127.0.0.1
only: a resolver port where nothing listens), and reading results and summaries back."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import ipv6scan
from ipv6scan import api
from ipv6scan.model import CheckResult, Status, Target
from tests.unit.sample_results import write_sample

GOOD = """\
version: 1
name: API test
targets:
  - name: Example Government
    sector: government
    domains: [gov.example]
  - name: Local Operator
    sector: operator
    domains: [good.test]
    systems:
      backbone: ["::1"]
"""
BAD = """\
version: 1
name: API test
targets:
  - name: One
    sector: goverment
    domains: [one.example]
  - name: Two
    sector: enterprise
    domains: [two.example]
    colour: blue
"""
NO_RESOLVER = "127.0.0.1#9"  # discard: nothing listens, the kernel answers port unreachable


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
def good(tmp_path: Path) -> Path:
    return write(tmp_path / "good.yaml", GOOD)


@pytest.fixture
def bad(tmp_path: Path) -> Path:
    return write(tmp_path / "bad.yaml", BAD)


# ------------------------------------------------------------------ the package's face


def test_import_ipv6scan_stays_light() -> None:
    # Given a fresh interpreter; When it imports the package (the command line's first step)
    code = "import sys, ipv6scan; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    # Then neither the API nor the scan machinery is loaded yet
    for heavy in ("ipv6scan.api", "ipv6scan.engine.run", "ipv6scan.scanjob", "dns", "yaml"):
        assert heavy not in out, heavy


def test_every_exported_name_is_the_api_object() -> None:
    for name in ipv6scan.__all__:
        value = getattr(ipv6scan, name)
        if name != "__version__":
            assert value is getattr(api, name), name
    assert set(ipv6scan.__all__) - {"__version__"} == set(api.__all__)
    assert "scan" in dir(ipv6scan)
    with pytest.raises(AttributeError):
        ipv6scan.no_such_thing  # noqa: B018


def test_the_package_is_marked_typed() -> None:
    assert (Path(ipv6scan.__file__).parent / "py.typed").is_file()


# ------------------------------------------------------------------ targets


def test_load_targets_gives_the_targets_in_order(good: Path) -> None:
    targets = ipv6scan.load_targets(good)
    assert [t.name for t in targets] == ["Example Government", "Local Operator"]
    assert all(isinstance(t, Target) for t in targets)
    assert targets[0].domains == ("gov.example",)
    assert targets[1].systems[0].tier == "backbone"


def test_load_targets_of_a_plain_list_takes_the_sector(tmp_path: Path) -> None:
    path = write(tmp_path / "list.txt", "# top sites\na.example\nB.Example.\n")
    targets = ipv6scan.load_targets([path], sector="government")
    assert [(t.name, t.sector) for t in targets] == [
        ("a.example", "government"),
        ("b.example", "government"),
    ]


def test_load_targets_raises_every_error_with_file_and_line(bad: Path) -> None:
    with pytest.raises(ipv6scan.TargetErrors) as info:
        ipv6scan.load_targets([bad])
    lines = str(info.value).splitlines()
    assert len(lines) == 2, lines
    assert lines[0].startswith(f"{bad}:5: ") and "goverment" in lines[0]
    assert lines[1].startswith(f"{bad}:10: ") and "colour" in lines[1]
    assert [e.line for e in info.value.errors] == [5, 10]


def test_validate_targets_lists_the_errors_without_raising(good: Path, bad: Path) -> None:
    assert ipv6scan.validate_targets([good]) == []
    errors = ipv6scan.validate_targets([good, bad])
    assert [(e.path, e.line) for e in errors] == [(str(bad), 5), (str(bad), 10)]


def test_a_file_given_twice_is_an_error(good: Path) -> None:
    with pytest.raises(ipv6scan.TargetErrors, match="more than once"):
        ipv6scan.load_targets([good, good])


# ------------------------------------------------------------------ scan: refused up front


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"checks": "dns,nope"}, "checks: unknown check 'nope'"),
        ({"timeout": 0}, "timeout: must be above 0"),
        ({"concurrency": 0}, "concurrency: must be at least 1"),
        ({"attempts": 0}, "attempts: must be at least 1"),
        ({"resolvers": ["not-an-address"]}, "resolver: "),
        ({"allow_prefixes": ["2001:db8::/999"]}, "allow_prefixes: "),
        ({"shard": (3, 2)}, "shard: "),
        ({"lang": "fr"}, "lang: 'fr' is not one of"),
        ({"sector": "nowhere"}, "sector: unknown sector"),
    ],
)
def test_bad_options_raise_before_any_file_is_written(
    good: Path, tmp_path: Path, options: dict[str, object], says: str
) -> None:
    out = tmp_path / "out"
    with pytest.raises(ipv6scan.ScanInputError) as info:
        ipv6scan.scan([good], out, **{"resolvers": [NO_RESOLVER], **options})
    assert says in str(info.value)
    assert isinstance(info.value, ValueError)
    assert not (out / "results.jsonl").exists()


def test_a_bad_target_file_raises_target_errors_before_scanning(bad: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(ipv6scan.TargetErrors, match=r"bad\.yaml:5: "):
        ipv6scan.scan(bad, out, resolvers=[NO_RESOLVER])
    assert not (out / "results.jsonl").exists()
    assert not (tmp_path / "ipv6scan.db").exists()


def test_an_out_that_is_a_file_is_refused(good: Path, tmp_path: Path) -> None:
    out = tmp_path / "taken"
    out.write_text("not a directory")
    with pytest.raises(ipv6scan.ScanInputError, match="out "):
        ipv6scan.scan(good, out, resolvers=[NO_RESOLVER])


# ------------------------------------------------------------------ scan: the whole way


def test_scan_writes_every_file_and_records_the_run(good: Path, tmp_path: Path) -> None:
    # Given a resolver that cannot be used (127.0.0.1, a port nobody listens on)
    out = tmp_path / "out"
    result = ipv6scan.scan(
        [good], out, resolvers=[NO_RESOLVER], checks="dns,net", timeout=0.5, attempts=1
    )
    # Then the scan finished and wrote the command line's files, and recorded the run
    assert isinstance(result, ipv6scan.ScanResult)
    for name in ("results.jsonl", "summary.json", "report.html", "results.csv", "junit.xml"):
        assert (out / name).is_file(), name
    assert (tmp_path / "ipv6scan.db").is_file()
    # every check of both targets is a result: DNS ones error (no resolver), the loopback
    # backbone address is skipped unprobed
    records = list(result.results())
    keys = {(r.target, r.subject, r.check): r.status for r in records}
    assert keys[("Example Government", "gov.example", "dns.aaaa")] is Status.ERROR
    assert keys[("Local Operator", "::1", "net.ping")] is Status.SKIP
    assert {r.check.split(".")[0] for r in records} == {"dns", "net"}
    # and with no usable resolver the run is not scored, in the result and in summary.json
    assert result.overall_score is None
    summary = result.summary()
    assert summary["overall"]["score"] is None
    assert summary["scanner"]["resolvers_usable"] is False
    assert summary["run"]["id"] == 1
    assert sorted(t["name"] for t in summary["targets"]) == ["Example Government", "Local Operator"]


def test_scan_async_runs_in_the_callers_loop(good: Path, tmp_path: Path) -> None:
    async def main() -> ipv6scan.ScanResult:
        other = asyncio.create_task(asyncio.sleep(0.01, "other work"))
        result = await ipv6scan.scan_async(
            good, tmp_path / "out", resolvers=[NO_RESOLVER], checks=["dns.aaaa"], timeout=0.5,
            db=tmp_path / "history.db",
        )  # fmt: skip
        assert await other == "other work"
        return result

    result = asyncio.run(main())
    assert {r.check for r in result.results()} == {"dns.aaaa"}
    assert (tmp_path / "history.db").is_file()


def test_a_second_run_continues_the_history(good: Path, tmp_path: Path) -> None:
    options = {"resolvers": [NO_RESOLVER], "checks": "dns.aaaa", "timeout": 0.5}
    ipv6scan.scan(good, tmp_path / "one", **options)
    second = ipv6scan.scan(good, tmp_path / "two", fail_on_regression=True, **options)
    summary = second.summary()
    assert summary["run"]["previous"] == 1
    assert second.regressions == ()


# ------------------------------------------------------------------ reading results


def test_read_results_streams_typed_records(tmp_path: Path) -> None:
    write_sample(tmp_path / "results.jsonl", targets=50)
    lines = [ln for ln in (tmp_path / "results.jsonl").read_text().splitlines() if ln]
    records = list(ipv6scan.read_results(tmp_path))
    # every whole line, none of the blank or torn one
    assert len(records) == len(lines) - 1
    assert all(isinstance(r, CheckResult) and isinstance(r.status, Status) for r in records)
    assert list(ipv6scan.read_results(tmp_path / "results.jsonl")) == records


def test_read_results_of_a_directory_without_results(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"no results\.jsonl"):
        ipv6scan.read_results(tmp_path)


def test_read_summary(tmp_path: Path) -> None:
    (tmp_path / "summary.json").write_text('{"schema": 1, "overall": {"score": null}}')
    assert ipv6scan.read_summary(tmp_path)["overall"] == {"score": None}
    (tmp_path / "summary.json").write_text("[1]")
    with pytest.raises(ValueError, match=r"not a summary\.json"):
        ipv6scan.read_summary(tmp_path / "summary.json")


def test_schema_gives_a_fresh_copy_and_refuses_unknown_names() -> None:
    first = ipv6scan.schema("result")
    first["title"] = "changed"
    assert ipv6scan.schema("result")["title"] == "ipv6scan results.jsonl record"
    assert ipv6scan.schema("summary")["title"] == "ipv6scan summary.json"
    with pytest.raises(ValueError, match="unknown schema"):
        ipv6scan.schema("report")  # type: ignore[arg-type]
