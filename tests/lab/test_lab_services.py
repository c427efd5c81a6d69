"""The lab's web, mail and network scenarios behave as scenarios.py says, seen from the client.

Every probe here runs inside a lab namespace (Lab.http/smtp/tcp/echo run
ipv6scan.lab.svcprobe under `ip netns exec`), never from the host's namespace.
"""

from __future__ import annotations

import ipaddress
import json
import subprocess
import sys
import time

import pytest

from ipv6scan.lab import Lab, mailhosts, webserver
from ipv6scan.lab import scenarios as sc
from ipv6scan.lab import topology as t
from ipv6scan.lab import websites as w

pytestmark = pytest.mark.lab

WEB_CN = webserver.WEB_CERT_CN


def _v(name: str, version: int) -> str:
    return next(a for a in sc.addresses(name) if (":" in a) == (version == 6))


def _get(lab: Lab, name: str, version: int, port: int = 80, path: str = "/", **kw) -> dict:
    return lab.http(lab.client_ns, _v(name, version), port, name, path, tls=port == 443, **kw)


# ------------------------------------------------------------------ web


@pytest.mark.parametrize("site", [s for s in w.SITES if s.server == "nginx"], ids=lambda s: s.key)
def test_every_site_listens_where_the_table_says(lab: Lab, site: w.Site) -> None:
    wanted = {
        (address, port): "open" if port in ports else "refused"
        for version, ports in ((6, site.ports6), (4, site.ports4))
        for address in site.addresses(version)
        for port in (80, 443)
    }
    requests = [{"op": "tcp", "address": a, "port": p} for a, p in wanted]
    got = [r["result"] for r in lab.probes(lab.client_ns, requests)]
    assert dict(zip(wanted, got, strict=True)) == wanted


def _req(name: str, version: int, port: int = 80, path: str = "/") -> dict:
    return {"op": "http", "address": _v(name, version), "port": port, "host": name,
            "path": path, "tls": port == 443}  # fmt: skip


def test_good_serves_the_same_pages_on_both_families_and_ports(lab: Lab) -> None:
    requests = [_req(name, version, port, path)
                for name in ("good.example", "www.good.example") for version in (6, 4)
                for port in (80, 443) for path in ("/", "/about.html", "/news/")]  # fmt: skip
    bodies = set()
    for request, got in zip(requests, lab.probes(lab.client_ns, requests), strict=True):
        assert got["status"] == 200, (request, got)
        if request["path"] == "/":
            bodies.add(got["body"])
    assert len(bodies) == 1
    assert 'href="https://good.example/about.html"' in bodies.pop()


def test_https_needs_sni_for_the_site_certificate(lab: Lab) -> None:
    with_sni = _get(lab, "good.example", 6, 443)
    assert with_sni["cert"]["subject"] == f"CN={WEB_CN}"
    assert "good.example" in with_sni["cert"]["san"]
    assert "xn--bcher-kva.example" in with_sni["cert"]["san"]
    without = _get(lab, "good.example", 6, 443, sni=False)
    assert without["cert"]["subject"] == f"CN={webserver.DEFAULT_CERT_NAME}"
    # Same certificate on both families.
    assert _get(lab, "good.example", 4, 443)["cert"] == with_sni["cert"]


def test_v6diff_serves_another_page_on_ipv6(lab: Lab) -> None:
    v6, v4 = _get(lab, "v6diff.example", 6), _get(lab, "v6diff.example", 4)
    assert v6["status"] == v4["status"] == 200
    assert "This domain is parked" in v6["body"] and "V6diff Corporation" in v4["body"]


def test_v6redirect_points_at_an_ipv4_only_host(lab: Lab) -> None:
    for version in (6, 4):
        for port in (80, 443):
            got = _get(lab, "v6redirect.example", version, port)
            assert got["status"] == 301
            assert got["headers"]["Location"] == "http://v4host.v6redirect.example/"
    assert sc.records("v4host.v6redirect.example", "AAAA") == []
    assert _get(lab, "v4host.v6redirect.example", 4)["status"] == 200


def test_nov6listen_refuses_on_ipv6_and_serves_on_ipv4(lab: Lab) -> None:
    address = _v("nov6listen.example", 6)
    assert {lab.tcp(lab.client_ns, address, p)["result"] for p in (80, 443)} == {"refused"}
    assert _get(lab, "nov6listen.example", 4)["status"] == 200
    assert _get(lab, "nov6listen.example", 4, 443)["status"] == 200


