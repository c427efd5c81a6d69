"""A DNS server's address and what a transport does with it: the names resolution and
the observations need, without loading dnspython (dnsclient/transport.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ipv6scan.dnsclient.records import DnsReply


@dataclass(frozen=True)
class DnsServer:
    address: str
    port: int = 53

    @property
    def family(self) -> int:
        return 6 if ":" in self.address else 4

    def __str__(self) -> str:
        if self.port == 53:
            return self.address
        return (
            f"[{self.address}]:{self.port}" if self.family == 6 else f"{self.address}:{self.port}"
        )


class DnsTransport(Protocol):
    async def query(
        self, server: DnsServer, qname: str, rdtype: str, *, recursion: bool, timeout: float
    ) -> DnsReply: ...
