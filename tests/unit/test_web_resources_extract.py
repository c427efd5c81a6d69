"""Sub-resource extraction for web.resources: what a browser fetches to show the page,
absolute, http(s) only, de-duplicated, what breaks the page first; srcset and CSS url()."""

from __future__ import annotations

import time

from ipv6scan.probes.html_resources import (
    FONT,
    FRAME,
    ICON,
    IMAGE,
    MAX_RESOURCES,
    MEDIA,
    OTHER,
    SCRIPT,
    STYLESHEET,
    css_references,
    extract_css,
    extract_resources,
    parse_srcset,
)

PAGE = "https://www.gov.example/index.html"

# A provincial portal's home page, as such pages are written.
PORTAL = """<!DOCTYPE html>
<html lang="zh-CN"><head>
<meta charset="utf-8"><title>某省人民政府门户网站</title>
<link rel="stylesheet" type="text/css" href="/css/common.css?v=20260101">
<link rel="stylesheet" href="//static.platform.example/shared/header.css">
<link rel="shortcut icon" href="/favicon.ico">
<link rel="apple-touch-icon" href="https://www.gov.example/touch.png">
<link rel="preload" as="font" href="https://fonts.cdn.example/noto.woff2" crossorigin>
<link rel="preload" as="fetch" href="/api/boot.json">
<link rel="modulepreload" href="/js/mod.js">
<link rel="alternate" type="application/rss+xml" href="/rss.xml">
<link rel="canonical" href="https://www.gov.example/">
<script type="text/javascript" src="https://hm.analytics.example/hm.js?abc"></script>
<script src="/js/jquery.min.js"></script>
<script>document.write('<script src="http://written.example/x.js"><\\/script>');
var s = "<img src='/in-script.png'>";</script>
<style>
@import url("/css/theme.css");
.banner { background: url('../img/banner.jpg') no-repeat; }
/* .old { background: url(/img/old.png) } */
</style>
</head><body>
<!-- <img src="/commented.png"> -->
<div class="top" style="background-image:url(/img/top.png)"></div>
<img src="/img/logo.png" alt="logo"><img src="/img/logo.png">
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
<img src="/img/a.jpg" srcset="/img/a-2x.jpg 2x, /img/a,3x.jpg 3x">
<picture><source type="image/webp" srcset="/img/b.webp 800w, /img/b-big.webp 1600w">
<img src="/img/b.jpg"></picture>
<video src="https://media.example/v.mp4" poster="/img/poster.jpg">
<source src="https://media.example/v.webm" type="video/webm"></video>
<iframe src="https://map.example/embed?x=1" width="300"></iframe>
<a href="/news/">新闻</a> <a href="javascript:void(0)"><img src="javascript:alert(1)"></a>
<img src="https://www.gov.example/index.html">
</body></html>"""


def test_a_portal_page() -> None:
    found, more = extract_resources(PORTAL, PAGE)
    assert not more
    urls = [url for _, url in found]
    kinds = dict((url, kind) for kind, url in found)
    assert kinds["https://www.gov.example/css/common.css?v=20260101"] == STYLESHEET
    # protocol-relative: the page's scheme
    assert kinds["https://static.platform.example/shared/header.css"] == STYLESHEET
    assert kinds["https://www.gov.example/css/theme.css"] == STYLESHEET  # inline @import
    assert kinds["https://hm.analytics.example/hm.js?abc"] == SCRIPT
    assert kinds["https://www.gov.example/js/mod.js"] == SCRIPT
    assert kinds["https://fonts.cdn.example/noto.woff2"] == FONT
    assert kinds["https://www.gov.example/api/boot.json"] == OTHER
    assert kinds["https://map.example/embed?x=1"] == FRAME
    assert kinds["https://www.gov.example/favicon.ico"] == ICON
    assert kinds["https://www.gov.example/touch.png"] == ICON
    assert kinds["https://media.example/v.mp4"] == MEDIA
    assert kinds["https://media.example/v.webm"] == MEDIA
    for image in (
        "/img/banner.jpg",  # ../ from the page's directory stays at the root
        "/img/top.png",  # style="" attribute
        "/img/logo.png",
        "/img/a.jpg",
        "/img/a-2x.jpg",
        "/img/a,3x.jpg",  # a comma inside a srcset URL
        "/img/b.webp",
        "/img/b-big.webp",
        "/img/b.jpg",
        "/img/poster.jpg",
    ):
        assert kinds[f"https://www.gov.example{image}"] == IMAGE, image
    # not resources: links, feeds, canonical, comments, script text, data:, javascript:,
    # the page itself
    for absent in ("/news/", "/rss.xml", "/commented.png", "/in-script.png", "/img/old.png"):
        assert f"https://www.gov.example{absent}" not in kinds, absent
    assert "http://written.example/x.js" not in kinds
    assert not [u for u in urls if not u.startswith("http")]
    assert PAGE not in kinds
    assert len(urls) == len(set(urls))  # de-duplicated
    # what breaks the page first: style sheets, scripts, fonts, frames, icons, images, media
    order = [kind for kind, _ in found]
    ranks = [(STYLESHEET, SCRIPT, FONT, FRAME, ICON, IMAGE, MEDIA, OTHER).index(k) for k in order]
    assert ranks == sorted(ranks)
    # document order within a kind
    scripts = [u for k, u in found if k == SCRIPT]
    assert scripts == [
        "https://www.gov.example/js/mod.js",
        "https://hm.analytics.example/hm.js?abc",
        "https://www.gov.example/js/jquery.min.js",
    ]


