"""The watched clock (stall_clock): a pause of the scanner itself is never a timeout.

Each test stalls the event loop with a blocking sleep while an answer is on its way from
a server in another thread (on 127.0.0.1), so the answer waits in the kernel's buffer
as it would while the machine is busy. Both loops the scanner runs on are tried:
asyncio's reads sockets before it fires timers, uvloop fires timers first. The controls
show the trap: the same stall under asyncio's own timeout gives a timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
import socket
import threading
import time
import weakref
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

import dns.message
import pytest

from ipv6scan import stall_clock
from ipv6scan.dnsclient.fast import FastUdpTransport
from ipv6scan.dnsclient.transport import TIMEOUT, DnspythonTransport, DnsServer
from ipv6scan.engine.deadlines import Deadlines
from ipv6scan.probes.tries import run_tries

T = TypeVar("T")
STALL = 0.6  # s the loop is blocked: twice the timeouts below
TIMEOUT_S = 0.3
ANSWER_AFTER = 0.1  # s the servers take to answer: the answers come during the stall


def _loops() -> list[str]:
    kinds = ["asyncio"]
    with contextlib.suppress(ImportError):
        import uvloop  # noqa: F401

        kinds.append("uvloop")
    return kinds


LOOPS = _loops()


def run(kind: str, main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    if kind == "uvloop":
        import uvloop

        return uvloop.run(main())
    return asyncio.run(main())


@contextlib.contextmanager
def stall_soon(delay: float) -> Iterator[None]:
    """Stall the loop for STALL s, `delay` s from now, as a stopped process does: a signal
    interrupts the loop's wait for its sockets (epoll_wait gives EINTR, as after SIGSTOP
    and SIGCONT), and the handler blocks. So the loop goes next to its timers, not to the
    sockets: the order in which a stall's answers get their timeouts."""
    previous = signal.signal(signal.SIGUSR1, lambda *_: time.sleep(STALL))
    timer = threading.Timer(delay, os.kill, (os.getpid(), signal.SIGUSR1))
    timer.start()
    try:
        yield
    finally:
        timer.join()
        signal.signal(signal.SIGUSR1, previous)


@contextlib.contextmanager
def stalls_over_and_over(running: float, stalled: float) -> Iterator[None]:
    """Stall the loop for `stalled` s after every `running` s of running, while the block
    runs (as test_stalled_scan.py's SIGSTOP does to a whole scan)."""
    previous = signal.signal(signal.SIGUSR1, lambda *_: time.sleep(stalled))

    def stall(stop: threading.Event) -> None:
        if not stop.wait(running + stalled):  # never once the block has ended
            os.kill(os.getpid(), signal.SIGUSR1)

    try:
        with in_thread(stall):
            yield
    finally:
        signal.signal(signal.SIGUSR1, previous)


