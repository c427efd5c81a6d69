"""The scan side of a distributed scan: queue the shards, gather their lines once each.

Each shard's lines are appended to results.jsonl whole, the first time its result
arrives (a shard scanned twice, because its first worker died or ran past the visibility
timeout, is written once); the caller then makes the other files with the local scan's
finish. SIGINT cancels the shards still queued and leaves the finished ones written.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import redis
from celery import Celery  # type: ignore[import-untyped]
from celery.result import AsyncResult  # type: ignore[import-untyped]

from ipv6scan.distributed.alive import alive_workers
from ipv6scan.distributed.app import make_app
from ipv6scan.distributed.payload import PayloadError, ShardJob, ShardOptions, ShardResult
from ipv6scan.distributed.plan import plan_shards
from ipv6scan.distributed.settings import TASK_NAME, queue_for, shown_url
from ipv6scan.model import Target

TRIES = 3  # a shard whose scan raised is queued again, up to this many runs in all
POLL = 0.25  # seconds between looks at the results
SHOW_EVERY = 2.0  # seconds between progress lines


class BrokerError(Exception):
    """The broker cannot be reached when the scan starts: bad input (exit 2)."""


class ShardFailed(RuntimeError):
    """A shard's scan raised on every try, or its result is not ours: the scanner failed
    (exit 3, a crash file); the shards finished so far are in results.jsonl."""


@dataclass
class Books:
    """What the coordinator knows: shards out, shards in, tries, and who did the work."""

    jobs: dict[str, ShardJob]
    done: set[str] = field(default_factory=set)
    tries: dict[str, int] = field(default_factory=dict)
    results: int = 0
    scanners: dict[str, Mapping[str, Any]] = field(default_factory=dict)  # vantage -> facts
    workers: set[str] = field(default_factory=set)

    @property
    def pending(self) -> list[str]:
        return [k for k in self.jobs if k not in self.done]

    def accept(self, result: ShardResult) -> bool:
        """True the first time this shard's result arrives; False for a repeat."""
        if result.key in self.done or result.key not in self.jobs:
            return False
        self.done.add(result.key)
        self.results += result.results
        self.scanners.setdefault(result.vantage or "", result.scanner)
        self.workers.add(result.worker)
        return True


@dataclass(frozen=True)
class Request:
    broker: str
    out: Path
    vantages: tuple[str, ...]  # empty: the workers with no vantage point
    options: ShardOptions
    shard_size: int | None  # targets a shard; None: by the list (plan.shard_size)
    quiet: bool = False


def run(req: Request, targets: Iterable[Target], err: TextIO = sys.stderr) -> dict[str, Any]:
    """Scan `targets` on the workers; returns summary.json's `scanner`. Raises
    KeyboardInterrupt (the queued shards cancelled, the finished ones written),
    BrokerError and ShardFailed."""
    client = _client(req.broker)
    app = make_app(req.broker)
    vantages: Sequence[str | None] = req.vantages or (None,)
    jobs = plan_shards(targets, req.options, vantages, uuid.uuid4().hex[:16], req.shard_size)
    books = Books({job.key: job for job in jobs})
    req.out.mkdir(parents=True, exist_ok=True)
    fd = os.open(req.out / "results.jsonl", os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND,
                 0o644)  # fmt: skip
    try:
        for job in jobs:
            _send(app, job)
        _gather(app, client, books, fd, _Observer(req, books, client, err))
    except KeyboardInterrupt:
        _cancel(app, client, books)
        raise
    finally:
        os.close(fd)
        client.close()
    return scanner_of(books)


def check_broker(broker: str) -> None:
    """Raises BrokerError when `broker` cannot be reached (before anything is queued)."""
    _client(broker).close()


def _client(broker: str) -> redis.Redis:
    try:
        client = redis.Redis.from_url(broker, socket_connect_timeout=5, socket_timeout=30)
        client.ping()
    except (redis.RedisError, ValueError) as exc:
        raise BrokerError(f"--broker {shown_url(broker)}: {exc}") from None
    return client


def _send(app: Celery, job: ShardJob) -> None:
    app.send_task(TASK_NAME, args=[job.to_json()], task_id=job.key, queue=queue_for(job.vantage))


def _gather(app: Celery, client: redis.Redis, books: Books, fd: int, observer: _Observer) -> None:
    while True:
        pending = books.pending
        if not pending:
            observer.show(final=True)
            return
        for key in _stored(app, client, pending):
            handle = AsyncResult(key, app=app)
            state = handle.state
            if state == "SUCCESS":
                _take(handle, books, fd)
            elif state in ("FAILURE", "REVOKED"):
                _retry(app, handle, books)
        observer.show()
        time.sleep(POLL)


def _stored(app: Celery, client: redis.Redis, keys: list[str]) -> list[str]:
    """The shards whose result (or failure) is in the store: one MGET per thousand
    shards a look, not a round trip per shard."""
    backend = app.backend
    found: list[str] = []
    for i in range(0, len(keys), 1000):
        chunk = keys[i : i + 1000]
        values = client.mget([backend.get_key_for_task(k) for k in chunk])
        found += [k for k, v in zip(chunk, values, strict=True) if v is not None]
    return found


