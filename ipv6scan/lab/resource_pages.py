"""Pages of the web.resources scenarios (data only; websites.py makes them sites, and
scenarios.py publishes their names).

Every page declares 20 sub-resources (style sheet, icon, scripts, fonts, images, one
level of url() in its own style sheet), on hosts with and without IPv6:
- resources.example: all 20 load over IPv6 (pass);
- resmost.example: 19, the 20th is a script on cdn4, which has no AAAA (warn at 0.9);
- resfew.example: 2, the other 18 on cdn4 and ads4, which have no AAAA (fail);
- www.resources.example declares none (skip).
cdn6 (AAAA and A) and cdn4/ads4 (A only) serve the same files, so every page is whole
over IPv4.
"""

from __future__ import annotations

CDN6 = "cdn6.resources.example"
CDN4 = "cdn4.resources.example"
ADS4 = "ads4.resources.example"
HOSTS_WITHOUT_IPV6 = (CDN4, ADS4)
DECLARED = 20  # sub-resources of each page but the bare one


def _page(title: str, head: str = "", body: str = "") -> str:
    return (
        f"<!doctype html>\n<html lang=zh-CN><head><meta charset=utf-8><title>{title}</title>\n"
        f"{head}</head>\n<body>\n<h1>{title}</h1>\n<p>{title} is a site of the ipv6scan lab."
        f"</p>\n{body}</body></html>\n"
    )


def _scripts(host: str, first: int, count: int) -> str:
    return "".join(
        f'<script src="https://{host}/js/{n}.js"></script>\n' for n in range(first, first + count)
    )


def _images(host: str, first: int, count: int) -> str:
    # protocol-relative, as CDN snippets are written; srcset for half of them
    return "".join(
        f'<img src="//{host}/img/{n}.png" srcset="//{host}/img/{n}.png 1x" alt="">\n'
        for n in range(first, first + count)
    )


CDN_FILES: dict[str, str] = {
    **{f"js/{n}.js": f"/* script {n} */\n" for n in range(1, DECLARED + 1)},
    **{f"img/{n}.png": f"image {n}\n" for n in range(1, DECLARED + 1)},
    "fonts/lab.woff2": "font\n",
}

# pass: own style sheet (+2 from its url()), icon and logo, 6 scripts and 9 images on cdn6
ALL_PAGES: dict[str, str] = {
    "index.html": _page(
        "Resources Example",
        '<link rel="stylesheet" href="/site.css">\n<link rel="icon" href="/favicon.ico">\n'
        + _scripts(CDN6, 1, 6),
        '<img src="/img/logo.png" alt="logo">\n' + _images(CDN6, 1, 9),
    ),
    "site.css": (
        f"@font-face {{ font-family: Lab; src: url(https://{CDN6}/fonts/lab.woff2) }}\n"
        'body { background: url("img/bg.png") }\n'
    ),
    "favicon.ico": "icon\n",
    "img/logo.png": "logo\n",
    "img/bg.png": "background\n",
}
NONE_PAGES: dict[str, str] = {"index.html": _page("No resources", body="<p>Text only.</p>\n")}
# warn: 19 on cdn6, the analytics script on cdn4
MOST_PAGES: dict[str, str] = {
    "index.html": _page(
        "Resmost Example",
        _scripts(CDN6, 1, 9) + f'<script src="http://{CDN4}/js/20.js"></script>\n',
        _images(CDN6, 1, 10),
    )
}
# fail: 2 on cdn6, 18 on cdn4 and ads4
FEW_PAGES: dict[str, str] = {
    "index.html": _page(
        "Resfew Example",
        _scripts(CDN6, 1, 2) + _scripts(CDN4, 1, 9),
        _images(ADS4, 1, 9),
    )
}
