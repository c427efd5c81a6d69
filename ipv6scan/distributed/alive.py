"""Which workers are alive: each renews a key in Redis while it serves (a busy solo
worker does not answer Celery's own pings), and the keys are counted."""

from __future__ import annotations

import contextlib
import threading

import redis

from ipv6scan.distributed.settings import ALIVE_EVERY, ALIVE_TTL, KEY_PREFIX, alive_key


def heartbeat(broker: str, vantage: str | None, name: str, stop: threading.Event) -> None:
    """Renew the worker's key until `stop` is set (a thread of the worker)."""
    client = redis.Redis.from_url(broker, socket_connect_timeout=5, socket_timeout=5)
    key = alive_key(vantage, name)
    while not stop.is_set():
        # the broker away: Celery says so and reconnects; the key lapses meanwhile
        with contextlib.suppress(redis.RedisError):
            client.set(key, vantage or "", ex=ALIVE_TTL)
        stop.wait(ALIVE_EVERY)


def forget(broker: str, vantage: str | None, name: str) -> None:
    with contextlib.suppress(redis.RedisError):
        client = redis.Redis.from_url(broker, socket_connect_timeout=2, socket_timeout=2)
        client.delete(alive_key(vantage, name))


def alive_workers(client: redis.Redis) -> dict[str, int]:
    """Workers whose heartbeat is fresh, counted by vantage point ('' for none)."""
    counts: dict[str, int] = {}
    for key in client.scan_iter(match=f"{KEY_PREFIX}alive:*", count=500):
        text = key.decode("utf-8", "replace") if isinstance(key, bytes) else str(key)
        vantage = text.split(":")[2]
        name = "" if vantage == "-" else vantage
        counts[name] = counts.get(name, 0) + 1
    return counts


def echo_share(broker: str, echo_rate: float) -> float:
    """This worker's share of a global echo-request rate: the rate over the workers alive
    now (all vantage points: they ping the same servers), at least one."""
    try:
        client = redis.Redis.from_url(broker, socket_connect_timeout=5, socket_timeout=5)
        alive = sum(alive_workers(client).values())
    except redis.RedisError:
        alive = 1
    return echo_rate / max(1, alive)
