"""What each lab web host serves, per address family (data only; webserver.py runs it).

A Site lists host names; it listens on the addresses those names have in the
zone data (scenarios.py) inside the web prefixes, on the ports given per family.
An address with no listener still exists (it is on the web namespace's lo), so
a connection to it is refused at once, never left to time out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ipv6scan.lab import resource_pages as rp
from ipv6scan.lab import scenarios as sc
from ipv6scan.lab import topology as t

BOTH = (80, 443)
HUGE_SIZE = 256 * 1024 * 1024  # bytes of huge.example's home page: far beyond any body bound
RELAY_DELAY = 0.150  # seconds slow6.example's IPv6 relay holds each connection


def page(title: str, text: str, links: tuple[tuple[str, str], ...] = ()) -> str:
    items = "".join(f'    <li><a href="{href}">{label}</a></li>\n' for href, label in links)
    # Enough prose that a similarity measure has something to compare.
    prose = " ".join([text] * 8)
    return (
        f"<!doctype html>\n<html lang=en><head><meta charset=utf-8><title>{title}</title>"
        f"</head>\n<body>\n  <h1>{title}</h1>\n  <p>{prose}</p>\n  <ul>\n{items}  </ul>\n"
        "</body></html>\n"
    )


def plain_pages(title: str) -> dict[str, str]:
    """A home page whose one link (to its own about page) works on both families."""
    return {
        "index.html": page(title, f"Welcome to {title}.", (("/about.html", "About"),)),
        "about.html": page(f"About {title}", f"{title} is a site of the ipv6scan lab."),
    }


GOOD_PAGES: dict[str, str] = {
    "index.html": page(
        "Good Example",
        "Good Example serves the same site over IPv6 and IPv4, on HTTP and HTTPS.",
        (
            ("/about.html", "About"),
            ("https://good.example/about.html", "About, over HTTPS"),
            ("http://www.good.example/", "www"),
            ("/news/", "News"),
            ("mailto:web@good.example", "Write to us"),  # not fetchable: not a link to count
        ),
    ),
    "about.html": page("About Good Example", "A government site that did everything right."),
    "news/index.html": page("News", "Nothing new: everything works over IPv6."),
}

# links.example: ten links, the last three fail over IPv6 (no AAAA; refused; 404).
LINK_URLS: tuple[str, ...] = (
    *(f"http://l{n}.links.example/" for n in range(1, 7)),
    "https://l7.links.example/",
    "http://l8.links.example/",
    "http://l9.links.example/",
    "http://l10.links.example/",
)
FAILING_LINKS: tuple[str, ...] = LINK_URLS[7:]
LINKS_PAGES: dict[str, str] = {
    "index.html": page(
        "Links Example",
        "A portal whose pages link to ten other hosts.",
        tuple((url, f"Link {n}") for n, url in enumerate(LINK_URLS, start=1)),
    )
}

V6DIFF_PAGES: dict[str, str] = plain_pages("V6diff Corporation")
PARKED_PAGES: dict[str, str] = {
    "index.html": page(
        "This domain is parked",
        "Buy this domain now! Cheap hosting, cheap names, call our sales team today.",
    )
}


@dataclass(frozen=True)
class Site:
    key: str  # directory and log name
    names: tuple[str, ...]  # Host / SNI names (IDNA A-labels); listen on their addresses
    pages: dict[str, str] = field(default_factory=dict)
    pages6: dict[str, str] | None = None  # IPv6 serves these instead
    ports6: tuple[int, ...] = BOTH
    ports4: tuple[int, ...] = BOTH
    redirect: str | None = None  # both families answer 301 to this URL
    status6: int | None = None  # IPv6 answers this status, whatever the path
    huge: bool = False  # index.html is HUGE_SIZE bytes (a sparse file)
    delay6: float = 0.0  # IPv6 reaches nginx through the delaying relay
    server: str = "nginx"  # or "trickle" (port 80 only), or a kind of servers/rawhttp.py

    def addresses(self, version: int) -> list[str]:
        found = [a for name in self.names for a in sc.addresses(name)]
        net = t.WEB_NET6 if version == 6 else t.WEB_NET4
        return list(
            dict.fromkeys(a for a in found if (":" in a) == (version == 6) and t.inside(a, net))
        )


_PLAIN_NAMES = (
    "cname.example", "www.cname.example", "a.cname.example", "b.cname.example",
    "v4only.example", "www.v4only.example", "nonglobal.example", "www.nonglobal.example",
    "onens.example", "deadns.example", "allnsdead.example", "refused.example",
    "mixmx.example", "nullmx.example", "xn--bcher-kva.example",
)  # fmt: skip

SITES: tuple[Site, ...] = (
    Site("good", ("good.example", "www.good.example"), GOOD_PAGES),
    Site("plain", _PLAIN_NAMES, plain_pages("A lab site")),
    Site(
        "operator",
        ("operator.example", "portal.operator.example", "support.operator.example"),
        plain_pages("Lab Operator"),
    ),
    Site("nov6listen", ("nov6listen.example",), plain_pages("No IPv6 listener"), ports6=()),
    Site("v6diff", ("v6diff.example",), V6DIFF_PAGES, pages6=PARKED_PAGES),
    Site("v6redirect", ("v6redirect.example",), redirect="http://v4host.v6redirect.example/"),
    Site("v4host", ("v4host.v6redirect.example",), plain_pages("IPv4-only host"), ports4=(80,)),
    Site("links", ("links.example",), LINKS_PAGES),
    # l1-l8 share one address pair; l8 has no AAAA, so it is served on IPv4 only.
    Site("linkhosts", tuple(f"l{n}.links.example" for n in range(1, 9)), plain_pages("A link")),
    Site("l9", ("l9.links.example",), plain_pages("Link 9"), ports6=()),
    Site("l10", ("l10.links.example",), plain_pages("Link 10"), status6=404),
    Site("v6no443", ("v6no443.example",), plain_pages("No HTTPS on IPv6"), ports6=(80,)),
    Site("trickle", ("trickle.example",), server="trickle", ports6=(80,), ports4=(80,)),
    Site("huge", ("huge.example",), huge=True),
    Site("slow6", ("slow6.example",), plain_pages("Slow over IPv6"), delay6=RELAY_DELAY),
    # Served by servers/rawhttp.py (port 80, both families): an ordinary page behind a
    # hostile head, a Server byte that is not UTF-8 or a charset that names no page codec.
    Site("badbyte", ("badbyte.example",), server="badbyte", ports6=(80,), ports4=(80,)),
    Site("idnacharset", ("idnacharset.example",), server="idnacharset", ports6=(80,), ports4=(80,)),
    # web.resources (resource_pages.py): pages whose sub-resources have IPv6, or not
    Site("resall", ("resources.example",), rp.ALL_PAGES),
    Site("resnone", ("www.resources.example",), rp.NONE_PAGES),
    Site("resmost", ("resmost.example",), rp.MOST_PAGES),
    Site("resfew", ("resfew.example",), rp.FEW_PAGES),
    Site("rescdn6", (rp.CDN6,), rp.CDN_FILES),
    Site("rescdn4", rp.HOSTS_WITHOUT_IPV6, rp.CDN_FILES),  # no AAAA: served on IPv4 only
)


def cert_names() -> list[str]:
    """Every name served over HTTPS: the SANs of the lab's web certificate."""
    return list(dict.fromkeys(n for s in SITES if 443 in (*s.ports6, *s.ports4) for n in s.names))
