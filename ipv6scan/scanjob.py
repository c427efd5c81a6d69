"""One scan from its options to its files: the Python API's (ipv6scan.api) and the command
line's (cli.cmd_scan, through `prepare`).

`prepare` settles everything that can be wrong before the first probe, in one order:
options checked by the command line's own parsers, every target file validated, the
history key, profile, milestones and database. `run_request` then scans and finishes
(run.scan, audit.finish_scan). What it leaves to the command line is what belongs to a
terminal: progress, stderr lines, exit codes, and scans through a broker.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from ipv6scan import audit, history_key, outdir
from ipv6scan.addresses import AddressPolicy
from ipv6scan.checks import registry
from ipv6scan.context import ping_rate_from
from ipv6scan.dnsclient.transport import DnsServer
from ipv6scan.engine.config import NoResolverConfigured, ScanConfig
from ipv6scan.engine.run import scan
from ipv6scan.finish.outputs import Outputs
from ipv6scan.history import HistoryError, open_db
from ipv6scan.milestones import MilestoneErrors, load_milestones
from ipv6scan.observations.dns import Connectivity
from ipv6scan.report.i18n import LOCALES
from ipv6scan.scoring import DEFAULT_PROFILE, Profile
from ipv6scan.scoring.profile_yaml import ProfileError, load_profile
from ipv6scan.targets import ListReader, TargetErrors, TargetListError, TargetSource, validate_files

T = TypeVar("T")


class ScanInputError(ValueError):
    """A bad option or input other than the target files (those raise TargetErrors): what
    the command line exits 2 for. The message starts with the option's name (`option`,
    as ScanRequest names it), then says what is wrong."""

    def __init__(self, message: str, option: str | None = None) -> None:
        super().__init__(message)
        self.option = option


@dataclass(frozen=True)
class ScanRequest:
    """A scan's options, as the command line's `scan` takes them (INTERFACE.md)."""

    targets: tuple[str, ...]
    out: Path
    checks: tuple[str, ...] | None = None  # check ids or families; None: all that apply
    resolvers: tuple[str | DnsServer, ...] = ()  # ADDR[#PORT]; empty: /etc/resolv.conf
    concurrency: int = 256
    timeout: float = 5.0
    attempts: int = 3
    allow_prefixes: tuple[str, ...] = ()
    sector: str = "enterprise"  # of the targets of plain .txt/.csv lists
    shard: tuple[int, int] | None = None  # (k, n), 1 <= k <= n
    lang: str = "en"
    profile: Path | Profile | None = None  # a YAML scoring profile or one already loaded
    db: Path | None = None  # None: ipv6scan.db beside `out`
    history_key: str | None = None
    fail_on_regression: bool = False
    fail_under: float | None = None  # said in the report; the caller applies it (cli.py)
    today: dt.date | None = None  # the scan date for milestones and history (backfills)
    ping_rate: float | None = None  # echo requests a second; None: IPV6SCAN_PING_RATE
    outputs: Outputs | None = None  # files besides results.jsonl; None: the default set
    keep_runs: int | None = None  # after recording, keep this many runs of the history
    quiet: bool = True  # no progress line: an API caller reads the outcome


@dataclass(frozen=True)
class ScanOutcome:
    """What finish_scan decided; the files themselves are in `out`."""

    out: Path
    overall_score: float | None
    notes: tuple[str, ...]  # for a reader, not failures (a history that was not written)
    regressions: tuple[str, ...]  # --fail-on-regression findings; empty: the gate passed
    gate_notes: tuple[str, ...]  # what that gate said without failing


def _parsed(parse: Callable[[str], T], option: str, value: object) -> T:
    """An option checked by the command line's own argparse type: one rule, one message."""
    try:
        return parse(str(value))
    except argparse.ArgumentTypeError as exc:
        raise ScanInputError(f"{option}: {exc}", option) from None


def _options(req: ScanRequest) -> tuple[tuple[registry.Check, ...], tuple[DnsServer, ...]]:
    from ipv6scan import cli  # its parsers hold the bounds; imported late: cli may import us

    _parsed(cli._positive_int, "concurrency", req.concurrency)
    _parsed(cli._positive_int, "attempts", req.attempts)
    _parsed(cli._positive_float, "timeout", req.timeout)
    if req.shard is not None:
        _parsed(cli._shard, "shard", "/".join(map(str, req.shard)))
    if req.lang not in LOCALES:
        raise ScanInputError(f"lang: {req.lang!r} is not one of {', '.join(LOCALES)}", "lang")
    servers = tuple(
        r if isinstance(r, DnsServer) else _parsed(cli._resolver, "resolver", r)
        for r in req.resolvers
    )
    try:
        checks = registry.select(req.checks)
    except ValueError as exc:
        raise ScanInputError(f"checks: {exc}", "checks") from None
    try:
        AddressPolicy.from_strings(req.allow_prefixes)
    except ValueError as exc:
        raise ScanInputError(f"allow_prefixes: {exc}", "allow_prefixes") from None
    return checks, servers


