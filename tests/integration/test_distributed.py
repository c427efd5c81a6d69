"""Distributed scans in the lab (issue 19): a real redis-server, real workers in client
namespaces, the real CLI; compared with a local scan of the same targets."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from ipv6scan.lab import Lab
from ipv6scan.lab import scenarios as sc
from tests.integration import distributed_lab as dl

pytestmark = pytest.mark.lab

BLOCKED_TARGET = "good.example"  # its web address is out of reach from one vantage point
BLOCKED_ADDRESS = sc.records("good.example", "AAAA")[0]


@pytest.fixture(scope="module")
def broker(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with dl.broker(lab, tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture
def workers(lab: Lab, broker: str, tmp_path: Path) -> Iterator[dl.Workers]:
    started = dl.Workers(lab, broker, tmp_path)
    try:
        yield started
    finally:
        started.stop_all()
        dl.redis_cli(lab, "flushdb")  # queues and results of this test only


def _records(out: Path) -> list[dict[str, Any]]:
    lines = (out / "results.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _untimed(value: Any) -> Any:
    """`value` without measured times (ms, rtt ...), which differ from run to run."""
    if isinstance(value, dict):
        return {k: _untimed(v) for k, v in value.items()
                if not (k == "ms" or k.endswith("_ms") or k.startswith("rtt"))}  # fmt: skip
    if isinstance(value, list):
        return [_untimed(v) for v in value]
    return value


def _comparable(records: list[dict[str, Any]]) -> Counter[str]:
    """Each record without its times: a Counter, so a doubled record shows."""
    return Counter(json.dumps(_untimed(r), sort_keys=True) for r in records)


def _run(
    lab: Lab, argv: list[str], env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(lab.netns_argv(lab.client_ns, argv), cwd=dl.REPO,
                          env=env or dl.env(), capture_output=True, text=True, timeout=400,
                          check=False)  # fmt: skip


def test_broker_scan_equals_local_scan(lab: Lab, broker: str, workers: dl.Workers,
                                       tmp_path: Path) -> None:  # fmt: skip
    # Given the lab's DNS list scanned locally from the client namespace
    targets = lab.write_targets(tmp_path / "lab.yaml")
    local = _run(lab, dl.scan_argv(lab, targets, tmp_path / "local", "dns,resolver"))
    assert local.returncode in (0, 1), local.stderr
    # When the same scan runs through the broker on two workers of that namespace, in
    # shards of two targets
    workers.start(lab.client_ns)
    workers.start(lab.client_ns)
    workers.wait_alive(2)
    argv = dl.scan_argv(lab, targets, tmp_path / "far", "dns,resolver", "--broker", broker)
    far = _run(lab, argv, env={**dl.env(), "IPV6SCAN_SHARD_TARGETS": "2"})
    # Then results.jsonl holds the same records, each once, and the same summary
    assert far.returncode == local.returncode, far.stderr + workers.log_tails()
    local_records, far_records = _records(tmp_path / "local"), _records(tmp_path / "far")
    assert local_records and _comparable(far_records) == _comparable(local_records)
    assert all("vantage" not in r for r in far_records)
    summaries = [json.loads((tmp_path / d / "summary.json").read_text()) for d in ("local", "far")]
    assert [s["overall"] for s in summaries] == [summaries[0]["overall"]] * 2
    # (rows in the order targets first finished, which differs between any two runs)
    rows = [sorted(s["targets"], key=lambda row: row["name"]) for s in summaries]
    assert rows[1] == rows[0]
    for name in ("report.html", "junit.xml", "results.csv"):
        assert (tmp_path / "far" / name).is_file()
    # and a worker stops on SIGTERM (a warm shutdown), taking its heartbeat with it
    for proc in workers.procs:
        dl.stop(proc)
        assert proc.returncode == 0, workers.log_tails()
    assert dl.redis_cli(lab, "--scan", "--pattern", "ipv6scan:alive:*") == ""


def test_vantage_points_see_the_lab_differently(lab: Lab, broker: str, workers: dl.Workers,
                                                tmp_path: Path) -> None:  # fmt: skip
    # Given two vantage points in two client namespaces: root in the client namespace, and
    # nobody (no raw socket) in a second one, which cannot reach good.example's web server
    only = ("good.example", "v4only.example", "cname.example")
    targets = lab.write_targets(tmp_path / "lab.yaml", only=only)
    checks = "dns.aaaa,web.reachable,net.ping"
    local = _run(lab, dl.scan_argv(lab, targets, tmp_path / "local", checks))
    assert local.returncode in (0, 1), local.stderr
    with dl.dropped(lab, lab.client2_ns, BLOCKED_ADDRESS):
        workers.start(lab.client_ns, "inside")
        workers.start(lab.client2_ns, "outside", uid=dl.NOBODY)
        workers.wait_alive(2)
        argv = dl.scan_argv(lab, targets, tmp_path / "far", checks, "--broker", broker,
                            "--vantage", "inside", "--vantage", "outside")  # fmt: skip
        far = _run(lab, argv)
    assert far.returncode in (0, 1), far.stderr + workers.log_tails()
    records = _records(tmp_path / "far")
    # Then every record carries its vantage point, each (subject, check) once per point
    assert {r.get("vantage") for r in records} == {"inside", "outside"}
    inside = [{k: v for k, v in r.items() if k != "vantage"} for r in records
              if r["vantage"] == "inside"]  # fmt: skip
    # the vantage point that sees what the local scan sees gives the local records (a
    # ping's detail holds its time: its status is compared)
    local_records = _records(tmp_path / "local")
    assert _comparable(_unpinged(inside)) == _comparable(_unpinged(local_records))
    assert _statuses(inside, "net.ping") == _statuses(local_records, "net.ping")
    outside = {(r["subject"], r["check"]): r for r in records if r["vantage"] == "outside"}
    assert outside[(BLOCKED_TARGET, "web.reachable")]["status"] == "fail"
    assert outside[(BLOCKED_TARGET, "net.ping")]["status"] == "error"  # no raw socket
    assert {r["status"] for r in inside if r["check"] == "web.reachable"
            and r["subject"] == BLOCKED_TARGET} == {"pass"}  # fmt: skip
    # summary.json counts each target once; a subject works only where it works from both
    summary = json.loads((tmp_path / "far" / "summary.json").read_text())
    assert sorted(t["name"] for t in summary["targets"]) == sorted(only)
    local_summary = json.loads((tmp_path / "local" / "summary.json").read_text())
    score = {t["name"]: t["score"] for t in summary["targets"]}
    local_score = {t["name"]: t["score"] for t in local_summary["targets"]}
    assert score[BLOCKED_TARGET] < local_score[BLOCKED_TARGET]
    assert {n: s for n, s in score.items() if n != BLOCKED_TARGET} == {
        n: s for n, s in local_score.items() if n != BLOCKED_TARGET
    }
    counts = {t["name"]: sum(t["tiers"]["services"]["counts"].values()) for t in summary["targets"]}
    assert counts == {
        t["name"]: sum(t["tiers"]["services"]["counts"].values()) for t in local_summary["targets"]
    }
    # and names the subjects whose verdict differs, which the report's first screen shows
    differing = summary["vantages"]["differing"]
    assert {(d["subject"], d["check"]) for d in differing} >= {(BLOCKED_TARGET, "web.reachable")}
    assert all(d["check"] != "net.ping" for d in differing)  # an error does not differ
    report = (tmp_path / "far" / "report.html").read_text(encoding="utf-8")
    first_screen = report[: report.index('<section id="summary">')]
    assert 'id="vantages"' in first_screen and BLOCKED_TARGET in first_screen
    # junit.xml: one test case per (target, subject, check), as a local scan's
    cases = [(tmp_path / d / "junit.xml").read_text().count("<testcase") for d in ("far", "local")]
    assert cases[0] == cases[1]


def _unpinged(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in records if r["check"] != "net.ping"]


def _statuses(records: list[dict[str, Any]], check: str) -> Counter[tuple[str, str]]:
    return Counter((r["subject"], r["status"]) for r in records if r["check"] == check)


def _slow_list(path: Path, count: int = 24) -> Path:
    """Targets whose name servers' IPv6 addresses stay silent: each costs a timeout."""
    targets = [{"name": f"slow {i:02d}", "sector": "government",
                "domains": ["allnsdead.example", "deadns.example"]}
               for i in range(count)]  # fmt: skip
    path.write_text(yaml.safe_dump({"version": 1, "name": "slow", "targets": targets}))
    return path


