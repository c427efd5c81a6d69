"""Link extraction for web.links: <a href> only, absolute, http(s), de-duplicated,
fragments dropped, in document order."""

from __future__ import annotations

import time

import pytest

from ipv6scan.probes.html_links import MAX_LINKS, absolute_link, extract_links

PAGE = "https://site.example/dir/page.html"


def test_relative_links_resolve_against_the_page() -> None:
    html = (
        '<a href="other.html">o</a><a href="/top">t</a><a href="../up">u</a>'
        '<a href="//cdn.example/x">c</a>'
    )
    links, more = extract_links(html, PAGE)
    assert links == (
        "https://site.example/dir/other.html",
        "https://site.example/top",
        "https://site.example/up",
        "https://cdn.example/x",
    )
    assert more is False


def test_duplicates_fragments_and_self_links_are_dropped() -> None:
    html = (
        '<a href="/a#one">1</a><a href="/a#two">2</a><a href="/a">3</a>'
        '<a href="#top">top</a><a href="">self</a><a href="/b">b</a>'
    )
    assert extract_links(html, PAGE)[0] == ("https://site.example/a", "https://site.example/b")


def test_only_http_and_https_links_count() -> None:
    html = (
        '<a href="mailto:a@site.example">m</a><a href="javascript:void(0)">j</a>'
        '<a href="tel:+861234">t</a><a href="ftp://files.example/">f</a>'
        '<a href="data:text/html,x">d</a><a href="http://user@site.example/">cred</a>'
        '<a href="http://site.example:99999/">port</a><a>no href</a>'
        '<a href=" HTTP://Site.Example:80/x ">ok</a><link href="/style.css">'
    )
    assert extract_links(html, PAGE)[0] == ("http://site.example/x",)


def test_base_href_moves_relative_links() -> None:
    html = '<head><base href="https://other.example/root/"></head><a href="x">x</a>'
    assert extract_links(html, PAGE)[0] == ("https://other.example/root/x",)


def test_idn_hosts_become_a_labels() -> None:
    assert absolute_link("http://例子.测试/路径") == "http://xn--fsqu00a.xn--0zwm56d/路径"


def test_the_list_is_capped() -> None:
    html = "".join(f'<a href="/p{i}">p</a>' for i in range(MAX_LINKS + 10))
    links, more = extract_links(html, PAGE)
    assert len(links) == MAX_LINKS and more
    assert links[0] == "https://site.example/p0"  # the first ones, in document order


def test_broken_markup_keeps_what_came_before() -> None:
    html = '<a href="/ok">ok</a><a href="/half'
    assert extract_links(html, PAGE)[0] == ("https://site.example/ok",)


def test_links_in_comments_and_scripts_do_not_count() -> None:
    html = (
        '<!-- <a href="/old">old</a> --><script>var s = \'<a href="/js">\';</script>'
        '<STYLE>a[href="/css"]{}</STYLE><a href="/real">r</a><script>unterminated <a href="/x">'
    )
    assert extract_links(html, PAGE)[0] == ("https://site.example/real",)


@pytest.mark.parametrize(
    "hostile", ["<!--" * 75_000, "<a " * 100_000, "<![" * 100_000, '<a href="' * 30_000]
)
def test_hostile_markup_is_read_in_linear_time(hostile: str) -> None:
    # Python 3.11's html.parser alone spends minutes on the first of these
    started = time.perf_counter()
    extract_links(hostile + '<a href="/after">a</a>', PAGE)
    assert time.perf_counter() - started < 2.0
