"""net.ping / net.trace observations: which addresses may be probed, the raw-socket
denial, and the per-scan prober. A recording prober stands in; nothing is sent."""

from __future__ import annotations

import asyncio
import dataclasses
import errno
import socket
from typing import Any

import pytest

from ipv6scan.addresses import AddressPolicy
from ipv6scan.checks.net import judge_ping, judge_trace
from ipv6scan.checks.options import CheckOptions
from ipv6scan.context import Limits, ScanContext
from ipv6scan.dnsclient.resolution import Lookup
from ipv6scan.model import Status, Subject, Target
from ipv6scan.observations.dns import Connectivity
from ipv6scan.observations.net import REPLY, EchoOutcome
from ipv6scan.probes import icmp_socket
from ipv6scan.probes import net as net_observe

TARGET = Target("Operator", "operator", ())


class StubResolver:
    def __init__(self, answers: dict[str, tuple[str, ...]]) -> None:
        self.answers = answers

    async def lookup(self, name: str, rdtype: str) -> Lookup:
        return Lookup(name, rdtype, "NOERROR", self.answers.get(name, ()))


class RecordingProber:
    """Answers every echo at once and remembers where it was sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, int | None]] = []

    def send(
        self, destination: str, *, timeout: float, hop_limit: int | None = None
    ) -> asyncio.Future[EchoOutcome]:
        self.sent.append((destination, hop_limit))
        future: asyncio.Future[EchoOutcome] = asyncio.get_running_loop().create_future()
        future.set_result(EchoOutcome(REPLY, destination, 1.0))
        return future

    rate = 1000.0

    def set_rate(self, rate: float) -> None:
        self.rate = rate

    def ping(
        self, destination: str, *, count: int, interval: float, timeout: float, per_destination: int
    ) -> asyncio.Future[tuple[EchoOutcome, ...]]:
        self.sent += [(destination, None)] * count
        future: asyncio.Future[tuple[EchoOutcome, ...]] = asyncio.get_running_loop().create_future()
        future.set_result((EchoOutcome(REPLY, destination, 1.0),) * count)
        return future


def context(answers: dict[str, tuple[str, ...]] | None = None, ipv6: bool = True) -> ScanContext:
    return ScanContext(
        resolver=StubResolver(answers or {}),  # type: ignore[arg-type]
        transport=None,  # type: ignore[arg-type]
        policy=AddressPolicy.from_strings(["2001:db8::/32"]),
        connectivity=Connectivity(ipv6=ipv6, ipv4=True),
        limits=Limits(10, 2),
        timeout=0.5,
    )


async def with_prober(ctx: ScanContext) -> RecordingProber:
    prober = RecordingProber()

    async def make() -> RecordingProber:
        return prober

    await ctx.memo.get(("icmp-prober",), make)  # the scan's prober, as prober_for finds it
    return prober


async def test_host_pings_every_global_address_only() -> None:
    ctx = context({"core1.example.test": ("2001:db8::1", "::1", "fd00::1", "2001:db8::2")})
    prober = await with_prober(ctx)
    obs = await net_observe.observe_ping(ctx, Subject("host", "core1.example.test", TARGET))
    assert sorted({d for d, _ in prober.sent}) == ["2001:db8::1", "2001:db8::2"]
    assert len(prober.sent) == 2 * ctx.options.ping_count
    assert [c.category for c in obs.target.not_probed] == ["loopback", "unique-local"]
    assert judge_ping(obs).status is Status.PASS


@pytest.mark.parametrize("address", ["::1", "fd00::1", "fe80::1", "64:ff9b::c000:201"])
async def test_non_global_address_is_never_sent_to(address: str) -> None:
    ctx = context()
    prober = await with_prober(ctx)
    subject = Subject("address", address, TARGET)
    ping = await net_observe.observe_ping(ctx, subject)
    traced = await net_observe.observe_trace(ctx, subject)
    assert prober.sent == []
    assert judge_ping(ping).status is Status.SKIP
    assert judge_trace(traced).detail.startswith("Not probed:")


async def test_no_ipv6_path_sends_nothing_and_is_an_error() -> None:
    ctx = context(ipv6=False)
    prober = await with_prober(ctx)
    obs = await net_observe.observe_ping(ctx, Subject("address", "2001:db8::1", TARGET))
    assert prober.sent == []
    assert judge_ping(obs).status is Status.ERROR


async def test_trace_sends_hop_limited_probes_to_the_first_address() -> None:
    ctx = context({"core1.example.test": ("2001:db8::1", "2001:db8::2")})
    prober = await with_prober(ctx)
    obs = await net_observe.observe_trace(ctx, Subject("host", "core1.example.test", TARGET))
    assert obs.result is not None and obs.result.reached
    assert {d for d, _ in prober.sent} == {"2001:db8::1"}
    assert all(hop is not None for _, hop in prober.sent)
    assert judge_trace(obs).evidence["not_traced"] == ["2001:db8::2"]


async def test_raw_socket_denied_is_an_error_found_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a scanner that may not open raw sockets (not root, no CAP_NET_RAW)
    tries: list[int] = []

    def denied(*_: int) -> socket.socket:
        tries.append(1)
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(icmp_socket, "SOCKET_FACTORY", denied)
    ctx = context()
    subject = Subject("address", "2001:db8::1", TARGET)
    # When both net checks run
    ping = await net_observe.observe_ping(ctx, subject)
    traced = await net_observe.observe_trace(ctx, subject)
    # Then both are errors (not skips), saying why, and the socket was tried once
    for verdict in (judge_ping(ping), judge_trace(traced)):
        assert verdict.status is Status.ERROR
        assert "CAP_NET_RAW" in verdict.detail
    assert tries == [1]


async def test_guard_refuses_a_non_global_address_even_if_asked() -> None:
    with pytest.raises(net_observe.OutOfScope):
        net_observe._guard(context(), "::1")


async def test_ping_paces_at_the_options_rate_and_bounds_each_destination() -> None:
    ctx = dataclasses.replace(context(), options=CheckOptions(ping_rate=1234.0))
    prober = await with_prober(ctx)
    calls: list[int] = []
    real_ping = prober.ping

    def ping(destination: str, **kwargs: Any) -> asyncio.Future[tuple[EchoOutcome, ...]]:
        calls.append(kwargs["per_destination"])
        return real_ping(destination, **kwargs)

    prober.ping = ping  # type: ignore[method-assign]
    obs = await net_observe.observe_ping(ctx, Subject("address", "2001:db8::1", TARGET))
    assert prober.rate == 1234.0
    assert calls == [ctx.limits.per_destination]
    # the result names the address as a plain string, whatever the guard saw
    assert type(obs.results[0].address) is str and obs.results[0].address == "2001:db8::1"


def test_the_default_rate_is_the_documented_one() -> None:
    assert CheckOptions().ping_rate == icmp_socket.DEFAULT_RATE


def test_guard_trusts_only_its_own_policys_classification() -> None:
    ctx = context()
    # net_target's classification under this very policy lets the guard skip its own
    cleared = net_observe._cleared("2001:db8::1", ctx.policy)
    assert net_observe._guard(ctx, cleared) == "2001:db8::1"
    assert type(net_observe._guard(ctx, cleared)) is str
    # one made under another policy is classified again, and refused when not global
    other = AddressPolicy.from_strings(["::1/128"])
    with pytest.raises(net_observe.OutOfScope):
        net_observe._guard(ctx, net_observe._cleared("::1", other))
    with pytest.raises(net_observe.OutOfScope):
        net_observe._guard(ctx, "::1")
