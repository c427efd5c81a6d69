"""Engine.subjects: which hosts a target's domains make, and how its www.D look-ups go out."""

from __future__ import annotations

from ipv6scan.addresses import AddressPolicy
from ipv6scan.context import Limits, ScanContext
from ipv6scan.engine.scheduler import WWW_BATCH, Engine
from ipv6scan.model import Target
from ipv6scan.observations.dns import Connectivity
from tests.unit.test_resolution import make, rr


def _engine(domains: int) -> tuple[Engine, Target, object]:
    # www.dN has an AAAA for even N, an A for N divisible by 3, and nothing otherwise
    script = {}
    for n in range(domains):
        www = f"www.d{n}.example"
        if n % 2 == 0:
            script[(None, www, "AAAA")] = [("NOERROR", [rr(www, "AAAA", "2001:db8::1")])]
        elif n % 3 == 0:  # the name exists: no AAAA data, not NXDOMAIN
            script[(None, www, "AAAA")] = [("NOERROR", [])]
        if n % 3 == 0:
            script[(None, www, "A")] = [("NOERROR", [rr(www, "A", "198.51.100.1")])]
    resolver, transport = make(script)
    ctx = ScanContext(
        resolver=resolver,
        transport=transport,  # type: ignore[arg-type]
        policy=AddressPolicy(),
        connectivity=Connectivity(ipv6=True, ipv4=True),
        limits=Limits(10, 2),
        timeout=1.0,
    )
    engine = Engine(ctx, [], lambda r: None, check_deadline=5)
    target = Target("Ministry", "government", tuple(f"d{n}.example" for n in range(domains)))
    return engine, target, transport


async def test_a_targets_www_lookups_go_out_together_and_keep_their_order() -> None:
    # Given a target listing 40 domains
    engine, target, transport = _engine(40)
    # When its subjects are made
    subjects = await engine.subjects(target)
    # Then D and D's host come for every domain, www.D where it has an address, in order
    expected = []
    for n in range(40):
        expected += [("domain", f"d{n}.example"), ("host", f"d{n}.example")]
        if n % 2 == 0 or n % 3 == 0:
            expected.append(("host", f"www.d{n}.example"))
    assert [(s.kind, s.name) for s in subjects] == expected
    # And the 80 questions (AAAA and A of each www.D) were in flight at once, not in turn
    assert transport.max_in_flight == 80  # type: ignore[attr-defined]


async def test_a_target_of_thousands_of_domains_asks_a_batch_at_a_time() -> None:
    engine, target, transport = _engine(3 * WWW_BATCH)
    subjects = await engine.subjects(target)
    assert len([s for s in subjects if s.kind == "domain"]) == 3 * WWW_BATCH
    assert transport.max_in_flight == 2 * WWW_BATCH  # type: ignore[attr-defined]
