"""Recursive look-ups through the configured resolvers, each done once per scan.

Every check that needs `AAAA www.example` awaits the same future, so a name is
asked once however many checks read it. The cache is bounded (LRU over
finished look-ups) so memory stays flat on million-name lists.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Final

from ipv6scan.dnsclient.reasons import CNAME_LOOP, CNAME_TOO_LONG
from ipv6scan.dnsclient.records import NO_PATH, TIMEOUT, DnsReply
from ipv6scan.dnsclient.server import DnsServer, DnsTransport

MAX_CNAME_HOPS = 10
CHAIN_TOO_LONG: Final = CNAME_TOO_LONG(hops=str(MAX_CNAME_HOPS))
# Resolver answers after which asking the next resolver is pointless.
FINAL_RCODES = frozenset({"NOERROR", "NXDOMAIN"})
# The outcome of every look-up when the preflight found no usable resolver (preflight.py).
NO_RESOLVER = "NO_RESOLVER"


@dataclass(frozen=True, init=False)
class Lookup:
    """The outcome of one recursive question, CNAMEs followed."""

    name: str
    rdtype: str
    rcode: str  # NOERROR, NXDOMAIN, SERVFAIL, REFUSED, TIMEOUT, NO_PATH, ...
    values: tuple[str, ...] = ()  # record data of `rdtype` at the end of the chain
    prefs: tuple[int, ...] = ()  # MX preferences, parallel to values
    cname_chain: tuple[str, ...] = ()  # names after `name`, in order
    server: str = ""
    error: str | None = None

    # written out: mypyc compiles this one, not the generated one (see dns_records.py)
    def __init__(
        self,
        name: str,
        rdtype: str,
        rcode: str,
        values: tuple[str, ...] = (),
        prefs: tuple[int, ...] = (),
        cname_chain: tuple[str, ...] = (),
        server: str = "",
        error: str | None = None,
    ) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "rdtype", rdtype)
        object.__setattr__(self, "rcode", rcode)
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "prefs", prefs)
        object.__setattr__(self, "cname_chain", cname_chain)
        object.__setattr__(self, "server", server)
        object.__setattr__(self, "error", error)

    @property
    def ok(self) -> bool:
        """The question was answered (possibly with no data)."""
        return self.rcode in FINAL_RCODES and self.error is None

    @property
    def has_data(self) -> bool:
        """Records of the type, or a CNAME: what makes www.D a subject."""
        return bool(self.values) or bool(self.cname_chain)

    @property
    def final_name(self) -> str:
        return self.cname_chain[-1] if self.cname_chain else self.name

    def describe_failure(self) -> str:
        if self.error:
            return f"{self.rdtype} {self.name}: {self.error}"
        return f"{self.rdtype} {self.name}: resolver answered {self.rcode}"


Gate = Callable[[], Awaitable[object]]


class _Cache:
    """Look-ups by key, in flight (a future) or finished (the Lookup itself: a finished
    task costs several times the memory of its result); finished entries evicted
    oldest-first beyond `size`."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: OrderedDict[tuple[str, str], asyncio.Future[Lookup] | Lookup] = OrderedDict()

    def get(self, key: tuple[str, str]) -> asyncio.Future[Lookup] | Lookup | None:
        entry = self.entries.get(key)
        if entry is not None:
            self.entries.move_to_end(key)
        return entry

    def put(self, key: tuple[str, str], fut: asyncio.Future[Lookup]) -> None:
        self.entries[key] = fut
        fut.add_done_callback(lambda done: self._finished(key, done))
        while len(self.entries) > self.size:
            oldest_key, oldest = next(iter(self.entries.items()))
            if not isinstance(oldest, Lookup) and not oldest.done():
                break  # never drop a look-up others may be waiting on
            del self.entries[oldest_key]

    def _finished(self, key: tuple[str, str], fut: asyncio.Future[Lookup]) -> None:
        if self.entries.get(key) is fut and not fut.cancelled() and fut.exception() is None:
            self.entries[key] = fut.result()  # same place in the order: not a fresh use


