"""The parity measure (ipv6scan/similarity.py): what is stripped, that order matters,
and that it stays fast on pages built to make a diff slow."""

from __future__ import annotations

import difflib
import time

from ipv6scan.similarity import (
    MAX_TOKENS,
    fingerprint,
    normalise,
    similarity,
    tokenise,
    unpack,
)

BODY = "".join(
    f"<section id='s{i}'><h2>Section {i}</h2><p>Paragraph {i} tells about topic {i}, "
    f"with words {i * 7} and more.</p></section>"
    for i in range(60)
)


def page(nonce: str, state: str, csrf: str, when: str, body: str = BODY) -> str:
    return (
        f"<html><head><script nonce='{nonce}'>var x = 1;</script>"
        f'<meta name="csrf-token" content="{csrf}"></head><body>'
        f'<form><input type="hidden" name="__VIEWSTATE" value="{state}">'
        f'<input type="hidden" name="__EVENTVALIDATION" value="{state[::-1]}">'
        f'<input type="hidden" name="authenticity_token" value="{csrf}">'
        f'<input name="q" value=""></form>{body}'
        f"<footer>Generated {when} <!-- served by node {nonce[:3]} --></footer></body></html>"
    )


def test_the_same_page_with_fresh_nonces_and_state_is_identical() -> None:
    a = page("r4nd0m1", "dDwtMTI3OTMzNDM4NDs7Pg==", "tok-aaa", "2026-11-02T10:11:12Z")
    b = page("0th3rN0nc3", "ZZZwtMTI3OTMzNDM4NDs7Pg==", "tok-bbb", "2026-11-02T10:11:19Z")
    assert a != b
    assert normalise(a) != a and tokenise(a) == tokenise(b)
    assert similarity(fingerprint(a), fingerprint(b)) == 1.0


def test_a_small_change_stays_above_the_threshold() -> None:
    a = page("n1", "s", "c", "10:00:00")
    b = page("n2", "s", "c", "10:00:01", BODY.replace("topic 30", "subject 30"))
    assert 0.9 <= similarity(fingerprint(a), fingerprint(b)) < 1.0


def test_a_different_page_is_not_similar() -> None:
    other = "".join(f"<li><a href='/n{i}'>News item {i}</a></li>" for i in range(80))
    a = page("n", "s", "c", "t")
    b = page("n", "s", "c", "t", f"<ul>{other}</ul>")
    assert similarity(fingerprint(a), fingerprint(b)) < 0.5


def test_order_matters() -> None:
    sections = [
        f"<div><h3>Block {i}</h3><p>Text of block {i} goes here.</p></div>" for i in range(40)
    ]
    a = "".join(sections)
    b = "".join(reversed(sections))
    fa, fb = fingerprint(a), fingerprint(b)
    # the same items in another order: quick_ratio, which ignores order, calls them equal
    matcher = difflib.SequenceMatcher(None, unpack(fa), unpack(fb), autojunk=False)
    assert matcher.quick_ratio() == 1.0
    assert similarity(fa, fb) < 0.2


def test_input_is_bounded_and_empty_pages_compare_equal() -> None:
    assert len(tokenise("<p>x</p> " * 100_000)) == MAX_TOKENS
    assert similarity(fingerprint(""), fingerprint("")) == 1.0
    assert similarity(fingerprint(""), fingerprint(BODY)) == 0.0


def test_repetitive_pages_stay_fast() -> None:
    # Given two large pages of a tiny vocabulary (the slow case of SequenceMatcher)
    a = "".join(
        ("<td>x</td>", "<td>y</td>", "<tr>", "</tr>")[(i * 7 + i // 3) % 4] for i in range(40_000)
    )
    b = "".join(
        ("<td>x</td>", "<td>y</td>", "<tr>", "</tr>")[(i * 5 + i // 2) % 4] for i in range(40_000)
    )
    started = time.perf_counter()
    similarity(fingerprint(a), fingerprint(b))
    assert time.perf_counter() - started < 2.0


def test_hostile_markup_is_tokenised_in_linear_time() -> None:
    for hostile in ("<!--" * 75_000, "<input " * 40_000, "<" * 300_000, " nonce='" * 30_000):
        started = time.perf_counter()
        fingerprint(hostile)
        assert time.perf_counter() - started < 2.0
