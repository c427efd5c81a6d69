"""Resolver: one look-up per (name, type), CNAMEs followed, resolvers and retries,
driven by a scripted fake transport that counts every question."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from ipv6scan.dnsclient.resolution import MAX_CNAME_HOPS, Lookup, Resolver
from ipv6scan.dnsclient.transport import RR, DnsReply, DnsServer

R1 = DnsServer("192.0.2.1")
R2 = DnsServer("2001:db8::53", 5353)

Script = tuple[str, Sequence[RR]]  # (rcode, answer records)


def rr(name: str, rdtype: str, data: str, pref: int | None = None) -> RR:
    return RR(name, rdtype, 300, data, pref)


class FakeTransport:
    """Scripted answers by (server address or None, qname, rdtype).

    Each key holds a list of (rcode, answers) used in turn; the last one repeats.
    A question with no script gets NXDOMAIN. `gate`, when set, holds every
    answer until it is opened, so many look-ups can be in flight at once;
    `held` does the same for single names.
    """

    def __init__(self, script: dict[tuple[str | None, str, str], list[Script]]) -> None:
        self.script = {k: list(v) for k, v in script.items()}
        self.calls: list[tuple[str, str, str, bool, float]] = []
        self.gate: asyncio.Event | None = None
        self.held: dict[str, asyncio.Event] = {}
        self.in_flight = 0
        self.max_in_flight = 0

    def count(self, qname: str, rdtype: str) -> int:
        return sum(1 for c in self.calls if c[1] == qname and c[2] == rdtype)

    async def query(
        self, server: DnsServer, qname: str, rdtype: str, *, recursion: bool, timeout: float
    ) -> DnsReply:
        self.calls.append((server.address, qname, rdtype, recursion, timeout))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if qname in self.held:
                await self.held[qname].wait()
            elif self.gate is not None:
                await self.gate.wait()
            else:
                await asyncio.sleep(0)
        finally:
            self.in_flight -= 1
        entries = self.script.get((server.address, qname, rdtype)) or self.script.get(
            (None, qname, rdtype)
        )
        if not entries:
            rcode, answers = "NXDOMAIN", ()
        elif len(entries) > 1:
            rcode, answers = entries.pop(0)
        else:
            rcode, answers = entries[0]
        error = "no answer within the timeout" if rcode == "TIMEOUT" else None
        return DnsReply(
            qname=qname,
            rdtype=rdtype,
            server=str(server),
            rcode=rcode,
            answers=tuple(answers),
            error=error,
        )


def make(
    script: dict[tuple[str | None, str, str], list[Script]],
    servers: Sequence[DnsServer] = (R1,),
    **kw: object,
) -> tuple[Resolver, FakeTransport]:
    transport = FakeTransport(script)
    return Resolver(transport, servers, timeout=1.5, **kw), transport  # type: ignore[arg-type]


AAAA_WWW = {
    (None, "www.example.com", "AAAA"): [("NOERROR", [rr("www.example.com", "AAAA", "2001:db8::1")])]
}


async def test_concurrent_lookups_of_one_name_ask_once() -> None:
    resolver, transport = make(
        {
            **AAAA_WWW,
            (None, "www.example.com", "A"): [
                ("NOERROR", [rr("www.example.com", "A", "192.0.2.1")])
            ],
        }
    )
    transport.gate = asyncio.Event()
    tasks = [
        asyncio.create_task(resolver.lookup("www.example.com", t))
        for _ in range(50)
        for t in ("AAAA", "A")
    ]
    await asyncio.sleep(0.01)
    assert len(transport.calls) == 2  # both questions in flight, each once
    transport.gate.set()
    results = await asyncio.gather(*tasks)
    assert transport.count("www.example.com", "AAAA") == 1
    assert transport.count("www.example.com", "A") == 1
    aaaa = {r for r in results if r.rdtype == "AAAA"}
    assert aaaa == {
        Lookup("www.example.com", "AAAA", "NOERROR", ("2001:db8::1",), server="192.0.2.1")
    }
    # and once more after it finished: from the cache
    again = await resolver.lookup("www.example.com", "AAAA")
    assert again.values == ("2001:db8::1",)
    assert len(transport.calls) == 2
    assert resolver.queries_sent == 2


async def test_recursive_question_with_the_configured_timeout() -> None:
    resolver, transport = make(AAAA_WWW)
    await resolver.lookup("www.example.com", "AAAA")
    assert transport.calls == [("192.0.2.1", "www.example.com", "AAAA", True, 1.5)]


async def test_cancelled_waiter_does_not_cancel_the_shared_lookup() -> None:
    resolver, transport = make(AAAA_WWW)
    transport.gate = asyncio.Event()
    first = asyncio.create_task(resolver.lookup("www.example.com", "AAAA"))
    second = asyncio.create_task(resolver.lookup("www.example.com", "AAAA"))
    await asyncio.sleep(0.01)
    first.cancel()
    await asyncio.sleep(0)
    transport.gate.set()
    result = await second
    assert result.values == ("2001:db8::1",)
    assert first.cancelled()
    assert len(transport.calls) == 1


async def test_cname_chain_in_the_answer_section_is_followed() -> None:
    answers = [
        # out of order on purpose, with a record of another owner that must not count
        rr("edge.cdn.example", "AAAA", "2001:db8:e::1"),
        rr("www.example.com", "CNAME", "www.example.com.cdn.example"),
        rr("other.example", "AAAA", "2001:db8:bad::1"),
        rr("www.example.com.cdn.example", "CNAME", "edge.cdn.example"),
        rr("edge.cdn.example", "AAAA", "2001:db8:e::2"),
    ]
    resolver, transport = make({(None, "www.example.com", "AAAA"): [("NOERROR", answers)]})
    lookup = await resolver.lookup("www.example.com", "AAAA")
    assert lookup.ok
    assert lookup.values == ("2001:db8:e::1", "2001:db8:e::2")
    assert lookup.cname_chain == ("www.example.com.cdn.example", "edge.cdn.example")
    assert lookup.final_name == "edge.cdn.example"
    assert lookup.has_data
    assert len(transport.calls) == 1


async def test_cname_only_answer_makes_the_resolver_ask_for_the_target() -> None:
    resolver, transport = make(
        {
            (None, "www.example.com", "AAAA"): [
                ("NOERROR", [rr("www.example.com", "CNAME", "cdn.example.net")])
            ],
            (None, "cdn.example.net", "AAAA"): [
                ("NOERROR", [rr("cdn.example.net", "AAAA", "2001:db8:c::1")])
            ],
        }
    )
    lookup = await resolver.lookup("www.example.com", "AAAA")
    assert [c[1] for c in transport.calls] == ["www.example.com", "cdn.example.net"]
    assert lookup.values == ("2001:db8:c::1",)
    assert lookup.cname_chain == ("cdn.example.net",)
    assert lookup.name == "www.example.com"
    assert lookup.rcode == "NOERROR" and lookup.error is None


async def test_cname_to_a_target_without_data_stops_after_asking_it() -> None:
    resolver, transport = make(
        {
            (None, "www.example.com", "AAAA"): [
                ("NOERROR", [rr("www.example.com", "CNAME", "v4only.example.net")])
            ],
            (None, "v4only.example.net", "AAAA"): [("NOERROR", [])],
        }
    )
    lookup = await resolver.lookup("www.example.com", "AAAA")
    assert lookup.ok
    assert lookup.values == ()
    assert lookup.cname_chain == ("v4only.example.net",)
    assert lookup.has_data  # a CNAME makes www.D a subject
    assert len(transport.calls) == 2


async def test_cname_to_nxdomain_target_reports_nxdomain_with_the_chain() -> None:
    resolver, transport = make(
        {
            (None, "www.example.com", "AAAA"): [
                ("NXDOMAIN", [rr("www.example.com", "CNAME", "gone.example.net")])
            ],
        }
    )
    lookup = await resolver.lookup("www.example.com", "AAAA")
    assert lookup.rcode == "NXDOMAIN"
    assert lookup.cname_chain == ("gone.example.net",)
    assert lookup.final_name == "gone.example.net"
    assert len(transport.calls) == 1


async def test_failure_while_following_the_chain_keeps_the_chain() -> None:
    resolver, _ = make(
        {
            (None, "www.example.com", "AAAA"): [
                ("NOERROR", [rr("www.example.com", "CNAME", "cdn.example.net")])
            ],
            (None, "cdn.example.net", "AAAA"): [("SERVFAIL", [])],
        }
    )
    lookup = await resolver.lookup("www.example.com", "AAAA")
    assert lookup.rcode == "SERVFAIL"
    assert not lookup.ok
    assert lookup.cname_chain == ("cdn.example.net",)
    assert "SERVFAIL" in lookup.describe_failure()


async def test_cname_loop_in_one_answer_is_an_error() -> None:
    resolver, transport = make(
        {
            (None, "a.example", "AAAA"): [
                (
                    "NOERROR",
                    [rr("a.example", "CNAME", "b.example"), rr("b.example", "CNAME", "a.example")],
                )
            ]
        }
    )
    lookup = await asyncio.wait_for(resolver.lookup("a.example", "AAAA"), 2)
    assert lookup.error == "CNAME loop"
    assert not lookup.ok
    assert lookup.values == ()
    assert len(transport.calls) == 1


async def test_cname_loop_across_questions_is_an_error() -> None:
    resolver, transport = make(
        {
            (None, "a.example", "AAAA"): [("NOERROR", [rr("a.example", "CNAME", "b.example")])],
            (None, "b.example", "AAAA"): [("NOERROR", [rr("b.example", "CNAME", "c.example")])],
            (None, "c.example", "AAAA"): [("NOERROR", [rr("c.example", "CNAME", "b.example")])],
        }
    )
    lookup = await asyncio.wait_for(resolver.lookup("a.example", "AAAA"), 2)
    assert lookup.error == "CNAME loop"
    assert not lookup.ok
    assert len(transport.calls) <= 3


async def test_endless_cname_chain_is_cut_off() -> None:
    script: dict[tuple[str | None, str, str], list[Script]] = {
        (None, f"n{i}.example", "AAAA"): [
            ("NOERROR", [rr(f"n{i}.example", "CNAME", f"n{i + 1}.example")])
        ]
        for i in range(50)
    }
    resolver, transport = make(script)
    lookup = await asyncio.wait_for(resolver.lookup("n0.example", "AAAA"), 2)
    assert lookup.error is not None and "longer than" in lookup.error
    assert not lookup.ok
    assert len(transport.calls) <= MAX_CNAME_HOPS + 1


async def test_long_chain_in_one_answer_is_cut_off() -> None:
    chain = [rr(f"n{i}.example", "CNAME", f"n{i + 1}.example") for i in range(MAX_CNAME_HOPS + 3)]
    resolver, _ = make({(None, "n0.example", "AAAA"): [("NOERROR", chain)]})
    lookup = await resolver.lookup("n0.example", "AAAA")
    assert lookup.error is not None and "longer than" in lookup.error


async def test_cname_question_is_not_followed() -> None:
    resolver, transport = make(
        {
            (None, "www.example.com", "CNAME"): [
                ("NOERROR", [rr("www.example.com", "CNAME", "x.example")])
            ]
        }
    )
    lookup = await resolver.lookup("www.example.com", "CNAME")
    assert lookup.values == ("x.example",)
    assert lookup.cname_chain == ()
    assert len(transport.calls) == 1


async def test_servfail_from_first_resolver_then_noerror_from_second() -> None:
    resolver, transport = make(
        {
            ("192.0.2.1", "www.example.com", "AAAA"): [("SERVFAIL", [])],
            ("2001:db8::53", "www.example.com", "AAAA"): [
                ("NOERROR", [rr("www.example.com", "AAAA", "2001:db8::1")])
            ],
        },
        servers=(R1, R2),
    )
    lookup = await resolver.lookup("www.example.com", "AAAA")
    assert lookup.rcode == "NOERROR"
    assert lookup.values == ("2001:db8::1",)
    assert lookup.server == "[2001:db8::53]:5353"
    assert [c[0] for c in transport.calls] == ["192.0.2.1", "2001:db8::53"]


async def test_final_answer_from_first_resolver_is_not_asked_again() -> None:
    resolver, transport = make(
        {("192.0.2.1", "nope.example", "AAAA"): [("NXDOMAIN", [])]}, servers=(R1, R2)
    )
    lookup = await resolver.lookup("nope.example", "AAAA")
    assert lookup.rcode == "NXDOMAIN"
    assert lookup.ok
    assert len(transport.calls) == 1


async def test_servfail_everywhere_is_reported_and_not_retried() -> None:
    resolver, transport = make(
        {(None, "broken.example", "AAAA"): [("SERVFAIL", [])]}, servers=(R1, R2), attempts=3
    )
    lookup = await resolver.lookup("broken.example", "AAAA")
    assert lookup.rcode == "SERVFAIL"
    assert not lookup.ok
    assert len(transport.calls) == 2  # one round over both resolvers


async def test_timeouts_are_retried_up_to_attempts() -> None:
    resolver, transport = make(
        {
            (None, "slow.example", "AAAA"): [
                ("TIMEOUT", []),
                ("TIMEOUT", []),
                ("NOERROR", [rr("slow.example", "AAAA", "2001:db8::5")]),
            ]
        },
        attempts=3,
    )
    lookup = await resolver.lookup("slow.example", "AAAA")
    assert lookup.rcode == "NOERROR"
    assert lookup.values == ("2001:db8::5",)
    assert len(transport.calls) == 3


async def test_timeouts_beyond_attempts_give_timeout() -> None:
    resolver, transport = make({(None, "dead.example", "AAAA"): [("TIMEOUT", [])]}, attempts=2)
    lookup = await resolver.lookup("dead.example", "AAAA")
    assert lookup.rcode == "TIMEOUT"
    assert lookup.error == "no answer within the timeout"
    assert not lookup.ok
    assert len(transport.calls) == 2


async def test_servfail_is_kept_over_a_timeout() -> None:
    resolver, _ = make(
        {
            ("192.0.2.1", "x.example", "AAAA"): [("TIMEOUT", [])],
            ("2001:db8::53", "x.example", "AAAA"): [("SERVFAIL", [])],
        },
        servers=(R1, R2),
    )
    assert (await resolver.lookup("x.example", "AAAA")).rcode == "SERVFAIL"

    resolver, _ = make(
        {
            ("192.0.2.1", "x.example", "AAAA"): [("SERVFAIL", [])],
            ("2001:db8::53", "x.example", "AAAA"): [("TIMEOUT", [])],
        },
        servers=(R1, R2),
    )
    assert (await resolver.lookup("x.example", "AAAA")).rcode == "SERVFAIL"


async def test_mx_preferences_are_kept_parallel_to_the_hosts() -> None:
    answers = [
        rr("example.com", "MX", "mx2.example.com", 20),
        rr("example.com", "MX", "mx0.example.com", 0),
        rr("example.com", "MX", "mx1.example.com", 10),
    ]
    resolver, _ = make({(None, "example.com", "MX"): [("NOERROR", answers)]})
    lookup = await resolver.lookup("example.com", "MX")
    assert lookup.values == ("mx2.example.com", "mx0.example.com", "mx1.example.com")
    assert lookup.prefs == (20, 0, 10)


async def test_non_mx_lookups_have_no_prefs() -> None:
    resolver, _ = make(AAAA_WWW)
    assert (await resolver.lookup("www.example.com", "AAAA")).prefs == ()


async def test_cache_eviction_never_drops_an_unfinished_lookup() -> None:
    script: dict[tuple[str | None, str, str], list[Script]] = {
        (None, f"h{i}.example", "AAAA"): [
            ("NOERROR", [rr(f"h{i}.example", "AAAA", f"2001:db8::{i}")])
        ]
        for i in range(20)
    }
    resolver, transport = make(script, cache_size=2)
    transport.held["h0.example"] = release = asyncio.Event()
    slow = asyncio.create_task(resolver.lookup("h0.example", "AAAA"))
    await asyncio.sleep(0.01)
    # many finished look-ups after it: each one pushes the cache past its size
    for i in range(1, 10):
        await resolver.lookup(f"h{i}.example", "AAAA")
    # h0 is still in flight: a second waiter must share it, not ask again
    again = asyncio.create_task(resolver.lookup("h0.example", "AAAA"))
    await asyncio.sleep(0.01)
    assert not slow.done() and not again.done()
    assert transport.count("h0.example", "AAAA") == 1
    release.set()
    first, second = await asyncio.gather(slow, again)
    assert first == second
    assert first.values == ("2001:db8::0",)
    assert transport.count("h0.example", "AAAA") == 1


async def test_cache_evicts_finished_lookups_beyond_its_size() -> None:
    script: dict[tuple[str | None, str, str], list[Script]] = {
        (None, f"h{i}.example", "AAAA"): [
            ("NOERROR", [rr(f"h{i}.example", "AAAA", f"2001:db8::{i}")])
        ]
        for i in range(5)
    }
    resolver, transport = make(script, cache_size=2)
    for i in range(4):
        await resolver.lookup(f"h{i}.example", "AAAA")
    assert len(transport.calls) == 4
    await resolver.lookup("h3.example", "AAAA")  # recent: cached
    assert len(transport.calls) == 4
    await resolver.lookup("h0.example", "AAAA")  # oldest: evicted, asked again
    assert transport.count("h0.example", "AAAA") == 2


async def test_limit_bounds_questions_in_flight() -> None:
    script: dict[tuple[str | None, str, str], list[Script]] = {
        (None, f"h{i}.example", "AAAA"): [("NOERROR", [])] for i in range(10)
    }
    resolver, transport = make(script, limit=asyncio.Semaphore(2))
    await asyncio.gather(*(resolver.lookup(f"h{i}.example", "AAAA") for i in range(10)))
    assert len(transport.calls) == 10
    assert transport.max_in_flight <= 2


def test_no_resolver_configured_is_refused() -> None:
    with pytest.raises(ValueError, match="no recursive resolver"):
        Resolver(FakeTransport({}), (), timeout=1.0)  # type: ignore[arg-type]