def validate_targets(paths: Sequence[str], sector: str, lists: ListReader) -> None:
    """Every target file read and checked before anything is scanned; TargetErrors lists
    every problem, FILE:LINE: what."""
    try:
        errors = validate_files(paths, sector, lists)
    except TargetListError as exc:
        errors = exc.errors
    except ValueError as exc:  # an unknown sector for the plain lists
        raise ScanInputError(f"sector: {exc}", "sector") from None
    if errors:
        raise TargetErrors(errors)


def _profile(given: Path | Profile | None) -> Profile:
    if given is None:
        return DEFAULT_PROFILE
    if isinstance(given, Profile):
        return given
    try:
        return load_profile(Path(given))
    except ProfileError as exc:
        raise ScanInputError(str(exc)) from None


@dataclass(frozen=True)
class Prepared:
    config: ScanConfig
    source: TargetSource
    recording: audit.Recording


def prepare(req: ScanRequest) -> tuple[Prepared, sqlite3.Connection]:
    """Everything that can be wrong with the request, found before the first probe; the
    history database comes back open (the caller closes it)."""
    checks, servers = _options(req)
    try:
        ping_rate = req.ping_rate if req.ping_rate is not None else ping_rate_from(os.environ)
    except ValueError as exc:
        raise ScanInputError(str(exc)) from None
    problem = outdir.problem(req.out)
    if problem is not None:
        raise ScanInputError(f"out {req.out}: {problem}", "out")
    lists = ListReader()  # each YAML list read once: validation, milestones, scan
    validate_targets(req.targets, req.sector, lists)
    try:
        key = history_key.for_scan(req.history_key, req.targets, req.sector, checks,
                                   req.shard, lists)  # fmt: skip
    except ValueError as exc:
        raise ScanInputError(f"history_key: {exc}", "history_key") from None
    profile = _profile(req.profile)
    try:
        milestones = load_milestones(req.targets, lists)
    except MilestoneErrors as exc:
        raise ScanInputError(str(exc)) from None
    db = req.db or audit.default_db(req.out)
    try:  # a database we cannot write is bad input, not a lost scan
        db.parent.mkdir(parents=True, exist_ok=True)
        conn = open_db(db)
    except (OSError, HistoryError) as exc:
        raise ScanInputError(f"db: {exc}", "db") from None
    config = ScanConfig(
        out=req.out,
        checks=checks,
        resolvers=servers,
        concurrency=req.concurrency,
        timeout=req.timeout,
        attempts=req.attempts,
        allow_prefixes=req.allow_prefixes,
        lang=req.lang,
        shard=req.shard,
        quiet=req.quiet,
        named_checks=req.checks,
        ping_rate=ping_rate,
    )
    recording = audit.Recording(
        db=db,
        target_files=audit.stored_targets(req.targets),
        history_key=key,
        shard=req.shard,
        profile=profile,
        milestones=tuple(milestones),
        today=req.today,
        fail_on_regression=req.fail_on_regression,
        fail_under=req.fail_under,
        keep_runs=req.keep_runs,
    )
    return Prepared(config, TargetSource(req.targets, req.sector, lists), recording), conn


def scanner_facts(connectivity: Connectivity) -> dict[str, Any]:
    """summary.json's `scanner`: what the preflight found about the scanner's own network."""
    return {
        "ipv6": connectivity.ipv6,
        "ipv4": connectivity.ipv4,
        "dns64_prefixes": list(connectivity.dns64_prefixes),
        "notes": list(connectivity.notes),
        # each note's message key and parameters, in the same order (a report renders them)
        "note_details": [
            {"key": getattr(note, "key", None), "params": getattr(note, "params", {})}
            for note in connectivity.notes
        ],
        "resolvers_usable": connectivity.resolvers_usable,
        "unusable_resolvers": [
            {"resolver": server, "answered": what}
            for server, what in connectivity.unusable_resolvers
        ],
    }


async def run_request(req: ScanRequest) -> ScanOutcome:
    """Scan, score, record and write every file of `req.out`.

    Raises TargetErrors or ScanInputError before probing anything. Cancelled (or
    interrupted) mid-scan, it still scores and writes the results finished so far, then
    lets the cancellation go on. Scoring and the files are written in this thread: a
    big scan's last seconds hold the event loop."""
    prepared, conn = prepare(req)
    scanner: dict[str, Any] | None = None
    stopped: BaseException | None = None
    started = audit.timestamp(req.today)
    try:
        try:
            _stats, connectivity = await scan(prepared.config, prepared.source, None)
            scanner = scanner_facts(connectivity)
        except NoResolverConfigured as exc:
            raise ScanInputError(str(exc)) from None
        except (asyncio.CancelledError, KeyboardInterrupt) as exc:
            stopped = exc  # finished lines are on disk: summarise them, then stop
            audit.ensure_results(req.out)
        done = audit.finish_scan(conn, prepared.recording, req.out, req.lang, scanner,
                                 started, complete=stopped is None,
                                 outputs=req.outputs)  # fmt: skip
    finally:
        conn.close()
    if stopped is not None:
        raise stopped
    return ScanOutcome(
        out=req.out,
        overall_score=done.summary["overall"]["score"],
        notes=tuple(done.notes),
        regressions=tuple(done.gate),
        gate_notes=tuple(done.gate_passed),
    )