@contextlib.contextmanager
def in_thread(step: Callable[[threading.Event], None]) -> Iterator[None]:
    """Run `step` again and again in a thread until the block ends; a step is given the
    event that says so, and waits 0.5 s at most."""
    stop = threading.Event()

    def steps() -> None:
        while not stop.is_set():
            step(stop)

    thread = threading.Thread(target=steps, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(5)


@contextlib.contextmanager
def tcp_server(answer: bytes | None) -> Iterator[int]:
    """A TCP server in a thread: it sends `answer` ANSWER_AFTER seconds after a client
    connects (None: it never answers). Yields its port."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    held: list[socket.socket] = []

    def accept(_: threading.Event) -> None:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        held.append(conn)
        if answer is not None:
            time.sleep(ANSWER_AFTER)
            conn.sendall(answer)

    try:
        with in_thread(accept):
            yield listener.getsockname()[1]
    finally:
        for conn in held:
            conn.close()
        listener.close()


@contextlib.contextmanager
def dns_server() -> Iterator[int]:
    """A UDP DNS server in a thread that answers every query (NOERROR, empty) ANSWER_AFTER
    seconds after it came."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)

    def answer(_: threading.Event) -> None:
        try:
            data, peer = sock.recvfrom(4096)
        except OSError:
            return
        reply = dns.message.make_response(dns.message.from_wire(data))
        time.sleep(ANSWER_AFTER)
        sock.sendto(reply.to_wire(), peer)

    try:
        with in_thread(answer):
            yield sock.getsockname()[1]
    finally:
        sock.close()


async def _read_line(port: int, watched: bool) -> bytes:
    guard = stall_clock.timeout(TIMEOUT_S) if watched else asyncio.timeout(TIMEOUT_S)
    async with guard:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            with stall_soon(0.02):  # the scanner stalls; the server's line arrives meanwhile
                return await reader.readline()
        finally:
            writer.close()


@pytest.mark.parametrize("kind", LOOPS)
def test_a_blocked_loop_is_counted_as_a_stall(kind: str) -> None:
    async def main() -> tuple[float, float, float]:
        clock = stall_clock.clock()
        await asyncio.sleep(0.3)  # an idle loop: its beats come on time
        idle = clock.stalled()
        before = clock.now()
        time.sleep(STALL)
        during = clock.now() - before  # read while the stall goes on: it counts already
        await asyncio.sleep(0.2)
        return idle, during, clock.stalled()

    idle, during, stalled = run(kind, main)
    # (bounds with room for a busy machine, whose pauses are stalls too)
    assert idle < 0.25  # not every beat: an idle loop of 0.3 s counts (nearly) nothing
    assert during < 0.25
    assert STALL - 0.2 < stalled < STALL + 1.0


@pytest.mark.parametrize("kind", LOOPS)
def test_an_answer_that_waited_through_a_stall_is_not_a_timeout(kind: str) -> None:
    with tcp_server(b"220 ready\r\n") as port:
        assert run(kind, lambda: _read_line(port, watched=True)) == b"220 ready\r\n"
        # the control: asyncio's own timeout blames the server for the scanner's stall
        with pytest.raises(TimeoutError):
            run(kind, lambda: _read_line(port, watched=False))


@pytest.mark.parametrize("kind", LOOPS)
def test_silence_still_times_out_on_time(kind: str) -> None:
    async def main() -> float:
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            async with stall_clock.timeout(TIMEOUT_S):
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                try:
                    await reader.readline()
                finally:
                    writer.close()
        return time.monotonic() - started

    with tcp_server(None) as port:
        waited = run(kind, main)
    assert TIMEOUT_S - 0.01 < waited < TIMEOUT_S + 1.0  # room for a busy machine


@pytest.mark.parametrize("kind", LOOPS)
def test_wait_gives_what_finishes_after_a_stall_its_time(kind: str) -> None:
    async def main() -> bool:
        until = stall_clock.now() + TIMEOUT_S
        quick = asyncio.ensure_future(asyncio.sleep(0.1))
        with stall_soon(0.05):
            await stall_clock.wait([quick], until=until)
        return quick.done()

    assert run(kind, main)


@pytest.mark.parametrize("kind", LOOPS)
@pytest.mark.parametrize("transport", ["fast", "dnspython"])
def test_a_dns_answer_that_waited_through_a_stall_is_not_a_timeout(
    kind: str, transport: str
) -> None:
    async def main() -> str:
        server = DnsServer("127.0.0.1", port)
        asker = FastUdpTransport() if transport == "fast" else DnspythonTransport()
        # the query goes out, then the loop stalls before it reads the answer
        with stall_soon(0.02):
            reply = await asker.query(
                server, "example.net", "AAAA", recursion=True, timeout=TIMEOUT_S
            )
        if isinstance(asker, FastUdpTransport):
            asker.close()
        return reply.rcode

    with dns_server() as port:
        assert run(kind, main) == "NOERROR"


@pytest.mark.parametrize("kind", LOOPS)
def test_a_dns_query_nobody_answers_still_times_out(kind: str) -> None:
    async def main() -> str:
        asker = FastUdpTransport()
        reply = await asker.query(
            DnsServer("127.0.0.1", port), "example.net", "AAAA", recursion=True, timeout=0.2
        )
        asker.close()
        return reply.rcode

    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # bound, never read
    silent.bind(("127.0.0.1", 0))
    port = silent.getsockname()[1]
    try:
        assert run(kind, main) == TIMEOUT
    finally:
        silent.close()


@pytest.mark.parametrize("kind", LOOPS)
def test_a_check_does_not_run_out_of_time_while_the_scanner_stalls(kind: str) -> None:
    async def main() -> bool:
        deadlines = Deadlines(TIMEOUT_S)

        async def check() -> None:
            deadline = deadlines.start()
            try:
                await asyncio.sleep(0.1)  # its work is done before the deadline...
            finally:
                deadlines.finish(deadline)

        # ...but the loop stalls past the deadline before it sees that
        task = asyncio.create_task(check())
        with stall_soon(0.05), contextlib.suppress(asyncio.CancelledError):
            await task
        return task.cancelled()

    assert not run(kind, main)


def test_a_closed_loop_is_not_kept_alive_by_its_clock() -> None:
    loop = asyncio.new_event_loop()
    loop.run_until_complete(asyncio.sleep(0.06))  # a beat or two
    assert stall_clock.clock(loop).loop is loop
    gone = weakref.ref(loop)
    loop.close()
    del loop
    gc.collect()
    assert gone() is None


@pytest.mark.parametrize("kind", LOOPS)
@pytest.mark.parametrize("stalled", [False, True])
def test_a_stall_does_not_start_a_further_try(kind: str, stalled: bool) -> None:
    # A try whose answer comes (from another thread) after the backoff: without a stall,
    # a further try starts while it waits, as it should (the control). With a stall over
    # the backoff, the answer waited in a buffer: no further try, and no failed one.
    async def main() -> tuple[int, int, int]:
        loop = asyncio.get_running_loop()
        starts: list[asyncio.Future[str]] = []

        async def one_try() -> str:
            answer: asyncio.Future[str] = loop.create_future()
            starts.append(answer)
            if len(starts) == 1:  # the first try's answer comes after 0.5 s
                timer = threading.Timer(0.5, loop.call_soon_threadsafe, (answer.set_result, "1"))
                timer.start()
            return await answer

        with stall_soon(0.05) if stalled else contextlib.nullcontext():
            tried = await run_tries(one_try, lambda _: False, 3, pause=lambda: 0.3)
        return len(starts), tried.attempts, tried.failed_attempts

    assert run(kind, main) == ((1, 1, 0) if stalled else (2, 1, 0))


@pytest.mark.parametrize("kind", LOOPS)
def test_under_stall_after_stall_silence_still_times_out_and_tries_go_on(kind: str) -> None:
    # Stalls longer than the runs between them, and longer than the backoffs: the
    # watched clock creeps on (0.1 s in every 0.4 s), and what is due on it comes.
    async def main() -> tuple[tuple[int, int], float]:
        async def silent_try() -> str:
            try:
                async with stall_clock.timeout(0.15):
                    await asyncio.Event().wait()  # no answer
            except TimeoutError:
                return "timeout"
            return "answer"

        started = time.monotonic()
        tried = await asyncio.wait_for(
            run_tries(silent_try, lambda got: got == "timeout", 3, pause=lambda: 0.2), 20
        )
        return (tried.attempts, tried.failed_attempts), time.monotonic() - started

    with stalls_over_and_over(running=0.1, stalled=0.3):
        counts, waited = run(kind, main)
    # three tries, all silent; about 0.55 s watched, four times that in wall time
    assert counts == (3, 3)
    assert waited < 10


@pytest.mark.parametrize("kind", LOOPS)
def test_someone_elses_cancellation_is_not_a_timeout(kind: str) -> None:
    # Ctrl-C or SIGTERM cancels the scan inside a watched timeout: CancelledError, as with
    # asyncio.timeout, and the timeout's timer is gone with the block
    async def main() -> str:
        async def waiting() -> None:
            async with stall_clock.timeout(60):
                await asyncio.Event().wait()

        task = asyncio.create_task(waiting())
        await asyncio.sleep(0.05)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            return "cancelled"
        except TimeoutError:
            return "timeout"
        return "finished"

    assert run(kind, main) == "cancelled"
