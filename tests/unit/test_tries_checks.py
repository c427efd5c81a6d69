"""Tries in the remaining checks (probes/tries.py, checks/intermittent.py): web.parity,
web.links, web.latency, dns.ns_reachable, resolver.ipv6 and net.ping. Judges on
hand-built observations; the direct DNS question against a real loopback UDP server that
ignores its first query; net.ping's series over a scripted raw socket, on the engine
and on the bulk path (the same lines)."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace

import dns.message
import dns.rrset
import pytest

from ipv6scan.checks.dns import judge_ns_reachable
from ipv6scan.checks.intermittent import is_intermittent
from ipv6scan.checks.net import judge_ping
from ipv6scan.checks.options import CheckOptions
from ipv6scan.checks.resolver import judge_resolver_ipv6
from ipv6scan.checks.web import judge_latency, judge_links, judge_parity
from ipv6scan.dnsclient.transport import DnspythonTransport, DnsServer
from ipv6scan.engine.scheduler import Engine
from ipv6scan.model import CheckResult, Status, Target
from ipv6scan.observations.dns import NsReachability
from ipv6scan.observations.net import REPLY, TIMEOUT, EchoOutcome, PingObservation, PingResult
from ipv6scan.observations.web import Fetch
from ipv6scan.probes import tries
from ipv6scan.probes.dns import ask_tried
from ipv6scan.probes.icmp_socket import IcmpProber
from ipv6scan.probes.net import tried_result, unanswered
from ipv6scan.probes.tries import Tried
from tests.unit.test_dns_judges import NS1, NS2, TWO_NS, answer, resolver_answer
from tests.unit.test_icmp_socket import ScriptedSocket, echo_reply
from tests.unit.test_net_judges import A1, A2, address, host
from tests.unit.test_ping_bulk import PING, bulk_scan, entry, rows
from tests.unit.test_ping_bulk import context as ping_context
from tests.unit.test_web_judges import (
    HOME,
    V4,
    V6A,
    chain,
    latency,
    link,
    links,
    parity,
    response,
    v4,
)
from tests.unit.web_servers import TableResolver
from tests.unit.web_servers import context as web_context

FAST = 0.05  # the backoff, shortened so that the tests take no seconds


def tried(fetch: Fetch, attempts: int = 2, failed: int = 1) -> Fetch:
    return replace(fetch, attempts=attempts, failed_attempts=failed)


def intermittent(verdict, failed: int, attempts: int) -> None:  # type: ignore[no-untyped-def]
    assert verdict.status is Status.WARN, verdict.detail
    assert f"intermittent: {failed} of {attempts} tries failed" in verdict.detail
    ev = verdict.evidence
    assert (ev["attempts"], ev["failed_attempts"], ev["intermittent"]) == (attempts, failed, True)
    assert is_intermittent(verdict.status, ev)


# ------------------------------------------------------------------ web.parity, links, latency


def test_parity_resting_on_an_ipv6_fetch_that_needed_a_second_try_is_intermittent() -> None:
    verdict = judge_parity(parity(chain(tried(response())), v4()))
    intermittent(verdict, 1, 2)
    assert verdict.evidence["ports"][0]["similarity"] == 1.0  # the comparison is kept


def test_parity_with_an_ipv4_fetch_that_needed_tries_passes_with_the_tries_in_evidence() -> None:
    ipv4 = chain(tried(response(address=V4)), family=4)
    verdict = judge_parity(parity(chain(response()), ipv4))
    assert verdict.status is Status.PASS
    assert verdict.evidence["attempts"] == 2 and "intermittent" not in verdict.evidence


def test_parity_that_fails_on_content_stays_fail_and_mentions_the_intermittence() -> None:
    other = response(fp=b"\x00" * 32)
    verdict = judge_parity(parity(chain(tried(other)), v4()))
    assert verdict.status is Status.FAIL and "intermittent" in verdict.detail
    assert not is_intermittent(verdict.status, verdict.evidence)


def test_links_resting_on_a_link_that_answered_on_a_later_try_is_intermittent() -> None:
    good = [link(f"{HOME}p{i}") for i in range(9)]
    flaky = link(f"{HOME}flaky")
    flaky = replace(flaky, chain=chain(tried(response(f"{HOME}flaky"), 3, 2)))
    intermittent(judge_links(links(*good, flaky)), 2, 3)


def test_links_with_a_link_that_failed_every_try_is_judged_as_before() -> None:
    good = [link(f"{HOME}p{i}") for i in range(9)]
    dead = replace(link(f"{HOME}dead"), chain=chain(Fetch(f"{HOME}dead", V6A, TIMEOUT,
                   attempts=3, failed_attempts=3), end="no_response"))  # fmt: skip
    verdict = judge_links(links(*good, dead))
    assert verdict.status is Status.PASS  # 9 of 10 still work: the dead link is counted bad
    assert verdict.evidence["links_failed"] == 1
    assert (verdict.evidence["attempts"], verdict.evidence["failed_attempts"]) == (3, 3)


def test_links_home_page_after_a_refused_try_is_intermittent() -> None:
    good = [link(f"{HOME}p{i}") for i in range(3)]
    intermittent(judge_links(links(*good, home=chain(tried(response())))), 1, 2)


def test_latency_whose_first_ipv6_fetch_needed_a_try_is_intermittent() -> None:
    obs = replace(latency(30.0, 50.0), first=(chain(tried(response())), v4()))
    intermittent(judge_latency(obs), 1, 2)


def test_latency_with_one_try_each_is_unchanged() -> None:
    obs = replace(latency(30.0, 50.0), first=(chain(response()), v4()))
    verdict = judge_latency(obs)
    assert verdict.status is Status.PASS and "attempts" not in verdict.evidence


# ------------------------------------------------------------------ dns.ns_reachable, resolver


def test_a_name_server_that_answered_on_a_later_try_is_intermittent_never_fail() -> None:
    late = replace(answer(NS2, "2001:db8:2::53"), attempts=2, failed_attempts=1)
    verdict = judge_ns_reachable(
        NsReachability(TWO_NS, True, (answer(NS1, "2001:db8:1::53"), late))
    )
    intermittent(verdict, 1, 2)
    assert f"{NS2} [2001:db8:2::53]" in verdict.detail


def test_a_name_server_silent_on_every_try_is_as_before_with_the_tries() -> None:
    silent = answer(NS2, "2001:db8:2::53", "TIMEOUT", aa=False, soa=False)
    silent = replace(silent, attempts=3, failed_attempts=3)
    verdict = judge_ns_reachable(
        NsReachability(TWO_NS, True, (answer(NS1, "2001:db8:1::53"), silent))
    )
    assert verdict.status is Status.WARN and "1 of 2" in verdict.detail
    assert (verdict.evidence["attempts"], verdict.evidence["failed_attempts"]) == (3, 3)
    assert not is_intermittent(verdict.status, verdict.evidence)


def test_a_resolver_that_answered_on_a_later_try_is_intermittent() -> None:
    ans = resolver_answer(rcode="NOERROR", answers=("2001:db8::80",), attempts=3,
                          failed_attempts=2)  # fmt: skip
    verdict = judge_resolver_ipv6(ans)
    intermittent(verdict, 2, 3)
    assert "[2001:db8:53::53]:53" in verdict.detail


def test_a_resolver_silent_on_every_try_fails() -> None:
    verdict = judge_resolver_ipv6(resolver_answer(rcode="TIMEOUT", attempts=3, failed_attempts=3))
    assert verdict.status is Status.FAIL and "intermittent" not in verdict.detail
    assert (verdict.evidence["attempts"], verdict.evidence["failed_attempts"]) == (3, 3)


class SkipFirst:
    """A UDP DNS server on ::1 that ignores every `period`-th query (the first included)
    and answers the others with an authoritative SOA."""

    def __init__(self, period: int = 2) -> None:
        self.sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        self.sock.bind(("::1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.period = period
        self.seen = 0
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while self.running:
            try:
                data, peer = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            self.seen += 1
            if (self.seen - 1) % self.period == 0:
                continue  # silence
            query = dns.message.from_wire(data)
            reply = dns.message.make_response(query)
            reply.flags |= dns.flags.AA
            reply.answer.append(dns.rrset.from_text(
                "example.com.", 60, "IN", "SOA", "ns1.example.com. h.example.com. 1 2 3 4 5"
            ))  # fmt: skip
            self.sock.sendto(reply.to_wire(), peer)

    def close(self) -> None:
        self.running = False
        self.thread.join()
        self.sock.close()


@pytest.fixture
def skip_first() -> Iterator[SkipFirst]:
    server = SkipFirst()
    yield server
    server.close()


@pytest.fixture
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tries, "backoff", lambda: FAST)


async def test_a_direct_question_is_asked_again_after_no_answer(
    skip_first: SkipFirst, fast_backoff: None
) -> None:
    ctx = replace(web_context(TableResolver({}), timeout=0.5, attempts=3),
                  transport=DnspythonTransport())  # fmt: skip
    got = await ask_tried(ctx, DnsServer("::1", skip_first.port), "example.com", "SOA", False)
    assert got.outcome.rcode == "NOERROR" and got.outcome.authoritative
    assert (got.attempts, got.failed_attempts) == (2, 1)


async def test_a_direct_question_with_one_attempt_is_asked_once(skip_first: SkipFirst) -> None:
    ctx = replace(web_context(TableResolver({}), timeout=0.3, attempts=1),
                  transport=DnspythonTransport())  # fmt: skip
    got = await ask_tried(ctx, DnsServer("::1", skip_first.port), "example.com", "SOA", False)
    assert got.outcome.rcode == "TIMEOUT" and got.attempts == 1 and skip_first.seen == 1


# ------------------------------------------------------------------ net.ping


def reply(rtt: float = 1.0) -> EchoOutcome:
    return EchoOutcome(REPLY, A1, rtt)


def test_a_series_with_no_echo_answered_is_tried_again() -> None:
    assert unanswered((EchoOutcome(TIMEOUT), EchoOutcome(TIMEOUT)))
    assert not unanswered((EchoOutcome(TIMEOUT), reply()))  # one answer: the address answers
    assert not unanswered((EchoOutcome("send_error", error="EPERM"),))  # our side: not retried


def test_an_address_answered_only_in_a_later_series_is_intermittent() -> None:
    result = tried_result(A1, Tried((reply(), reply(), reply()), 2, 1))
    assert (result.received, result.attempts, result.failed_attempts) == (3, 2, 1)
    verdict = judge_ping(PingObservation(address(A1), True, None, (result,)))
    intermittent(verdict, 1, 2)
    assert f"tries failed on {A1}" in verdict.detail


def test_an_address_silent_in_every_series_fails_with_its_tries() -> None:
    silent = PingResult(A2, 3, 0, attempts=3, failed_attempts=3)
    good = PingResult(A1, 3, 3, (1.0, 1.0, 1.0))
    verdict = judge_ping(PingObservation(host(A1, A2), True, None, (good, silent)))
    assert verdict.status is Status.FAIL
    assert (verdict.evidence["attempts"], verdict.evidence["failed_attempts"]) == (3, 3)
    assert verdict.evidence["tries"] == [{"probe": A2, "attempts": 3, "failed_attempts": 3}]


LATE = "2001:db8:1::5"  # its first series is lost, the second answered
QUIET = "2001:db8:1::2"
LOUD = "2001:db8:1::1"


def first_series_lost(count: int = 3) -> Callable[[bytes, int | None, str], list]:  # type: ignore[type-arg]
    seen: dict[str, int] = {}

    def respond(packet: bytes, _hop: int | None, dest: str) -> list[tuple[bytes, str]]:
        seen[dest] = seen.get(dest, 0) + 1
        if dest == QUIET or (dest == LATE and seen[dest] <= count):
            return []
        return [(echo_reply(packet), dest)]

    return respond


@pytest.fixture
def probers() -> Iterator[Callable[[], IcmpProber]]:
    made: list[IcmpProber] = []

    def make() -> IcmpProber:
        made.append(IcmpProber(ScriptedSocket(first_series_lost()), ident=0x1234, rate=1e6))  # type: ignore[arg-type]
        return made[-1]

    yield make
    for p in made:
        p.close()


TARGETS = (Target("Core", "operator", systems=(entry(LOUD), entry(QUIET), entry(LATE))),)


def with_attempts(ctx, attempts: int):  # type: ignore[no-untyped-def]
    return replace(ctx, options=CheckOptions(ping_interval=0.01, attempts=attempts))


async def test_net_ping_series_tried_again_the_same_on_the_engine_and_the_bulk_path(
    probers: Callable[[], IcmpProber], fast_backoff: None
) -> None:
    general: list[CheckResult] = []
    engine = Engine(with_attempts(ping_context(probers()), 3), [PING], general.append,
                    check_deadline=10.0)  # fmt: skip
    await engine.run(TARGETS)
    bulk: list[CheckResult] = []
    scan, _ = bulk_scan(with_attempts(ping_context(probers()), 3), bulk)
    await scan.run(TARGETS)
    assert rows(bulk) == rows(general)
    by_subject = {r.subject: r for r in general}
    assert by_subject[LOUD].status is Status.PASS and "attempts" not in by_subject[LOUD].evidence
    late = by_subject[LATE]
    assert late.status is Status.WARN and late.evidence["intermittent"] is True
    assert (late.evidence["attempts"], late.evidence["failed_attempts"]) == (2, 1)
    quiet = by_subject[QUIET]
    assert quiet.status is Status.FAIL
    assert (quiet.evidence["attempts"], quiet.evidence["failed_attempts"]) == (3, 3)


async def test_net_ping_with_one_attempt_fails_the_late_address_at_once(
    probers: Callable[[], IcmpProber],
) -> None:
    bulk: list[CheckResult] = []
    scan, _ = bulk_scan(with_attempts(ping_context(probers()), 1), bulk)
    await scan.run(TARGETS)
    late = next(r for r in bulk if r.subject == LATE)
    assert late.status is Status.FAIL and "attempts" not in late.evidence


async def test_silent_addresses_waiting_for_a_further_series_leave_the_window(
    probers: Callable[[], IcmpProber], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a window of 2, two silent addresses first, and a backoff of 0.5 s
    monkeypatch.setattr(tries, "backoff", lambda: 0.5)
    quiet = [f"2001:db8:1::2{i}" for i in range(2)]
    loud = [f"2001:db8:1::1{i}" for i in range(6)]
    target = (Target("Many", "operator", systems=tuple(map(entry, quiet + loud))),)
    sock = ScriptedSocket(lambda packet, _hop, dest: [] if dest in quiet else
                          [(echo_reply(packet), dest)])  # fmt: skip
    prober = IcmpProber(sock, ident=0x1234, rate=1e6)  # type: ignore[arg-type]
    ctx = with_attempts(ping_context(prober, timeout=0.1), 3)
    finished: dict[str, float] = {}
    loop = asyncio.get_running_loop()
    results: list[CheckResult] = []

    def note(result: CheckResult) -> None:
        finished[result.subject] = loop.time()
        results.append(result)

    scan, _ = bulk_scan(ctx, [], window=2)
    scan.sink = note
    started = loop.time()
    try:
        await asyncio.wait_for(scan.run(target), 10)
    finally:
        prober.close()
    # Then the answering ones did not wait behind the silent ones' backoffs
    assert {r.subject: str(r.status) for r in results} == {
        **{a: "fail" for a in quiet},
        **{a: "pass" for a in loud},
    }
    assert max(finished[a] for a in loud) - started < 0.5
    assert min(finished[a] for a in quiet) - started >= 1.0  # two backoffs, then a series


# ------------------------------------------------------------------ the tries' shared ticks


async def test_a_run_that_ended_is_not_kept_alive_until_its_next_tick() -> None:
    # Given a run whose first try answers at once, its next try's tick a second away
    loop = asyncio.get_running_loop()

    def answered() -> asyncio.Future[str]:
        future: asyncio.Future[str] = loop.create_future()
        future.set_result("open")
        return future

    run = tries.TryRun(
        tries.Calls(answered), lambda outcome: outcome != "open", 3, pause=lambda: 1.0
    )
    assert (await run).attempts == 1
    # Then the tick to come holds only a number that leads nowhere, not the run
    ticks = tries._ticks(loop)
    keys = [key for due in ticks.due.values() for key in due]
    assert keys and not any(key in ticks.armed for key in keys)


async def test_further_tries_start_on_shared_ticks_never_before_the_backoff() -> None:
    loop = asyncio.get_running_loop()
    started: list[float] = []

    def silent() -> asyncio.Future[str]:
        started.append(loop.time())
        return loop.create_future()  # never answers: the next try starts on its tick

    runs = [
        tries.TryRun(tries.Calls(silent), lambda _: True, 2, pause=lambda: 0.12) for _ in range(50)
    ]
    await asyncio.sleep(0.3)
    firsts, seconds = started[:50], started[50:]
    assert len(seconds) == 50  # every run started its second try
    assert min(s - f for s, f in zip(seconds, firsts, strict=True)) >= 0.12 - 0.002
    for run in runs:
        run.stop()
    assert all(run.cancelled() for run in runs)
