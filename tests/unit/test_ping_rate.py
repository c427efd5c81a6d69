"""IPV6SCAN_PING_RATE: the operator's pacing of net.ping and net.trace, end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from ipv6scan.checks.options import CheckOptions
from ipv6scan.context import MAX_PING_RATE, ping_rate_from
from ipv6scan.dnsclient.transport import DnsServer
from ipv6scan.engine import run
from ipv6scan.observations.dns import Connectivity
from ipv6scan.probes import icmp_socket


@pytest.mark.parametrize(
    ("text", "rate"),
    [("", None), ("  ", None), ("50000", 50_000.0), (" 1e3 ", 1_000.0), ("0.5", 0.5),
     (str(int(MAX_PING_RATE)), MAX_PING_RATE)],
)  # fmt: skip
def test_a_number_of_echoes_a_second_or_unset(text: str, rate: float | None) -> None:
    assert ping_rate_from({"IPV6SCAN_PING_RATE": text}) == rate
    assert ping_rate_from({}) is None


@pytest.mark.parametrize("text", ["fast", "0", "-1", "nan", "inf", "1e300", "1000001", "1,000"])
def test_anything_else_is_refused_naming_the_variable(text: str) -> None:
    with pytest.raises(ValueError, match=r"IPV6SCAN_PING_RATE=.*at most 1,000,000"):
        ping_rate_from({"IPV6SCAN_PING_RATE": text})


def _config(tmp_path: Path, ping_rate: float | None) -> run.ScanConfig:
    return run.ScanConfig(out=tmp_path, checks=(), resolvers=(DnsServer("::1", 53),),
                          ping_rate=ping_rate)  # fmt: skip


async def test_the_scan_context_carries_the_rate(tmp_path: Path) -> None:
    known = Connectivity(True, True, (), ())
    paced = await run.prepare_context(_config(tmp_path, 500.0), known=known)
    default = await run.prepare_context(_config(tmp_path, None), known=known)
    assert paced.options.ping_rate == 500.0
    # the scan's options are the defaults, but for the tries (--attempts defaults to 3) and
    # the pages' resources, read only when web.resources is among the checks (none here)
    expected = CheckOptions(attempts=run.ScanConfig.attempts, resources_cap=0)
    assert default.options == expected


def test_the_scans_icmp_socket_opens_at_that_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[float] = []

    def fake_open(**kwargs: float) -> str:
        opened.append(kwargs["rate"])
        return "prober"

    monkeypatch.setattr(icmp_socket.IcmpProber, "open", staticmethod(fake_open))
    assert run.open_icmp(750.0) == "prober"
    assert opened == [750.0]
