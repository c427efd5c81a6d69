"""The net.ping bulk path (engine/ping_only.py) against the engine, over a scripted raw
socket: the same lines, the engine's deadline, a bounded window, a clean stop.

Nothing is sent: the scripted socket of test_icmp_socket answers from a table.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from scapy.layers.inet6 import ICMPv6DestUnreach

from ipv6scan.addresses import AddressPolicy
from ipv6scan.checks import registry
from ipv6scan.checks.options import CheckOptions
from ipv6scan.context import Limits, ScanContext
from ipv6scan.engine import ping_only, run
from ipv6scan.engine.ping_only import PingOnlyScan, addresses_only, window_for
from ipv6scan.engine.scheduler import Engine
from ipv6scan.model import CheckResult, SystemEntry, Target, json_loads
from ipv6scan.observations.dns import Connectivity
from ipv6scan.observations.net import REPLY, TIMEOUT, EchoOutcome
from ipv6scan.probes.icmp_socket import IcmpProber
from ipv6scan.probes.net import answered
from tests.unit.test_icmp_observe import StubResolver
from tests.unit.test_icmp_socket import ScriptedSocket, echo_reply, error_quoting

PING = registry.BY_ID["net.ping"]
ANSWERS = "2001:db8:1::1"
SILENT = "2001:db8:1::2"
UNREACHABLE = "2001:db8:1::3"
EVERY_OTHER = "2001:db8:1::4"  # answers the first and third echo of three
ROUTER = "2001:db8::fe"


def responder() -> Callable[[bytes, int | None, str], list[tuple[bytes, str]]]:
    """The lab's answers, from a table; EVERY_OTHER counts its own echoes."""
    seen: dict[str, int] = {}

    def respond(packet: bytes, _hop: int | None, dest: str) -> list[tuple[bytes, str]]:
        seen[dest] = seen.get(dest, 0) + 1
        if dest == SILENT or (dest == EVERY_OTHER and seen[dest] % 2 == 0):
            return []
        if dest == UNREACHABLE:
            return [(error_quoting(ICMPv6DestUnreach, packet, dest, code=3), ROUTER)]
        return [(echo_reply(packet), dest)]

    return respond


def entry(value: str, kind: str = "address", tier: str = "backbone", **kw: Any) -> SystemEntry:
    return SystemEntry(tier, kind, value, **kw)


TARGETS = (
    Target("Core", "operator", systems=(
        entry(ANSWERS), entry(SILENT), entry(UNREACHABLE), entry(EVERY_OTHER),
        entry("198.51.100.7"),  # IPv4 only: fail, nothing sent
        entry("fe80::1"), entry("::1"),  # not global: skip, nothing sent
        entry(ANSWERS, tier="access"),  # the tier's defaults include net.ping
        entry("2001:db8:1::9", checks=("net.trace",)),  # its own list leaves net.ping out
    )),
    Target("Nothing to ping", "operator", systems=(entry("2001:db8:1::9", checks=("dns",)),)),
    Target("With a host", "operator", systems=(entry(ANSWERS), entry("core.example", "host"))),
    Target("Empty", "operator"),
)  # fmt: skip


def context(prober: IcmpProber, timeout: float = 0.3) -> ScanContext:
    return ScanContext(
        resolver=StubResolver({"core.example": (ANSWERS,)}),  # type: ignore[arg-type]
        transport=None,  # type: ignore[arg-type]
        policy=AddressPolicy.from_strings(["2001:db8::/32", "198.51.100.0/24"]),
        connectivity=Connectivity(ipv6=True, ipv4=True),
        limits=Limits(64, 8),
        timeout=timeout,
        options=CheckOptions(ping_interval=0.01),
        icmp=prober,
    )


@pytest.fixture
def prober() -> Iterator[Callable[..., IcmpProber]]:
    made: list[IcmpProber] = []

    def make(answer: Callable[..., list[tuple[bytes, str]]] | None = None) -> IcmpProber:
        sock = ScriptedSocket(answer or responder())
        made.append(IcmpProber(sock, ident=0x1234, rate=1e6))  # type: ignore[arg-type]
        return made[-1]

    yield make
    for p in made:
        p.close()


def bulk_scan(ctx: ScanContext, results: list[CheckResult], deadline: float = 10.0,
              **kw: Any) -> tuple[PingOnlyScan, Engine]:  # fmt: skip
    engine = Engine(ctx, [PING], results.append, check_deadline=deadline)
    scan = PingOnlyScan(ctx, engine.sink, engine.stats, check_deadline=deadline,
                        wanted=lambda s: bool(engine.checks_for(s)), run_whole=engine.run_target,
                        **kw)  # fmt: skip
    return scan, engine


