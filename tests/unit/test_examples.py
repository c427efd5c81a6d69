"""The nightly examples work as written: the CI files are valid YAML and run the scan with
its gates, publish junit.xml and print what changed; the systemd unit keeps its hardening
and grants the raw socket net.ping and net.trace need."""

from __future__ import annotations

from pathlib import Path

import yaml

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _steps(workflow: dict[str, object]) -> list[dict[str, object]]:
    jobs = workflow["jobs"]
    assert isinstance(jobs, dict)
    return [step for job in jobs.values() for step in job["steps"]]


def test_the_github_actions_example_publishes_junit_and_what_changed() -> None:
    workflow = yaml.safe_load((EXAMPLES / "github-actions-nightly.yml").read_text())
    steps = _steps(workflow)
    runs = "\n".join(str(step.get("run", "")) for step in steps)
    assert "ipv6scan scan" in runs and "--fail-on-regression" in runs
    assert "ipv6scan diff" in runs and "GITHUB_STEP_SUMMARY" in runs
    junit = [s for s in steps if "junit.xml" in str(s.get("with", {}))]
    assert any("junit-report" in str(s.get("uses", "")) for s in junit)
    assert "None" not in runs


def test_the_gitlab_example_is_valid_yaml() -> None:
    assert yaml.safe_load((EXAMPLES / "gitlab-ci-nightly.yml").read_text())


def test_the_systemd_unit_keeps_its_hardening_and_grants_cap_net_raw() -> None:
    lines = (EXAMPLES / "systemd" / "ipv6scan-audit.service").read_text().splitlines()
    settings = {
        k: v for k, _, v in (ln.partition("=") for ln in lines if "=" in ln and ln[0] != "#")
    }
    assert settings["AmbientCapabilities"] == "CAP_NET_RAW"
    assert settings["CapabilityBoundingSet"] == "CAP_NET_RAW"
    for hardening in ("NoNewPrivileges", "ProtectSystem", "ProtectHome", "PrivateTmp"):
        assert hardening in settings
    assert settings["User"] != "root"
