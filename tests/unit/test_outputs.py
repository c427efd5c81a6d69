"""The files in --out (results.jsonl, results.csv, junit.xml, report.html) and the
engine's promise that a check that raises or overruns still yields a result."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from ipv6scan.addresses import AddressPolicy
from ipv6scan.checks.registry import Check
from ipv6scan.context import Limits, ScanContext
from ipv6scan.dnsclient.resolution import Lookup
from ipv6scan.engine.scheduler import Engine
from ipv6scan.model import CheckResult, Status, Subject, SystemEntry, Target, Verdict
from ipv6scan.observations.dns import Connectivity
from ipv6scan.report.html import render_html, write_html
from ipv6scan.report.jsonl import ResultWriter, read_results
from ipv6scan.report.tables import CSV_FIELDS, write_csv, write_junit
from ipv6scan.scoring import summarize

XSS = "<script>alert(1)</script>"


def result(
    status: str = "pass",
    *,
    target: str = "Portal",
    sector: str = "government",
    tier: str = "services",
    subject: str = "www.example.gov",
    check: str = "dns.aaaa",
    detail: str = "1 global AAAA record: 2001:db8::1.",
    evidence: dict[str, Any] | None = None,
    duration_ms: float = 12.3456,
) -> CheckResult:
    return CheckResult(
        target,
        sector,
        tier,
        subject,
        check,
        Status(status),
        detail,
        evidence if evidence is not None else {"addresses": ["2001:db8::1"], "rcode": "NOERROR"},
        duration_ms,
    )


MIXED = [
    result("pass"),
    result("warn", check="dns.ns_ipv6", detail="Only one of 2 name servers."),
    result("fail", check="dns.mx_ipv6", detail="No MX host has a global AAAA."),
    result("error", check="dns.ns_reachable", detail="Could not decide: SERVFAIL."),
    result("skip", check="resolver.ipv6", detail="Does not apply."),
    result("fail", target="Telco", sector="operator", tier="backbone", subject="2001:db8::53"),
]


# --------------------------------------------------------------------------- results.jsonl


def test_writer_writes_one_parseable_line_per_result(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    chinese = result(detail="没有全局 AAAA 记录", target="省政府门户")
    with ResultWriter(path) as writer:
        writer.write(MIXED[0])
        # on disk the moment it is written: a killed scan keeps it
        assert path.read_text(encoding="utf-8").count("\n") == 1
        for r in [*MIXED[1:], chinese]:
            writer.write(r)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(MIXED) + 1
    records = [json.loads(line) for line in lines]
    assert records[0] == {
        "target": "Portal",
        "sector": "government",
        "tier": "services",
        "subject": "www.example.gov",
        "check": "dns.aaaa",
        "status": "pass",
        "detail": "1 global AAAA record: 2001:db8::1.",
        "evidence": {"addresses": ["2001:db8::1"], "rcode": "NOERROR"},
        "duration_ms": 12.346,
    }
    assert [r["status"] for r in records[:5]] == ["pass", "warn", "fail", "error", "skip"]
    assert records[-1]["detail"] == "没有全局 AAAA 记录"
    assert "没有全局" in lines[-1]  # not \u-escaped


def test_writer_truncates_an_old_file(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    path.write_text("old line\n" * 5, encoding="utf-8")
    with ResultWriter(path) as writer:
        writer.write(MIXED[0])
    assert len(path.read_text(encoding="utf-8").splitlines()) == 1


def test_writer_close_is_idempotent(tmp_path: Path) -> None:
    writer = ResultWriter(tmp_path / "r.jsonl")
    writer.close()
    writer.close()


def test_read_results_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    with ResultWriter(path) as writer:
        for r in MIXED:
            writer.write(r)
    back = list(read_results(path))
    assert len(back) == len(MIXED)
    for got, want in zip(back, MIXED, strict=True):
        assert got.status is want.status
        assert (got.target, got.subject, got.check, got.detail) == (
            want.target,
            want.subject,
            want.check,
            want.detail,
        )
        assert got.evidence == want.evidence
        assert got.duration_ms == pytest.approx(want.duration_ms, abs=0.001)


def test_read_results_skips_a_torn_last_line(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    with ResultWriter(path) as writer:
        writer.write(MIXED[0])
        writer.write(MIXED[2])
    whole = MIXED[3].to_line()
    with path.open("a", encoding="utf-8") as fh:
        fh.write(whole[: len(whole) // 2])  # killed mid-write, no newline
    back = list(read_results(path))
    assert [r.check for r in back] == ["dns.aaaa", "dns.mx_ipv6"]


def test_read_results_skips_blank_and_invalid_lines(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    good = MIXED[0].to_line()
    bad_status = json.dumps({**MIXED[0].to_json(), "status": "maybe"})
    missing = json.dumps({"target": "x"})
    path.write_text(
        "\n".join([good, "", "   ", bad_status, missing, "[1, 2]", "not json", good]) + "\n",
        encoding="utf-8",
    )
    assert len(list(read_results(path))) == 2


# --------------------------------------------------------------------------- results.csv


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_csv_has_every_field_and_evidence_as_json(tmp_path: Path) -> None:
    path = tmp_path / "results.csv"
    evidence = {"z": 1, "addresses": ["2001:db8::1"], "note": 'a, "quoted"\nline'}
    write_csv([result(evidence=evidence, detail="two, parts\nand a line")], path)
    with path.open(encoding="utf-8-sig", newline="") as fh:
        header = next(csv.reader(fh))
    assert tuple(header) == CSV_FIELDS
    (row,) = read_csv(path)
    assert json.loads(row["evidence"]) == evidence
    assert row["detail"] == "two, parts\nand a line"
    assert row["status"] == "pass"
    assert float(row["duration_ms"]) == pytest.approx(12.346)


@pytest.mark.parametrize("danger", ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)"])
def test_csv_formula_cells_are_neutralised(tmp_path: Path, danger: str) -> None:
    path = tmp_path / "results.csv"
    write_csv([result(detail=danger, subject=danger, target=danger)], path)
    (row,) = read_csv(path)
    for field in ("detail", "subject", "target"):
        assert row[field] == "'" + danger
        assert row[field][0] not in "=+-@"


def test_csv_plain_text_untouched(tmp_path: Path) -> None:
    path = tmp_path / "results.csv"
    write_csv([result(detail="a = b")], path)
    assert read_csv(path)[0]["detail"] == "a = b"


# --------------------------------------------------------------------------- junit.xml


def parse_junit(results: list[CheckResult], tmp_path: Path) -> ET.Element:
    path = tmp_path / "junit.xml"
    write_junit(results, path)
    return ET.parse(path).getroot()


def test_junit_one_testcase_per_result_with_status_elements(tmp_path: Path) -> None:
    root = parse_junit(MIXED, tmp_path)
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("6", "2", "1")
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["Portal", "Telco"]
    portal = suites[0]
    assert (portal.get("tests"), portal.get("failures"), portal.get("errors")) == ("5", "1", "1")
    assert portal.get("skipped") == "1"
    cases = portal.findall("testcase")
    assert len(cases) == 5
    by_check = {c.get("name"): c for c in cases}
    assert set(by_check) == {
        f"www.example.gov {c}"
        for c in ("dns.aaaa", "dns.ns_ipv6", "dns.mx_ipv6", "dns.ns_reachable", "resolver.ipv6")
    }
    assert cases[0].get("classname") == "Portal.services"

    def children(case: ET.Element) -> list[str]:
        return [child.tag for child in case]

    assert children(by_check["www.example.gov dns.aaaa"]) == []  # pass
    assert children(by_check["www.example.gov dns.ns_ipv6"]) == ["system-out"]  # warn
    fail = by_check["www.example.gov dns.mx_ipv6"].find("failure")
    assert fail is not None and fail.get("message") == "No MX host has a global AAAA."
    assert json.loads(fail.text or "") == {"addresses": ["2001:db8::1"], "rcode": "NOERROR"}
    error = by_check["www.example.gov dns.ns_reachable"].find("error")
    assert error is not None and "SERVFAIL" in (error.get("message") or "")
    skipped = by_check["www.example.gov resolver.ipv6"].find("skipped")
    assert skipped is not None and skipped.get("message") == "Does not apply."
    telco = suites[1].find("testcase")
    assert telco is not None and telco.get("classname") == "Telco.backbone"
    assert telco.find("failure") is not None


def test_junit_control_characters_in_a_banner_do_not_break_the_xml(tmp_path: Path) -> None:
    banner = "220 mail.example ESMTP\x00\x07\x1b[31m evil\x0b\x0c\x7f end"
    r = result(
        "fail",
        check="mail.smtp",
        detail=f"Greeting: {banner}",
        evidence={"banner": banner},
        subject="mail\x01.example",
    )
    root = parse_junit([r], tmp_path)
    case = root.find("testsuite/testcase")
    assert case is not None
    failure = case.find("failure")
    assert failure is not None
    message = failure.get("message") or ""
    assert message.startswith("Greeting: 220 mail.example ESMTP")
    assert "evil" in message and "end" in message
    assert "\x00" not in message and "\x1b" not in message
    assert "\ufffd" in message


def test_junit_markup_in_a_detail_stays_text(tmp_path: Path) -> None:
    root = parse_junit([result("fail", detail=f"{XSS} ]]> done")], tmp_path)
    failure = root.find("testsuite/testcase/failure")
    assert failure is not None
    assert "alert(1)" in (failure.get("message") or "")
    assert root.find(".//script") is None


def test_junit_attributes_read_back_exactly(tmp_path: Path) -> None:
    root = parse_junit([result("fail", target="AT&T <Ops>", detail="x < y & z")], tmp_path)
    suite = root.find("testsuite")
    assert suite is not None and suite.get("name") == "AT&T <Ops>"
    failure = root.find("testsuite/testcase/failure")
    assert failure is not None and failure.get("message") == "x < y & z"


def test_junit_non_characters_do_not_break_the_xml(tmp_path: Path) -> None:
    root = parse_junit([result("fail", detail="220 hi \uffff \ufffe")], tmp_path)
    assert root.find("testsuite/testcase/failure") is not None


# --------------------------------------------------------------------------- report.html


def test_report_escapes_hostile_text(tmp_path: Path) -> None:
    results = [
        result(
            "fail",
            target=f"Portal {XSS}",
            subject=f"https://x.example/{XSS}",
            detail=f"Server said {XSS}",
            evidence={"banner": XSS},
        )
    ]
    path = tmp_path / "report.html"
    write_html(results, summarize(results), "en", path)
    html = path.read_text(encoding="utf-8")
    assert XSS not in html
    # the report's own scripts only (hash-pinned by its CSP); none came from the data
    assert html.lower().count("<script") == render_html([], summarize([]), "en").lower().count(
        "<script"
    )
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Server said" in html


def test_report_is_self_contained() -> None:
    html = render_html(MIXED, summarize(MIXED), "en")
    lowered = html.lower()
    for fetch in ("<link", "src=", "@import", "url("):
        assert fetch not in lowered


def test_report_english() -> None:
    html = render_html(MIXED, summarize(MIXED), "en")
    assert '<html lang="en">' in html
    assert "<title>IPv6 readiness report</title>" in html
    for r in MIXED:
        assert r.subject in html and r.check in html
    assert 's-error">error<' in html


def test_report_chinese(tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    write_html(MIXED, summarize(MIXED), "zh-CN", path)
    html = path.read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in html
    assert "<title>IPv6 就绪度报告</title>" in html
    assert "总体得分" in html
    assert "IPv6 readiness report" not in html
    assert "dns.mx_ipv6" in html


def test_report_unscored_target_says_so() -> None:
    results = [result("error")]
    assert "not scored" in render_html(results, summarize(results), "en")
    assert "未评分" in render_html(results, summarize(results), "zh-CN")


# --------------------------------------------------------------------------- engine


class StubResolver:
    """Answers every look-up with NXDOMAIN: no www.D subject, no network."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []

    async def lookup(self, name: str, rdtype: str) -> Lookup:
        self.asked.append((name, rdtype))
        return Lookup(name, rdtype, "NXDOMAIN")


