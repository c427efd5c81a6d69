"""Check details as message keys with parameters, so a report can show them in its reader's
language (INTERFACE.md "The report": in zh-CN the details are Chinese too).

A judge declares each sentence it may say once, beside its rule:

    NO_AAAA = message("dns.aaaa.no_aaaa", "no AAAA record for %(name)s")

and returns `NO_AAAA(name=host)`: a `Detail`, which *is* the English sentence (a str, so
everything that reads `detail` as text keeps working) and also remembers its key and its
parameters. results.jsonl keeps the English `detail` and writes `detail_key` and
`detail_params` beside it (docs/outputs.md); the report renders the key's template from
its language's catalogue with the same parameters (report/details.py).

Parameters are what the sentence names: host names, addresses, URLs, counts, and the
servers' own words, all shown as they are. A parameter may itself be a Detail (a word or
phrase that is translated too, such as an outcome: `word("refused")`), or a list of
either, which each language joins its own way. Templates use only `%(name)s`.

A parameter listed as `measured` (a time, a rate) is a figure, not part of the verdict:
the history and `diff` compare details by `identity`, which leaves measured figures out
(INTERFACE.md "History").
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Union

# A parameter in its stored form (results.jsonl's `detail_params`): text or a number as
# it is, a nested detail as {"key": ..., "params": {...}}, a list of those.
Stored = str | int | float | dict[str, Any] | list[Any]
Param = Union[str, int, float, "Detail", Sequence[Union[str, int, float, "Detail"]]]

MESSAGES: dict[str, Message] = {}  # every declared message, by key


class Detail(str):
    """An English detail sentence that remembers its message key and parameters."""

    key: str | None
    params: dict[str, Stored]

    def __new__(
        cls, text: str, key: str | None = None, params: Mapping[str, Stored] | None = None
    ) -> Detail:
        self = super().__new__(cls, text)
        self.key = key
        self.params = dict(params) if isinstance(params, Mapping) else {}
        return self

    @classmethod
    def _made(cls, text: str, key: str, params: dict[str, Stored]) -> Detail:
        """A Detail of a fresh params dict, kept as it is: Message's fast way (a judge makes
        one or two per result, a bulk path tens of thousands a second)."""
        self = str.__new__(cls, text)
        self.key = key
        self.params = params
        return self

    def stored(self) -> dict[str, Any]:
        """This detail as a nested parameter of another."""
        return {"key": self.key, "params": self.params}

    def __reduce__(self) -> tuple[Any, ...]:  # pickling (distributed shards) keeps the key
        return (Detail, (str(self), self.key, self.params))


class Message:
    """One sentence a check may say: a stable key and its English template."""

    __slots__ = ("key", "measured", "template")

    def __init__(self, key: str, template: str, measured: Iterable[str] = ()) -> None:
        self.key, self.template, self.measured = key, template, frozenset(measured)

    def __call__(self, **params: Param) -> Detail:
        # the common case, every parameter a plain text: stored and English as given
        # (the keyword dict is this call's own, so the Detail may keep it)
        for value in params.values():  # a loop, not all(): a generator costs a third more
            if type(value) is not str:
                break
        else:
            return Detail._made(self.template % params, self.key, params)  # type: ignore[arg-type]
        stored: dict[str, Stored] = {}
        english: dict[str, str] = {}
        for name, value in params.items():
            kind = type(value)
            if kind is str:
                stored[name] = english[name] = value  # type: ignore[assignment]
            elif kind is int or kind is float:
                stored[name], english[name] = value, str(value)  # type: ignore[assignment]
            else:
                stored[name], english[name] = _stored(value), _english(value)
        return Detail._made(self.template % english, self.key, stored)

    def __repr__(self) -> str:
        return f"message({self.key!r}, {self.template!r})"


def message(key: str, template: str, *, measured: Iterable[str] = ()) -> Message:
    """Declares a message (once per key: two rules may not share a sentence's key)."""
    known = MESSAGES.get(key)
    if known is not None and known.template != template:
        raise ValueError(f"message key {key!r} declared twice with different templates")
    found = MESSAGES[key] = Message(key, template, measured)
    return found


_WORDS: dict[str, Message] = {}


def word(text: str) -> Detail:
    """A word or short phrase shown inside a detail and translated with it (an outcome such
    as "refused" or "timeout"): its key is "word." + the text."""
    found = _WORDS.get(text)
    if found is None:
        found = _WORDS[text] = message("word." + text, text.replace("%", "%%"))
    return found()


def identity(detail: str) -> str:
    """What of a detail is its verdict: the key and the parameters that are not measured
    figures; the text itself for a detail without a key."""
    key = getattr(detail, "key", None)
    if key is None:
        return detail
    params = _verdict_params(key, getattr(detail, "params", {}))
    return key + " " + json.dumps(params, sort_keys=True, ensure_ascii=False)


def _verdict_params(key: str, params: dict[str, Stored]) -> dict[str, Stored]:
    """`params` without the measured ones, nested details' measured ones too (an address
    with its round-trip time inside a list)."""
    known = MESSAGES.get(key)
    measured = known.measured if known is not None else frozenset()
    return {n: _verdict_value(v) for n, v in params.items() if n not in measured}


def _verdict_value(value: Stored) -> Stored:
    if isinstance(value, list):
        return [_verdict_value(v) for v in value]
    if isinstance(value, dict) and isinstance(value.get("key"), str):
        inner = value.get("params")
        params = _verdict_params(value["key"], inner if isinstance(inner, dict) else {})
        return {"key": value["key"], "params": params}
    return value


def from_stored(text: str, key: object, params: object) -> str:
    """A detail read back from results.jsonl: a Detail when it carried a key."""
    if not isinstance(key, str) or not key:
        return text
    return Detail(text, key, params if isinstance(params, dict) else {})


def _stored(value: Param) -> Stored:
    if isinstance(value, Detail):
        return {"key": value.key, "params": value.params}
    if isinstance(value, (str, int, float)):
        return value
    return [_stored(v) for v in value]


def _english(value: Param) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return str(value)
    return ", ".join(_english(v) for v in value)
