"""Names and settings both sides of a distributed scan agree on: queues, keys, Celery."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

TASK_NAME = "ipv6scan.scan_shard"
DEFAULT_QUEUE = "ipv6scan"  # workers and scans with no vantage point
KEY_PREFIX = "ipv6scan:"  # our own Redis keys (heartbeats, budgets), apart from Celery's
ALIVE_TTL = 15  # seconds a worker's heartbeat key lives; it is renewed every ALIVE_EVERY
ALIVE_EVERY = 5.0

# A dead worker's shard comes back after VISIBILITY seconds, found by a sweep that idle
# workers make every RESTORE_EVERY: taken over within about 70 s, well inside the two
# minutes INTERFACE.md allows. A live shard must finish sooner than VISIBILITY, or an idle
# worker takes it too (a wasted run, never a doubled record: the coordinator keeps the
# first result of each shard); shards are sized for that (coordinator.shard_count).
VISIBILITY = 60
RESTORE_EVERY = 5
RESULT_EXPIRES = 24 * 3600  # a result the coordinator never read (it died) goes after a day

_VANTAGE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")


def check_vantage(name: str) -> str:
    """A vantage point's name: it names a queue and is written into every record."""
    if not _VANTAGE.fullmatch(name):
        raise ValueError(
            f"a vantage point is 1-63 letters, digits, '.', '_' or '-', first a letter or "
            f"digit: {name!r}"
        )
    return name


def queue_for(vantage: str | None) -> str:
    """One Celery queue per vantage point, so a shard queued for one is scanned from it."""
    return DEFAULT_QUEUE if vantage is None else f"{DEFAULT_QUEUE}.{vantage}"


def alive_key(vantage: str | None, worker: str) -> str:
    return f"{KEY_PREFIX}alive:{vantage or '-'}:{worker}"


def celery_config(broker: str) -> dict[str, Any]:
    """Late acknowledgement and a prefetch of one (a dead worker holds at most the shard
    it was scanning), a short visibility timeout, results in the same Redis."""
    return {
        "broker_url": broker,
        "result_backend": broker,
        "broker_transport_options": {
            "visibility_timeout": VISIBILITY,
            "unacked_restore_interval": RESTORE_EVERY,
            "unacked_restore_throttle": 1,
            "socket_connect_timeout": 5,
        },
        "result_backend_transport_options": {"socket_connect_timeout": 5},
        "broker_connection_retry_on_startup": True,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "result_expires": RESULT_EXPIRES,
        "task_default_queue": DEFAULT_QUEUE,
        "worker_hijack_root_logger": False,
        "worker_redirect_stdouts": False,
        "broker_connection_max_retries": None,
    }


def shown_url(url: str) -> str:
    """`url` as printed: a password in it becomes `***` (stderr ends up in logs)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(a broker URL that does not parse)"
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    netloc = f"{user}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))