class NoTransport:
    async def query(self, *args: object, **kw: object) -> object:
        raise AssertionError("no network in unit tests")


def context() -> ScanContext:
    return ScanContext(
        resolver=StubResolver(),  # type: ignore[arg-type]
        transport=NoTransport(),  # type: ignore[arg-type]
        policy=AddressPolicy(),
        connectivity=Connectivity(ipv6=True, ipv4=True),
        limits=Limits(10, 2),
        timeout=1.0,
    )


TARGET = Target("Portal", "government", ("example.gov",))


def engine(checks: list[Check], deadline: float = 5.0) -> tuple[Engine, list[CheckResult]]:
    sink: list[CheckResult] = []
    return Engine(context(), checks, sink.append, check_deadline=deadline), sink


def judge_pass(observation: object, options: object = None) -> Verdict:
    return Verdict(Status.PASS, f"saw {observation}", {"seen": observation})


async def test_check_that_raises_becomes_an_error_result() -> None:
    async def observe(ctx: ScanContext, subject: Subject) -> object:
        raise RuntimeError("probe blew up")

    check = Check("dns.aaaa", ("host",), observe, judge_pass)
    eng, sink = engine([check])
    await eng._run_check(Subject("host", "www.example.gov", TARGET), check)
    (r,) = sink
    assert r.status is Status.ERROR
    assert "RuntimeError: probe blew up" in r.detail
    assert "probe blew up" in r.evidence["traceback"]
    assert (r.target, r.sector, r.tier, r.subject, r.check) == (
        "Portal",
        "government",
        "services",
        "www.example.gov",
        "dns.aaaa",
    )
    assert eng.stats.results == 1