def test_links_page_has_ten_links_of_which_seven_work_over_ipv6(lab: Lab) -> None:
    body = _get(lab, "links.example", 6)["body"]
    assert all(f'href="{url}"' in body for url in w.LINK_URLS)
    working = []
    for url in w.LINK_URLS:
        host = url.split("/")[2]
        port = 443 if url.startswith("https") else 80
        v6 = [a for a in sc.addresses(host) if ":" in a]
        status = (
            lab.http(lab.client_ns, v6[0], port, host, tls=port == 443)["status"] if v6 else None
        )
        if status is not None and status < 400:
            working.append(url)
        v4 = lab.http(lab.client_ns, _v(host, 4), port, host, tls=port == 443)
        assert v4["status"] == 200, url  # every link works over IPv4
    assert len(working) == 7
    assert sorted(set(w.LINK_URLS) - set(working)) == sorted(w.FAILING_LINKS)


def test_v6no443_closes_https_on_ipv6_only(lab: Lab) -> None:
    assert lab.tcp(lab.client_ns, _v("v6no443.example", 6), 443)["result"] == "refused"
    assert _get(lab, "v6no443.example", 6)["status"] == 200
    assert _get(lab, "v6no443.example", 4, 443)["status"] == 200


@pytest.mark.parametrize("version", [6, 4])
def test_trickle_starts_at_once_but_never_finishes_in_time(lab: Lab, version: int) -> None:
    got = _get(lab, "trickle.example", version, timeout=1.5)
    assert got["status"] is None and "Timeout" in got["error"], got
    assert got["ttfb_ms"] < 500  # bytes do flow: a per-read timeout alone would never fire


def test_huge_page_is_far_larger_than_any_body_bound(lab: Lab) -> None:
    for version in (6, 4):
        for port in (80, 443):
            got = _get(lab, "huge.example", version, port)
            assert got["status"] == 200 and got["error"] is None, got
            assert int(got["headers"]["Content-Length"]) == w.HUGE_SIZE


def test_slow6_is_slow_on_ipv6_only(lab: Lab) -> None:
    for port in (80, 443):
        got = lab.probes(lab.client_ns, [_req("slow6.example", v, port) for v in (6, 4) * 3])
        v6, v4 = got[0::2], got[1::2]
        assert all(r["status"] == 200 for r in v6 + v4)
        assert v6[0]["body"] == v4[0]["body"]
        assert min(r["ttfb_ms"] for r in v6) >= w.RELAY_DELAY * 1000
        assert max(r["ttfb_ms"] for r in v4) < 50


def test_operator_portal_and_support_serve(lab: Lab) -> None:
    for name in ("portal.operator.example", "support.operator.example"):
        for version in (6, 4):
            assert _get(lab, name, version, 443)["status"] == 200


# ------------------------------------------------------------------ mail


@pytest.mark.parametrize(
    ("host", "address"),
    [(h, a) for h, addresses in mailhosts.mail_hosts().items() for a in addresses],
    ids=lambda x: x,
)
def test_greeters(lab: Lab, host: str, address: str) -> None:
    got = lab.smtp(lab.client_ns, address)
    mode = mailhosts.mode(host, address)
    if mode is None:
        assert "ConnectionRefused" in got["error"], got
        return
    code = "220" if mode == "greet" else "554"
    assert got["greeting"].startswith(f"{code} ") and host in got["greeting"], got
    assert got["quit"].startswith("221"), got


# ------------------------------------------------------------------ network


def _router_hops(dest: str) -> list[str]:
    """What each hop toward the backbone should answer from: each router's address on
    the link toward the client, then the destination."""
    return [t.addr(t.link(2).a6), t.addr(t.link(4).b6), t.addr(t.link(5).b6),
            t.addr(t.link(6).b6), dest]  # fmt: skip


def test_hop_limits_decrement_at_every_router(lab: Lab) -> None:
    expected = _router_hops(t.CORE_OK6)
    for hop, responder in enumerate(expected, start=1):
        got = lab.echo(lab.client_ns, t.CORE_OK6, hop_limit=hop)
        kind = "reply" if hop == len(expected) else "time-exceeded"
        assert (got["kind"], got["responder"]) == (kind, responder), (hop, got)


