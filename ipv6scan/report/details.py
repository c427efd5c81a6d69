"""A check's detail in the report's language: its message key's template from the
catalogue, filled with its parameters (messages.py says what they are).

A detail without a key (results written before keys existed), or whose key or
parameters do not fit the template, is shown as its English text: never a wrong sentence.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ipv6scan.checks import catalogue
from ipv6scan.messages import MESSAGES

Gettext = Callable[[str], str]
JOINERS = {"zh-CN": "、"}  # how a language lists names; English: ", "
MAX_DEPTH = 8  # nested details and lists (a list counts as a level); read back, so bounded


def render_detail(detail: str, gettext: Gettext, lang: str) -> str:
    key = getattr(detail, "key", None)
    if key is None or lang == "en":
        return str(detail)
    text = _render(key, getattr(detail, "params", {}), gettext, JOINERS.get(lang, ", "), 0)
    return str(detail) if text is None else text


def _render(key: str, params: Any, gettext: Gettext, joiner: str, depth: int) -> str | None:
    catalogue.load()
    known = MESSAGES.get(key)
    if known is None or not isinstance(params, dict) or depth > MAX_DEPTH:
        return None
    values: dict[str, str] = {}
    for name, value in params.items():
        shown = _value(value, gettext, joiner, depth)
        if shown is None:
            return None
        values[name] = shown
    try:
        return gettext(known.template) % values
    except (KeyError, TypeError, ValueError):
        return None


def _value(value: Any, gettext: Gettext, joiner: str, depth: int) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, dict):
        key = value.get("key")
        if not isinstance(key, str):
            return None
        return _render(key, value.get("params"), gettext, joiner, depth + 1)
    if isinstance(value, list):
        parts = [_value(v, gettext, joiner, depth + 1) for v in value]
        return None if None in parts else joiner.join(p for p in parts if p is not None)
    return None
