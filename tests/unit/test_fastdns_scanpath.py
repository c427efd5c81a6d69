"""The scan path around the fast transport: batched results.jsonl writes and the
resolver cache that keeps finished look-ups as plain results."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

from ipv6scan.dnsclient.resolution import Lookup, Resolver
from ipv6scan.dnsclient.transport import RR, DnsReply, DnsServer
from ipv6scan.model import CheckResult, Status
from ipv6scan.report.jsonl import read_results
from ipv6scan.report.jsonl_batch import BatchedResultWriter


def _result(i: int) -> CheckResult:
    return CheckResult(
        target=f"t{i}.example",
        sector="enterprise",
        tier="services",
        subject=f"t{i}.example",
        check="dns.aaaa",
        status=Status.PASS,
        detail="ok, with a newline\\n escaped and ünïcode",
        evidence={"addresses": [f"2001:db8::{i:x}"]},
    )


async def test_lines_of_one_loop_turn_reach_the_file_before_the_next(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    with BatchedResultWriter(path) as writer:
        for i in range(5):
            writer.write(_result(i))
        assert path.read_bytes() == b""  # gathered within this turn of the loop
        await asyncio.sleep(0)  # one turn: nothing else had to happen first
        # Then: written in one go, whole lines only, before close
        data = path.read_bytes()
        assert data.endswith(b"\n") and data.count(b"\n") == 5
    assert [r.target for r in read_results(path)] == [f"t{i}.example" for i in range(5)]


async def test_a_full_batch_is_written_at_once(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    writer = BatchedResultWriter(path, max_bytes=1000)
    for i in range(20):
        writer.write(_result(i))
    written = path.read_bytes()
    assert written and written.endswith(b"\n")  # flushed by size, whole lines
    for line in written.splitlines():
        json.loads(line)
    writer.close()
    assert len(list(read_results(path))) == 20


_WRITE_FOREVER = """
import asyncio, sys
from pathlib import Path
from ipv6scan.model import CheckResult, Status
from ipv6scan.report.jsonl_batch import BatchedResultWriter

async def main():
    writer = BatchedResultWriter(Path(sys.argv[1]), max_bytes=4096)
    i = 0
    while True:
        writer.write(CheckResult("t", "enterprise", "services", f"h{i}", "dns.aaaa",
                                 Status.PASS, "x" * (i % 300)))
        i += 1
        if i % 50 == 0:
            await asyncio.sleep(0)

asyncio.run(main())
"""


def _written_line(i: int) -> bytes:
    # the line _WRITE_FOREVER writes i-th
    result = CheckResult("t", "enterprise", "services", f"h{i}", "dns.aaaa", Status.PASS,
                         "x" * (i % 300))  # fmt: skip
    return (result.to_line() + "\n").encode()


def test_a_killed_writer_leaves_every_finished_line_whole(tmp_path: Path) -> None:
    # Given a process writing results through the batcher, SIGKILLed mid-scan
    path = tmp_path / "results.jsonl"
    proc = subprocess.Popen([sys.executable, "-c", _WRITE_FOREVER, str(path)])
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (not path.exists() or path.stat().st_size < 50_000):
            time.sleep(0.05)
    finally:
        proc.kill()
        proc.wait()
    data = path.read_bytes()
    whole, _, tail = data.rpartition(b"\n")
    lines = whole.split(b"\n")
    # Then the finished lines are all there, whole and in order
    assert len(lines) > 100
    assert lines == [_written_line(i).rstrip(b"\n") for i in range(len(lines))]
    # and at most the line being written when the kill came is cut short (Linux stops a
    # write at a page boundary for SIGKILL), which the readers skip
    assert _written_line(len(lines)).startswith(tail)
    read = [r.subject for r in read_results(path)]
    assert read[: len(lines)] == [f"h{i}" for i in range(len(lines))]
    assert len(read) == len(lines) + (tail == _written_line(len(lines)).rstrip(b"\n"))


class _OneAnswer:
    def __init__(self) -> None:
        self.calls = 0

    async def query(
        self, server: DnsServer, qname: str, rdtype: str, *, recursion: bool, timeout: float
    ) -> DnsReply:
        self.calls += 1
        await asyncio.sleep(0)
        rr = RR(qname, "AAAA", 60, "2001:db8::1")
        return DnsReply(qname, rdtype, str(server), "NOERROR", (rr,))


async def test_finished_lookups_are_cached_as_results_not_tasks() -> None:
    transport = _OneAnswer()
    resolver = Resolver(transport, [DnsServer("2001:db8::53")], timeout=1)
    resolver.prefetch("a.example", "AAAA")
    first = await resolver.lookup("A.example.", "AAAA")
    (entry,) = resolver._cache.entries.values()
    assert type(entry) is Lookup and entry == first  # the task is gone, its result stays
    again = await resolver.lookup("a.example", "AAAA")
    assert again is first and transport.calls == 1
