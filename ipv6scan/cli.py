"""Command line: arguments into a frozen config, then one of the commands.

Exit codes (INTERFACE.md): 0 finished, 1 a requested gate failed, 2 bad usage or input,
3 ipv6scan itself failed (crash.py), 130 interrupted (SIGINT or SIGTERM, interrupts.py).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import locale
import os
import sqlite3
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, TypeAlias

from ipv6scan import __version__, audit, outdir, scanjob
from ipv6scan.crash import report_crash
from ipv6scan.dnsclient.transport import DnsServer
from ipv6scan.engine.config import NoResolverConfigured, ScanConfig
from ipv6scan.engine.prepare import use_fast_loop
from ipv6scan.engine.run import scan
from ipv6scan.finish.outputs import Outputs, OutputsError
from ipv6scan.history import HistoryError
from ipv6scan.interrupts import sigterm_as_sigint
from ipv6scan.milestones import Milestone, MilestoneErrors, load_milestones
from ipv6scan.model import SECTORS
from ipv6scan.names import parse_resolver
from ipv6scan.progress import Progress, Steps
from ipv6scan.report.changes import fails_under
from ipv6scan.report.i18n import LOCALES
from ipv6scan.scanjob import scanner_facts
from ipv6scan.scoring import DEFAULT_PROFILE, Profile
from ipv6scan.scoring.profile_yaml import ProfileError, load_profile
from ipv6scan.targets import ListReader, TargetErrors, TargetSource, iter_targets, validate_files

EXIT_OK, EXIT_GATE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
LANGS = tuple(LOCALES)  # as report.html has them; that module (jinja2) loads after a scan


class UsageError(Exception):
    """Bad usage or bad input: exit 2 with the message on stderr."""


def default_lang() -> str:
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value:
            return "zh-CN" if value.lower().startswith("zh") else "en"
    loc = locale.getlocale()[0] or ""
    return "zh-CN" if loc.lower().startswith("zh") else "en"


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def _positive_float_rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value <= 1_000_000:
        raise argparse.ArgumentTypeError(f"must be above 0 and at most 1000000: {text!r}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"must be above 0 and at most 3600: {text!r}")
    return value


def _score(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a score: {text!r}") from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"a score is between 0 and 100: {text!r}")
    return value


def _shard(text: str) -> tuple[int, int]:
    try:
        k_text, n_text = text.split("/")
        k, n = int(k_text), int(n_text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--shard takes K/N, for example 2/8: {text!r}") from None
    if not 1 <= k <= n:
        raise argparse.ArgumentTypeError(f"--shard K/N needs 1 <= K <= N: {text!r}")
    return k, n


def _resolver(text: str) -> DnsServer:
    try:
        address, port = parse_resolver(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return DnsServer(address, port)


def _outputs(text: str) -> Outputs:
    try:
        return Outputs.parse(text)
    except OutputsError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {text!r}") from None


def _add_resources(p: argparse.ArgumentParser) -> None:
    """The options that set a scanner's own resources: a local scan's and a worker's."""
    p.add_argument(
        "--resolver",
        action="append",
        type=_resolver,
        default=[],
        help="recursive resolver ADDR[#PORT]; repeatable (default: /etc/resolv.conf)",
    )
    p.add_argument(
        "--concurrency",
        type=_positive_int,
        default=256,
        help="probes in flight at once (default 256)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ipv6scan", description="IPv6 readiness scanner.")
    parser.add_argument("--version", action="version", version=f"ipv6scan {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_scan(sub)
    _add_worker(sub)
    _add_validate(sub)
    _add_report(sub)
    _add_diff(sub)
    _add_merge(sub)
    _add_demo(sub)
    return parser


# what add_subparsers returns; subscripted only for the type checker
_Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def _add_scan(sub: _Commands) -> None:
    p = sub.add_parser("scan", help="scan target lists and write results to --out")
    p.add_argument("targets", nargs="+", metavar="TARGETS", help="target lists (.yaml, .txt, .csv)")
    p.add_argument("--out", type=Path, help="output directory (created if missing; default: "
                   "reports/LIST/DATE-TIME/, with a `latest` link beside it)")  # fmt: skip
    _add_resources(p)
    _add_probing(p)
    _add_gates(p)
    p.add_argument("--profile", type=Path, metavar="FILE", help="YAML scoring profile")
    # the scan date for milestones and history: tests and backfills only
    p.add_argument("--today", type=_date, help=argparse.SUPPRESS)
    p.add_argument("--lang", choices=LANGS, default=None, help="report language")
    p.add_argument(
        "--sector",
        choices=SECTORS,
        default="enterprise",
        help="sector of the targets of plain .txt/.csv lists (default enterprise)",
    )
    p.add_argument("--shard", type=_shard, metavar="K/N", help="scan only shard K of N")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.add_argument("--outputs", type=_outputs, metavar="LIST",  # docs/outputs.md
                   help="files besides results.jsonl: summary,report,junit,csv,xlsx, all "
                   "(default: all but xlsx) or none")  # fmt: skip
    p.add_argument("--keep-runs", type=_positive_int, metavar="N",
                   help="keep only this history's last N runs in --db")  # fmt: skip
    p.add_argument("--broker", metavar="URL",
                   help="scan on workers through this broker (redis://HOST:PORT/DB)")  # fmt: skip
    p.add_argument(
        "--vantage",
        action="append",
        default=[],
        metavar="NAME",
        help="with --broker: scan from this vantage point's workers (repeatable)",
    )


def _add_probing(p: argparse.ArgumentParser) -> None:
    """How each probe is made: its timeout and tries, which checks, which prefixes."""
    p.add_argument(
        "--timeout",
        type=_positive_float,
        default=5.0,
        help="per-probe timeout in seconds (default 5)",
    )
    p.add_argument(
        "--attempts",
        type=_positive_int,
        default=3,
        metavar="N",
        help="tries per probe before a failure is final (default 3)",
    )
    p.add_argument(
        "--checks",
        help="comma-separated check ids or families (dns, web, mail, "
        "net, resolver); default: all that apply",
    )
    p.add_argument(
        "--allow-prefix",
        action="append",
        default=[],
        metavar="CIDR",
        help="treat this prefix as globally routable (repeatable)",
    )


def _add_gates(p: argparse.ArgumentParser) -> None:
    """What fails the command (exit 1), and the history it is measured against."""
    p.add_argument(
        "--fail-under",
        type=_score,
        metavar="SCORE",
        help="exit 1 when the overall score is below SCORE",
    )
    p.add_argument(
        "--fail-on-regression",
        action="store_true",
        help="exit 1 when a (subject, check) went from pass to warn or fail, or a target's "
        "score fell, against the previous run of the same history in --db",
    )
    p.add_argument(
        "--history-key",
        metavar="KEY",
        help="the history this run continues in --db (default: the target lists' names, "
        "the plain lists' sector and the checks)",
    )
    p.add_argument(
        "--db",
        type=Path,
        metavar="PATH",
        help=f"SQLite history database to record the run in (default: {audit.DB_NAME} "
        "beside --out)",
    )


def _add_worker(sub: _Commands) -> None:
    p = sub.add_parser("worker", help="serve scan shards from a broker until SIGTERM")
    p.add_argument("--broker", required=True, metavar="URL", help="redis://HOST:PORT/DB")
    p.add_argument("--vantage", metavar="NAME", help="the vantage point this worker scans from")
    _add_resources(p)
    p.add_argument("--destination-rate", type=float, default=100.0, metavar="N",
                   help="probes a second to one destination (an IPv6 /64 or an IPv4 address) "
                   "from all workers together; 0: no shared budget (default 100)")  # fmt: skip
    p.add_argument("--echo-rate", type=_positive_float_rate, metavar="N",
                   help="ICMPv6 echo requests a second from all workers together (net.ping, "
                   "net.trace); each worker takes its share (default: its own rate)")  # fmt: skip
    p.add_argument("--loglevel", default="WARNING", help=argparse.SUPPRESS)  # Celery's log


def _add_validate(sub: _Commands) -> None:
    p = sub.add_parser("validate", help="check target lists; exit 2 with file:line errors")
    p.add_argument("targets", nargs="+", metavar="TARGETS")
    p.add_argument("--sector", choices=SECTORS, default="enterprise")


def _add_report(sub: _Commands) -> None:
    p = sub.add_parser("report", help="re-render report.html from DIR/results.jsonl")
    p.add_argument("dir", type=Path, metavar="DIR")
    p.add_argument("--out", type=Path, metavar="FILE", help="default: DIR/report.html")
    p.add_argument("--lang", choices=LANGS, default=None)
    p.add_argument("--profile", type=Path, metavar="FILE", help="YAML scoring profile")
    p.add_argument(
        "--db",
        type=Path,
        metavar="PATH",
        help=f"re-render a recorded run into DIR (default database: {audit.DB_NAME} beside DIR)",
    )
    p.add_argument("--run", metavar="ID", help="run id in --db, or 'latest' (the default)")


def _add_diff(sub: _Commands) -> None:
    p = sub.add_parser("diff", help="what regressed and improved; exit 1 if anything regressed")
    p.add_argument("old", type=Path, metavar="OLD_DIR")
    p.add_argument("new", type=Path, metavar="NEW_DIR")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--profile", type=Path, metavar="FILE", help="YAML scoring profile")


def _add_merge(sub: _Commands) -> None:
    p = sub.add_parser("merge", help="combine shards' result directories into --out")
    p.add_argument("dirs", nargs="+", type=Path, metavar="DIR")
    p.add_argument("--out", required=True, type=Path, help="output directory (created if missing)")
    p.add_argument("--lang", choices=LANGS, default=None, help="report language")
    p.add_argument("--profile", type=Path, metavar="FILE", help="YAML scoring profile")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--partial", action="store_true",
                   help="merge shards even when one is missing or given twice")  # fmt: skip


