"""dns.delegation through the real CLI in the namespace lab: a chain broken in the middle
(an IPv4-only middle zone between the TLD and a leaf whose own servers have IPv6), a clean
three-cut chain, a name that does not exist (skip), and a scanner without IPv6 (error).
The chains are in ipv6scan/lab/chain.py; the middle zones are on an NSD of their own."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from ipv6scan.lab import Lab
from ipv6scan.lab import chain as ch
from ipv6scan.lab import topology as t
from ipv6scan.lab.scanrun import ScanRun

pytestmark = pytest.mark.lab

CHECK = "dns.delegation"
DOMAINS = (ch.LEAF_BROKEN, ch.LEAF_CLEAN, ch.MISSING, "good.example")


def _targets(path: Path, domains: tuple[str, ...]) -> Path:
    targets = [{"name": d, "sector": "government", "domains": [d]} for d in domains]
    document = {"version": 1, "name": "delegation chains", "targets": targets}
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def _scan(lab: Lab, ns: str, out: Path) -> ScanRun:
    run = lab.scan(ns, _targets(out.parent / f"{out.name}.yaml", DOMAINS), out,
                   checks="dns", timeout=2)  # fmt: skip
    assert run.returncode == 0, run.argv
    return run


@pytest.fixture(scope="module")
def run(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> ScanRun:
    return _scan(lab, lab.client_ns, tmp_path_factory.mktemp("delegation"))


@pytest.fixture(scope="module")
def ipv4_only_run(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> ScanRun:
    return _scan(lab, lab.client4_ns, tmp_path_factory.mktemp("delegation-v4"))


def _record(run: ScanRun, domain: str, check: str = CHECK) -> dict[str, Any]:
    return run.get(domain, domain, check)


def _status(record: dict[str, Any], expected: str) -> None:
    assert record["status"] == expected, (
        f"{record['check']} {record['subject']}: {record['status']}: {record['detail']!r}; "
        f"{json.dumps(record['evidence'])[:3000]}"
    )


def _zones(record: dict[str, Any]) -> list[str]:
    return [cut["zone"] for cut in record["evidence"]["chain"]]


def test_a_chain_broken_in_the_middle_fails_naming_the_middle_zone(run: ScanRun) -> None:
    record = _record(run, ch.LEAF_BROKEN)
    _status(record, "fail")
    assert ch.MIDDLE_V4 in record["detail"]
    assert _zones(record) == ["example", ch.MIDDLE_V4]
    middle = record["evidence"]["chain"][1]
    assert middle["from"] == "referral"  # the TLD's servers referred; they do not serve it
    assert [s["host"] for s in middle["name_servers"]] == [ch.NSMID4]
    assert middle["ipv6_ok"] is False and middle["answers"] == []


def test_the_broken_leafs_own_name_servers_still_pass(run: ScanRun) -> None:
    # dns.ns_ipv6 and dns.ns_reachable look at the leaf's own servers only: they pass
    _status(_record(run, ch.LEAF_BROKEN, "dns.ns_ipv6"), "pass")
    _status(_record(run, ch.LEAF_BROKEN, "dns.ns_reachable"), "pass")


def test_a_clean_chain_of_three_cuts_passes(run: ScanRun) -> None:
    record = _record(run, ch.LEAF_CLEAN)
    _status(record, "pass")
    assert _zones(record) == ["example", ch.MIDDLE_V6, ch.LEAF_CLEAN]
    cuts = record["evidence"]["chain"]
    assert [c["from"] for c in cuts] == ["resolver", "referral", "referral"]
    middle = cuts[1]["name_servers"][0]
    assert middle["glue"] is True  # nsmid6.dns.example is under example: glue AAAA
    assert middle["answered"] == [a["address"] for a in middle["addresses"]]
    for cut in cuts:
        assert cut["ipv6_ok"] is True
        assert all(a["authoritative"] and a["soa"] for a in cut["answers"]), cut


def test_a_domain_straight_under_the_tld_passes(run: ScanRun) -> None:
    record = _record(run, "good.example")
    _status(record, "pass")
    assert _zones(record) == ["example", "good.example"]


def test_a_name_that_does_not_exist_is_skipped(run: ScanRun) -> None:
    record = _record(run, ch.MISSING)
    _status(record, "skip")
    assert "NXDOMAIN" in record["detail"]


def test_no_ipv6_path_is_an_error_never_a_verdict_on_the_chain(ipv4_only_run: ScanRun) -> None:
    for domain in DOMAINS:
        record = _record(ipv4_only_run, domain)
        _status(record, "error")
        assert "no IPv6 path" in record["detail"]


# ------------------------------------------------------------------ cost on 1,000 domains

COUNTED = (t.NS1_6, t.NS2_6, t.NSMID6_6)  # the name servers the walks ask directly
COUNT_TABLE = "dnsdelegationcount"  # an nft table of this test's own, in the dns namespace


def _nft(lab: Lab, *args: str) -> str:
    proc = lab.run(lab.dns_ns, ["nft", *args], capture_output=True, text=True, check=True)
    return proc.stdout


def test_the_cache_keeps_a_domain_to_a_few_queries_beyond_the_shared_cuts(
    lab: Lab, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # Given 1,000 domains under example -> chain6.example -> leaf.chain6.example, each a
    # zone cut of its own, and a counter of the questions that reach the name servers
    # from outside the dns namespace (the scanner's; the lab resolver's own are local)
    out = tmp_path_factory.mktemp("delegation-bench")
    targets = _targets(out.parent / "delegation-bench.yaml", ch.BENCH_DOMAINS)
    addresses = ", ".join(COUNTED)
    _nft(lab, "add", "table", "inet", COUNT_TABLE)
    try:
        _nft(lab, "add", "chain", "inet", COUNT_TABLE, "input",
             "{ type filter hook input priority -10; policy accept; }")  # fmt: skip
        _nft(lab, "add", "rule", "inet", COUNT_TABLE, "input", "iifname", "eth0",
             "ip6", "daddr", f"{{ {addresses} }}", "udp", "dport", "53", "counter")  # fmt: skip
        # When dns.delegation alone scans them
        run = lab.scan(lab.client_ns, targets, out, checks=CHECK, timeout=2)
        counted = _nft(lab, "list", "table", "inet", COUNT_TABLE)
    finally:
        _nft(lab, "delete", "table", "inet", COUNT_TABLE)
    packets = int(re.search(r"counter packets (\d+)", counted).group(1))  # type: ignore[union-attr]
    records = [r for r in run.records if r["check"] == CHECK]
    # Then every domain has its chain of four cuts
    assert len(records) == len(ch.BENCH_DOMAINS)
    assert all(len(r["evidence"]["chain"]) == 4 for r in records), records[0]
    # And the shared cuts were asked once: one referral and two SOA questions a domain
    # (its cut's two IPv6 name-server addresses), plus the shared cuts' handful
    per_domain = packets / len(ch.BENCH_DOMAINS)
    print(f"\ndns.delegation, 1,000 domains: {run.seconds:.2f} s wall, "
          f"{packets} direct questions, {per_domain:.3f} a domain")  # fmt: skip
    assert per_domain <= 3.05, counted