async def test_judge_that_raises_becomes_an_error_result() -> None:
    async def observe(ctx: ScanContext, subject: Subject) -> object:
        return None

    def judge(observation: object, options: object = None) -> Verdict:
        raise KeyError("missing")

    check = Check("dns.mx_ipv6", ("domain",), observe, judge)
    eng, sink = engine([check])
    await eng._run_check(Subject("domain", "example.gov", TARGET), check)
    (r,) = sink
    assert r.status is Status.ERROR
    assert "KeyError" in r.detail


async def test_check_past_its_deadline_becomes_an_error_result() -> None:
    async def observe(ctx: ScanContext, subject: Subject) -> object:
        await asyncio.sleep(30)
        return "late"

    check = Check("dns.ns_ipv6", ("domain",), observe, judge_pass)
    eng, sink = engine([check], deadline=0.05)
    await asyncio.wait_for(eng._run_check(Subject("domain", "example.gov", TARGET), check), 5)
    (r,) = sink
    assert r.status is Status.ERROR
    assert "ran out of time" in r.detail and "0.05 s" in r.detail
    assert r.evidence == {"deadline_s": 0.05}
    assert 40 <= r.duration_ms < 2000


async def test_verdict_reaches_the_sink_with_who_and_where() -> None:
    async def observe(ctx: ScanContext, subject: Subject) -> object:
        return subject.name

    check = Check("resolver.ipv6", ("resolver",), observe, judge_pass)
    eng, sink = engine([check])
    operator = Target("Telco", "operator")
    await eng._run_check(Subject("resolver", "2001:db8::53", operator, "metro", 5353), check)
    (r,) = sink
    assert r.status is Status.PASS
    assert r.detail == "saw 2001:db8::53"
    assert (r.target, r.sector, r.tier, r.subject) == ("Telco", "operator", "metro", "2001:db8::53")
    assert r.duration_ms >= 0


