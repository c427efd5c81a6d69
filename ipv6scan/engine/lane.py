"""The fast lane (engine/_lane.c) on the event loop: dns.aaaa for plain domains in C.

The lane asks AAAA D, AAAA www.D and, when it decides, A www.D on one connected UDP
socket to the first resolver, and writes the result lines itself for the answers it
reads completely: NOERROR or NXDOMAIN, a CNAME chain inside the answer, addresses the
policy classifies without an IPv4 address inside. Anything else is handed back, part by
part (D, or www.D), to the general bulk path, which asks again from scratch with every
resolver and all of its rules; so a timeout there costs one timeout more than on the
general path alone, and never another result.

It needs the compiled module (setup.py builds it; without a C compiler the scan runs on
the general path), and IPV6SCAN_LANE=0 turns it off, for A/B runs and tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections.abc import Callable
from typing import Any

from ipv6scan.addresses import (
    _EMBEDS_IPV4,
    _INDEX,
    _NOT_GLOBAL_FOR_READINESS,
    NEVER_ALLOWED,
    AddressPolicy,
)
from ipv6scan.dnsclient.fast import RCVBUF, open_udp
from ipv6scan.dnsclient.transport import DnsServer
from ipv6scan.model import json_text

try:
    from ipv6scan.engine._lane import Lane  # type: ignore[import-not-found]  # C, built by setup.py
except ImportError:  # not compiled: the general bulk path does it all
    Lane = None

LANE_ENV = "IPV6SCAN_LANE"  # "0": never the lane
SWEEP = 0.02  # s between looks for questions past their deadline
FAILING_AFTER = 64  # timeouts before the lane may be judged failing (see failing())
# What the lane writes into a line without escaping must need none in JSON.
_JSON_PLAIN = re.compile(r"[\x20-\x7e]*").fullmatch


def lane_wanted() -> bool:
    return Lane is not None and os.environ.get(LANE_ENV, "").strip() != "0"


def special_rows() -> list[tuple[bytes, int, str, bool, bool, bool]]:
    """IPV6_SPECIAL as the lane reads it, longest prefix first (as _INDEX is searched):
    (network, length, category, counts as global, embeds IPv4, never allowed)."""
    rows = []
    for mask, by_network in _INDEX[6]:
        length = bin(mask).count("1")
        for network, row in by_network.items():
            category = row.category
            reachable = bool(row.iana_global) and category not in _NOT_GLOBAL_FOR_READINESS
            rows.append((network.to_bytes(16, "big"), length, _plain(category), reachable,
                         category in _EMBEDS_IPV4, category in NEVER_ALLOWED))  # fmt: skip
    return rows


def _plain(text: str) -> str:
    if not _JSON_PLAIN(text) or '"' in text or "\\" in text:
        raise ValueError(f"{text!r} would need escaping in a results line")
    return text


def line_prefix(target: str, sector: str) -> bytes:
    """A result line up to the subject's value, as model.json_text writes it."""
    return (
        f'{{"target": {json_text(target)}, "sector": {json_text(sector)}, '
        f'"tier": "services", "subject": '
    ).encode()


# (lines, finished tokens, [(token, parts handed back, started)], (pass, warn, fail, error))
Taken = tuple[bytes, list[Any], list[tuple[Any, int, float]], tuple[int, int, int, int]]


class FastLane:
    """One Lane, its socket, its reader and its deadline sweep on the running loop.
    `on_taken` gets what the lane finished after each read and each sweep."""

    def __init__(
        self,
        server: DnsServer,
        policy: AddressPolicy,
        timeout: float,
        on_taken: Callable[[Taken], None],
        rcvbuf: int = RCVBUF,
    ) -> None:
        assert Lane is not None
        self.loop = asyncio.get_running_loop()
        self.sock, window = open_udp(server, rcvbuf)
        try:
            allow = [(network.to_bytes(16, "big"), length, _plain(text))
                     for network, length, text in policy._allow6_ints]  # fmt: skip
            dns64 = [(network.to_bytes(16, "big"), length)
                     for network, length in policy._dns64_ints]  # fmt: skip
            self.lane = Lane(self.sock.fileno(), timeout, window, json_text(str(server)),
                             special_rows(), allow, dns64)  # fmt: skip
        except BaseException:
            self.sock.close()
            raise
        self.on_taken = on_taken
        self.loop.add_reader(self.sock.fileno(), self._readable)
        self._sweeper: asyncio.TimerHandle | None = self.loop.call_later(SWEEP, self._sweep)
        self.add = self.lane.add  # (token, name, www, prefix) -> False: not for the lane
        self.flush = self.lane.flush

    @classmethod
    def open(
        cls, server: DnsServer, policy: AddressPolicy, timeout: float,
        on_taken: Callable[[Taken], None], rcvbuf: int = RCVBUF,
    ) -> FastLane | None:  # fmt: skip
        """The lane, or None when it is off, not compiled or has no socket (the general
        path then reports the socket's error as a result)."""
        if not lane_wanted():
            return None
        try:
            return cls(server, policy, timeout, on_taken, rcvbuf)
        except OSError:
            return None

    def failing(self) -> bool:
        """More of its questions timed out than were answered (after FAILING_AFTER timeouts):
        its resolver, the first configured, is silent. Each name it hands back then waits
        one timeout more than on the general path, which goes on to the next resolver."""
        expired = self.lane.expired
        return expired >= FAILING_AFTER and expired > self.lane.received

    def _readable(self) -> None:
        self.lane.read()
        self.on_taken(self.lane.take())

    def _sweep(self) -> None:
        self.lane.expire()
        self._sweeper = self.loop.call_later(SWEEP, self._sweep)
        self.on_taken(self.lane.take())

    def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        if self.sock.fileno() >= 0:
            with contextlib.suppress(RuntimeError, ValueError, OSError):  # the loop is closing
                self.loop.remove_reader(self.sock.fileno())
            self.sock.close()
