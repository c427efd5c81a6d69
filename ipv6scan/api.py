"""The Python API: load and validate target lists, run a scan, read its results.

    import ipv6scan

    targets = ipv6scan.load_targets(["audit.yaml"])          # or raises TargetErrors
    result = ipv6scan.scan(["audit.yaml"], "out/", checks="dns,web")
    print(result.overall_score)
    for record in ipv6scan.read_results("out/"):
        if record.status == "fail":
            print(record.subject, record.check, record.detail)

A scan here is the command line's `scan` (INTERFACE.md): the same options, checked by
the same rules, the same files in `out`, the run recorded in the same history database;
what belongs to a terminal (progress, stderr lines, exit codes) stays with the command
line. The JSON Schemas of a results.jsonl record and of summary.json ship with the
package: `schema("result")`, `schema("summary")`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from ipv6scan.dnsclient.transport import DnsServer
from ipv6scan.model import CheckResult, Status, Target
from ipv6scan.report import jsonl
from ipv6scan.scanjob import ScanInputError, ScanOutcome, ScanRequest, run_request
from ipv6scan.scanjob import validate_targets as validate_targets_or_raise
from ipv6scan.scoring import Profile
from ipv6scan.targets import (
    ListReader,
    PathLike,
    TargetError,
    TargetErrors,
    iter_targets,
    validate_files,
)

__all__ = [
    "CheckResult",
    "ScanInputError",
    "ScanResult",
    "Status",
    "Target",
    "TargetError",
    "TargetErrors",
    "load_targets",
    "read_results",
    "read_summary",
    "scan",
    "scan_async",
    "schema",
    "validate_targets",
]

RESULTS, SUMMARY, REPORT = "results.jsonl", "summary.json", "report.html"
SCHEMAS = ("result", "summary")
TargetPaths = PathLike | Sequence[PathLike]


def _paths(targets: TargetPaths) -> tuple[str, ...]:
    """One path or several, as the strings that name the targets' source."""
    if isinstance(targets, (str, os.PathLike)):
        return (os.fspath(targets),)
    return tuple(os.fspath(p) for p in targets)


def validate_targets(targets: TargetPaths, sector: str = "enterprise") -> list[TargetError]:
    """Every problem in the target files (`FILE:LINE: what`, at most 100 a file); [] when
    they are valid. `sector`: that of the targets of plain .txt/.csv lists. ValueError for
    an unknown sector."""
    return validate_files(_paths(targets), sector)


def load_targets(targets: TargetPaths, sector: str = "enterprise") -> list[Target]:
    """The targets of the files, in order, after every file validated; TargetErrors
    (its `errors`, and str() one `FILE:LINE: what` a line) when any does not."""
    paths, lists = _paths(targets), ListReader()
    validate_targets_or_raise(paths, sector, lists)
    return list(iter_targets(paths, sector, validated=True, lists=lists))


@dataclass(frozen=True)
class ScanResult:
    """A finished scan: its headline numbers here, everything else in the files of `out`."""

    out: Path
    overall_score: float | None  # 0-100; None: nothing could be scored (no usable resolver)
    notes: tuple[str, ...] = ()  # what went wrong outside the scan (history not recorded)
    regressions: tuple[str, ...] = ()  # fail_on_regression: what regressed; () it passed
    gate_notes: tuple[str, ...] = ()  # what that comparison said without failing

    @property
    def results_path(self) -> Path:
        return self.out / RESULTS

    @property
    def summary_path(self) -> Path:
        return self.out / SUMMARY

    @property
    def report_path(self) -> Path:
        return self.out / REPORT

    def results(self) -> Iterator[CheckResult]:
        return read_results(self.out)

    def summary(self) -> dict[str, Any]:
        """summary.json, read whole (its target rows included)."""
        return read_summary(self.out)


def _result(outcome: ScanOutcome) -> ScanResult:
    return ScanResult(outcome.out, outcome.overall_score, outcome.notes, outcome.regressions,
                      outcome.gate_notes)  # fmt: skip


