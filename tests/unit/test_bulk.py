"""The bulk path (ipv6scan/bulk) against the engine, over a small DNS server on 127.0.0.1.

The zone holds what the two paths must agree on: AAAA and A records, a CNAME chain a
resolver left unfinished, a CNAME loop, SERVFAIL, NXDOMAIN, a question that goes
unanswered once (a retry) and one that never is (a timeout), www names that exist
and ones that do not. Then the same list fanned out over worker processes.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import dns.message
import dns.rcode
import dns.rrset
import pytest

from ipv6scan.addresses import AddressPolicy
from ipv6scan.checks import registry
from ipv6scan.context import Limits, ScanContext
from ipv6scan.dnsclient.fast import FastUdpTransport
from ipv6scan.dnsclient.resolution import Lookup, Resolver
from ipv6scan.dnsclient.transport import DnsServer
from ipv6scan.engine import workers as workers_module
from ipv6scan.engine.dns_only import DnsOnlyScan
from ipv6scan.engine.run import ScanConfig, scan
from ipv6scan.engine.scheduler import Engine, ScanStats, www_exists, www_settled
from ipv6scan.model import CheckResult, Target
from ipv6scan.observations.dns import Connectivity
from ipv6scan.targets import TargetSource
from tests.unit.test_dns_transport import udp_server

Z = "bulk.test"
# a valid domain of 250 octets: its www.D would be longer than a DNS name can be
LONG = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 48])
RECORDS = {  # (name, type) -> rrsets in presentation form; the CNAME first where chained
    (f"dual.{Z}", "AAAA"): [f"dual.{Z}. 60 IN AAAA 2a00:1450::1", f"dual.{Z}. 60 IN AAAA fe80::1"],
    (f"dual.{Z}", "A"): [f"dual.{Z}. 60 IN A 198.51.100.1"],
    (f"www.dual.{Z}", "AAAA"): [f"www.dual.{Z}. 60 IN CNAME dual.{Z}.",
                                f"dual.{Z}. 60 IN AAAA 2a00:1450::1"],
    (f"www.dual.{Z}", "A"): [f"www.dual.{Z}. 60 IN CNAME dual.{Z}.",
                             f"dual.{Z}. 60 IN A 198.51.100.1"],
    (f"v4.{Z}", "A"): [f"v4.{Z}. 60 IN A 198.51.100.2"],
    (f"www.v4.{Z}", "A"): [f"www.v4.{Z}. 60 IN A 198.51.100.2"],
    # unfinished: the CNAME only, the scanner must ask for the end of the chain itself
    (f"chain.{Z}", "AAAA"): [f"chain.{Z}. 60 IN CNAME edge.cdn.test."],
    ("edge.cdn.test", "AAAA"): ["edge.cdn.test. 60 IN AAAA 2a00:1450::9"],
    (f"loop.{Z}", "AAAA"): [f"loop.{Z}. 60 IN CNAME loop2.{Z}.",
                            f"loop2.{Z}. 60 IN CNAME loop.{Z}."],
    (f"mapped.{Z}", "AAAA"): [f"mapped.{Z}. 60 IN AAAA ::ffff:198.51.100.7"],
    (f"{LONG}.{Z}", "AAAA"): [f"{LONG}.{Z}. 60 IN AAAA 2a00:1450::5"],
}  # fmt: skip
SERVFAIL = {f"broken.{Z}", f"www.broken.{Z}"}
NXDOMAIN_PARENTS = {f"gone.{Z}"}
SILENT = {(f"silent.{Z}", "AAAA")}  # never answered: a timeout
ONCE_SILENT = {(f"late.{Z}", "AAAA")}  # the first question dropped: the retry is answered
DOMAINS = ["dual", "v4", "chain", "loop", "mapped", "broken", "gone", "silent", "late", "empty",
           LONG]  # fmt: skip


def _handler() -> tuple[object, dict[tuple[str, str], int]]:
    asked: dict[tuple[str, str], int] = {}

    def handle(wire: bytes) -> bytes | None:
        query = dns.message.from_wire(wire)
        question = query.question[0]
        name = question.name.to_text().rstrip(".").lower()
        rdtype = dns.rdatatype.to_text(question.rdtype)
        key = (name, rdtype)
        asked[key] = asked.get(key, 0) + 1
        if key in SILENT or (key in ONCE_SILENT and asked[key] == 1):
            return None
        reply = dns.message.make_response(query)
        if name.split(".", 1)[-1] in NXDOMAIN_PARENTS or name in NXDOMAIN_PARENTS:
            reply.set_rcode(dns.rcode.NXDOMAIN)
        elif name in SERVFAIL:
            reply.set_rcode(dns.rcode.SERVFAIL)
        for text in RECORDS.get(key, []):
            reply.answer.append(dns.rrset.from_text(*_split(text)))
        return reply.to_wire()

    return handle, asked


def _split(text: str) -> tuple[str, int, str, str, str]:
    name, ttl, klass, rdtype, data = text.split(" ", 4)
    return name, int(ttl), klass, rdtype, data


def _targets() -> list[Target]:
    return [Target(f"{d}.{Z}", "enterprise", (f"{d}.{Z}",)) for d in DOMAINS]


def _rows(results: list[CheckResult]) -> set[tuple[str, ...]]:
    return {
        (r.target, r.tier, r.subject, r.check, str(r.status), r.detail,
         json.dumps(r.evidence, sort_keys=True))
        for r in results
    }  # fmt: skip


def _context(server: DnsServer) -> ScanContext:
    resolver = Resolver(FastUdpTransport(), [server], timeout=0.3)
    return ScanContext(resolver=resolver, transport=None,  # type: ignore[arg-type]
                       policy=AddressPolicy(), connectivity=Connectivity(True, True),
                       limits=Limits(64, 8), timeout=0.3)  # fmt: skip


async def test_bulk_path_gives_the_engines_results() -> None:
    handle, asked = _handler()
    check = registry.BY_ID["dns.aaaa"]
    async with udp_server(handle) as (server, _):
        engine_results: list[CheckResult] = []
        engine = Engine(_context(server), [check], engine_results.append, check_deadline=10,
                        named=("dns.aaaa",))  # fmt: skip
        await engine.run(_targets())
        asked.clear()
        bulk_results: list[CheckResult] = []
        stats = ScanStats()
        ctx = _context(server)
        bulk = DnsOnlyScan(ctx, bulk_results.append, stats, in_flight=4,
                           run_whole=Engine(ctx, [check], bulk_results.append,
                                            check_deadline=10).run_target)  # fmt: skip
        await bulk.run(_targets())
    assert _rows(bulk_results) == _rows(engine_results)
    assert stats.targets_done == len(DOMAINS) and stats.results == len(bulk_results)
    by_subject = {r.subject: str(r.status) for r in bulk_results}
    # the cases are what they claim to be
    assert by_subject[f"dual.{Z}"] == "warn"  # global beside link-local
    assert by_subject[f"www.dual.{Z}"] == "pass"
    assert by_subject[f"chain.{Z}"] == "pass"  # the chain's end asked for separately
    assert asked[("edge.cdn.test", "AAAA")] == 1
    assert by_subject[f"loop.{Z}"] == "fail"
    assert by_subject[f"mapped.{Z}"] == "fail"
    assert by_subject[f"broken.{Z}"] == "error"
    assert by_subject[f"gone.{Z}"] == "fail"
    assert by_subject[f"silent.{Z}"] == "error"
    assert by_subject[f"late.{Z}"] == "fail" and asked[(f"late.{Z}", "AAAA")] == 2
    assert f"www.v4.{Z}" in by_subject and f"www.gone.{Z}" not in by_subject
    # the A of www.D only where the AAAA answer left it open
    assert asked.get((f"www.v4.{Z}", "A")) == 1 and asked.get((f"www.empty.{Z}", "A")) == 1
    assert (f"www.dual.{Z}", "A") not in asked  # a CNAME: it exists
    assert (f"www.gone.{Z}", "A") not in asked  # NXDOMAIN: it does not
    # a domain whose www cannot be a DNS name: D judged, www.D neither asked nor a subject
    assert len(f"{LONG}.{Z}") == 250 and by_subject[f"{LONG}.{Z}"] == "pass"
    assert not [key for key in asked if key[0].startswith("www.a")]
    assert f"www.{LONG}.{Z}" not in by_subject


async def test_fanned_out_over_workers_the_results_are_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = tmp_path / "names.txt"
    names.write_text("".join(f"{d}.{Z}\n" for d in DOMAINS))
    spawned: list[object] = []
    popen = workers_module.subprocess.Popen

    def counting_popen(*args: object, **kwargs: object) -> object:
        proc = popen(*args, **kwargs)  # type: ignore[call-overload]
        spawned.append(proc)
        return proc

    monkeypatch.setattr(workers_module.subprocess, "Popen", counting_popen)
    handle, _ = _handler()
    rows = {}
    async with udp_server(handle) as (server, _):
        for workers in ("1", "3"):
            monkeypatch.setenv("IPV6SCAN_WORKERS", workers)
            out = tmp_path / f"out{workers}"
            config = ScanConfig(out=out, checks=(registry.BY_ID["dns.aaaa"],),
                                resolvers=(server,), timeout=0.3, quiet=True,
                                named_checks=("dns.aaaa",))  # fmt: skip
            await scan(config, TargetSource((str(names),)), None)
            lines = (out / "results.jsonl").read_text().splitlines()
            assert all(not line.startswith("#") for line in lines)
            rows[workers] = sorted(  # a list: a target scanned twice or never shows
                tuple(json.dumps(v, sort_keys=True) for k, v in json.loads(line).items()
                      if k != "duration_ms")
                for line in lines
            )  # fmt: skip
    assert len(spawned) == 3
    assert rows["3"] == rows["1"] and len(rows["1"]) > len(DOMAINS)


def test_worker_count_follows_the_environment_and_the_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    short, long = tmp_path / "short.txt", tmp_path / "long.txt"
    short.write_text("a.example\n" * 10)
    long.write_text("a.example\n" * workers_module.AUTO_MIN_LINES)
    monkeypatch.setenv("IPV6SCAN_WORKERS", "3")
    assert workers_module.worker_count([str(short)]) == 3
    monkeypatch.delenv("IPV6SCAN_WORKERS")
    monkeypatch.setattr(workers_module.os, "sched_getaffinity", lambda pid: set(range(4)))
    assert workers_module.worker_count([str(short)]) == 1  # a short list: not worth a process
    assert workers_module.worker_count([str(long)]) == 3  # a core left for the rest
    monkeypatch.setattr(workers_module.os, "sched_getaffinity", lambda pid: {0, 1})
    assert workers_module.worker_count([str(long)]) == 2  # at least two on more than one
    monkeypatch.setattr(workers_module.os, "sched_getaffinity", lambda pid: {0})
    assert workers_module.worker_count([str(long)]) == 1


async def test_sigterm_stops_the_workers_and_keeps_whole_lines(tmp_path: Path) -> None:
    """The real CLI with two workers against a server that leaves most questions
    unanswered (each name costs timeouts): stopped part-way, it exits 130 with whole
    lines and a summary of what finished."""
    names = tmp_path / "slow.txt"
    names.write_text("".join(f"n{i}.slow.test\n" for i in range(400)))

    def handle(wire: bytes) -> bytes | None:
        query = dns.message.from_wire(wire)
        name = query.question[0].name.to_text()
        if name.startswith("n") and int(name[1:].split(".")[0]) % 4:
            return None  # three names in four: a timeout
        return dns.message.make_response(query).to_wire()

    async with udp_server(handle) as (server, _):
        out = tmp_path / "out"
        argv = [sys.executable, "-m", "ipv6scan", "scan", str(names), "--out", str(out),
                "--checks", "dns.aaaa", "--resolver", f"{server.address}#{server.port}",
                "--timeout", "0.5", "--concurrency", "8", "--quiet"]  # fmt: skip
        env = {**os.environ, "IPV6SCAN_WORKERS": "2"}
        proc = await asyncio.create_subprocess_exec(*argv, env=env, stderr=asyncio.subprocess.PIPE)
        results = out / "results.jsonl"
        for _ in range(600):
            if results.exists() and results.read_bytes().count(b"\n") >= 5:
                break
            assert proc.returncode is None, "the scan ended before it could be stopped"
            await asyncio.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 130, stderr.decode(errors="replace")[-2000:]
    raw = results.read_bytes()
    assert raw.endswith(b"\n")
    records = [json.loads(line) for line in raw.splitlines()]
    assert 5 <= len(records) < 400, "stopped part-way"
    assert all(r["check"] == "dns.aaaa" for r in records)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["overall"]["targets"] == len({r["target"] for r in records})


@pytest.mark.parametrize(
    ("aaaa", "settled"),
    [
        (Lookup("www.x.test", "AAAA", "NOERROR", values=("2001:db8::1",)), True),
        (Lookup("www.x.test", "AAAA", "NOERROR", cname_chain=("x.test",)), True),
        (Lookup("www.x.test", "AAAA", "NXDOMAIN", cname_chain=("gone.test",)), True),
        (Lookup("www.x.test", "AAAA", "NXDOMAIN"), False),
        (Lookup("www.x.test", "AAAA", "NOERROR"), None),  # no AAAA: an A may exist
        (Lookup("www.x.test", "AAAA", "SERVFAIL"), None),
        (Lookup("www.x.test", "AAAA", "TIMEOUT", error="no answer"), None),
        (Lookup("www.x.test", "AAAA", "NXDOMAIN", error="CNAME loop"), None),
    ],
)
def test_www_rule_from_the_aaaa_alone(aaaa: Lookup, settled: bool | None) -> None:
    assert www_settled(aaaa) is settled
    for a_data in ((), ("198.51.100.1",)):
        a = Lookup("www.x.test", "A", "NOERROR", values=a_data)
        # the A answer changes the outcome only where the AAAA left it open
        expected = bool(a_data) if settled is None else settled
        assert www_exists(aaaa, a) is expected
