"""`ipv6scan worker --broker URL [--vantage NAME]`: serve shards until SIGTERM.

One shard at a time (the solo pool, a prefetch of one): a shard's scan already keeps
--concurrency probes in flight, and a dead worker then holds back one shard only. While
it lives, the worker renews a heartbeat key in Redis, which the coordinator reads to say
which workers are alive (a busy solo worker does not answer Celery's own pings).
"""

from __future__ import annotations

import os
import socket
import threading

from ipv6scan.distributed.alive import forget, heartbeat
from ipv6scan.distributed.app import make_app
from ipv6scan.distributed.settings import queue_for
from ipv6scan.distributed.shard_scan import WorkerSettings


def worker_name(vantage: str | None) -> str:
    return f"ipv6scan-{vantage or 'any'}-{os.getpid()}@{socket.gethostname()}"


def run_worker(broker: str, settings: WorkerSettings, *, loglevel: str = "WARNING") -> int:
    """Run in the foreground; returns the worker's exit status after a warm shutdown."""
    app = make_app(broker, settings)
    stop = threading.Event()
    beat = threading.Thread(
        target=heartbeat, args=(broker, settings.vantage, settings.name, stop), daemon=True
    )
    beat.start()
    argv = ["worker", "--pool=solo", "--concurrency=1", f"--queues={queue_for(settings.vantage)}",
            f"--hostname={settings.name}", "--without-gossip", "--without-mingle",
            f"--loglevel={loglevel}"]  # fmt: skip
    try:
        app.worker_main(argv)
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else 0
    finally:
        stop.set()
        forget(broker, settings.vantage, settings.name)
    return 0