def test_one_router_is_silent_toward_one_destination_only(lab: Lab) -> None:
    silent = lab.echo(lab.client_ns, t.CORE_QUIET6, hop_limit=3, timeout=0.5)
    assert silent["kind"] == "timeout", silent
    assert lab.echo(lab.client_ns, t.CORE_QUIET6, hop_limit=4)["kind"] == "time-exceeded"
    assert lab.echo(lab.client_ns, t.CORE_QUIET6)["kind"] == "reply"
    assert lab.echo(lab.client_ns, t.CORE_OK6, hop_limit=3)["kind"] == "time-exceeded"


def test_one_destination_drops_echo_but_the_path_answers(lab: Lab) -> None:
    assert lab.echo(lab.client_ns, t.CORE_DROP6, timeout=0.5)["kind"] == "timeout"
    assert lab.echo(lab.client_ns, t.CORE_DROP6, hop_limit=4)["kind"] == "time-exceeded"
    assert lab.tcp(lab.client_ns, t.CORE_DROP6, 80)["result"] == "refused"  # it is there


def test_many_time_exceeded_at_once_are_not_rate_limited(lab: Lab) -> None:
    # A scan traces many paths at once; the routers must answer every expiring probe.
    script = (
        "import json, sys\nfrom concurrent.futures import ThreadPoolExecutor\n"
        "from ipv6scan.lab.svcprobe import echo\n"
        "with ThreadPoolExecutor(40) as pool:\n"
        f"    got = list(pool.map(lambda _: echo({t.CORE_OK6!r}, 2, 1.0)['kind'], range(40)))\n"
        "print(json.dumps(got))\n"
    )
    proc = lab.run(lab.client_ns, [sys.executable, "-c", script], capture_output=True,
                   text=True, check=True)  # fmt: skip
    assert json.loads(proc.stdout) == ["time-exceeded"] * 40


def test_router_loopbacks_answer(lab: Lab) -> None:
    for v6, _ in t.ROUTER_LOOPBACKS.values():
        assert lab.echo(lab.client_ns, v6)["kind"] == "reply", v6


def test_web_and_mail_hosts_answer_echo(lab: Lab) -> None:
    for name in ("good.example", "mail.good.example"):
        got = lab.echo(lab.client_ns, _v(name, 6))
        assert (got["kind"], got["responder"]) == ("reply", _v(name, 6))


def test_client4_cannot_reach_the_backbone_over_ipv6(lab: Lab) -> None:
    got = lab.run(lab.client4_ns, [sys.executable, "-c", "import socket; s=socket.socket("
                  f"socket.AF_INET6, socket.SOCK_DGRAM); s.connect(({t.CORE_OK6!r}, 9))"],
                  capture_output=True, text=True)  # fmt: skip
    assert got.returncode != 0 and "unreachable" in got.stderr.lower(), got.stderr


# ------------------------------------------------------------------ scope safety


def test_canary_records_a_connection_to_the_clients_loopback(lab: Lab) -> None:
    before = time.time()
    for address in t.CANARY_ADDRESSES:
        for port in t.CANARY_PORTS:
            assert lab.tcp(lab.client_ns, address, port)["result"] == "open"
    time.sleep(0.1)  # the canary logs after accept
    hits = lab.canary_hits(since=before)
    seen = {(h["local"][0], h["local"][1]) for h in hits}
    assert seen == {(a, p) for a in t.CANARY_ADDRESSES for p in t.CANARY_PORTS}


def test_every_lab_address_is_a_documentation_or_loopback_address(lab: Lab) -> None:
    allowed = [ipaddress.ip_network(p) for p in t.ALLOW_PREFIXES]
    for ns in lab.namespaces:
        proc = lab.run(ns, ["ip", "-j", "addr", "show"], capture_output=True, text=True)
        for iface in json.loads(proc.stdout):
            for info in iface.get("addr_info", []):
                ip = ipaddress.ip_address(info["local"])
                if ip.is_loopback or ip.is_link_local:
                    continue
                assert any(ip in net for net in allowed if net.version == ip.version), (ns, ip)


def test_servers_are_tracked(lab: Lab) -> None:
    assert {"nsd-main", "unbound", "nginx", "trickle", "relay6", "smtp", "canary"} <= set(
        lab.server_pids
    )


def test_full_targets_file_validates(lab: Lab) -> None:
    # `validate` reads the file only: no network, so it may run in the host's namespace.
    proc = subprocess.run(
        [sys.executable, "-m", "ipv6scan", "validate", str(lab.full_targets_file)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
