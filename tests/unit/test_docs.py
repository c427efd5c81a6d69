"""README.md and docs/*.md: every relative link leads to a file (and a heading) that exists,
every docs page is linked from the README, and the README stays short enough to finish."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
README_MAX_BYTES = 11_000  # issue 15: "at most about 10 KB"

_FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.M | re.S)
_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1", re.S)
# [text](target) and ![alt](target), with an optional "title"; text may hold one level of [ ]
_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$", re.M)
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def _prose(text: str) -> str:
    """The text with code blocks dropped and code spans blanked: a link's shape inside
    code is an example, not a link. A span inside a link's text stays a placeholder."""
    return _CODE_SPAN.sub("x", _FENCE.sub("", text))


def links(text: str) -> list[str]:
    """The targets of the Markdown links and images in `text`."""
    return _LINK.findall(_prose(text))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, markup and punctuation dropped (letters
    of any script, digits, `-` and `_` kept), spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).lower()
    kept = "".join(c for c in text if c in " -_" or unicodedata.category(c)[0] in "LN")
    return kept.replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every anchor the headings of `text` get, duplicates numbered as GitHub does."""
    seen: dict[str, int] = {}
    out: set[str] = set()
    for heading in _HEADING.findall(_FENCE.sub("", text)):
        base = slug(heading)
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def broken_links(page: Path) -> list[str]:
    """What is wrong with the relative links of `page`, one line each (empty: nothing)."""
    problems = []
    for target in links(page.read_text(encoding="utf-8")):
        if _SCHEME.match(target):
            continue  # http:, https:, mailto:: not this test's business
        path_part, _, anchor = target.partition("#")
        dest = (page.parent / path_part).resolve() if path_part else page
        if not dest.exists():
            problems.append(f"{page.name}: {target}: no such file")
        elif (
            anchor
            and dest.suffix == ".md"
            and anchor not in anchors(dest.read_text(encoding="utf-8"))
        ):
            problems.append(f"{page.name}: {target}: no heading with that anchor")
    return problems


def _pages() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


@pytest.mark.parametrize("page", _pages(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_resolves(page: Path) -> None:
    # Given a page of the documentation, When its links are followed, Then each file exists
    assert broken_links(page) == []


def test_readme_is_short() -> None:
    size = README.stat().st_size
    assert size <= README_MAX_BYTES, f"README.md is {size} bytes; move detail to docs/"


def test_readme_links_every_docs_page() -> None:
    linked = {
        (ROOT / t.partition("#")[0]).resolve()
        for t in links(README.read_text(encoding="utf-8"))
        if not _SCHEME.match(t)
    }
    unlinked = [p.name for p in sorted(DOCS.glob("*.md")) if p.resolve() not in linked]
    assert unlinked == []


def test_a_broken_link_and_a_missing_anchor_are_caught(tmp_path: Path) -> None:
    # Given a page with a good link, a missing file, a missing anchor and links in code
    (tmp_path / "other.md").write_text("# Big lists\n\n## The `fast` extra\n", encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text(
        "# Top\n[ok](other.md#big-lists) [ok](other.md#the-fast-extra) [self](#top)\n"
        "[gone](missing.md) [bad](other.md#nowhere) ![pic](img.png)\n"
        "[web](https://example.org/x) `[code](nope.md)`\n```\n[block](nope.md)\n```\n",
        encoding="utf-8",
    )
    # When the page is checked, Then exactly the broken ones are reported
    assert broken_links(page) == [
        "page.md: missing.md: no such file",
        "page.md: other.md#nowhere: no heading with that anchor",
        "page.md: img.png: no such file",
    ]


def test_slugs_follow_github() -> None:
    assert slug("The net.ping bulk path") == "the-netping-bulk-path"
    assert slug("Compiled modules (mypyc)") == "compiled-modules-mypyc"
    assert slug("summary.json") == "summaryjson"
    assert slug("Checks per tier") == "checks-per-tier"
    assert anchors("# A\n## A\n") == {"a", "a-1"}