def _add_demo(sub: _Commands) -> None:
    p = sub.add_parser(
        "demo", help="Linux, root: bring up the namespace lab, scan it, tear it down"
    )
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--lang", choices=LANGS, default=None)
    p.add_argument("--quiet", action="store_true")


def _validate(paths: Sequence[str], sector: str, lists: ListReader) -> None:
    """Validate every file first: nothing is scanned from a file that does not validate.
    The YAML lists read stay in `lists` for the milestones and the scan."""
    errors = validate_files(paths, sector, lists)
    if errors:
        raise UsageError("\n".join(str(e) for e in errors))


def _count(paths: Sequence[str], sector: str, lists: ListReader) -> int:
    return sum(1 for _ in iter_targets(paths, sector, lists=lists))


def _milestones(paths: Sequence[str], lists: ListReader) -> list[Milestone]:
    try:
        return load_milestones(paths, lists)
    except MilestoneErrors as exc:
        raise UsageError(str(exc)) from None


def _profile(path: Path | None) -> Profile:
    if path is None:
        return DEFAULT_PROFILE
    try:
        return load_profile(path)
    except ProfileError as exc:
        raise UsageError(str(exc)) from None


def cmd_validate(args: argparse.Namespace) -> int:
    lists = ListReader()
    _validate(args.targets, args.sector, lists)
    count = _count(args.targets, args.sector, lists)
    milestones = _milestones(args.targets, lists)
    more = f", {len(milestones)} milestone(s)" if milestones else ""
    print(f"ok: {count} targets in {len(args.targets)} file(s){more}")
    return EXIT_OK


