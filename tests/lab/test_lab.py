"""The namespace lab itself: real servers answer as the scenarios say, teardown is complete.

Every DNS query here is sent from inside a lab namespace (Lab.query runs a
dnspython probe under `ip netns exec`), never from the host's namespace.
"""

from __future__ import annotations

import ipaddress
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from ipv6scan.lab import Lab, lab_unavailable_reason
from ipv6scan.lab import lab as lab_module
from ipv6scan.lab import netns as n
from ipv6scan.lab import scenarios as sc
from ipv6scan.lab import topology as t
from ipv6scan.lab.process import descendants, pid_alive

pytestmark = pytest.mark.lab

# Unbound must settle lame and dead delegations well inside the scanner's 3 s probe timeout.
FAST_MS = 1500
UP_SECONDS = 10.0


def _answers(result: dict, rdtype: str) -> list[str]:
    return [line.split()[-1] for line in result.get("answer", []) if f" {rdtype} " in line]


def _netns_list() -> str:
    return subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout


@pytest.mark.parametrize("resolver", ["resolver6", "resolver4"])
def test_resolves_good_aaaa(lab: Lab, resolver: str) -> None:
    result = lab.query(lab.client_ns, getattr(lab, resolver), "www.good.example", "AAAA")
    assert result["rcode"] == "NOERROR", result
    assert _answers(result, "AAAA") == ["2001:db8:80:1::10"], result


def test_client_uses_lab_resolver_by_default(lab: Lab) -> None:
    conf = lab.run(lab.client_ns, ["cat", "/etc/resolv.conf"], capture_output=True, text=True)
    assert f"nameserver {lab.resolver6}" in conf.stdout
    assert f"nameserver {lab.resolver4}" in conf.stdout
    conf4 = lab.run(lab.client4_ns, ["cat", "/etc/resolv.conf"], capture_output=True, text=True)
    assert [ln for ln in conf4.stdout.splitlines() if ln.startswith("nameserver")] == [
        f"nameserver {lab.resolver4}"
    ]


def test_cname_chain(lab: Lab) -> None:
    result = lab.query(lab.client_ns, lab.resolver6, "www.cname.example", "AAAA")
    assert result["rcode"] == "NOERROR"
    assert _answers(result, "CNAME") == ["a.cname.example.", "b.cname.example."]
    assert _answers(result, "AAAA") == ["2001:db8:80:2::10"]


@pytest.mark.parametrize("rdtype", ["AAAA", "NS", "MX"])
def test_lame_delegation_servfails_fast(lab: Lab, rdtype: str) -> None:
    result = lab.query(lab.client_ns, lab.resolver6, "lame.example", rdtype, timeout=3)
    assert result["rcode"] == "SERVFAIL", result
    assert result["elapsed_ms"] < FAST_MS


@pytest.mark.parametrize("zone", ["deadns.example", "allnsdead.example", "refused.example"])
def test_dead_name_servers_resolve_fast(lab: Lab, zone: str) -> None:
    # Like the scanner, learn the name servers' AAAA first: only then does Unbound
    # know the silent IPv6 addresses and may pick them.
    for host in sc.scenario(zone).ns:
        lab.query(lab.client_ns, lab.resolver6, host, "AAAA")
    # A fresh name each time: a cached answer would hide a slow iteration.
    for label in ("p1", "p2", "p3", "p4", "@"):
        name = zone if label == "@" else f"{label}.{zone}"
        result = lab.query(lab.client_ns, lab.resolver6, name, "AAAA", timeout=3)
        assert result["rcode"] in ("NOERROR", "NXDOMAIN"), result
        assert result["elapsed_ms"] < FAST_MS, result


@pytest.mark.parametrize("s", [s for s in sc.SCENARIOS if s.served], ids=lambda s: s.zone)
def test_every_served_zone_is_authoritative(lab: Lab, s: sc.Scenario) -> None:
    server = t.NS1_6 if "ns1.dns.example" in s.ns else t.NS4_4
    result = lab.query(lab.client_ns, server, s.zone, "SOA", recursive=False)
    assert result["rcode"] == "NOERROR" and result["aa"], result


def test_lame_server_refuses_and_dead_addresses_are_silent(lab: Lab) -> None:
    refused = lab.query(lab.client_ns, t.LAME6, "refused.example", "SOA", recursive=False)
    assert refused["rcode"] == "REFUSED" and not refused["aa"]
    for silent in t.SILENT:
        result = lab.query(lab.client_ns, silent, "good.example", "SOA", timeout=0.5)
        assert result["rcode"] is None and "Timeout" in result["error"], result
    # Their IPv4 side (nsdead*) is the main NSD and does answer.
    ok = lab.query(lab.client_ns, t.NSDEAD4, "deadns.example", "SOA", recursive=False)
    assert ok["rcode"] == "NOERROR" and ok["aa"]


def test_nonglobal_addresses_are_served_verbatim(lab: Lab) -> None:
    result = lab.query(lab.client_ns, lab.resolver6, "nonglobal.example", "AAAA")
    assert sorted(_answers(result, "AAAA")) == sorted(["::1", "fe80::1", "::ffff:198.51.100.1"])


