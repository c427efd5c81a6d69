"""What travels in a shard's task and in its result: plain JSON, the lines compressed.

The task carries the shard's targets themselves (a worker need not see the coordinator's
files) and the options that decide what is checked and how; a worker's own options
(concurrency, resolvers) stay with the worker. The result carries the shard's
results.jsonl bytes, zlib-compressed and base64-armoured for Celery's JSON serializer:
Redis is already shared by both sides, so no other store (a bucket, a shared disk) is
needed, and results.jsonl compresses about tenfold.
"""

from __future__ import annotations

import base64
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ipv6scan.model import SystemEntry, Target

FORMAT = 1
MAX_LINES_BYTES = 512 << 20  # a shard's lines, decompressed: a bound on what we inflate


class PayloadError(ValueError):
    """A task or result that is not ours or not of this version."""


@dataclass(frozen=True)
class ShardOptions:
    """The scan's options that travel with each shard (INTERFACE.md)."""

    checks: tuple[str, ...] | None  # as --checks named them; None: all that apply
    timeout: float
    attempts: int
    allow_prefixes: tuple[str, ...]
    sector: str
    profile: str | None  # the profile's name: scoring is the coordinator's

    def to_json(self) -> dict[str, Any]:
        return {
            "checks": None if self.checks is None else list(self.checks),
            "timeout": self.timeout,
            "attempts": self.attempts,
            "allow_prefixes": list(self.allow_prefixes),
            "sector": self.sector,
            "profile": self.profile,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ShardOptions:
        checks = data.get("checks")
        return cls(
            checks=None if checks is None else tuple(str(c) for c in checks),
            timeout=float(data["timeout"]),
            attempts=int(data["attempts"]),
            allow_prefixes=tuple(str(p) for p in data.get("allow_prefixes") or ()),
            sector=str(data.get("sector", "enterprise")),
            profile=None if data.get("profile") is None else str(data["profile"]),
        )


@dataclass(frozen=True)
class ShardJob:
    scan: str  # the coordinator's scan id
    shard: tuple[int, int]  # (k, n), as --shard K/N
    vantage: str | None
    options: ShardOptions
    targets: tuple[Target, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "scan": self.scan,
            "shard": list(self.shard),
            "vantage": self.vantage,
            "options": self.options.to_json(),
            "targets": [target_to_json(t) for t in self.targets],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ShardJob:
        if not isinstance(data, Mapping) or data.get("format") != FORMAT:
            raise PayloadError("not an ipv6scan shard of this version")
        try:
            k, n = (int(x) for x in data["shard"])
            vantage = data.get("vantage")
            return cls(
                scan=str(data["scan"]),
                shard=(k, n),
                vantage=None if vantage is None else str(vantage),
                options=ShardOptions.from_json(data["options"]),
                targets=tuple(target_from_json(t) for t in data["targets"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise PayloadError(f"a malformed shard: {exc}") from None

    @property
    def key(self) -> str:
        """The task id: one per (scan, shard, vantage point), so a shard run twice is one
        result in the store and one entry in the coordinator's books."""
        k, n = self.shard
        return f"{self.scan}:{k}-{n}:{self.vantage or '-'}"


def target_to_json(t: Target) -> dict[str, Any]:
    return {
        "name": t.name,
        "sector": t.sector,
        "domains": list(t.domains),
        "systems": [
            [s.tier, s.kind, s.value, None if s.checks is None else list(s.checks), s.line]
            for s in t.systems
        ],
        "source": t.source,
        "line": t.line,
    }


def target_from_json(data: Mapping[str, Any]) -> Target:
    systems = tuple(
        SystemEntry(
            str(tier),
            str(kind),
            str(value),
            None if checks is None else tuple(str(c) for c in checks),
            None if line is None else int(line),
        )
        for tier, kind, value, checks, line in data.get("systems") or ()
    )
    line = data.get("line")
    return Target(
        name=str(data["name"]),
        sector=str(data["sector"]),
        domains=tuple(str(d) for d in data.get("domains") or ()),
        systems=systems,
        source=str(data.get("source", "")),
        line=None if line is None else int(line),
    )


@dataclass(frozen=True)
class ShardResult:
    key: str
    worker: str
    vantage: str | None
    lines: bytes  # the shard's results.jsonl, whole lines, `vantage` set when named
    results: int
    scanner: Mapping[str, Any]  # the worker's preflight (scanjob.scanner_facts)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "key": self.key,
            "worker": self.worker,
            "vantage": self.vantage,
            "results": self.results,
            "scanner": dict(self.scanner),
            "lines": base64.b64encode(zlib.compress(self.lines, 6)).decode("ascii"),
        }

    @classmethod
    def from_json(cls, data: Any) -> ShardResult:
        if not isinstance(data, Mapping) or data.get("format") != FORMAT:
            raise PayloadError("not an ipv6scan shard result of this version")
        try:
            packed = base64.b64decode(str(data["lines"]), validate=True)
            inflate = zlib.decompressobj()
            lines = inflate.decompress(packed, MAX_LINES_BYTES)
            if inflate.unconsumed_tail:
                raise PayloadError("a shard result larger than the bound")
            vantage = data.get("vantage")
            return cls(
                key=str(data["key"]),
                worker=str(data["worker"])[:200],
                vantage=None if vantage is None else str(vantage),
                lines=lines,
                results=int(data["results"]),
                scanner=dict(data.get("scanner") or {}),
            )
        except (KeyError, TypeError, ValueError, zlib.error) as exc:
            raise PayloadError(f"a malformed shard result: {exc}") from None


def with_vantage(lines: Iterable[bytes], vantage: str) -> bytes:
    """Each whole line with `"vantage": NAME` last, the bytes CheckResult.to_line writes
    for a result with that vantage point (json_text's separators), without parsing it."""
    from ipv6scan.model import json_text

    tail = (', "vantage": ' + json_text(vantage) + "}\n").encode("utf-8")
    out = bytearray()
    for line in lines:
        body = line.rstrip(b"\r\n")
        if body.endswith(b"}"):
            out += body[:-1] + tail
    return bytes(out)
