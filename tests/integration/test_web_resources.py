"""web.resources through the real CLI in the namespace lab (issue 18, item 2).

The pages of lab/resource_pages.py declare 20 sub-resources each on lab hosts with and
without AAAA: all load over IPv6 (pass), 19 (warn), 2 (fail); a page of text only
declares none (skip); and the scanner without an IPv6 path cannot decide (error).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ipv6scan.lab import Lab
from ipv6scan.lab import resource_pages as rp
from ipv6scan.lab.scanrun import ScanRun

pytestmark = pytest.mark.lab

TARGETS = ("resources.example", "resmost.example", "resfew.example")
CHECK = "web.resources"


def _run(lab: Lab, ns: str, out: Path) -> ScanRun:
    targets = lab.write_targets(out.parent / f"{out.name}-targets.yaml", TARGETS)
    run = lab.scan(ns, targets, out, checks=CHECK, timeout=2.0)
    assert run.returncode in (0, 1), run.argv
    return run


@pytest.fixture(scope="module")
def dual(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> ScanRun:
    return _run(lab, lab.client_ns, tmp_path_factory.mktemp("resources-dual"))


def _record(run: ScanRun, target: str, subject: str | None = None) -> dict[str, Any]:
    return run.get(target, subject or target, CHECK)


def test_all_resources_on_ipv6_pass(dual: ScanRun) -> None:
    record = _record(dual, "resources.example")
    ev = record["evidence"]
    assert record["status"] == "pass", record["detail"]
    assert ev["resources_ok"] == rp.DECLARED and ev["resources_failed"] == 0
    assert ev["hosts_without_ipv6"] == []
    hosts = {h["host"]: h for h in ev["hosts"]}
    assert hosts[rp.CDN6]["ipv6"] is True and hosts["resources.example"]["ipv6"] is True
    # one level of url() in the page's own style sheet: its font and its background
    assert ev["kinds"]["font"] == {"checked": 1, "ok": 1, "unchecked": 0}
    assert ev["resources_found"] == rp.DECLARED - 2


def test_most_resources_on_ipv6_warn_and_name_the_host(dual: ScanRun) -> None:
    record = _record(dual, "resmost.example")
    ev = record["evidence"]
    assert record["status"] == "warn", record["detail"]
    assert ev["resources_ok"] == rp.DECLARED - 1 and ev["share"] == 0.95
    assert ev["hosts_without_ipv6"] == [rp.CDN4]
    assert rp.CDN4 in record["detail"]
    assert ev["failing"] == [
        {
            "url": f"http://{rp.CDN4}/js/20.js",
            "kind": "script",
            "reason": ev["failing"][0]["reason"],
        }
    ]
    assert "no AAAA" in ev["failing"][0]["reason"]


def test_few_resources_on_ipv6_fail(dual: ScanRun) -> None:
    record = _record(dual, "resfew.example")
    ev = record["evidence"]
    assert record["status"] == "fail", record["detail"]
    assert ev["resources_ok"] == 2 and ev["resources_failed"] == rp.DECLARED - 2
    assert sorted(ev["hosts_without_ipv6"]) == sorted(rp.HOSTS_WITHOUT_IPV6)
    assert {h["host"]: h["resources"] for h in ev["hosts"] if h["ipv6"] is False} == {
        rp.CDN4: 9,
        rp.ADS4: 9,
    }


def test_a_page_that_declares_none_is_skipped(dual: ScanRun) -> None:
    record = _record(dual, "resources.example", "www.resources.example")
    assert record["status"] == "skip", record["detail"]
    assert "declares no sub-resources" in record["detail"]


def test_without_an_ipv6_path_the_scanner_cannot_decide(
    lab: Lab, tmp_path_factory: pytest.TempPathFactory
) -> None:
    run = _run(lab, lab.client4_ns, tmp_path_factory.mktemp("resources-v4only"))
    for target in TARGETS:
        record = _record(run, target)
        assert record["status"] == "error", record["detail"]
        assert "no IPv6 path" in record["detail"]
