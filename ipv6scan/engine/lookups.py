"""Recursive look-ups driven by callbacks: the Resolver's rules, no task or future.

Each look-up is one _Chase: the resolver order and retries of AskPlan, the CNAME
chain of follow(), both from dnsclient/resolution.py, advanced by the transport's
reply callback. Nothing is cached: the bulk path asks each name once anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ipv6scan.dnsclient.fast import FastUdpTransport
from ipv6scan.dnsclient.resolution import (
    MAX_CNAME_HOPS,
    AskPlan,
    Lookup,
    chain_too_long,
    follow,
)
from ipv6scan.dnsclient.transport import DnsReply, DnsServer

Found = Callable[[Lookup], None]


class BulkLookups:
    def __init__(
        self,
        transport: FastUdpTransport,
        servers: Sequence[DnsServer],
        *,
        timeout: float,
        attempts: int = 2,
    ) -> None:
        if not servers:
            raise ValueError("no recursive resolver configured")
        self.transport = transport
        self.servers = tuple(servers)
        self.timeout = timeout
        self.attempts = attempts

    def lookup(self, name: str, rdtype: str, found: Found) -> None:
        """Look `name` up; `found(lookup)` is called once, from the event loop."""
        name = name.rstrip(".").lower() or "."  # as Resolver keys its look-ups
        _Chase(self, name, rdtype, found)._send(self.servers[0])


class _Chase:
    __slots__ = ("chain", "current", "found", "hops", "name", "owner", "plan", "rdtype")

    def __init__(self, owner: BulkLookups, name: str, rdtype: str, found: Found) -> None:
        self.owner = owner
        self.name = name
        self.rdtype = rdtype
        self.found = found
        self.chain: list[str] = []
        self.current = name
        self.hops = 0
        self.plan = AskPlan(owner.servers, owner.attempts)

    def ask(self, qname: str) -> None:
        """The next name along the chain: a fresh round of resolvers for it."""
        self.current = qname
        self.plan = AskPlan(self.owner.servers, self.owner.attempts)
        self._send(self.owner.servers[0])

    def _send(self, server: DnsServer) -> None:
        owner = self.owner
        owner.transport.submit(server, self.current, self.rdtype, recursion=True,
                               timeout=owner.timeout, done=self._reply)  # fmt: skip

    def _reply(self, reply: DnsReply) -> None:
        step = self.plan.after(reply)
        if type(step) is not DnsReply:
            assert isinstance(step, DnsServer)
            self._send(step)
            return
        out = follow(self.name, self.rdtype, self.chain, self.current, step)
        if type(out) is Lookup:
            self.found(out)
            return
        assert isinstance(out, str)
        self.hops += 1
        if self.hops >= MAX_CNAME_HOPS:
            self.found(chain_too_long(self.name, self.rdtype, self.chain))
            return
        self.ask(out)
