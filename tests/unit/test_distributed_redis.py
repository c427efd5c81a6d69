"""The parts of a distributed scan that live in Redis, against a real redis-server on
127.0.0.1 (started here by PID, stopped by PID): the destination budget's token bucket
across several workers' limits, and the share of a global echo rate."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from ipv6scan.distributed import coordinator
from ipv6scan.distributed.alive import echo_share
from ipv6scan.distributed.budget import Budget, BudgetedLimits, destination_key
from ipv6scan.distributed.payload import ShardOptions
from ipv6scan.distributed.settings import ALIVE_TTL, alive_key
from ipv6scan.model import Target


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = shutil.which("redis-server")
    if server is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is missing (scripts/setup.sh installs it)")
        pytest.skip("redis-server is not installed")
    port = _free_port()
    argv = [server, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly",
            "no", "--dir", str(tmp_path_factory.mktemp("redis"))]  # fmt: skip
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def test_the_bucket_holds_one_rate_across_workers(broker: str) -> None:
    # Given three workers' limits sharing a budget of 40 probes a second, burst 5
    budget = Budget(rate=40, burst=5, lease=2)
    redis.Redis.from_url(broker).delete(destination_key("2001:db8:1::1"))

    async def probes(limits: BudgetedLimits, count: int) -> None:
        for i in range(count):  # addresses of one /64: one bucket
            async with limits.slot(f"2001:db8:1::{i % 7 + 1}"):
                pass
        await limits.close()

    async def main() -> float:
        started = time.monotonic()
        workers = [BudgetedLimits(16, 4, budget, broker) for _ in range(3)]
        await asyncio.gather(*(probes(w, 15) for w in workers))
        assert not any(w.unbudgeted for w in workers)
        return time.monotonic() - started

    # When they make 45 probes to that /64 at once
    took = asyncio.run(main())
    # Then it takes at least the time the bucket refills in: (45 - 5) / 40 s
    assert took >= (45 - 5) / 40 * 0.9


def test_destinations_are_bucketed_by_ipv6_slash_64_and_ipv4_address() -> None:
    assert destination_key("2001:db8:1::1") == destination_key("2001:db8:1::ffff")
    assert destination_key("2001:db8:1::1") != destination_key("2001:db8:2::1")
    assert destination_key("198.51.100.1") != destination_key("198.51.100.2")


def test_a_broker_out_of_reach_leaves_the_local_limits(capsys: pytest.CaptureFixture[str]) -> None:
    async def main() -> bool:
        limits = BudgetedLimits(4, 2, Budget(rate=1), f"redis://127.0.0.1:{_free_port()}/0")
        async with limits.slot("2001:db8::1"):
            pass
        await limits.close()
        return limits.unbudgeted

    assert asyncio.run(main()) is True
    assert "destination budget is off" in capsys.readouterr().err


def test_each_worker_takes_its_share_of_the_echo_rate(broker: str) -> None:
    client = redis.Redis.from_url(broker)
    for name in ("w1", "w2", "w3", "w4"):
        client.set(alive_key("east" if name != "w4" else None, name), "", ex=ALIVE_TTL)
    assert echo_share(broker, 1000.0) == 250.0
    client.flushdb()
    assert echo_share(broker, 1000.0) == 1000.0
    assert echo_share(f"redis://127.0.0.1:{_free_port()}/0", 1000.0) == 1000.0


def test_a_shard_that_fails_every_try_stops_the_scan(broker: str, tmp_path: Path) -> None:
    # Given a real worker, and a shard whose scan raises wherever it runs (a check the
    # worker does not know)
    argv = [sys.executable, "-m", "ipv6scan", "worker", "--broker", broker, "--vantage", "t"]
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    try:
        options = ShardOptions(("no.such_check",), 1.0, 1, (), "enterprise", None)
        req = coordinator.Request(broker, tmp_path / "out", ("t",), options, 5, quiet=True)
        targets = [Target("a.example", "enterprise", ("a.example",))]
        # When the scan runs it
        with pytest.raises(coordinator.ShardFailed, match="failed on 3 tries"):
            coordinator.run(req, targets)
    finally:
        worker.terminate()
        worker.wait(30)
    # Then nothing of it was written
    assert (tmp_path / "out" / "results.jsonl").read_bytes() == b""
