"""The engine's check deadlines (deadlines.Deadlines): what asyncio.timeout did, one timer for all.

A deadline turns into an `error` result; somebody else's cancellation passes through; a check
that swallows its deadline's cancellation leaves its task as it found it."""

from __future__ import annotations

import asyncio

import pytest

from ipv6scan.addresses import AddressPolicy
from ipv6scan.checks.registry import Check
from ipv6scan.context import Limits, ScanContext
from ipv6scan.engine.scheduler import Engine
from ipv6scan.model import CheckResult, Status, Subject, Target, Verdict
from ipv6scan.observations.dns import Connectivity

TARGET = Target("Portal", "government", ("example.gov",))
SUBJECT = Subject("domain", "example.gov", TARGET)


def context() -> ScanContext:
    return ScanContext(
        resolver=None,  # type: ignore[arg-type]
        transport=None,  # type: ignore[arg-type]
        policy=AddressPolicy(),
        connectivity=Connectivity(ipv6=True, ipv4=True),
        limits=Limits(10, 2),
        timeout=1.0,
    )


def judge(observation: object, options: object = None) -> Verdict:
    return Verdict(Status.PASS, f"saw {observation}", {})


def engine(deadline: float) -> tuple[Engine, list[CheckResult]]:
    sink: list[CheckResult] = []
    return Engine(context(), [], sink.append, check_deadline=deadline), sink


async def test_checks_past_their_deadline_each_become_an_error_and_the_rest_pass() -> None:
    # Given checks that never finish and checks that finish at once, started together
    async def stuck(ctx: ScanContext, subject: Subject) -> object:
        await asyncio.Event().wait()
        return "never"

    async def quick(ctx: ScanContext, subject: Subject) -> object:
        return "fast"

    eng, sink = engine(0.05)
    jobs = [Check("dns.ns_ipv6", ("domain",), stuck, judge) for _ in range(3)]
    jobs += [Check("dns.mx_ipv6", ("domain",), quick, judge) for _ in range(3)]
    # When they run
    await asyncio.wait_for(asyncio.gather(*(eng._run_check(SUBJECT, c) for c in jobs)), 10)
    # Then the stuck ones ran out of time, the quick ones passed, and no timer is left
    by_check = sorted((r.check, str(r.status)) for r in sink)
    assert by_check == [("dns.mx_ipv6", "pass")] * 3 + [("dns.ns_ipv6", "error")] * 3
    assert all("ran out of time" in r.detail for r in sink if r.check == "dns.ns_ipv6")
    assert eng.deadlines._timer is None and not eng.deadlines._queue


async def test_someone_elses_cancellation_is_not_a_timeout() -> None:
    # Given a check waiting well within its deadline
    started = asyncio.Event()

    async def waiting(ctx: ScanContext, subject: Subject) -> object:
        started.set()
        await asyncio.Event().wait()
        return "never"

    eng, sink = engine(60)
    task = asyncio.create_task(
        eng._run_check(SUBJECT, Check("dns.aaaa", ("host",), waiting, judge))
    )
    await started.wait()
    # When the scan is cancelled (Ctrl-C, SIGTERM)
    task.cancel()
    # Then the cancellation goes through, with no result written
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sink == []


async def test_a_swallowed_deadline_leaves_the_task_uncancelled() -> None:
    # Given a check that catches the cancellation its deadline sends, and finishes anyway
    async def stubborn(ctx: ScanContext, subject: Subject) -> object:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            return "kept going"
        return "never"

    eng, sink = engine(0.02)

    async def run() -> int:
        await eng._run_check(SUBJECT, Check("dns.aaaa", ("host",), stubborn, judge))
        task = asyncio.current_task()
        assert task is not None
        return task.cancelling()

    # When it runs in a task of its own
    cancelling = await asyncio.wait_for(asyncio.create_task(run()), 10)
    # Then its result stands and the task carries no cancellation left over
    (r,) = sink
    assert r.status is Status.PASS and r.detail == "saw kept going"
    assert cancelling == 0
