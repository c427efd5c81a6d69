"""How alike two web pages are: the measure behind `web.parity`. The probes fingerprint
a page (probes/http.py) and the judge compares two (checks/web.py), so it sits beside both.

The measure, in four steps (pure, deterministic, bounded in time):

1. Normalise the HTML: drop comments, `nonce` attributes, `<input>` and
   `<meta>` elements that carry per-request state (ASP.NET `__VIEWSTATE`,
   `__EVENTVALIDATION` and friends, and any whose name, id or property
   contains `csrf`, `xsrf`, `token` or `nonce`), and replace timestamps
   (ISO 8601, HTTP dates, clock times) with one placeholder. What remains
   is the page's text and structure, minus what changes on every request.
2. Tokenise into tags (whitespace inside a tag collapsed) and words, in
   document order. Only the first 300,000 characters are read and the
   first 5,000 tokens count.
3. Shingle: each run of 4 consecutive tokens becomes one item (a 32-bit
   BLAKE2b digest, kept packed). A lone `<div>` or "the" says little; four
   tokens in a row say where on the page they are. An item repeated more
   than 32 times (a long table of identical rows) counts only for its first
   32 occurrences, on both sides alike.
4. Compare: `difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()`
   of the two item lists, i.e. 2*M/T with M the items in matching blocks
   and T the items of both lists; identical lists score 1.0 at once. Order
   matters: the same blocks in another order score low (`quick_ratio`,
   which ignores order, is not used).

Why shingles and bounds: on plain tokens, SequenceMatcher without autojunk
spends seconds on a pair of large pages made of a few repeated tags (it is
quadratic in the repeats); on bounded shingles a pair takes tens of
milliseconds, and a hostile page cannot stall the scan.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from array import array
from collections.abc import Sequence

MAX_CHARS = 300_000
MAX_TOKENS = 5_000
SHINGLE = 4
MAX_REPEATS = 32

_NONCE_ATTR = re.compile(r"""\snonce\s*=\s*(?:"[^"<>]*"|'[^'<>]*'|[^\s<>]+)""", re.I)
# Every pattern stops at the next "<" or ">": the scan stays linear however many
# unterminated tags a hostile page holds (`[^>]*` would make it quadratic).
_STATE_ELEMENT = re.compile(r"<(?:input|meta)\b[^<>]*>", re.I)
_NAME_ATTR = re.compile(r"""\b(?:name|id|property)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)
_STATE_NAME = re.compile(
    r"^__(?:viewstate|eventvalidation|eventtarget|eventargument|requestdigest)|csrf|xsrf|token|nonce",
    re.I,
)
_TIMESTAMPS = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"  # ISO 8601
    r"|(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT"  # HTTP date
    r"|\b\d{1,2}:\d{2}:\d{2}\b"  # a clock time
)
_TOKEN = re.compile(r"<[^<>]*>?|[^<\s]+")
_TIMESTAMP_MARK = "\x00ts"


def _drop_state(match: re.Match[str]) -> str:
    tag = match.group(0)
    for name in _NAME_ATTR.finditer(tag):
        value = next(v for v in name.groups() if v is not None)
        if _STATE_NAME.search(value):
            return ""
    return tag


def strip_comments(html: str) -> str:
    """`html` without <!-- comments -->; an unterminated one runs to the end, as in a
    browser. Linear, unlike a lazy regex, which rescans to the end from every "<!--"."""
    out: list[str] = []
    pos = 0
    while (start := html.find("<!--", pos)) >= 0:
        out.append(html[pos:start])
        end = html.find("-->", start + 4)
        if end < 0:
            return "".join(out)
        pos = end + 3
    out.append(html[pos:])
    return "".join(out)


def normalise(html: str) -> str:
    """The page minus what differs on every request (step 1 above)."""
    text = strip_comments(html)
    text = _NONCE_ATTR.sub("", text)
    text = _STATE_ELEMENT.sub(_drop_state, text)
    return _TIMESTAMPS.sub(_TIMESTAMP_MARK, text)


def tokenise(html: str, limit: int = MAX_TOKENS) -> list[str]:
    """Tags and words of the normalised page, in order, at most `limit` of them."""
    out: list[str] = []
    # a bounded prefix: the regexes below cost time in proportion to what they read
    for match in _TOKEN.finditer(normalise(html[:MAX_CHARS])):
        token = match.group(0)
        out.append(" ".join(token.split()) if token[0] == "<" else token)
        if len(out) >= limit:
            break
    return out


def shingles(tokens: Sequence[str]) -> array[int]:
    """Step 3: overlapping runs of SHINGLE tokens as 32-bit digests, repeats bounded."""
    out: array[int] = array("I")
    if not tokens:
        return out
    seen: dict[int, int] = {}
    for i in range(max(1, len(tokens) - SHINGLE + 1)):
        run = "\x1f".join(tokens[i : i + SHINGLE]).encode("utf-8", "replace")
        item = int.from_bytes(hashlib.blake2b(run, digest_size=4).digest(), "big")
        count = seen.get(item, 0) + 1
        seen[item] = count
        if count <= MAX_REPEATS:
            out.append(item)
    return out


def fingerprint(html: str) -> bytes:
    """What a fetch keeps of a page for comparison: its shingle list, packed (a shared
    fetch lives for the whole scan, so 20 kB rather than the page's megabyte)."""
    return shingles(tokenise(html)).tobytes()


def unpack(packed: bytes) -> array[int]:
    items: array[int] = array("I")
    items.frombytes(packed)
    return items


def similarity(a: bytes, b: bytes) -> float:
    """Step 4: the SequenceMatcher ratio of two fingerprints (1.0 for two empty pages)."""
    if a == b:
        return 1.0
    return difflib.SequenceMatcher(None, unpack(a), unpack(b), autojunk=False).ratio()
