"""Tries (probes/tries.py): up to --attempts tries while the outcome is no answer, a
refusal or a reset; the backoff between tries; silent tries overlapping; and real
loopback servers that refuse, then accept."""

from __future__ import annotations

import asyncio
import itertools
import socket
import time
from collections.abc import Iterator

import pytest

from ipv6scan.checks.intermittent import is_intermittent
from ipv6scan.checks.web import judge_reachable
from ipv6scan.engine.window import Window
from ipv6scan.model import Status, Subject, Target
from ipv6scan.observations.web import OPEN, REFUSED, TIMEOUT
from ipv6scan.probes import tcp, tries
from ipv6scan.probes.tries import backoff, run_tries
from ipv6scan.probes.web_site import observe_site
from tests.unit.web_servers import TableResolver, context

FAST = 0.05  # a shortened backoff, so that the tests take no seconds


def script(*outcomes: str, delay: float = 0.0) -> tuple[list[float], object]:
    """A try that returns `outcomes` in turn (after `delay`), and the times it started."""
    started: list[float] = []
    queue = list(outcomes)

    async def one_try() -> str:
        started.append(time.monotonic())
        outcome = queue.pop(0)
        if outcome == "silent":
            await asyncio.sleep(delay)
            return TIMEOUT
        return outcome

    return started, one_try


def failed(outcome: str) -> bool:
    return outcome in (TIMEOUT, REFUSED)


def test_the_default_backoff_is_jittered_and_at_least_a_second() -> None:
    pauses = [backoff() for _ in range(200)]
    assert min(pauses) >= 1.0 and max(pauses) <= 2.0
    assert len(set(pauses)) > 100  # jittered: tries that failed together spread out


async def test_a_refusal_then_an_answer_is_two_tries_one_failed() -> None:
    started, one_try = script(REFUSED, OPEN, OPEN)
    got = await run_tries(one_try, failed, 3, pause=lambda: FAST)  # type: ignore[arg-type]
    assert (got.outcome, got.attempts, got.failed_attempts) == (OPEN, 2, 1)
    assert started[1] - started[0] >= FAST  # the backoff came between them


async def test_every_try_failing_is_the_last_failure_after_all_tries() -> None:
    started, one_try = script(REFUSED, REFUSED, TIMEOUT)
    got = await run_tries(one_try, failed, 3, pause=lambda: FAST)  # type: ignore[arg-type]
    assert (got.outcome, got.attempts, got.failed_attempts) == (TIMEOUT, 3, 3)
    assert len(started) == 3


async def test_one_attempt_is_one_try() -> None:
    started, one_try = script(REFUSED, OPEN)
    got = await run_tries(one_try, failed, 1, pause=lambda: FAST)  # type: ignore[arg-type]
    assert (got.outcome, got.attempts, got.failed_attempts) == (REFUSED, 1, 0)
    assert len(started) == 1


async def test_an_answer_that_is_not_retryable_ends_the_tries_at_once() -> None:
    started, one_try = script("rejected", OPEN)
    got = await run_tries(one_try, failed, 3, pause=lambda: FAST)  # type: ignore[arg-type]
    assert (got.outcome, got.attempts) == ("rejected", 1) and len(started) == 1


async def test_silent_tries_overlap_so_they_cost_one_timeout_plus_the_backoffs() -> None:
    # Given a destination that never answers within the 0.5 s timeout
    started, one_try = script("silent", "silent", "silent", delay=0.5)
    begun = time.monotonic()
    got = await run_tries(one_try, failed, 3, pause=lambda: FAST)  # type: ignore[arg-type]
    took = time.monotonic() - begun
    # Then each try started a backoff after the one before, and all three timed out
    assert (got.outcome, got.attempts, got.failed_attempts) == (TIMEOUT, 3, 3)
    assert all(b - a >= FAST * 0.9 for a, b in itertools.pairwise(started))
    # about one timeout and two backoffs, far from three timeouts one after the other
    assert took < 0.5 + 2 * FAST + 0.3


async def test_a_later_try_that_answers_wins_over_an_earlier_silent_one() -> None:
    _started, one_try = script("silent", OPEN, delay=5.0)
    begun = time.monotonic()
    got = await run_tries(one_try, failed, 3, pause=lambda: FAST)  # type: ignore[arg-type]
    assert (got.outcome, got.attempts, got.failed_attempts) == (OPEN, 2, 1)
    assert time.monotonic() - begun < 1.0  # the silent first try was cancelled, not awaited


