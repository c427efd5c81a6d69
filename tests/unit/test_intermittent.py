"""The tries rule in the judges (checks/intermittent.py), on hand-built observations:
intermittent `warn` when a later try succeeded, `fail` only when every try failed, the
evidence fields, and diff's handling of intermittent results (listed apart, never a
regression, no score fall, no --fail-on-regression trip)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from ipv6scan.checks.intermittent import is_intermittent, steady_status
from ipv6scan.checks.mail import judge_smtp
from ipv6scan.checks.web import judge_http, judge_reachable
from ipv6scan.cli import main
from ipv6scan.diff import compare
from ipv6scan.model import Status
from ipv6scan.observations.mail import REFUSED
from ipv6scan.observations.web import OPEN, TIMEOUT, HttpObservation, TcpProbe
from tests.unit.test_smtp_judge import aaaa, attempt, exchangers, observe
from tests.unit.test_web_judges import V4, V6A, V6B, all_open, chain, response, site


def tried(probe: TcpProbe, attempts: int, failed: int) -> TcpProbe:
    return replace(probe, attempts=attempts, failed_attempts=failed)


def with_probe(s, address: str, port: int, attempts: int, failed: int, outcome: str = OPEN):  # type: ignore[no-untyped-def]
    probes = tuple(
        tried(replace(p, outcome=outcome), attempts, failed)
        if (p.address, p.port) == (address, port)
        else p
        for p in s.tcp
    )
    return replace(s, tcp=probes)


# ------------------------------------------------------------------ web.reachable


def test_a_port_that_answered_on_a_later_try_is_an_intermittent_warn() -> None:
    verdict = judge_reachable(with_probe(all_open(), V6A, 443, attempts=2, failed=1))
    assert verdict.status is Status.WARN
    assert f"intermittent: 1 of 2 tries failed on [{V6A}]:443" in verdict.detail
    ev = verdict.evidence
    assert (ev["attempts"], ev["failed_attempts"], ev["intermittent"]) == (2, 1, True)
    assert ev["tries"] == [{"probe": f"[{V6A}]:443", "attempts": 2, "failed_attempts": 1}]
    assert is_intermittent(verdict.status, ev)
    assert steady_status(verdict.status, ev) == "pass"


def test_every_try_failing_is_fail_with_the_tries_in_evidence() -> None:
    s = site({(V6A, 80): TIMEOUT, (V6A, 443): TIMEOUT, (V4, 80): OPEN, (V4, 443): OPEN})
    s = with_probe(with_probe(s, V6A, 80, 3, 3, TIMEOUT), V6A, 443, 3, 3, TIMEOUT)
    verdict = judge_reachable(s)
    assert verdict.status is Status.FAIL
    assert "intermittent" not in verdict.detail
    assert (verdict.evidence["attempts"], verdict.evidence["failed_attempts"]) == (3, 3)
    assert not is_intermittent(verdict.status, verdict.evidence)


def test_one_try_each_adds_nothing() -> None:
    verdict = judge_reachable(all_open())
    assert verdict.status is Status.PASS
    assert "attempts" not in verdict.evidence and "intermittent" not in verdict.evidence


def test_an_ipv4_port_that_needed_tries_is_evidence_not_intermittence() -> None:
    verdict = judge_reachable(with_probe(all_open(), V4, 80, attempts=2, failed=1))
    assert verdict.status is Status.PASS
    assert verdict.evidence["attempts"] == 2 and "intermittent" not in verdict.evidence


def test_a_partial_result_stays_a_plain_warn_that_mentions_the_intermittence() -> None:
    s = site({(a, p): OPEN for a in (V6A, V6B, V4) for p in (80, 443)}, aaaa=(V6A, V6B))
    s = with_probe(with_probe(s, V6B, 443, 3, 3, "refused"), V6A, 80, 2, 1)
    verdict = judge_reachable(s)
    assert verdict.status is Status.WARN and "only in part" in verdict.detail
    assert "intermittent" in verdict.detail
    # a real partial failure: a regression in diff, so not marked intermittent
    assert not is_intermittent(verdict.status, verdict.evidence)


# ------------------------------------------------------------------ web.http, mail.smtp


def test_web_http_response_after_a_refused_try_is_intermittent() -> None:
    hop = replace(response(), attempts=2, failed_attempts=1)
    verdict = judge_http(HttpObservation(all_open(), (chain(hop),)))
    assert verdict.status is Status.WARN and "intermittent: 1 of 2 tries" in verdict.detail
    assert is_intermittent(verdict.status, verdict.evidence)
    assert verdict.evidence["requests"][0]["hops"][0]["status"] == 200


def test_mail_smtp_greeting_after_a_refusal_is_intermittent() -> None:
    mx = exchangers(("mx.example", aaaa("mx.example", "2001:db8::25")))
    greeted = replace(attempt("mx.example", "2001:db8::25"), attempts=3, failed_attempts=2)
    verdict = judge_smtp(observe(mx, greeted))
    assert verdict.status is Status.WARN
    assert "intermittent: 2 of 3 tries failed on mx.example [2001:db8::25]:25" in verdict.detail
    assert is_intermittent(verdict.status, verdict.evidence)


def test_mail_smtp_refused_on_every_try_fails() -> None:
    mx = exchangers(("mx.example", aaaa("mx.example", "2001:db8::25")))
    refused = attempt("mx.example", "2001:db8::25", REFUSED, attempts=3, failed_attempts=3)
    verdict = judge_smtp(observe(mx, refused))
    assert verdict.status is Status.FAIL
    assert verdict.evidence["attempts"] == 3 and verdict.evidence["failed_attempts"] == 3
    assert verdict.evidence["greetings"][0]["outcome"] == REFUSED


# ------------------------------------------------------------------ diff and the gate


def record(subject: str, status: str, **evidence: object) -> dict[str, object]:
    return {
        "target": "Portal",
        "sector": "government",
        "tier": "services",
        "subject": subject,
        "check": "web.reachable",
        "status": status,
        "detail": f"{subject} {status}",
        "evidence": evidence,
    }


def results(path: Path, *records: dict[str, object]) -> Path:
    path.mkdir(parents=True)
    text = "".join(json.dumps(r) + "\n" for r in records)
    (path / "results.jsonl").write_text(text, encoding="utf-8")
    return path / "results.jsonl"


FLAKY = {"attempts": 2, "failed_attempts": 1, "intermittent": True}


def test_diff_lists_intermittent_results_apart_and_no_score_falls(tmp_path: Path) -> None:
    old = results(tmp_path / "old", record("a.example", "pass"), record("b.example", "pass"))
    new = results(
        tmp_path / "new", record("a.example", "warn", **FLAKY), record("b.example", "pass")
    )
    diff = compare(old, new)
    assert [(c.subject, c.old, c.new) for c in diff.intermittent] == [("a.example", "pass", "warn")]
    assert diff.regressed == [] and diff.fell == [] and not diff.has_regression
    assert diff.gate() == []
    assert "Intermittent" in diff.to_text()
    assert diff.to_json()["intermittent"][0]["subject"] == "a.example"


def test_a_plain_warn_is_still_a_regression(tmp_path: Path) -> None:
    old = results(tmp_path / "old", record("a.example", "pass"))
    new = results(tmp_path / "new", record("a.example", "warn", attempts=2, failed_attempts=1))
    diff = compare(old, new)
    assert [c.subject for c in diff.regressed] == ["a.example"] and diff.intermittent == []
    assert diff.gate() != []


def test_intermittent_then_fail_trips_the_gate_as_a_fall_from_pass(tmp_path: Path) -> None:
    old = results(tmp_path / "old", record("a.example", "warn", **FLAKY))
    new = results(tmp_path / "new", record("a.example", "fail"))
    diff = compare(old, new)
    assert [(c.old, c.new, c.old_intermittent) for c in diff.regressed] == [("warn", "fail", True)]
    assert any(line.startswith("regressed:") for line in diff.gate())


def test_diff_command_exits_0_on_intermittent_results_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results(tmp_path / "old", record("a.example", "pass"))
    results(tmp_path / "new", record("a.example", "warn", **FLAKY))
    code = main(["diff", str(tmp_path / "old"), str(tmp_path / "new")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "Intermittent (not regressions) (1):" in out and "no regression" in out