def test_base_href_moves_relative_references() -> None:
    html = '<base href="https://cdn.example/site/"><script src="app.js"></script><img src=x.png>'
    found, _ = extract_resources(html, "http://www.example/")
    assert found == (
        (SCRIPT, "https://cdn.example/site/app.js"),
        (IMAGE, "https://cdn.example/site/x.png"),
    )


def test_a_script_tag_does_not_swallow_the_rest() -> None:
    # html.parser treats what follows <script> as raw text; fed only start tags, it must not
    html = '<script src="a.js"></script><img src="b.png"><script src="c.js">'
    found, _ = extract_resources(html, "http://h.example/")
    assert {u for _, u in found} == {
        "http://h.example/a.js",
        "http://h.example/b.png",
        "http://h.example/c.js",
    }


def test_srcset() -> None:
    assert parse_srcset("a.png 1x, b.png 2x") == ["a.png", "b.png"]
    assert parse_srcset("a.png,b.png") == ["a.png,b.png"]  # no space: one URL with a comma
    assert parse_srcset("a.png, b.png 640w,c.png") == ["a.png", "b.png", "c.png"]
    assert parse_srcset("  a.png  (max-width: 1px, 2px) 1x , b.png") == ["a.png", "b.png"]
    assert parse_srcset("") == []
    assert len(parse_srcset(", ".join(f"i{n}.png {n}x" for n in range(1, 100)))) == 16


def test_css() -> None:
    sheet = """@charset "utf-8";
    @import "base.css"; @import url(print.css) print;
    @font-face { font-family: X; src: url(../fonts/x.woff2) format("woff2"),
                 url("../fonts/x.ttf?#iefix") format("truetype"); }
    .a { background: url( 'img/a.png' ) } .b { background: url(data:image/png;base64,AA) }
    /* .c { background: url(gone.png) } */ .d { cursor: url(https://cdn.example/c.cur), auto }
    """
    found, more = extract_css(sheet, "https://www.example/css/site.css")
    assert not more
    assert dict((u, k) for k, u in found) == {
        "https://www.example/css/base.css": STYLESHEET,
        "https://www.example/css/print.css": STYLESHEET,
        "https://www.example/fonts/x.woff2": FONT,
        "https://www.example/fonts/x.ttf": FONT,  # an empty query is dropped
        "https://www.example/css/img/a.png": IMAGE,
        "https://cdn.example/c.cur": IMAGE,
    }
    assert [r for r, _ in css_references("@import url('x.css');")] == ["x.css"]  # once


def test_bounds_and_hostile_input_stay_fast() -> None:
    many = "".join(f'<img src="/i{n}.png">' for n in range(MAX_RESOURCES + 10))
    found, more = extract_resources(many, "http://h.example/")
    assert more and len(found) == MAX_RESOURCES
    started = time.monotonic()
    for hostile in ("<!--" * 200_000, "<script" * 100_000, "/*" * 200_000, "url(" * 200_000):
        extract_resources(hostile, "http://h.example/")
        extract_css(hostile, "http://h.example/s.css")
        extract_resources(f"<style>{hostile}</style>", "http://h.example/")
    assert time.monotonic() - started < 10


def test_unparseable_references_are_left_out() -> None:
    html = (
        '<img src="http://[::1"><img src="https://user@h.example/x.png">'
        '<img src="ftp://h.example/x.png"><img src="  /ok.png  "><script src=""></script>'
    )
    found, _ = extract_resources(html, "http://h.example/")
    assert found == ((IMAGE, "http://h.example/ok.png"),)
