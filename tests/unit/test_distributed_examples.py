"""The distributed examples work as written: the Kubernetes Indexed Job derives --shard
from JOB_COMPLETION_INDEX for as many shards as it has completions, the merge step reads
every shard's directory, and the worker's systemd unit serves its instance's vantage point."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_the_indexed_job_gives_each_pod_its_shard() -> None:
    job = yaml.safe_load((EXAMPLES / "kubernetes" / "scan-job.yaml").read_text())
    spec = job["spec"]
    assert spec["completionMode"] == "Indexed" and spec["backoffLimitPerIndex"] >= 1
    (container,) = spec["template"]["spec"]["containers"]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert int(env["SHARDS"]) == spec["completions"]
    command = " ".join(container["args"])
    assert '--shard "$((JOB_COMPLETION_INDEX + 1))/${SHARDS}"' in command
    # each shard's directory is what the merge step globs, and nothing else matches it
    out = re.search(r'--out "(/results/shard-)', command)
    assert out is not None and '--db "/results/shard-' not in command
    merge = yaml.safe_load((EXAMPLES / "kubernetes" / "merge-job.yaml").read_text())
    args = " ".join(merge["spec"]["template"]["spec"]["containers"][0]["args"])
    assert "ipv6scan merge /results/shard-* --out" in args and "--partial" not in args


def test_the_worker_deployment_and_unit_run_ipv6scan_worker() -> None:
    docs = list(yaml.safe_load_all((EXAMPLES / "kubernetes" / "workers.yaml").read_text()))
    workers = [d for d in docs if d["metadata"]["name"] == "ipv6scan-worker"]
    args = workers[0]["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[:3] == ["ipv6scan", "worker", "--broker"]
    unit = (EXAMPLES / "systemd" / "ipv6scan-worker@.service").read_text()
    assert "ipv6scan worker --broker ${IPV6SCAN_BROKER} --vantage %i" in unit
    assert "AmbientCapabilities=CAP_NET_RAW" in unit and "User=ipv6scan" in unit
