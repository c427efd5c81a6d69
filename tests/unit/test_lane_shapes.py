"""The fast lane keeps no rule of its own (issue 15): its lines come from judge_aaaa, the
engine's www.D rule and CheckResult.to_line through lane.ShapeCompiler, and the address
classes it caches by shape are a function of AddressPolicy.tables()'s matches."""

from __future__ import annotations

import json
import random
import socket
import time
from ipaddress import IPv6Address, IPv6Network
from typing import Any

import pytest

from ipv6scan.addresses import IPV6_SPECIAL, AddressPolicy, PrefixRow
from ipv6scan.context import Limits, ScanContext
from ipv6scan.engine import lane as lane_module
from ipv6scan.engine.lane import (
    ASK_A,
    DROP,
    HOLE_ADDRESS,
    HOLE_CHAIN,
    HOLE_DURATION,
    HOLE_END,
    HOLE_SECTOR,
    HOLE_SUBJECT,
    HOLE_TARGET,
    PUNT,
    WRITE,
    ShapeCompiler,
    segments,
)
from ipv6scan.messages import Detail
from ipv6scan.model import Status, Target, Verdict
from ipv6scan.observations.dns import Connectivity
from tests.unit.test_lane import R, Zone, aaaa, dns_server, scan_once

POLICIES = [
    AddressPolicy(),
    AddressPolicy(allow=("2001:db8::/32", "fc00::/7", "fd00::/8", "2001::/32")),
    AddressPolicy(allow=("::/0",)),
    AddressPolicy(allow=("fc00::/7",)).with_dns64(["2a00:1450::/96", "64:ff9b::/96"]),
]


# --- the tables: a class is a function of its matches ------------------------------------------


def _longest(packed: bytes, rows: tuple[PrefixRow, ...]) -> int:
    """_lane.c longest_match(): the first of the longest rows holding the address."""
    value = int.from_bytes(packed, "big")
    best = -1
    for i, (net, length) in enumerate(rows):
        inside = value >> (128 - length) == int.from_bytes(net, "big") >> (128 - length)
        if inside and (best < 0 or length > rows[best][1]):
            best = i
    return best


def _addresses(rng: random.Random, count: int) -> list[str]:
    """Random addresses inside every registry row and the policies' prefixes, and anywhere."""
    nets = [row.network for row in IPV6_SPECIAL if row.network.version == 6]
    nets += [IPv6Network(p) for p in ("2000::/3", "::/0", "2001:db8::/32", "fd00::/8",
                                      "2a00:1450::/96", "64:ff9b::/96", "2001::/32")]  # fmt: skip
    out = []
    for _ in range(count):
        net = rng.choice(nets)
        host = rng.getrandbits(128 - net.prefixlen) if net.prefixlen < 128 else 0
        out.append(str(IPv6Address(int(net.network_address) | host)))
    return out


@pytest.mark.parametrize("policy", POLICIES, ids=["plain", "allow", "everything", "dns64"])
def test_an_address_class_is_a_function_of_its_table_matches(policy: AddressPolicy) -> None:
    tables = policy.tables()
    seen: dict[tuple[int, int, int], tuple[Any, ...]] = {}
    for text in _addresses(random.Random(15), 20_000):
        packed = IPv6Address(text).packed
        key = (_longest(packed, tables.special), _longest(packed, tables.allow),
               _longest(packed, tables.dns64))  # fmt: skip
        c = policy.classify(text)
        # what a shape may hold: the class but for the address (a hole) and whether an IPv4
        # address is inside (such shapes are handed back)
        found = (c.category, c.is_global, c.allowed_by, c.embedded_ipv4 is None)
        assert seen.setdefault(key, found) == found, (text, key)
    assert len(seen) > 20  # the sample reached many rows


# --- the compiled lines ------------------------------------------------------------------------


def _ctx(policy: AddressPolicy) -> ScanContext:
    """What ShapeCompiler reads of a scan: its policy and options."""
    return ScanContext(resolver=None, transport=None, policy=policy,  # type: ignore[arg-type]
                       connectivity=Connectivity(True, True), limits=Limits(64, 8),
                       timeout=1.0)  # fmt: skip


def test_segments_cut_the_line_at_its_holes() -> None:
    line = (b'{"t": "\x7fT", "s": "\x7fS", "n": "\x7fN", "a": ["\x7fA00", "\x7fA12"], '
            b'"c": "\x7fC03", "duration_ms": 86400123.125}\n')  # fmt: skip
    got = segments(line)
    assert [hole for _, hole in got] == [HOLE_TARGET, HOLE_SECTOR, HOLE_SUBJECT, HOLE_ADDRESS,
                                         HOLE_ADDRESS + 12, HOLE_CHAIN + 3, HOLE_DURATION,
                                         HOLE_END]  # fmt: skip
    assert b"".join(text for text, _ in got) == (
        b'{"t": "", "s": "", "n": "", "a": ["", ""], "c": "", "duration_ms": }\n'
    )
    with pytest.raises(ValueError):
        segments(b'{"odd": "\x7fZ", "duration_ms": 86400123.125}')
    with pytest.raises(ValueError):
        segments(b'{"duration_ms": 1.5}')


def _fill(answer: tuple[int, int, Any], values: tuple[str, ...], chain: tuple[str, ...]) -> str:
    fills = {HOLE_TARGET: b"T", HOLE_SECTOR: b"S", HOLE_SUBJECT: b"d.example",
             HOLE_DURATION: b"1.5", HOLE_END: b""}  # fmt: skip
    out = b""
    for text, hole in answer[2]:
        if hole >= HOLE_CHAIN:
            fill = chain[hole - HOLE_CHAIN].encode()
        elif hole >= HOLE_ADDRESS:
            fill = values[hole - HOLE_ADDRESS].encode()
        else:
            fill = fills[hole]
        out += text + fill
    return out.decode()