class Resolver:
    def __init__(
        self,
        transport: DnsTransport,
        servers: Sequence[DnsServer],
        *,
        timeout: float,
        limit: asyncio.Semaphore | None = None,
        cache_size: int = 200_000,
        attempts: int = 2,
        unusable: str | None = None,
    ) -> None:
        """`unusable`: why no resolver may be asked (the preflight's finding, naming each
        and what it answered); then every look-up fails at once with it, sending nothing."""
        if not servers:
            raise ValueError("no recursive resolver configured")
        self.transport = transport
        self.servers = tuple(servers)
        self.timeout = timeout
        self.limit = limit or asyncio.Semaphore(1_000_000)
        self.attempts = attempts
        self.unusable = unusable
        self._cache = _Cache(cache_size)
        self.queries_sent = 0

    def _future(self, name: str, rdtype: str) -> asyncio.Future[Lookup] | Lookup:
        name = name.rstrip(".").lower() or "."  # answers come back lower-cased, dot-less
        key = (name, rdtype)
        entry = self._cache.get(key)
        if entry is None:
            fut = asyncio.ensure_future(self._follow(name, rdtype))
            self._cache.put(key, fut)
            return fut
        return entry

    def prefetch(self, name: str, rdtype: str) -> None:
        """Start a look-up now, to be awaited later with lookup(): two look-ups run at once
        without a task (and a gather) around each."""
        self._future(name, rdtype)

    async def lookup(self, name: str, rdtype: str) -> Lookup:
        entry = self._future(name, rdtype)
        if type(entry) is Lookup:  # a cache hit: no shield, no suspension
            return entry
        assert isinstance(entry, asyncio.Future)
        if entry.done():
            return entry.result()
        # shield: one waiter's cancellation must not cancel the shared look-up
        return await asyncio.shield(entry)

    async def ask(self, qname: str, rdtype: str) -> DnsReply:
        """One recursive question, trying each resolver in turn until one gives a final answer."""
        if self.unusable is not None:
            return DnsReply(qname, rdtype, "", NO_RESOLVER, error=self.unusable)
        plan = AskPlan(self.servers, self.attempts)
        server = plan.servers[0]
        while True:
            async with self.limit:
                self.queries_sent += 1
                reply = await self.transport.query(
                    server, qname, rdtype, recursion=True, timeout=self.timeout
                )
            step = plan.after(reply)
            if type(step) is DnsReply:
                return step
            assert isinstance(step, DnsServer)
            server = step

    async def _follow(self, name: str, rdtype: str) -> Lookup:
        chain: list[str] = []
        current = name
        for _hop in range(MAX_CNAME_HOPS):
            step = follow(name, rdtype, chain, current, await self.ask(current, rdtype))
            if type(step) is Lookup:
                return step
            assert isinstance(step, str)
            current = step
        return chain_too_long(name, rdtype, chain)


# --- the rules, shared with the bulk path (engine/lookups.py), which drives them by callback --


class AskPlan:
    """Which resolver to ask next for one question, and when to stop: each resolver in
    turn, `attempts` rounds while they time out; a final rcode ends it at once, a definite
    failure (SERVFAIL, REFUSED) ends it after the round."""

    __slots__ = ("attempt", "attempts", "index", "last", "servers")

    def __init__(self, servers: Sequence[DnsServer], attempts: int) -> None:
        self.servers = servers
        self.attempts = attempts
        self.attempt = 0
        self.index = 0
        self.last: DnsReply | None = None

    def after(self, reply: DnsReply) -> DnsReply | DnsServer:
        """The reply to keep (the question is done), or the server to ask next."""
        if reply.rcode in FINAL_RCODES:
            return reply
        if self.last is None or self.last.rcode in (TIMEOUT, NO_PATH):
            self.last = reply  # keep the most telling failure (SERVFAIL beats a timeout)
        self.index += 1
        if self.index == len(self.servers):
            self.index = 0
            self.attempt += 1
            # a definite SERVFAIL/REFUSED will not change on a retry
            if self.attempt >= self.attempts or self.last.rcode != TIMEOUT:
                return self.last
        return self.servers[self.index]


def follow(name: str, rdtype: str, chain: list[str], current: str, reply: DnsReply) -> Lookup | str:
    """One answer along a CNAME chain (`chain` grows in place): the Lookup when the chain
    ends here, else the name to ask next (the resolver left the chain unfinished)."""
    if reply.rcode not in FINAL_RCODES:
        return Lookup(name, rdtype, reply.rcode, cname_chain=tuple(chain), server=reply.server,
                      error=reply.error)  # fmt: skip
    answers = reply.answers
    # plain loops here, no generators: each answer of a bulk scan passes this way
    has_cname = False
    if rdtype != "CNAME":
        for rr in answers:
            if rr.rdtype == "CNAME":
                has_cname = True
                break
    if has_cname:
        by_owner = {rr.name: rr for rr in answers if rr.rdtype == "CNAME"}
        while current in by_owner:
            current = by_owner[current].data
            if current in chain or current == name:
                return Lookup(name, rdtype, "NOERROR", cname_chain=tuple(chain),
                              server=reply.server, error=CNAME_LOOP)  # fmt: skip
            chain.append(current)
            if len(chain) > MAX_CNAME_HOPS:
                return Lookup(name, rdtype, "NOERROR", cname_chain=tuple(chain),
                              server=reply.server,
                              error=CHAIN_TOO_LONG)  # fmt: skip
    values = [rr.data for rr in answers if rr.name == current and rr.rdtype == rdtype]
    # Stop unless the resolver left the chain unfinished (then ask for its end itself).
    if values or not chain or reply.rcode == "NXDOMAIN" or reply.qname == current:
        prefs: tuple[int, ...] = ()
        if rdtype == "MX":
            prefs = tuple(
                [rr.pref or 0 for rr in answers if rr.name == current and rr.rdtype == rdtype]
            )
        return Lookup(name, rdtype, reply.rcode, tuple(values), prefs, tuple(chain), reply.server)
    return current


def chain_too_long(name: str, rdtype: str, chain: list[str]) -> Lookup:
    return Lookup(name, rdtype, "NOERROR", cname_chain=tuple(chain),
                  error=CHAIN_TOO_LONG)  # fmt: skip
