"""A page's bytes as text, in the charset its server names, if that is a page encoding.

The server picks the name in `Content-Type: ...; charset=NAME`, and Python's codec
registry holds more than text encodings: `idna`, `punycode` and `undefined` raise on
decode whatever the error handler, `unicode_escape` makes lone surrogates, `rot13`
or `zlib` are not encodings of text at all. So a charset is used only when its codec is
one of the page encodings browsers know (the WHATWG list, by Python's codec names); any
other name, and any failure, falls back to UTF-8 with replacement, as a browser would.
"""

from __future__ import annotations

import codecs
import functools

FALLBACK = "utf-8"
NAME_MAX = 40  # characters of a charset name looked up; real ones are short

# Python's canonical names (codecs.lookup(label).name) of the WHATWG page encodings
PAGE_CODECS = frozenset(
    {
        "utf-8", "utf-8-sig", "ascii", "utf-16", "utf-16-le", "utf-16-be",
        *(f"iso8859-{n}" for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16)),
        *(f"cp{n}" for n in (1250, 1251, 1252, 1253, 1254, 1255, 1256, 1257, 1258)),
        "cp874", "cp866", "koi8-r", "koi8-u", "mac-roman", "mac-cyrillic", "tis-620",
        "gbk", "gb2312", "gb18030", "big5", "big5hkscs", "cp950",
        "euc_jp", "iso2022_jp", "shift_jis", "cp932", "euc_kr", "cp949",
    }
)  # fmt: skip


def page_codec(charset: str | None) -> str:
    """The codec to decode a page with: `charset`'s when it names a page encoding, else
    UTF-8."""
    if not charset:
        return FALLBACK
    return _page_codec(charset.strip().strip("\"'")[:NAME_MAX].lower())


@functools.lru_cache(maxsize=256)  # a scan meets few distinct names; keys are bounded
def _page_codec(charset: str) -> str:
    try:
        name = codecs.lookup(charset).name
    except (LookupError, ValueError, TypeError):  # unknown, or a name with a NUL
        return FALLBACK
    return name if name in PAGE_CODECS else FALLBACK


def decode_body(body: bytes, charset: str | None) -> str:
    """`body` as text; never raises, never returns a lone surrogate."""
    try:
        return body.decode(page_codec(charset), "replace")
    except (UnicodeError, LookupError):  # not expected of a page codec; UTF-8 then
        return body.decode(FALLBACK, "replace")
