"""JSON as `json.dumps(value, ensure_ascii=False, indent=1)` writes it, nested `level` deep.

The standard library writes indented JSON with its pure-Python encoder, one generator per
container; summary.json has a million small rows, and this direct recursion is about
twice as fast. The output is the same byte for byte (tests/unit/test_streamed_outputs.py).
"""

from __future__ import annotations

from collections.abc import Callable
from json.encoder import encode_basestring  # the string encoder of ensure_ascii=False
from typing import Any

_INF = float("inf")


def pretty(value: Any, level: int = 0) -> str:
    parts: list[str] = []
    _emit(value, level, parts.append)
    return "".join(parts)


def _float(o: float) -> str:
    if o != o:
        return "NaN"
    if o == _INF:
        return "Infinity"
    if o == -_INF:
        return "-Infinity"
    return float.__repr__(o)


def _scalar(o: Any) -> str | None:
    """The text of a value that is not a container, in json's order of tests."""
    if isinstance(o, str):
        return encode_basestring(o)
    if o is None:
        return "null"
    if o is True:
        return "true"
    if o is False:
        return "false"
    if isinstance(o, int):
        return int.__repr__(o)
    if isinstance(o, float):
        return _float(o)
    return None


def _key(k: Any) -> str:
    if isinstance(k, str):
        return encode_basestring(k)
    if isinstance(k, float):
        return encode_basestring(_float(k))
    if k is True or k is False or k is None:
        return encode_basestring({True: "true", False: "false", None: "null"}[k])
    if isinstance(k, int):
        return encode_basestring(int.__repr__(k))
    raise TypeError(f"keys must be str, int, float, bool or None, not {k.__class__.__name__}")


def _emit(o: Any, level: int, out: Callable[[str], None]) -> None:
    text = _scalar(o)
    if text is not None:
        out(text)
    elif isinstance(o, (list, tuple)):
        if not o:
            out("[]")
            return
        inner = "\n" + " " * (level + 1)
        out("[")
        separator = inner
        for item in o:
            out(separator)
            separator = "," + inner
            _emit(item, level + 1, out)
        out("\n" + " " * level + "]")
    elif isinstance(o, dict):
        if not o:
            out("{}")
            return
        inner = "\n" + " " * (level + 1)
        out("{")
        separator = inner
        for k, v in o.items():
            out(separator)
            separator = "," + inner
            out(_key(k))
            out(": ")
            _emit(v, level + 1, out)
        out("\n" + " " * level + "}")
    else:
        raise TypeError(f"Object of type {o.__class__.__name__} is not JSON serializable")