def rows(results: list[CheckResult]) -> list[tuple[Any, ...]]:
    """The lines, round-trip times aside (each run measures its own)."""

    def timeless(evidence: dict[str, Any]) -> str:
        pings = [
            {**p, "rtt_ms": len(p["rtt_ms"]), "median_ms": None} for p in evidence.get("pings", ())
        ]
        return repr({**evidence, "pings": pings})

    return sorted(
        (r.target, r.tier, r.subject, r.check, str(r.status),
         re.sub(r"\(\d+\.\d ms\)", "(ms)", r.detail), timeless(r.evidence))
        for r in results
    )  # fmt: skip


async def test_the_bulk_path_writes_what_the_engine_writes(
    prober: Callable[..., IcmpProber],
) -> None:
    bulk: list[CheckResult] = []
    scan, _ = bulk_scan(context(prober()), bulk)
    stats = await scan.run(TARGETS)
    general: list[CheckResult] = []
    engine = Engine(context(prober()), [PING], general.append, check_deadline=10.0)
    await engine.run(TARGETS)
    assert rows(bulk) == rows(general)
    by_subject = {(r.target, r.tier, r.subject): str(r.status) for r in bulk}
    assert by_subject == {
        ("Core", "backbone", ANSWERS): "pass",
        ("Core", "backbone", SILENT): "fail",
        ("Core", "backbone", UNREACHABLE): "fail",
        ("Core", "backbone", EVERY_OTHER): "pass",
        ("Core", "backbone", "198.51.100.7"): "fail",
        ("Core", "backbone", "fe80::1"): "skip",
        ("Core", "backbone", "::1"): "skip",
        ("Core", "access", ANSWERS): "pass",
        ("With a host", "backbone", ANSWERS): "pass",
        ("With a host", "backbone", "core.example"): "pass",
    }
    assert (stats.targets_done, stats.results) == (4, 10) == (4, len(bulk))


def test_the_bulk_path_writes_no_line_of_its_own() -> None:
    # net.ping's rule and line are judge_ping's and emit()'s alone (issue 15): no twin
    source = (Path(ping_only.__file__).parent / "ping_only.py").read_text()  # compiled or not
    assert "answered_line" not in source and "json" not in source
    assert "judge_ping(" in source and "emit(" in source


def test_only_a_series_answered_throughout_counts_as_answered() -> None:
    reply = EchoOutcome(REPLY, ANSWERS, 0.5)
    assert answered((reply, reply)) == [0.5, 0.5]
    assert answered((reply, EchoOutcome(TIMEOUT))) is None
    assert answered((EchoOutcome(REPLY, ANSWERS, None),)) is None  # no time, no line of ours


async def test_an_address_past_the_check_deadline_is_an_error_as_in_the_engine(
    prober: Callable[..., IcmpProber],
) -> None:
    # Given echoes that wait 5 s for an answer that never comes, and a 0.2 s deadline
    target = (Target("Core", "operator", systems=(entry(SILENT), entry(ANSWERS))),)
    bulk: list[CheckResult] = []
    scan, _ = bulk_scan(context(prober(), timeout=5.0), bulk, deadline=0.2)
    await asyncio.wait_for(scan.run(target), 3)
    general: list[CheckResult] = []
    engine = Engine(context(prober(), timeout=5.0), [PING], general.append, check_deadline=0.2)
    await asyncio.wait_for(engine.run(target), 3)
    # Then the silent address is an error with the engine's words, the other passes
    assert rows(bulk) == rows(general)
    by_subject = {r.subject: (str(r.status), r.detail) for r in bulk}
    assert by_subject[SILENT] == ("error", "The check ran out of time (0.2 s).")
    assert by_subject[ANSWERS][0] == "pass"


async def test_no_more_than_the_window_is_in_progress(prober: Callable[..., IcmpProber]) -> None:
    # a destination is in progress from its first echo until its last one is sent: a
    # lower bound of what the window holds (a series also waits for its last answer)
    busiest = 0
    sent: dict[str, int] = {}
    answer = responder()

    def count(packet: bytes, hop: int | None, dest: str) -> list[tuple[bytes, str]]:
        nonlocal busiest
        sent[dest] = sent.get(dest, 0) + 1
        busiest = max(busiest, sum(1 for n in sent.values() if n < 3) + (sent[dest] == 3))
        return answer(packet, hop, dest)

    p = prober(count)
    addresses = [f"2001:db8:2::{i:x}" for i in range(1, 41)]
    target = (Target("Many", "operator", systems=tuple(map(entry, addresses))),)
    results: list[CheckResult] = []
    scan, _ = bulk_scan(context(p), results, window=3)
    await scan.run(target)
    assert len(results) == 40 and {str(r.status) for r in results} == {"pass"}
    assert busiest == 3  # the window is used, and never exceeded