async def test_an_error_in_a_try_is_raised() -> None:
    async def broken() -> str:
        raise ValueError("a bug")

    with pytest.raises(ValueError):
        await run_tries(broken, failed, 3, pause=lambda: FAST)


# ------------------------------------------------------------------ real loopback servers


@pytest.fixture
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tries, "backoff", lambda: 0.3)


@pytest.fixture
def free_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET6) as probe:
        probe.bind(("::1", 0))
        port = probe.getsockname()[1]
    yield port


async def listen_later(port: int, after: float) -> asyncio.Server:
    """A server on [::1]:port that starts listening `after` seconds from now: until
    then, every connect is refused."""
    await asyncio.sleep(after)
    return await asyncio.start_server(lambda r, w: w.close(), "::1", port)


SUBJECT_TARGET = Target("T", "enterprise", ("site.test",))


@pytest.mark.usefixtures("quick_backoff")
async def test_a_port_that_refuses_then_accepts_is_an_intermittent_warn(free_port: int) -> None:
    # Given a URL subject whose only port refuses the first connect, then listens
    ctx = context(TableResolver({("site.test", "AAAA"): ("::1",)}), attempts=3)
    subject = Subject("url", f"http://site.test:{free_port}/", SUBJECT_TARGET)
    opening = asyncio.ensure_future(listen_later(free_port, 0.1))
    try:
        # When the site is observed and judged
        site = await observe_site(ctx, subject)
        verdict = judge_reachable(site)
    finally:
        server = await opening
        server.close()
        await server.wait_closed()
    # Then the connect was tried twice, the first refused, and the check is intermittent
    probe = site.probe("::1", free_port)
    assert probe is not None and probe.open
    assert (probe.attempts, probe.failed_attempts) == (2, 1)
    assert verdict.status is Status.WARN
    assert "intermittent: 1 of 2 tries failed on [::1]" in verdict.detail
    assert verdict.evidence["attempts"] == 2 and verdict.evidence["failed_attempts"] == 1
    assert is_intermittent(verdict.status, verdict.evidence)


@pytest.mark.usefixtures("quick_backoff")
async def test_a_port_that_never_listens_fails_after_every_try(free_port: int) -> None:
    ctx = context(TableResolver({("site.test", "AAAA"): ("::1",)}), attempts=3)
    subject = Subject("url", f"http://site.test:{free_port}/", SUBJECT_TARGET)
    verdict = judge_reachable(await observe_site(ctx, subject))
    assert verdict.status is Status.FAIL
    assert verdict.evidence["attempts"] == 3 and verdict.evidence["failed_attempts"] == 3
    assert not is_intermittent(verdict.status, verdict.evidence)


@pytest.mark.usefixtures("quick_backoff")
async def test_with_one_attempt_a_refusal_is_final(free_port: int) -> None:
    ctx = context(TableResolver({("site.test", "AAAA"): ("::1",)}), attempts=1)
    opening = asyncio.ensure_future(listen_later(free_port, 0.1))
    try:
        probe = await tcp.connect(ctx, "::1", free_port)
    finally:
        server = await opening
        server.close()
        await server.wait_closed()
    assert (probe.outcome, probe.attempts) == (REFUSED, 1)


# ------------------------------------------------------------------ the engine's window


async def test_a_target_waiting_for_retries_makes_room_in_the_window() -> None:
    window = Window(1, hard=3)
    first = await window.enter()
    assert window.full  # a second target would wait
    first.step_aside()  # its probe sleeps a backoff
    second = await asyncio.wait_for(window.enter(), 1)  # so another target starts
    first.step_back()  # never waits to come back
    assert (window.active, window.alive) == (2, 2)
    first.leave()
    second.leave()
    assert (window.active, window.alive) == (0, 0) and not window.full


async def test_the_hard_cap_bounds_the_targets_alive() -> None:
    window = Window(1, hard=2)
    tickets = [await window.enter()]
    tickets[0].step_aside()
    tickets.append(await window.enter())
    tickets[1].step_aside()
    with pytest.raises(TimeoutError):  # two alive: the cap, however many step aside
        await asyncio.wait_for(window.enter(), 0.1)