def _check_names(checks: str | Sequence[str] | None) -> tuple[str, ...] | None:
    if checks is None or not isinstance(checks, str):
        return None if checks is None else tuple(checks)
    from ipv6scan.cli import _named  # "dns,web" as --checks reads it

    return _named(checks)


async def scan_async(
    targets: TargetPaths,
    out: PathLike,
    *,
    checks: str | Sequence[str] | None = None,
    resolvers: Sequence[str | DnsServer] = (),
    concurrency: int = 256,
    timeout: float = 5.0,
    attempts: int = 3,
    allow_prefixes: Sequence[str] = (),
    sector: str = "enterprise",
    shard: tuple[int, int] | None = None,
    lang: str = "en",
    profile: PathLike | Profile | None = None,
    db: PathLike | None = None,
    history_key: str | None = None,
    fail_on_regression: bool = False,
    today: dt.date | None = None,
) -> ScanResult:
    """Scan the target files into `out`: results.jsonl, summary.json, report.html,
    results.csv, junit.xml, and the run recorded in `db` (default: ipv6scan.db beside
    `out`). The keywords are the command line's `scan` options (INTERFACE.md); `checks`
    takes "dns,web" or ["dns", "web.http"], `resolvers` "ADDR[#PORT]" strings.

    Raises TargetErrors (a target file does not validate) or ScanInputError (any other
    bad option) before anything is probed. A probe that fails is a result, never an
    exception. Cancelled mid-scan, it still writes every file from the results finished
    so far, then the cancellation goes on. The scanner's one-line warnings (an unusable
    resolver, no raw socket for ICMPv6) go to stderr, as on the command line."""
    request = ScanRequest(
        targets=_paths(targets),
        out=Path(out),
        checks=_check_names(checks),
        resolvers=tuple(resolvers),
        concurrency=concurrency,
        timeout=timeout,
        attempts=attempts,
        allow_prefixes=tuple(allow_prefixes),
        sector=sector,
        shard=shard,
        lang=lang,
        profile=profile if profile is None or isinstance(profile, Profile) else Path(profile),
        db=None if db is None else Path(db),
        history_key=history_key,
        fail_on_regression=fail_on_regression,
        today=today,
    )
    return _result(await run_request(request))


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop when installed, as the command line runs; for this one run only, not as
    the process's event loop policy."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop  # type: ignore[no-any-return]


def scan(targets: TargetPaths, out: PathLike, **options: Any) -> ScanResult:
    """scan_async run to its end in an event loop of its own (not from inside a running
    loop: await scan_async there). Ctrl-C stops it with every file written from the
    results finished so far, then KeyboardInterrupt goes on."""
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        return runner.run(scan_async(targets, out, **options))


def _file(path: PathLike, name: str) -> Path:
    found = Path(path)
    return found / name if found.is_dir() else found


def read_results(path: PathLike) -> Iterator[CheckResult]:
    """The records of a results directory's results.jsonl (or of that file), streamed in
    file order; blank lines and a torn last line (a killed scan) are skipped.
    FileNotFoundError when there is none."""
    file = _file(path, RESULTS)
    if not file.is_file():
        raise FileNotFoundError(f"{file}: no results.jsonl")
    return jsonl.read_results(file)


def read_summary(path: PathLike) -> dict[str, Any]:
    """A results directory's summary.json (or that file), read whole; its layout is
    schema("summary")."""
    file = _file(path, SUMMARY)
    data = json.loads(file.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{file}: not a summary.json (no JSON object)")
    return data


def schema(name: Literal["result", "summary"]) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a results.jsonl record ("result") or of
    summary.json ("summary"), as shipped in ipv6scan/schemas. A fresh copy each call."""
    if name not in SCHEMAS:
        raise ValueError(f"unknown schema {name!r}; known: {', '.join(SCHEMAS)}")
    return json.loads(_schema_text(name))  # type: ignore[no-any-return]


@cache
def _schema_text(name: str) -> str:
    return (resources.files("ipv6scan") / "schemas" / f"{name}.schema.json").read_text("utf-8")