def _named(text: str | None) -> tuple[str, ...] | None:
    return None if text is None else tuple(n.strip() for n in text.split(",") if n.strip())


# ScanRequest's option names as the command line spells them, for its error messages
CLI_OPTIONS = {"allow_prefixes": "--allow-prefix", "history_key": "--history-key",
               "resolver": "--resolver", "checks": "--checks", "db": "--db", "out": "--out",
               "shard": "--shard", "sector": "--sector", "lang": "--lang"}  # fmt: skip


def _scan_request(args: argparse.Namespace) -> scanjob.ScanRequest:
    return scanjob.ScanRequest(
        targets=tuple(args.targets),
        out=args.out,
        checks=_named(args.checks),
        resolvers=tuple(args.resolver),
        concurrency=args.concurrency,
        timeout=args.timeout,
        attempts=args.attempts,
        allow_prefixes=tuple(args.allow_prefix),
        sector=args.sector,
        shard=args.shard,
        lang=args.lang or default_lang(),
        profile=args.profile,
        db=args.db,
        history_key=args.history_key,
        fail_on_regression=args.fail_on_regression,
        fail_under=args.fail_under,
        today=args.today,
        outputs=args.outputs,
        keep_runs=args.keep_runs,
        quiet=args.quiet,
    )


def _prepared(request: scanjob.ScanRequest) -> tuple[scanjob.Prepared, sqlite3.Connection]:
    """The API's own preparation (scanjob.prepare), its errors as exit 2 in the command
    line's words."""
    try:
        return scanjob.prepare(request)
    except TargetErrors as exc:
        raise UsageError(str(exc)) from None
    except scanjob.ScanInputError as exc:
        text, option = str(exc), exc.option
        if option in CLI_OPTIONS and text.startswith(option):
            text = CLI_OPTIONS[option] + text.removeprefix(option)
        raise UsageError(text) from None


