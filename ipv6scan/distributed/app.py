"""The Celery application both sides build from the broker's URL, and its one task."""

from __future__ import annotations

from typing import Any

from celery import Celery, Task  # type: ignore[import-untyped]

from ipv6scan.distributed.payload import ShardJob
from ipv6scan.distributed.settings import TASK_NAME, celery_config
from ipv6scan.distributed.shard_scan import WorkerSettings, scan_shard

SETTINGS_KEY = "ipv6scan_worker"  # where a worker's own settings sit in app.conf


def make_app(broker: str, settings: WorkerSettings | None = None) -> Celery:
    app = Celery("ipv6scan", set_as_current=False)
    app.conf.update(celery_config(broker))
    app.conf[SETTINGS_KEY] = settings
    app.task(name=TASK_NAME, bind=True, acks_late=True)(_scan_shard_task)
    return app


def _scan_shard_task(self: Task, payload: dict[str, Any]) -> dict[str, Any]:
    settings = self.app.conf[SETTINGS_KEY]
    if not isinstance(settings, WorkerSettings):
        raise RuntimeError("this process is not an ipv6scan worker")
    return scan_shard(ShardJob.from_json(payload), settings).to_json()