async def test_a_cancelled_scan_writes_nothing_more(prober: Callable[..., IcmpProber]) -> None:
    # Given a scan of addresses that never answer (each waits out a 5 s timeout)
    silent = [f"2001:db8:3::{i:x}" for i in range(1, 21)]
    target = (Target("Quiet", "operator", systems=tuple(map(entry, silent))),)
    results: list[CheckResult] = []
    p = prober(lambda *_: [])
    scan, _ = bulk_scan(context(p, timeout=5.0), results)
    task = asyncio.ensure_future(scan.run(target))
    await asyncio.sleep(0.1)
    # When it is cancelled (SIGINT, SIGTERM) and the prober then closes, as engine/run.py does
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    p.close()
    await asyncio.sleep(0.05)
    # Then no line is written for the series it stopped
    assert results == []


async def test_a_failing_sink_ends_the_scan_with_its_error(
    prober: Callable[..., IcmpProber],
) -> None:
    def full(_: CheckResult) -> None:
        raise OSError(28, "No space left on device")

    scan, _ = bulk_scan(context(prober()), [])
    scan.sink = full
    with pytest.raises(OSError, match="No space"):
        await asyncio.wait_for(scan.run(TARGETS[:1]), 3)


def test_only_address_only_targets_are_served_here() -> None:
    assert addresses_only(TARGETS[0]) and addresses_only(TARGETS[3])
    assert not addresses_only(TARGETS[2])  # a host entry needs a look-up: the engine's
    assert not addresses_only(Target("D", "government", domains=("example.gov",)))


def test_the_window_follows_the_echo_rate() -> None:
    # the rate's starts over a series' life: 20,000/s of 3 echoes, 0.1 s apart, the last
    # waiting 5 s at most -> 6,667 starts/s x 5.2 s, capped
    assert window_for(CheckOptions(), timeout=5.0) == 16_384
    assert window_for(CheckOptions(), timeout=1.0) == 8_000
    assert window_for(CheckOptions(ping_rate=3.0), timeout=1.0) == 1  # never below one
    assert window_for(CheckOptions(ping_rate=1e7), timeout=1.0) == 16_384  # nor above the cap


async def test_a_slow_echo_rate_keeps_every_address_within_its_deadline(
    prober: Callable[..., IcmpProber],
) -> None:
    # Given an operator's low rate (IPV6SCAN_PING_RATE=30) and twenty addresses that
    # answer: 60 echoes take 2 s in all, twice the check deadline
    addresses = [f"2001:db8:4::{i:x}" for i in range(1, 21)]
    target = (Target("Slow", "operator", systems=tuple(map(entry, addresses))),)
    ctx = dataclasses.replace(
        context(prober(), timeout=0.2), options=CheckOptions(ping_interval=0.01, ping_rate=30.0)
    )
    results: list[CheckResult] = []
    scan, _ = bulk_scan(ctx, results, deadline=1.0)
    await asyncio.wait_for(scan.run(target), 10)
    # Then no address waited for the rate long enough to run out of time: the window
    # holds what the rate starts, not the whole list
    assert [str(r.status) for r in results] == ["pass"] * 20


def test_net_ping_alone_takes_the_ping_bulk_path(
    prober: Callable[..., IcmpProber], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def choose(checks: tuple[str, ...], **changes: Any) -> str | None:
        ctx = dataclasses.replace(context(prober()), **changes)
        config = run.ScanConfig(out=tmp_path, checks=tuple(registry.BY_ID[c] for c in checks))
        return run.bulk_path(config, ctx)

    assert asyncio.run(choose(("net.ping",))) == run.PING_PATH
    assert asyncio.run(choose(("net.ping", "net.trace"))) is None
    # no raw socket (the engine's skip verdicts), no IPv6 (its errors): the engine
    assert asyncio.run(choose(("net.ping",), icmp=None)) is None
    no_ipv6 = Connectivity(ipv6=False, ipv4=True)
    assert asyncio.run(choose(("net.ping",), connectivity=no_ipv6)) is None
    monkeypatch.setenv(run.ENGINE_ENV, "general")
    assert asyncio.run(choose(("net.ping",))) is None


async def test_the_bulk_path_fills_in_what_the_engine_writes(
    prober: Callable[..., IcmpProber],
) -> None:
    """An answered address's line from its shape (engine/ping_lines.py), the rest judged."""
    results: list[CheckResult] = []
    lines: list[str] = []
    scan, _ = bulk_scan(context(prober()), results, write_line=lines.append)
    stats = await scan.run(TARGETS)
    filled = [CheckResult.from_json(json_loads(line)) for line in lines]
    general: list[CheckResult] = []
    plain, _ = bulk_scan(context(prober()), general)
    await plain.run(TARGETS)
    assert rows(results + filled) == rows(general)
    assert stats.results == len(results) + len(filled) == len(general)
    # the answering address's lines were filled in (Core's two; "With a host" goes to the
    # engine whole), the rest judged
    assert sorted(r.subject for r in filled) == [ANSWERS] * 2