def cmd_scan(args: argparse.Namespace) -> int:
    if args.vantage and not args.broker:
        raise UsageError("--vantage needs --broker: vantage points are workers' places")
    if args.broker:  # before anything is written: a broker out of reach is bad input
        _check_broker(args)
    dated = args.out is None  # reports/LIST/DATE-TIME/ (docs/outputs.md)
    if dated:
        args.out = outdir.default_out(args.targets)
    request = _scan_request(args)
    prepared, history = _prepared(request)
    recording = prepared.recording
    scanned = _scan_targets(args, prepared, history)
    del prepared  # scanned: the lists' memory goes back before scoring and reports
    if scanned.interrupted:  # perhaps before the first result: an empty results.jsonl
        audit.ensure_results(args.out)
    try:
        steps = Steps() if Progress.wanted(args.quiet) else None
        done = audit.finish_scan(history, recording, args.out, request.lang,
                                 scanned.scanner or None, scanned.started,
                                 not scanned.interrupted, steps, args.outputs)  # fmt: skip
    except KeyboardInterrupt:
        print(f"interrupted while writing the files: {args.out / 'results.jsonl'} holds every "
              f"finished result; `ipv6scan report {args.out}` writes the report from it",
              file=sys.stderr)  # fmt: skip
        return EXIT_INTERRUPTED
    finally:
        history.close()
    if dated:
        outdir.link_latest(args.out)
    return _scan_exit(args, done, scanned.interrupted)


@dataclass(frozen=True)
class _Scanned:
    scanner: dict[str, Any]  # scanner_facts: the scanner's paths, for the summary
    interrupted: bool  # Ctrl-C or SIGTERM: the finished lines are on disk
    started: str  # audit.timestamp of the scan's start


def _scan_targets(
    args: argparse.Namespace, prepared: scanjob.Prepared, history: sqlite3.Connection
) -> _Scanned:
    """Scan here, or on workers through --broker; results.jsonl is the same either way."""
    config, source = prepared.config, prepared.source
    # the total only feeds the progress line: another pass over a big plain list is not
    # worth it when nobody watches (CI, cron, --quiet)
    total = sum(1 for _ in source) if Progress.wanted(args.quiet) else None
    use_fast_loop()
    started = audit.timestamp(args.today)
    try:
        if args.broker:  # on workers (distributed/): results.jsonl as a local scan leaves it
            return _Scanned(_through_broker(args, config, source, history), False, started)
        _stats, connectivity = asyncio.run(scan(config, source, total))
        return _Scanned(scanner_facts(connectivity), False, started)  # as the API's scans
    except (KeyboardInterrupt, asyncio.CancelledError):
        return _Scanned({}, True, started)  # the finished lines are summarised
    except NoResolverConfigured as exc:
        history.close()
        raise UsageError(str(exc)) from None


def _scan_exit(args: argparse.Namespace, done: audit.Finished, interrupted: bool) -> int:
    """The closing lines on stderr, and the exit code: interrupted, a gate failed, or OK."""
    for note in done.notes:
        print(f"note: {note}", file=sys.stderr)
    overall = done.summary["overall"]["score"]
    if not args.quiet:
        print(
            f"overall score: {overall if overall is not None else 'not scored'}; "
            f"results in {args.out}",
            file=sys.stderr,
        )
    if interrupted:
        print("interrupted: the files hold the results finished so far", file=sys.stderr)
        return EXIT_INTERRUPTED
    failed = _score_gate(args.fail_under, overall)
    for line in done.gate_passed:
        print(f"gate: {line}", file=sys.stderr)
    for line in done.gate:
        print(f"gate: {line}", file=sys.stderr)
        failed = True
    return EXIT_GATE if failed else EXIT_OK


def _score_gate(fail_under: float | None, overall: float | None) -> bool:
    """--fail-under: True (and why, on stderr) when the overall score fails it."""
    if fail_under is None or not fails_under(overall, fail_under):
        return False
    if overall is None:
        print(f"gate: the scan is not scored, so --fail-under {fail_under:g} fails",
              file=sys.stderr)  # fmt: skip
    else:
        print(f"gate: overall score {overall} is below {fail_under:g}", file=sys.stderr)
    return True


def _out_dir(path: Path) -> None:
    """--out must be a directory we can write (or create), checked before any scan."""
    problem = outdir.problem(path)
    if problem is not None:
        raise UsageError(f"--out {path}: {problem}")