async def test_run_keeps_going_past_a_failing_check() -> None:
    async def boom(ctx: ScanContext, subject: Subject) -> object:
        raise OSError("no route")

    async def fine(ctx: ScanContext, subject: Subject) -> object:
        return "ok"

    checks = [
        Check("dns.aaaa", ("host",), boom, judge_pass),
        Check("dns.ns_ipv6", ("domain",), fine, judge_pass),
        Check("resolver.ipv6", ("resolver",), fine, judge_pass),
    ]
    eng, sink = engine(checks)
    operator = Target(
        "Telco",
        "operator",
        ("telco.example",),
        (SystemEntry("metro", "resolver", "2001:db8::53#5353"),),
    )
    stats = await eng.run([TARGET, operator])
    assert stats.targets_done == 2
    got = sorted((r.target, r.subject, r.check, str(r.status)) for r in sink)
    assert got == [
        ("Portal", "example.gov", "dns.aaaa", "error"),
        ("Portal", "example.gov", "dns.ns_ipv6", "pass"),
        ("Telco", "2001:db8::53", "resolver.ipv6", "pass"),
        ("Telco", "telco.example", "dns.aaaa", "error"),
        ("Telco", "telco.example", "dns.ns_ipv6", "pass"),
    ]
    metro = next(r for r in sink if r.check == "resolver.ipv6")
    assert metro.tier == "metro"
    assert stats.results == len(sink)


def test_writer_does_not_leak_descriptors(tmp_path: Path) -> None:
    before = len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None
    for _ in range(20):
        with ResultWriter(tmp_path / "r.jsonl") as writer:
            writer.write(MIXED[0])
    if before is not None:
        assert len(os.listdir("/proc/self/fd")) <= before