def test_a_compiled_line_is_the_judges_with_its_key_and_params() -> None:
    compiler = ShapeCompiler(_ctx(AddressPolicy()), "::1")
    values = ("2001:db8::1", "2a00:1450::1")
    answer = compiler(0, False, "AAAA", False, ("x.example",), values, -1)
    assert answer[:2] == (WRITE, 1)  # warn
    row = json.loads(_fill(answer, values, ("x.example",)))
    assert row["detail"] == (
        "Global AAAA 2a00:1450::1 published beside non-global 2001:db8::1 (documentation)."
    )
    assert row["detail_key"] == "dns.aaaa.mixed"
    assert row["detail_params"]["good"] == ["2a00:1450::1"]
    assert row["evidence"]["cname_chain"] == ["x.example"]
    assert row["evidence"]["resolver"] == "::1"
    assert (row["target"], row["sector"], row["subject"]) == ("T", "S", "d.example")


def test_www_shapes_follow_the_engines_rule() -> None:
    compiler = ShapeCompiler(_ctx(AddressPolicy()), "::1")
    assert compiler(0, True, "AAAA", True, (), (), -1)[0] == DROP  # NXDOMAIN: no subject
    assert compiler(1, True, "AAAA", False, (), (), -1)[0] == ASK_A  # no data: the A decides
    assert compiler(2, True, "A", False, (), (), 1)[0] == DROP  # no A either
    answer = compiler(3, True, "A", False, (), ("198.51.100.1",), 1)
    assert answer[:2] == (WRITE, 2)  # fail: a subject with no AAAA
    assert json.loads(_fill(answer, (), ()))["detail"] == "No AAAA record."
    assert compiler(4, True, "A", False, (), ("198.51.100.1",), 99)[0] == PUNT  # unknown prior


def test_shapes_with_an_ipv4_inside_are_handed_back() -> None:
    compiler = ShapeCompiler(_ctx(AddressPolicy().with_dns64(["64:ff9b::/96"])), "::1")
    for value in ("64:ff9b::c633:6401", "2002:c633:6401::1"):
        assert compiler(0, False, "AAAA", False, (), (value,), -1)[0] == PUNT


# --- the lane follows a rule changed in Python ------------------------------------------------


async def test_a_changed_judge_changes_the_lanes_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    if lane_module.Lane is None:
        pytest.skip("the fast lane is not compiled in this install")
    changed = Detail("Changed rule.", "dns.aaaa.changed", {"n": 1})

    def judge(found: Any, options: Any = None) -> Verdict:
        return Verdict(Status.WARN, changed, {"addresses": len(found.classes)})

    monkeypatch.setattr(lane_module, "judge_aaaa", judge)
    names = [f"c{i}.shape.test" for i in range(20)]
    table = {(name, "AAAA"): R(aaaa(name, f"2a00:1450:1::{i:x}")) for i, name in enumerate(names)}
    targets = [Target(f"c{i}", "sector", (name,)) for i, name in enumerate(names)]
    async with dns_server(Zone(table)) as server:
        run = await scan_once(server, targets, AddressPolicy(), lane=True, env=monkeypatch)
    assert len(run.from_lane) == 20  # each D's line; no www.D exists (NXDOMAIN)
    for line in run.from_lane:
        row = json.loads(line)
        assert (row["status"], row["detail"], row["detail_key"]) == (
            "warn",
            "Changed rule.",
            "dns.aaaa.changed",
        )
        assert row["detail_params"] == {"n": 1} and row["evidence"] == {"addresses": 1}


def test_a_compiler_that_raises_hands_the_part_back() -> None:
    """An exception out of the compiler (not a rule's: ShapeCompiler turns those into
    punts) leaves Lane.read() with it, and the domain still comes back, handed back."""
    if lane_module.Lane is None:
        pytest.skip("the fast lane is not compiled in this install")
    import dns.message

    def compiler(*args: Any) -> Any:
        raise KeyboardInterrupt

    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with server, client:
        server.bind(("127.0.0.1", 0))
        client.bind(("127.0.0.1", 0))
        client.connect(server.getsockname())
        client.setblocking(False)
        tables = AddressPolicy().tables()
        lane = lane_module.Lane(client.fileno(), 5.0, 8, tables.special, tables.allow,
                                tables.dns64, compiler)  # fmt: skip
        assert lane.add("token", "raise.example", None, b"T", b"S")
        lane.flush()
        query, peer = server.recvfrom(512)
        reply = dns.message.make_response(dns.message.from_wire(query))
        server.sendto(reply.to_wire(), peer)
        with pytest.raises(KeyboardInterrupt):
            for _ in range(100):
                lane.read()
                time.sleep(0.01)
        lines, done, punted, counts = lane.take()
        assert (lines, done, counts) == (b"", [], (0, 0, 0, 0))
        assert [(token, parts) for token, parts, _ in punted] == [("token", 1)]
        assert lane.busy == 0


def test_a_table_too_long_for_a_shapes_key_is_refused() -> None:
    """A row's index is two octets of a shape's key: past that the lane refuses the table
    (FastLane.open then leaves the scan to the general path) rather than mix rows up."""
    if lane_module.Lane is None:
        pytest.skip("the fast lane is not compiled in this install")
    tables = AddressPolicy().tables()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        rows = [(bytes(16), 0)] * 65_535
        with pytest.raises(ValueError, match="65,534"):
            lane_module.Lane(sock.fileno(), 1.0, 8, tables.special, rows, [], print)
        assert lane_module.Lane(sock.fileno(), 1.0, 8, tables.special, rows[1:], [], print)
