"""The preflight's word on the resolvers: a scan whose resolvers are all silent says so at
once, instead of spending each name's timeouts in silence."""

from __future__ import annotations

import dns.message

from ipv6scan.preflight import check_connectivity, silent_resolvers_warning
from ipv6scan.probes.dns import DnspythonTransport
from tests.unit.test_dns_transport import udp_server


def _answer(wire: bytes) -> bytes:
    return dns.message.make_response(dns.message.from_wire(wire)).to_wire()


async def test_silent_resolvers_are_named_in_a_warning() -> None:
    # Given a resolver on loopback that never answers
    async with udp_server(lambda wire: None) as (server, _):
        found = await check_connectivity(DnspythonTransport(), [server], 0.2)
    # Then the preflight says none answered, and the warning names it and the timeout
    assert found.resolvers_answered is False
    warning = silent_resolvers_warning(found, [server], 0.2)
    assert warning is not None
    assert str(server) in warning and "within 0.2 s" in warning and "--resolver" in warning


async def test_a_resolver_that_answers_gets_no_warning() -> None:
    async with udp_server(_answer) as (server, _):
        found = await check_connectivity(DnspythonTransport(), [server], 0.5)
    assert found.resolvers_answered is True
    assert silent_resolvers_warning(found, [server], 0.5) is None
