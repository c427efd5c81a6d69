"""The data that flows through the pipeline: targets in, check results out.

One model per thing, frozen, serialised from that one model.

The classes built once per target or per result (Target, Subject, Verdict, CheckResult)
write their own __init__: the one dataclasses generates for a frozen class sets each
field through object.__setattr__, five times the cost of filling the instance's
__dict__ at once, and a bulk scan builds several per name. The dataclass still gives
equality, hashing, repr and immutability.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import Any

from ipv6scan.messages import Detail, from_stored
from ipv6scan.safetext import scrub


def json_encoder(*, sort_keys: bool = False) -> Callable[[Any], str]:
    """`json.dumps(value, ensure_ascii=False, default=str[, sort_keys=True])` as a function,
    at under half its cost: json.dumps with options builds a JSONEncoder a call, and
    JSONEncoder.encode builds its C encoder a call. Here the C encoder is built once. It
    skips the check for circular references: what we write are trees of plain values."""
    if c_make_encoder is None:  # no C accelerator (not CPython): the plain path
        return json.JSONEncoder(ensure_ascii=False, default=str, sort_keys=sort_keys).encode
    encode = c_make_encoder(None, str, encode_basestring, None, ": ", ", ", sort_keys, False, True)
    return lambda value: "".join(encode(value, 0))


# One encoder for every results line and the like, a fifth of what a DNS-only scan
# spends on a result before this.
json_text = json_encoder()

_fast_loads: Callable[[str | bytes], Any] | None
fast_dumps: Callable[[Any], bytes] | None  # compact UTF-8 JSON; None: use json's
try:  # compiled, 3.5 times as fast on a results line (a regular dependency since issue 17)
    from orjson import dumps as fast_dumps
    from orjson import loads as _fast_loads
except ImportError:  # pragma: no cover - without it: json's own
    _fast_loads = fast_dumps = None

# 19 digits in a row may be an integer beyond 64 bits, which orjson reads as a float
# (json keeps it exact): such text, never seen in our own files, goes to json. A table
# turns every digit into 0 and a substring search finds the run: a fifth of a regex's cost.
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_NUMBER = b"0" * 19


def json_loads(data: str | bytes) -> Any:
    """`json.loads(data)`, through orjson when it is installed and gives the same: what
    orjson refuses and json takes (NaN, Infinity, lone surrogates) goes to json, and so
    does text with a number orjson would read differently. The values and the errors are
    json's; only a torn or foreign line pays for both decoders."""
    if _fast_loads is not None:
        raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
        if _LONG_NUMBER not in raw.translate(_DIGITS_AS_ZERO):
            try:
                return _fast_loads(raw)
            except ValueError:
                pass
    value = json.loads(data)
    # a JSON-escaped lone surrogate ("\\udcff") parses, but no UTF-8 writer takes it
    return scrub(value) if ("\\u" in data if isinstance(data, str) else b"\\u" in data) else value


