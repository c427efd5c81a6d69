"""One politeness budget per destination across every worker: a token bucket in Redis.

Each worker already keeps at most --concurrency probes in flight and a few per address
(context.Limits); with many workers, a server shared by many targets would still see all
of them at once. So a probe also takes a token from the destination's bucket in Redis:
per /64 for IPv6 (one server's addresses often share it), per address for IPv4. Tokens
are leased in small batches so that a busy worker asks Redis once per batch, not once
per probe; a lease takes only what the bucket holds, so the budget holds across workers
(what a worker leases and does not use lapses: the budget errs on the polite side).
The bucket's clock is Redis's own (TIME), so the workers' clocks need not agree.
"""

from __future__ import annotations

import asyncio
import ipaddress
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from ipv6scan.context import Limits
from ipv6scan.distributed.settings import KEY_PREFIX

# KEYS[1]: the bucket; ARGV: rate (tokens/s), burst, tokens wanted. Returns {granted,
# milliseconds to wait before asking again when none was granted}.
_LEASE = """
local rate, burst, want = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(b[1]) or burst
local ts = tonumber(b[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate / 1000)
local got = math.min(want, math.floor(tokens))
tokens = tokens - got
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 60000)
if got > 0 then return {got, 0} end
return {0, math.ceil((1 - tokens) * 1000 / rate)}
"""


@dataclass(frozen=True)
class Budget:
    """Probes a second to one destination, from all workers together, and the burst."""

    rate: float
    burst: int = 10
    lease: int = 4  # tokens a worker takes at a time: fewer round trips, a little unfairness


def destination_key(address: str) -> str:
    """The bucket of an address: its /64 for IPv6, itself for IPv4 (or a name, as given)."""
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return f"{KEY_PREFIX}budget:{address.lower()[:255]}"
    if ip.version == 6:
        return f"{KEY_PREFIX}budget:{ipaddress.ip_network(f'{ip}/64', strict=False)}"
    return f"{KEY_PREFIX}budget:{ip}"


class BudgetedLimits(Limits):
    """context.Limits whose every probe slot also holds a token of its destination's
    budget. A broker out of reach must not stop the scan: the slot then goes on with
    the local limits alone (and says so once)."""

    def __init__(self, total: int, per_destination: int, budget: Budget, broker: str) -> None:
        super().__init__(total, per_destination)
        self.budget = budget
        self._redis = Redis.from_url(broker, socket_connect_timeout=5, socket_timeout=10)
        self._lease = self._redis.register_script(_LEASE)
        self._held: dict[str, int] = {}  # bucket -> tokens leased and not yet used
        self._locks: dict[str, asyncio.Lock] = {}
        self.unbudgeted = False  # the broker failed once: local limits only from then on

    @asynccontextmanager
    async def slot(self, destination: str) -> AsyncIterator[None]:
        await self.take(destination_key(destination))
        async with super().slot(destination):
            yield

    async def take(self, key: str) -> None:
        if self.unbudgeted:
            return
        if self._held.get(key, 0) > 0:
            self._held[key] -= 1
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:  # one lease at a time per bucket from this worker
            while self._held.get(key, 0) <= 0:
                try:
                    got, wait_ms = await self._lease(
                        keys=[key], args=[self.budget.rate, self.budget.burst, self.budget.lease]
                    )
                except (RedisError, OSError) as exc:  # the broker away: scan on, unbudgeted
                    self.unbudgeted = True
                    print(f"ipv6scan: the destination budget is off for this shard: {exc}",
                          file=sys.stderr, flush=True)  # fmt: skip
                    return
                if int(got) > 0:
                    self._held[key] = int(got)
                else:
                    await asyncio.sleep(max(int(wait_ms), 1) / 1000)
            self._held[key] -= 1
            if self._held[key] == 0:
                del self._held[key]

    async def close(self) -> None:
        await self._redis.aclose()