def _wait(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    pytest.fail(f"{what} within {timeout} s")


def test_killed_worker_loses_and_doubles_nothing(lab: Lab, broker: str, workers: dl.Workers,
                                                 tmp_path: Path) -> None:  # fmt: skip
    # Given a slow list in shards of three, and one worker
    targets = _slow_list(tmp_path / "slow.yaml")
    local = _run(lab, dl.scan_argv(lab, targets, tmp_path / "local", "dns"))
    assert local.returncode in (0, 1), local.stderr
    first = workers.start(lab.client_ns)
    workers.wait_alive(1)
    out = tmp_path / "far"
    argv = dl.scan_argv(lab, targets, out, "dns", "--broker", broker)
    scan = subprocess.Popen(lab.netns_argv(lab.client_ns, argv), cwd=dl.REPO,
                            env={**dl.env(), "IPV6SCAN_SHARD_TARGETS": "3"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    try:
        # When the worker is killed (SIGKILL) mid-shard, after it finished one
        results = out / "results.jsonl"
        _wait(lambda: results.exists() and results.stat().st_size > 0, 120, "no shard done")
        _wait(lambda: dl.redis_cli(lab, "hlen", "unacked") == "1", 60, "no shard in hand")
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
        killed_at = time.monotonic()
        # and another worker comes
        workers.start(lab.client_ns)
        _, err = scan.communicate(timeout=300)
        took = time.monotonic() - killed_at
    finally:
        dl.stop(scan, signal.SIGINT)
    # Then the scan finishes with every record once, as the local scan has them, and the
    # dead worker's shard was taken over within two minutes
    assert scan.returncode == local.returncode, err.decode(errors="replace")
    assert _comparable(_records(out)) == _comparable(_records(tmp_path / "local"))
    assert took < 120


def test_no_worker_waits_then_sigint_exits_130(lab: Lab, broker: str, workers: dl.Workers,
                                               tmp_path: Path) -> None:  # fmt: skip
    # Given no worker of the vantage point asked for
    targets = lab.write_targets(tmp_path / "lab.yaml", only=("good.example",))
    out = tmp_path / "out"
    argv = dl.scan_argv(lab, targets, out, "dns", "--broker", broker, "--vantage", "nowhere")
    scan = subprocess.Popen(lab.netns_argv(lab.client_ns, argv), cwd=dl.REPO, env=dl.env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    try:
        # When the scan has said it waits, and SIGINT comes
        assert scan.stderr is not None
        line = scan.stderr.readline().decode()
        assert "waiting for workers" in line and "nowhere" in line
        os.kill(scan.pid, signal.SIGINT)
        _, err = scan.communicate(timeout=60)
    finally:
        dl.stop(scan, signal.SIGKILL)
    # Then it exits 130 with its files written, no traceback, and nothing left queued
    assert scan.returncode == 130, err.decode(errors="replace")
    assert b"Traceback" not in err
    assert (out / "summary.json").is_file() and (out / "results.jsonl").read_text() == ""
    assert dl.redis_cli(lab, "llen", "ipv6scan.nowhere") == "0"


def test_three_workers_keep_one_destination_budget(lab: Lab, broker: str, workers: dl.Workers,
                                                   tmp_path: Path) -> None:  # fmt: skip
    # Given 30 targets on one web server, and three workers that share a budget of 4
    # probes a second (burst 10) per destination
    rate, burst, lease, count = 4, 10, 4, 30
    targets = [{"name": f"polite {i:02d}", "sector": "enterprise", "domains": ["good.example"]}
               for i in range(count)]  # fmt: skip
    path = tmp_path / "polite.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "name": "polite", "targets": targets}))
    for _ in range(3):
        workers.start(lab.client_ns, extra=["--destination-rate", str(rate)])
    workers.wait_alive(3)
    argv = dl.scan_argv(lab, path, tmp_path / "out", "web.reachable", "--broker", broker)
    # When the scan runs in shards of one target (a shard connects to an address and port
    # once, whatever its targets), so that all three workers scan at once
    with dl.syn_counter(lab, lab.client_ns, BLOCKED_ADDRESS) as syns:
        started = time.monotonic()
        done = _run(lab, argv, env={**dl.env(), "IPV6SCAN_SHARD_TARGETS": "1"})
        took = time.monotonic() - started
        sent = syns()
    assert done.returncode in (0, 1), done.stderr + workers.log_tails()
    statuses = Counter(r["status"] for r in _records(tmp_path / "out"))
    assert statuses["pass"] >= count, statuses  # the budget slows the scan, never fails it
    # Then the server saw no more connection attempts than the budget allows over the
    # scan's time: the burst, the rate, and the leases the workers held
    assert sent >= count
    assert sent <= burst + rate * took + 3 * lease, (sent, took)