def test_dns64_synthesizes_under_the_network_specific_prefix(lab: Lab) -> None:
    prefix = ipaddress.ip_network(lab.dns64_prefix)
    result = lab.query(lab.client_ns, lab.dns64_resolver6, "v4only.example", "AAAA")
    synthesized = [ipaddress.ip_address(a) for a in _answers(result, "AAAA")]
    assert synthesized == [ipaddress.ip_address("2001:db8:6464::cb00:711e")], result  # 203.0.113.30
    assert all(a in prefix for a in synthesized)
    # RFC 7050 discovery data, and real AAAA records pass through untouched.
    wka = lab.query(lab.client_ns, lab.dns64_resolver6, "ipv4only.arpa", "AAAA")
    assert sorted(_answers(wka, "AAAA")) == ["2001:db8:6464::c000:aa", "2001:db8:6464::c000:ab"]
    real = lab.query(lab.client_ns, lab.dns64_resolver6, "good.example", "AAAA")
    assert _answers(real, "AAAA") == ["2001:db8:80:1::10"]
    # The plain resolver does not synthesize.
    plain = lab.query(lab.client_ns, lab.resolver6, "v4only.example", "AAAA")
    assert plain["rcode"] == "NOERROR" and _answers(plain, "AAAA") == []


def test_client4_has_no_ipv6_path(lab: Lab) -> None:
    def ip6(*args: str) -> subprocess.CompletedProcess:
        return lab.run(lab.client4_ns, ["ip", "-6", *args], capture_output=True, text=True)

    addresses = ip6("-o", "addr", "show").stdout.splitlines()
    assert addresses and all(line.split()[1] == "lo" for line in addresses), addresses
    routes = ip6("route", "show", "table", "all").stdout.splitlines()
    assert all(" dev lo " in f" {line} " for line in routes), routes
    assert ip6("route", "get", lab.resolver6).returncode != 0
    result = lab.query(lab.client4_ns, lab.resolver6, "good.example", "AAAA", timeout=1)
    assert result["rcode"] is None, result
    v4 = lab.query(lab.client4_ns, lab.resolver4, "good.example", "AAAA")
    assert _answers(v4, "AAAA") == ["2001:db8:80:1::10"]


def test_no_route_outside_the_documentation_prefixes(lab: Lab) -> None:
    for ns in lab.namespaces:
        for family in ("-4", "-6"):
            routes = lab.run(ns, ["ip", family, "route", "show"], capture_output=True, text=True)
            assert "default" not in routes.stdout, (ns, routes.stdout)


def test_targets_file_lists_every_scenario_in_unicode(lab: Lab) -> None:
    text = lab.targets_file.read_text(encoding="utf-8")
    assert "bücher.example" in text and "xn--" not in text
    document = yaml.safe_load(text)
    names = [target["name"] for target in document["targets"]]
    assert names == [s.target_name for s in sc.SCENARIOS]
    operator = next(x for x in document["targets"] if x["name"] == sc.OPERATOR_NAME)
    assert operator["sector"] == "operator"
    assert operator["systems"]["metro"] == [
        {"resolver": lab.resolver6},
        {"resolver": lab.dead_resolver6},
    ]
    assert {row[0] for row in sc.EXPECTED} <= set(names)
    full = yaml.safe_load(lab.full_targets_file.read_text(encoding="utf-8"))
    assert [target["name"] for target in full["targets"]] == names
    systems = next(x for x in full["targets"] if x["name"] == sc.OPERATOR_NAME)["systems"]
    assert set(systems) == {"backbone", "metro", "access", "support"}
    assert {row[0] for row in sc.FULL_EXPECTED} <= set(names)


def _lab_pids(lab: Lab) -> list[int]:
    pids = list(lab.server_pids.values())
    for pid in lab.server_pids.values():
        pids += [child for child, _ in descendants(pid)]
    return pids


def test_teardown_is_complete_and_leaves_other_labs_alone(lab: Lab, tmp_path: Path) -> None:
    second = Lab(tmp_path / "second")
    assert second.prefix != lab.prefix
    try:
        started = time.monotonic()
        second.up()
        # The whole lab (ten namespaces, nine servers) must stay quick to bring up.
        assert time.monotonic() - started < UP_SECONDS, second.timings
        assert set(second.namespaces).isdisjoint(lab.namespaces)
        result = second.query(second.client_ns, second.resolver6, "good.example", "AAAA")
        assert _answers(result, "AAAA") == ["2001:db8:80:1::10"]
        pids = _lab_pids(second)
        assert len(pids) >= 4
        assert (n.ETC_NETNS / second.client_ns / "resolv.conf").is_file()
        assert (n.ETC_NETNS / second.client4_ns / "resolv.conf").is_file()
    finally:
        started = time.monotonic()
        second.down()
        assert time.monotonic() - started < UP_SECONDS
    second.down()  # idempotent
    listed = _netns_list()
    assert second.prefix not in listed
    assert not [pid for pid in pids if pid_alive(pid)]
    assert not any((n.ETC_NETNS / ns).exists() for ns in second.namespaces)
    # The session lab is untouched.
    assert all(ns in listed for ns in lab.namespaces)
    again = lab.query(lab.client_ns, lab.resolver6, "good.example", "AAAA")
    assert again["rcode"] == "NOERROR"


def test_failed_start_cleans_up(lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(workdir: Path, dns_ns: str) -> list:
        raise RuntimeError("simulated failure halfway through up()")

    monkeypatch.setattr(lab_module.dnsservers, "prepare", broken)
    half = Lab(tmp_path / "half")
    with pytest.raises(RuntimeError, match="simulated"):
        half.up()
    assert half.prefix not in _netns_list()
    assert not any((n.ETC_NETNS / ns).exists() for ns in half.namespaces)
    half.down()  # still fine after the automatic cleanup


def test_unavailable_reason_is_none_here(lab: Lab) -> None:
    # The fixture only yields a lab when this holds; guards the fixture's logic.
    assert lab_unavailable_reason() is None