def _take(handle: AsyncResult, books: Books, fd: int) -> None:
    try:
        result = ShardResult.from_json(handle.result)
    except PayloadError as exc:
        raise ShardFailed(f"shard {handle.id}: {exc}") from None
    if books.accept(result):
        view = memoryview(result.lines)
        while view:  # whole lines in one append each call: a killed scan tears none
            written = os.write(fd, view)
            view = view[written:]
    handle.forget()


def _retry(app: Celery, handle: AsyncResult, books: Books) -> None:
    key = str(handle.id)
    tries = books.tries[key] = books.tries.get(key, 1) + 1
    if tries > TRIES:
        why = str(handle.result)[:300]
        raise ShardFailed(f"shard {key} failed on {TRIES} tries; last: {why}")
    handle.forget()
    _send(app, books.jobs[key])


def _cancel(app: Celery, client: redis.Redis, books: Books) -> None:
    """Revoke the shards not done and take their messages off the queues, so that no
    worker spends time on a scan nobody waits for."""
    pending = set(books.pending)
    if not pending:
        return
    try:
        app.control.revoke(sorted(pending))
        for queue in {queue_for(books.jobs[k].vantage) for k in pending}:
            for raw in client.lrange(queue, 0, -1):
                found = _task_id(raw)
                if found is not None and found in pending:
                    client.lrem(queue, 1, raw)  # type: ignore[arg-type]
        for key in pending:
            AsyncResult(key, app=app).forget()
    except (redis.RedisError, OSError):
        pass  # the broker went away: the revoked shards' results expire on their own


def _task_id(raw: bytes | str) -> str | None:
    try:
        message = json.loads(raw)
        return str(message["headers"]["id"])
    except (ValueError, KeyError, TypeError):
        return None


class _Observer:
    """Progress on stderr: shards done, results, rate, workers alive; and the one line
    saying the scan waits for workers, whatever --quiet says (it is not progress)."""

    def __init__(self, req: Request, books: Books, client: redis.Redis, err: TextIO) -> None:
        self.req, self.books, self.client, self.err = req, books, client, err
        self.started = time.monotonic()
        self.shown = 0.0
        self.waiting: tuple[str, ...] = ()
        self.clock: Callable[[], float] = time.monotonic

    def show(self, final: bool = False) -> None:
        now = self.clock()
        if not final and now - self.shown < SHOW_EVERY:
            return
        self.shown = now
        try:
            alive = alive_workers(self.client)
        except redis.RedisError:
            alive = {}
        needed = self.req.vantages or ("",)
        missing = tuple(v for v in needed if not alive.get(v))
        if missing and missing != self.waiting and not final:
            names = ", ".join(v or "(no vantage point)" for v in missing)
            where = shown_url(self.req.broker)
            print(f"ipv6scan: waiting for workers: none alive for {names} on {where}",
                  file=self.err, flush=True)  # fmt: skip
        self.waiting = missing
        if self.req.quiet:
            return
        books, elapsed = self.books, max(now - self.started, 1e-6)
        workers = ", ".join(f"{v or 'any'}: {n}" for v, n in sorted(alive.items())) or "none"
        print(f"shards {len(books.done)}/{len(books.jobs)} done, {books.results} results, "
              f"{books.results / elapsed:.0f}/s; workers alive: {workers}",
              file=self.err, flush=True)  # fmt: skip


def scanner_of(books: Books) -> dict[str, Any]:
    """summary.json's `scanner` from the workers' preflights: the scan had a path or a
    usable resolver only where every vantage point had one."""
    facts = list(books.scanners.values())
    merged: dict[str, Any] = {
        "ipv6": all(bool(f.get("ipv6")) for f in facts) if facts else False,
        "ipv4": all(bool(f.get("ipv4")) for f in facts) if facts else False,
        "dns64_prefixes": sorted({p for f in facts for p in f.get("dns64_prefixes") or ()}),
        **_notes(facts),
        "resolvers_usable": all(f.get("resolvers_usable") is not False for f in facts),
        "unusable_resolvers": [u for f in facts for u in f.get("unusable_resolvers") or ()],
        "distributed": {"shards": len(books.jobs), "workers": sorted(books.workers)},
    }
    if any(books.scanners):
        merged["vantages"] = {v: dict(f) for v, f in sorted(books.scanners.items())}
    return merged


def _notes(facts: list[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """The workers' notes, each once, with its message key beside it (`note_details`, so
    the report shows them in its language), in the order of their English text."""
    keyed: dict[str, Any] = {}
    for f in facts:
        details = f.get("note_details") or []
        for i, note in enumerate(f.get("notes") or ()):
            keyed.setdefault(str(note), details[i] if i < len(details) else None)
    ordered = sorted(keyed)
    return {"notes": ordered, "note_details": [keyed[n] for n in ordered]}
