"""Scope safety (issue 3 item 6): addresses a zone or a target list aims at the scanner's
own host, or at private ranges, are never probed, and the results say so.

scope.example publishes AAAA ::1, a ULA, a link-local and ::ffff:127.0.0.1, A 127.0.0.1
and a private 10.x, and an MX at ::1; the Lab Operator's backbone lists
`address: "::1"`. A canary in the client namespace (where the scanner runs)
listens on that namespace's own ::1 and 127.0.0.1, ports 80, 443 and 25, and
logs every connection. ICMP to ::1 cannot be caught by a TCP listener: for the
ping and trace of ::1 the results must say "not probed" instead.
"""

from __future__ import annotations

import ipaddress
import json
import re
from pathlib import Path
from typing import Any

import pytest

from ipv6scan.lab import Lab
from ipv6scan.lab import scenarios as sc
from ipv6scan.lab.scanrun import ScanRun

CHECKS = "dns,web,mail,net,resolver"

pytestmark = pytest.mark.lab

TARGETS = (sc.SCOPE_ZONE, "nonglobal.example", sc.OPERATOR_NAME)
NOT_PROBED = re.compile(r"not[ _-]?probed", re.IGNORECASE)
# The checks that look at a subject's addresses one by one: each must list the
# non-global IPv6 addresses it left alone.
ADDRESS_CHECKS = ("web.reachable", "mail.smtp", "net.ping", "net.trace")


@pytest.fixture(scope="module")
def scope_run(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> ScanRun:
    out = tmp_path_factory.mktemp("scan-scope")
    targets = lab.write_targets(out.parent / "scope-targets.yaml", TARGETS, full=True)
    run = lab.scan(lab.client_ns, targets, out, checks=CHECKS, timeout=2.0)
    assert run.returncode == 0, run.argv
    return run


def _get(run: ScanRun, target: str, subject: str, check: str) -> dict[str, Any]:
    try:
        return run.get(target, subject, check)
    except KeyError as exc:
        pytest.fail(str(exc))


def _text(record: dict[str, Any]) -> str:
    return record["detail"] + " " + json.dumps(record["evidence"], ensure_ascii=False)


def _mentions(text: str, address: str) -> bool:
    ip = ipaddress.ip_address(address)
    forms = {address, ip.compressed, ip.exploded}
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        forms.add(f"::ffff:{ip.ipv4_mapped}")
    return any(form in text for form in forms)


def test_nothing_connected_to_the_canary(lab: Lab, scope_run: ScanRun) -> None:
    assert lab.canary_hits(scope_run.started - 1, scope_run.ended + 1) == []


def test_scope_subjects_never_pass(scope_run: ScanRun) -> None:
    records = [r for r in scope_run.records if r["target"] == sc.SCOPE_ZONE]
    assert {r["check"].split(".")[0] for r in records} >= {"dns", "mail", "net"}
    # Its name servers are fine (ns1/ns2), and so is the chain down to them (dns.delegation):
    # only the checks of its own addresses count.
    name_servers = ("dns.ns_ipv6", "dns.ns_reachable", "dns.delegation")
    for record in (r for r in records if r["check"] not in name_servers):
        assert record["status"] not in ("pass", "warn"), record


# mail.smtp looks at the domain's MX hosts, so it has no www subject.
CASES = [(subject, check) for subject in sorted(sc.NOT_PROBED) for check in ADDRESS_CHECKS
         if check != "mail.smtp" or subject == sc.SCOPE_ZONE]  # fmt: skip


@pytest.mark.parametrize(("subject", "check"), CASES, ids=lambda x: x)
def test_non_global_addresses_are_reported_not_probed(
    scope_run: ScanRun, subject: str, check: str
) -> None:
    domain_check = check == "mail.smtp"
    record = _get(scope_run, sc.SCOPE_ZONE, subject, check)
    text = _text(record)
    assert NOT_PROBED.search(text), text[:3000]
    wanted = ["::1"] if domain_check else sc.NOT_PROBED[subject]
    missing = [a for a in wanted if ":" in a and not _mentions(text, a)]
    assert not missing, f"{check} {subject}: {missing} not reported; {text[:3000]}"


@pytest.mark.parametrize("check", ["net.ping", "net.trace"])
def test_hostile_loopback_entry_is_never_pinged(scope_run: ScanRun, check: str) -> None:
    record = _get(scope_run, sc.OPERATOR_NAME, sc.HOSTILE_ADDRESS, check)
    assert record["status"] not in ("pass", "warn"), record
    assert record["tier"] == "backbone"
    assert NOT_PROBED.search(_text(record)), _text(record)
    # Nothing was sent: no echo results, no hops.
    evidence = record["evidence"]
    assert not evidence.get("pings") and not evidence.get("hops"), evidence


def test_nonglobal_www_is_probed_on_its_global_address_only(scope_run: ScanRun) -> None:
    record = _get(scope_run, "nonglobal.example", "www.nonglobal.example", "net.ping")
    assert record["status"] == "pass"
    pinged = [p["address"] for p in record["evidence"]["pings"]]
    assert pinged == [a for a in sc.addresses("www.nonglobal.example") if a.startswith("2001:")]


def test_target_file_carries_the_hostile_entry(lab: Lab, tmp_path: Path) -> None:
    text = lab.write_targets(tmp_path / "t.yaml", (sc.OPERATOR_NAME,), full=True).read_text()
    assert "address: ::1" in text or "address: '::1'" in text, text
