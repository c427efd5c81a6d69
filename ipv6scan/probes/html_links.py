"""The links of a page, for `web.links`: `<a href>` only, as a visitor would follow them.

Pure: text in, absolute URLs out. `<link href>` (style sheets, icons, feeds) is
left out on purpose: the contract counts the page's links (二级/三级 pages),
not its resources.

html.parser reads the attributes (quoting, entities), but only of the `<a>`
and `<base>` tags that a linear pre-pass cut out of the page, after comments
and script/style contents are dropped. Fed a whole hostile page, the parser
of Python 3.11 is quadratic in unterminated constructs ("<!--" repeated
costs it minutes); fed complete tags, it is linear.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin

from ipv6scan.names import InvalidName, normalize_url
from ipv6scan.similarity import strip_comments

MAX_CHARS = 1_000_000  # html.parser is pure Python: bound what it reads
MAX_LINKS = 2_000  # distinct links kept per page, before the check's own cap
# a whole tag, stopping at the next "<" or ">" so the scan stays linear
_ANCHOR_OR_BASE = re.compile(r"<(?:a|base)\s[^<>]*>", re.I)
_RAW_TEXT = ("script", "style")  # elements whose content is not markup


def _drop_raw_text(html: str) -> str:
    """`html` without the contents of <script> and <style> (a "<a href" inside a
    script is code, not a link). Linear: one lower-cased copy, and each tag's
    next position is looked for again only once the scan has passed it."""
    lower = html.lower()
    out: list[str] = []
    pos = 0
    upcoming = {tag: lower.find(f"<{tag}") for tag in _RAW_TEXT}
    while True:
        for tag, at in upcoming.items():
            if 0 <= at < pos:
                upcoming[tag] = lower.find(f"<{tag}", pos)
        found = sorted((at, tag) for tag, at in upcoming.items() if at >= 0)
        if not found:
            break
        start, tag = found[0]
        out.append(html[pos:start])
        end = lower.find(f"</{tag}", start + 1)
        if end < 0:
            return "".join(out)  # unterminated: the rest is the element's content
        pos = end
    out.append(html[pos:])
    return "".join(out)


def _candidate_tags(html: str) -> str:
    text = _drop_raw_text(strip_comments(html[:MAX_CHARS]))
    return "".join(_ANCHOR_OR_BASE.findall(text))


class _AnchorParser(HTMLParser):
    def __init__(self, base: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base = base
        self.seen_base = False
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "base" and not self.seen_base:
            # only the first <base href> counts (HTML spec); it moves every relative link
            href = dict(attrs).get("href")
            if href:
                self.base = urljoin(self.base, href.strip())
                self.seen_base = True
        elif tag == "a" and len(self.hrefs) < MAX_LINKS * 4:
            href = dict(attrs).get("href")
            if href is not None:
                self.hrefs.append(urljoin(self.base, href.strip()))


def absolute_link(url: str) -> str | None:
    """`url` in the scanner's one spelling (A-label host, no default port, no fragment)
    when it is a fetchable http(s) URL; None for mailto:, javascript:, tel:, data:,
    credentials, bad ports and other URLs no visitor's browser would fetch as a page."""
    try:
        return normalize_url(url)
    except InvalidName:
        return None


def extract_links(html: str, page_url: str) -> tuple[tuple[str, ...], bool]:
    """The page's distinct http(s) links in document order, fragments dropped, links
    back to the page itself left out, and whether there were more than MAX_LINKS."""
    parser = _AnchorParser(page_url)
    itself = absolute_link(page_url)
    try:
        parser.feed(_candidate_tags(html))
        parser.close()
    except (AssertionError, ValueError):
        pass  # html.parser gives up on some broken markup; keep what it found before
    links: dict[str, None] = {}
    for href in parser.hrefs:
        link = absolute_link(href)
        if link is None or link == itself or link in links:
            continue
        if len(links) >= MAX_LINKS:
            return tuple(links), True
        links[link] = None
    return tuple(links), False