def cmd_report(args: argparse.Namespace) -> int:
    profile = _profile(args.profile) if args.profile else None
    lang = args.lang or default_lang()
    out = args.out or args.dir / "report.html"
    try:
        if args.db is not None or args.run is not None:
            db = args.db or audit.default_db(args.dir)
            run = audit.report_run(args.dir, args.out, lang, db, args.run or "latest", profile)
            print(f"wrote {out} from run {run.id} of {db}")
        else:
            audit.report_dir(args.dir, out, lang, profile or DEFAULT_PROFILE)
            print(f"wrote {out}")
    except (audit.AuditInputError, HistoryError) as exc:
        raise UsageError(str(exc)) from None
    return EXIT_OK


def cmd_diff(args: argparse.Namespace) -> int:
    profile = _profile(args.profile)
    try:
        found = audit.diff_dirs(args.old, args.new, profile)
    except audit.AuditInputError as exc:
        raise UsageError(str(exc)) from None
    if args.json:
        print(json.dumps(found.to_json(), ensure_ascii=False, indent=1))
    else:
        print(found.to_text())
    return EXIT_GATE if found.has_regression else EXIT_OK


def cmd_merge(args: argparse.Namespace) -> int:
    from ipv6scan import merge
    from ipv6scan.engine.run import write_outputs

    profile = _profile(args.profile)
    _out_dir(args.out)
    try:
        stats = merge.merge_results(args.dirs, args.out, partial=args.partial)
    except merge.MergeError as exc:
        raise UsageError(str(exc)) from None
    lang = args.lang or default_lang()
    write_outputs(args.out, lang, merge.scanner_info(args.dirs), profile=profile)
    if not args.quiet:
        print(
            f"merged {len(args.dirs)} directories: {stats.written} results, "
            f"{stats.duplicates} duplicates dropped, {stats.unreadable} unreadable lines "
            f"skipped; files in {args.out}",
            file=sys.stderr,
        )
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from ipv6scan.demo import run_demo

    return run_demo(args.out, lang=args.lang or default_lang(), quiet=args.quiet)


COMMANDS = {"scan": cmd_scan, "validate": cmd_validate, "report": cmd_report, "demo": cmd_demo}
COMMANDS["diff"] = cmd_diff
COMMANDS["merge"] = cmd_merge


def _distributed() -> ModuleType:
    """The distributed commands, or exit 2 when Celery is not installed."""
    try:
        from ipv6scan.distributed import commands
    except ImportError as exc:
        raise UsageError(f"distributed scans need the 'distributed' extra "
                         f"(pip install 'ipv6scan[distributed]'): {exc}") from None  # fmt: skip
    return commands


def _check_broker(args: argparse.Namespace) -> None:
    commands = _distributed()
    try:
        commands.check_request(args)
    except (ValueError, commands.coordinator.BrokerError) as exc:
        raise UsageError(str(exc)) from None


def _through_broker(
    args: argparse.Namespace, config: ScanConfig, source: TargetSource, history: Any
) -> dict[str, Any]:
    commands = _distributed()
    try:
        return commands.scan_through_broker(args, config, source)  # type: ignore[no-any-return]
    except (ValueError, commands.coordinator.BrokerError) as exc:
        history.close()
        raise UsageError(str(exc)) from None


def cmd_worker(args: argparse.Namespace) -> int:
    try:
        return _distributed().cmd_worker(args)  # type: ignore[no-any-return]
    except ValueError as exc:
        raise UsageError(str(exc)) from None


COMMANDS["worker"] = cmd_worker


def _crash_dir(args: argparse.Namespace | None) -> Path | None:
    """Where a crash file goes: the command's output directory, when there is one."""
    if args is None:
        return None
    if args.command == "report":
        where = args.out.parent if args.out is not None else args.dir
    else:
        where = getattr(args, "out", None)
    return where if isinstance(where, Path) and where.is_dir() else None


def main(argv: Sequence[str] | None = None) -> int:
    args: argparse.Namespace | None = None
    with sigterm_as_sigint():
        try:
            args = build_parser().parse_args(argv)
            return COMMANDS[args.command](args)
        except UsageError as exc:
            print(f"ipv6scan: {exc}", file=sys.stderr)
            return EXIT_USAGE
        except KeyboardInterrupt:  # before the scan began, or outside one: nothing half-done
            print("ipv6scan: interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
        except Exception as exc:  # a bug, a full disk: exit 3 and a crash file, never a traceback
            return report_crash(exc, sys.argv if argv is None else ["ipv6scan", *argv],
                                _crash_dir(args))  # fmt: skip
