"""Text from outside (servers, target files) made safe to keep, write and show.

A server chooses its bytes. aiohttp decodes a header byte that is not UTF-8 into a lone
surrogate (surrogateescape), which no UTF-8 writer accepts: one such byte in a `Server`
header used to fail every later write of results.jsonl. So text a server controls is
made safe where it enters an observation (safe_text), a results line that still cannot
be encoded is written with its surrogates replaced (safe_line), a line read back with
a JSON-escaped lone surrogate is repaired (scrub), and a value quoted in an error
message is cut to an excerpt (excerpt). Each rule lives here, once.
"""

from __future__ import annotations

import re
from typing import Any

REPLACEMENT = "\ufffd"
EXCERPT_MAX = 80  # characters of a user's value quoted in an error message

# C0 and C1 controls, DEL, surrogates, and the bidi controls that reorder what a reader sees
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_BYTE_ESCAPES = range(0xDC80, 0xDD00)  # surrogateescape's stand-ins for the bytes 0x80-0xFF


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code in _BYTE_ESCAPES:
        return f"\\x{code - 0xDC00:02x}"  # the byte the server sent, visibly
    if 0xD800 <= code <= 0xDFFF:
        return REPLACEMENT
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def safe_text(value: str | bytes, limit: int) -> str:
    """`value` as valid, printable text of at most `limit` characters: bytes that are not
    UTF-8 (and their surrogate escapes) become `\\xNN`, other lone surrogates U+FFFD,
    control and bidi characters `\\xNN` or `\\uNNNN`."""
    if isinstance(value, bytes):
        value = value[: limit * 4].decode("utf-8", "surrogateescape")
    value = value[:limit]  # an escape never shortens: cut first, so the work is bounded
    if _UNSAFE.search(value) is None:
        return value
    return _UNSAFE.sub(_escape, value)[:limit]


def safe_line(line: str) -> str:
    """A JSON text with any lone surrogate replaced by U+FFFD: still the same JSON
    document (a surrogate is only ever inside a string), now encodable as UTF-8."""
    return _SURROGATE.sub(REPLACEMENT, line)


def scrub(value: Any) -> Any:
    """A parsed JSON value with lone surrogates in its strings (and keys) replaced."""
    if isinstance(value, str):
        return _SURROGATE.sub(REPLACEMENT, value)
    if isinstance(value, dict):
        return {scrub(k): scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value


def excerpt(value: object, limit: int = EXCERPT_MAX) -> str:
    """A user's value as an error message quotes it: printable, at most `limit`
    characters, and how long it was when it is cut."""
    text = value if isinstance(value, str) else repr(value)
    shown = safe_text(text, limit)
    if len(text) > limit:
        return f"{shown}... ({len(text):,} characters)"
    return shown


def quote(value: object, limit: int = EXCERPT_MAX) -> str:
    """`repr(value)` for an error message (controls and surrogates escaped), of the first
    `limit` characters and with the value's length when it is longer."""
    if not isinstance(value, str):
        value = repr(value)
    if len(value) <= limit:
        return repr(value)
    return f"{value[:limit]!r}... ({len(value):,} characters)"