class Status(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    ERROR = "error"  # could not be decided (timeout, SERVFAIL, no path of that family)
    SKIP = "skip"  # does not apply


_STATUS = {status.value: status for status in Status}


def _status(value: object) -> Status:
    """Status(value) without Enum's call in the common case: results.jsonl is read back
    line by line, several times, after a scan."""
    found = _STATUS.get(value) if type(value) is str else None
    return found if found is not None else Status(str(value))


SECTORS = ("government", "operator", "enterprise")
SYSTEM_TIERS = ("backbone", "metro", "access", "support")
TIERS = ("services", *SYSTEM_TIERS)
SYSTEM_KINDS = ("host", "address", "url", "resolver")


@dataclass(frozen=True)
class SystemEntry:
    """One entry of an operator's `systems` mapping."""

    tier: str  # one of SYSTEM_TIERS
    kind: str  # one of SYSTEM_KINDS
    value: str  # normalised: A-label host, compressed address, URL, or address[#port]
    checks: tuple[str, ...] | None = None  # per-entry override of the tier defaults
    line: int | None = None


@dataclass(frozen=True, init=False)
class Target:
    name: str
    sector: str
    domains: tuple[str, ...] = ()
    systems: tuple[SystemEntry, ...] = ()
    source: str = ""  # file the target came from
    line: int | None = None

    def __init__(
        self,
        name: str,
        sector: str,
        domains: tuple[str, ...] = (),
        systems: tuple[SystemEntry, ...] = (),
        source: str = "",
        line: int | None = None,
    ) -> None:
        self.__dict__.update(name=name, sector=sector, domains=domains, systems=systems,
                             source=source, line=line)  # fmt: skip


def duration_figure(duration_ms: float) -> float:
    """A result's duration as its line says it."""
    return round(duration_ms, 3)


@dataclass(frozen=True, init=False)
class CheckResult:
    """One line of results.jsonl: a (target, subject, check) judgement."""

    target: str
    sector: str
    tier: str
    subject: str
    check: str
    status: Status
    detail: str
    evidence: Mapping[str, Any] = field(default_factory=dict)
    duration_ms: float = 0.0
    vantage: str | None = None  # scans through a broker with vantage points (distributed/)

    def __init__(
        self,
        target: str,
        sector: str,
        tier: str,
        subject: str,
        check: str,
        status: Status,
        detail: str,
        evidence: Mapping[str, Any] | None = None,
        duration_ms: float = 0.0,
        vantage: str | None = None,
    ) -> None:
        self.__dict__.update(target=target, sector=sector, tier=tier, subject=subject,
                             check=check, status=status, detail=detail,
                             evidence={} if evidence is None else evidence,
                             duration_ms=duration_ms, vantage=vantage)  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "target": self.target,
            "sector": self.sector,
            "tier": self.tier,
            "subject": self.subject,
            "check": self.check,
            "status": str(self.status),
            "detail": self.detail,
        }
        key = getattr(self.detail, "key", None)
        if key is not None:  # a Detail (messages.py): its key and parameters
            data["detail_key"] = key
            data["detail_params"] = self.detail.params  # type: ignore[attr-defined]
        data.update({
            "evidence": dict(self.evidence),
            "duration_ms": duration_figure(self.duration_ms),
        })  # fmt: skip
        if self.vantage is not None:  # last, and only when set: a local scan's bytes stay
            data["vantage"] = self.vantage
        return data

    def to_line(self) -> str:
        """json_text(self.to_json()), the same bytes, at two thirds of its cost: the plain
        fields go through json's own string encoder one by one, and only the nested
        values (the detail's parameters, the evidence) through the whole encoder. A bulk
        scan writes tens of thousands of lines a second. What the fields cannot say that
        way (not a str, a float json spells NaN) takes the whole encoder."""
        ms = duration_figure(self.duration_ms)
        if type(ms) is not float or ms - ms != 0.0:  # an int, NaN or an infinity
            return json_text(self.to_json())
        text = encode_basestring
        try:
            line = (
                f'{{"target": {text(self.target)}, "sector": {text(self.sector)}, '
                f'"tier": {text(self.tier)}, "subject": {text(self.subject)}, '
                f'"check": {text(self.check)}, "status": {text(self.status)}, '
                f'"detail": {text(self.detail)}'
            )
            key = getattr(self.detail, "key", None)
            if key is not None:
                params = json_text(self.detail.params)  # type: ignore[attr-defined]
                line += f', "detail_key": {text(key)}, "detail_params": {params}'
            evidence = self.evidence if type(self.evidence) is dict else dict(self.evidence)
            line += f', "evidence": {json_text(evidence)}, "duration_ms": {ms!r}'
            if self.vantage is not None:
                line += f', "vantage": {text(self.vantage)}'
        except TypeError:  # a field not a str
            return json_text(self.to_json())
        return line + "}"

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, owned: bool = False) -> CheckResult:
        """`owned`: `data` was parsed for this call and nobody else holds it (the finish
        reads every line of results.jsonl so): its evidence and detail parameters are
        kept as they are, not copied. The fields are read in order, the target first, so
        a foreign value fails as it did (a list: TypeError)."""
        target, sector, tier = str(data["target"]), str(data["sector"]), str(data["tier"])
        subject, check, status = str(data["subject"]), str(data["check"]), _status(data["status"])
        get = data.get
        text, key, params = str(get("detail", "")), get("detail_key"), get("detail_params")
        detail: str
        if owned and type(key) is str and key and type(params) is dict:
            detail = Detail._made(text, key, params)  # from_stored's Detail, without the copy
        else:
            detail = from_stored(text, key, params)
        evidence = get("evidence")
        if not owned or type(evidence) is not dict:
            evidence = dict(evidence or {})
        vantage = get("vantage")
        return cls(target, sector, tier, subject, check, status, detail, evidence,
                   float(get("duration_ms", 0.0)), _vantage(vantage))  # fmt: skip


def _vantage(value: object) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True, init=False)
class Subject:
    """What one check looks at: a domain (zone-level checks), a host, an address, a URL,
    or a resolver, with the target and tier it belongs to."""

    kind: str  # "domain", "host", "address", "url" or "resolver"
    name: str  # host name (A-label), address literal, URL, or resolver address
    target: Target
    tier: str = "services"
    port: int | None = None  # resolver port when not 53
    checks: tuple[str, ...] | None = None  # per-entry override from the target list

    def __init__(
        self,
        kind: str,
        name: str,
        target: Target,
        tier: str = "services",
        port: int | None = None,
        checks: tuple[str, ...] | None = None,
    ) -> None:
        self.__dict__.update(kind=kind, name=name, target=target, tier=tier, port=port,
                             checks=checks)  # fmt: skip


@dataclass(frozen=True, init=False)
class Verdict:
    """A check's judgement, before the engine adds who, where and how long."""

    status: Status
    detail: str
    evidence: Mapping[str, Any] = field(default_factory=dict)

    def __init__(
        self, status: Status, detail: str, evidence: Mapping[str, Any] | None = None
    ) -> None:
        self.__dict__.update(status=status, detail=detail,
                             evidence={} if evidence is None else evidence)  # fmt: skip
