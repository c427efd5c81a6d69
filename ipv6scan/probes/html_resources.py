"""The sub-resources a page declares, for `web.resources`: what a browser fetches to
show the page (scripts, style sheets, fonts, images, icons, frames, media).

Pure: text in, absolute URLs out. Read from the markup only, as declared:
`<script src>`, `<iframe src>`/`<frame src>`, `<link href>` with rel stylesheet,
icon or (module)preload, `<img src|srcset>`, `<source src|srcset>`,
`<video|audio src>`, `<video poster>`, and `url(...)`/`@import` in inline
`<style>` blocks and `style=""` attributes. `extract_css` reads a style sheet's
`url(...)` and `@import` (one level: the page's own style sheets). What scripts
load at run time is not seen (docs/checks.md says why no browser runs).

Same bounds and the same linear pre-pass as html_links.py: only complete tags
of the kinds above reach html.parser, after comments are dropped and script
contents skipped.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin

from ipv6scan.probes.html_links import MAX_CHARS, absolute_link
from ipv6scan.similarity import strip_comments

MAX_RESOURCES = 2_000  # distinct resources kept per page, before the check's own cap
MAX_CSS_CHARS = 500_000  # of one style sheet or of a page's inline styles together
MAX_SRCSET = 16  # candidates read from one srcset

# Kinds, in the order a capped check takes them: what breaks the page comes first.
STYLESHEET, SCRIPT, FONT, FRAME = "stylesheet", "script", "font", "frame"
ICON, IMAGE, MEDIA, OTHER = "icon", "image", "media", "other"
KINDS = (STYLESHEET, SCRIPT, FONT, FRAME, ICON, IMAGE, MEDIA, OTHER)
_RANK = {kind: i for i, kind in enumerate(KINDS)}
_PRELOAD_AS = {"style": STYLESHEET, "script": SCRIPT, "font": FONT, "image": IMAGE}
_PRELOAD_AS |= {"audio": MEDIA, "video": MEDIA, "track": MEDIA, "document": FRAME}

_TAG = re.compile(
    r"<(?:script|i?frame|link|img|source|video|audio|base)(?=[\s/>])[^<>]*>"
    r"|<[a-z][a-z0-9-]*\s[^<>]*?\bstyle\s*=[^<>]*>",
    re.I,
)
# url(...) with or without quotes; @import "..." or @import url(...)
_REF = r"""(?:"([^"\n]{0,2000})"|'([^'\n]{0,2000})'|([^)'"\s;]{1,2000}))"""
_CSS_URL = re.compile(rf"url\(\s*{_REF}", re.I)
_CSS_IMPORT = re.compile(rf"@import\s+(?:url\(\s*)?{_REF}", re.I)
_FONT_FILES = (".woff2", ".woff", ".ttf", ".otf", ".eot")


def _join(base: str, ref: str) -> str | None:
    """`ref` made absolute; None when it cannot be ("http://[::1" raises)."""
    try:
        return urljoin(base, ref.strip())
    except ValueError:
        return None


def _split_raw_text(html: str) -> tuple[str, str]:
    """(markup, inline CSS): the page with the contents of <script> and <style>
    dropped (their opening tags kept: a script's src is a resource), and the text of
    the <style> blocks. Linear, as html_links._drop_raw_text."""
    lower = html.lower()
    out: list[str] = []
    styles: list[str] = []
    pos = 0
    upcoming = {tag: lower.find(f"<{tag}") for tag in ("script", "style")}
    while True:
        for tag, at in upcoming.items():
            if 0 <= at < pos:
                upcoming[tag] = lower.find(f"<{tag}", pos)
        found = sorted((at, tag) for tag, at in upcoming.items() if at >= 0)
        if not found:
            break
        start, tag = found[0]
        opened = lower.find(">", start)
        if opened < 0:
            break  # an unterminated tag: the rest is not markup
        out.append(html[pos : opened + 1])
        end = lower.find(f"</{tag}", opened)
        content = html[opened + 1 : end if end >= 0 else len(html)]
        if tag == "style":
            styles.append(content)
        if end < 0:
            return "".join(out), "\n".join(styles)
        pos = end
    out.append(html[pos:])
    return "".join(out), "\n".join(styles)


def parse_srcset(value: str) -> list[str]:
    """The URLs of a srcset ("a.png 1x, b.png 2x"; a URL may hold commas, then it is
    followed by white space), at most MAX_SRCSET of them. WHATWG's algorithm, shortened:
    a candidate is its run of non-space characters, minus trailing commas; descriptors
    run to the next comma outside parentheses."""
    urls: list[str] = []
    pos, size = 0, len(value)
    while pos < size and len(urls) < MAX_SRCSET:
        while pos < size and (value[pos].isspace() or value[pos] == ","):
            pos += 1
        start = pos
        while pos < size and not value[pos].isspace():
            pos += 1
        url = value[start:pos]
        if url.endswith(","):
            url = url.rstrip(",")
        else:
            depth = 0
            while pos < size and (value[pos] != "," or depth > 0):
                depth += {"(": 1, ")": -1}.get(value[pos], 0)
                pos += 1
        if url:
            urls.append(url)
    return urls


def _strip_css_comments(css: str) -> str:
    """`css` without /* comments */; linear, as similarity.strip_comments."""
    out: list[str] = []
    pos = 0
    while (start := css.find("/*", pos)) >= 0:
        out.append(css[pos:start])
        end = css.find("*/", start + 2)
        if end < 0:
            return "".join(out)
        pos = end + 2
    out.append(css[pos:])
    return " ".join(out)


def css_references(css: str) -> list[tuple[str, bool]]:
    """The raw url(...) and @import references of a style sheet, in order, each with
    whether it is an @import (a style sheet)."""
    text = _strip_css_comments(css[:MAX_CSS_CHARS])
    found: list[tuple[int, str, bool]] = []
    imported: set[int] = set()  # where an @import's own url( starts
    for match in _CSS_IMPORT.finditer(text):
        ref = next(g for g in match.groups() if g is not None)
        found.append((match.start(), ref.strip(), True))
        imported.add(text.find("url(", match.start(), match.end()))
    for match in _CSS_URL.finditer(text):
        if match.start() not in imported:
            ref = next(g for g in match.groups() if g is not None)
            found.append((match.start(), ref.strip(), False))
    return [(ref, is_import) for _, ref, is_import in sorted(found) if ref]


class _ResourceParser(HTMLParser):
    def set_cdata_mode(self, *args: object, **kwargs: object) -> None:
        """Fed start tags only, no element's content is raw text here: a <script src>
        start tag would otherwise swallow every tag after it as script."""
        return None

    def __init__(self, base: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base = base
        self.seen_base = False
        self.found: list[tuple[str, str]] = []  # (kind, raw reference), the base not applied

    def _add(self, kind: str, ref: str | None) -> None:
        if not ref or not ref.strip() or len(self.found) >= MAX_RESOURCES * 4:
            return
        if (url := _join(self.base, ref)) is not None:
            self.found.append((kind, url))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {name: value for name, value in attrs if value is not None}
        if tag == "base":
            if not self.seen_base and attr.get("href"):
                self.base = _join(self.base, attr["href"]) or self.base
                self.seen_base = True
            return
        if tag == "script" or tag in ("iframe", "frame"):
            self._add(SCRIPT if tag == "script" else FRAME, attr.get("src"))
        elif tag == "link":
            rel = attr.get("rel", "").lower().split()
            if "stylesheet" in rel:
                self._add(STYLESHEET, attr.get("href"))
            elif "icon" in rel or "apple-touch-icon" in rel:
                self._add(ICON, attr.get("href"))
            elif "modulepreload" in rel:
                self._add(SCRIPT, attr.get("href"))
            elif "preload" in rel:
                kind = _PRELOAD_AS.get(attr.get("as", "").lower(), OTHER)
                self._add(kind, attr.get("href"))
        elif tag in ("img", "source"):
            # <source src> feeds <video>/<audio>; <source srcset> feeds <picture>
            self._add(IMAGE if tag == "img" else MEDIA, attr.get("src"))
            for ref in parse_srcset(attr.get("srcset", "")):
                self._add(IMAGE, ref)
        elif tag in ("video", "audio"):
            self._add(MEDIA, attr.get("src"))
            if tag == "video":
                self._add(IMAGE, attr.get("poster"))
        if "style" in attr:
            for ref, _ in css_references(attr["style"]):
                self._add(IMAGE, ref)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)


def _distinct(
    found: list[tuple[str, str]], itself: str
) -> tuple[tuple[tuple[str, str], ...], bool]:
    """(kind, URL) pairs, one per fetchable http(s) URL other than `itself` (the first
    kind seen wins), ordered by kind (KINDS) then document order, and whether there
    were more than MAX_RESOURCES."""
    kept: dict[str, str] = {}
    more = False
    for kind, ref in found:
        url = absolute_link(ref)  # None for data:, blob:, javascript: and the like
        if url is None or url in kept or url == itself:
            continue
        if len(kept) >= MAX_RESOURCES:
            more = True
            break
        kept[url] = kind
    ordered = sorted(kept.items(), key=lambda item: _RANK[item[1]])  # stable: document order
    return tuple((kind, url) for url, kind in ordered), more


def extract_resources(html: str, page_url: str) -> tuple[tuple[tuple[str, str], ...], bool]:
    """The page's distinct sub-resources as (kind, absolute URL), what breaks the page
    first, and whether there were more than MAX_RESOURCES."""
    markup, inline_css = _split_raw_text(strip_comments(html[:MAX_CHARS]))
    parser = _ResourceParser(page_url)
    try:
        parser.feed("".join(_TAG.findall(markup)))
        parser.close()
    except (AssertionError, ValueError):
        pass  # html.parser gives up on some broken markup; keep what it found before
    found = parser.found
    # inline <style> is read against the document's base, as the browser does
    for ref, is_import in css_references(inline_css):
        if (url := _join(parser.base, ref)) is not None:
            found.append((STYLESHEET if is_import else IMAGE, url))
    return _distinct(found, absolute_link(page_url) or page_url)


def extract_css(css: str, sheet_url: str) -> tuple[tuple[tuple[str, str], ...], bool]:
    """A style sheet's url(...) and @import targets as (kind, absolute URL): an @import
    is a style sheet, a font file a font, anything else an image."""
    found: list[tuple[str, str]] = []
    for ref, is_import in css_references(css):
        if (url := _join(sheet_url, ref)) is None:
            continue
        path = url.split("?", 1)[0].split("#", 1)[0].lower()
        if is_import or path.endswith(".css"):
            kind = STYLESHEET
        elif path.endswith(_FONT_FILES):
            kind = FONT
        else:
            kind = IMAGE
        found.append((kind, url))
    return _distinct(found, absolute_link(sheet_url) or sheet_url)
