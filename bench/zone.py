"""The synthetic zone and the lists the benchmark scans.

Name i of N is `n{i}.bench.example`; by i mod 20 it is dual-stack (AAAA and A, 35%),
IPv4-only (A, 40%), a CNAME to one of those (15%) or absent (NXDOMAIN, 10%). About
60% of the names that exist also have a www name (a CNAME to the bare name or its own
records), so the scan's "does www.D exist" look-ups meet both answers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ZONE = "bench.example"
DNS6 = "2001:db8:5353::53"  # NSD, on lo of the server namespace
WEB_NET6 = "2001:db8:80:1::/116"  # nginx answers on every address (a local route)
WEB_NET4 = "203.0.113.0/24"
PING_NET6 = "2001:db8:bb:1::/112"  # the kernel answers echo for every address
ALLOW = ("2001:db8::/32", "203.0.113.0/24", "198.51.100.0/24")


def kind(i: int) -> str:
    slot = i % 20
    if slot < 7:
        return "dual"
    if slot < 15:
        return "v4"
    if slot < 18:
        return "cname"
    return "nx"


def has_www(i: int) -> bool:
    return kind(i) != "nx" and i % 10 < 6


def _cname_target(i: int) -> int:
    return i - i % 20 + (i * 7) % 15  # a dual or v4 name of the same block of 20


def _v6(i: int) -> str:
    return f"2001:db8:100:{(i >> 16) & 0xFFFF:x}::{i & 0xFFFF:x}"


def _v4(i: int) -> str:
    return f"198.51.100.{i % 250 + 1}"


def _records(owner: str, i: int, k: str) -> Iterator[str]:
    if k == "dual":
        yield f"{owner} AAAA {_v6(i)}"
    if k in ("dual", "v4"):
        yield f"{owner} A {_v4(i)}"
    if k == "cname":
        yield f"{owner} CNAME n{_cname_target(i)}"


def web_host(i: int) -> str:
    return f"w{i}.{ZONE}"


def web_v6(i: int) -> str:
    return f"2001:db8:80:1::{i + 1:x}"


def ping_address(i: int) -> str:
    return f"2001:db8:bb:1::{i + 1:x}"


@dataclass(frozen=True)
class Sizes:
    names: int
    web_hosts: int
    ping_addresses: int

    @property
    def expected_dns_results(self) -> int:
        """dns.aaaa lines of a scan of the name list: one per name, one per www name."""
        return self.names + sum(1 for i in range(self.names) if has_www(i))


def write_zone(path: Path, sizes: Sizes) -> None:
    with path.open("w", encoding="ascii") as out:
        out.write(f"$ORIGIN {ZONE}.\n$TTL 300\n")
        out.write(f"@ IN SOA ns hostmaster 1 3600 600 86400 30\n@ NS ns\nns AAAA {DNS6}\n")
        for i in range(sizes.names):
            k = kind(i)
            if k == "nx":
                continue
            out.write("\n".join(_records(f"n{i}", i, k)) + "\n")
            if has_www(i):
                if i % 2 == 0 or k == "cname":
                    out.write(f"www.n{i} CNAME n{i}\n")
                else:
                    out.write("\n".join(_records(f"www.n{i}", i, k)) + "\n")
        for i in range(sizes.web_hosts):
            out.write(f"w{i} AAAA {web_v6(i)}\nw{i} A 203.0.113.{i % 250 + 1}\n")


def write_name_list(path: Path, count: int) -> None:
    with path.open("w", encoding="ascii") as out:
        out.write("# ipv6scan benchmark names\n")
        for i in range(count):
            out.write(f"n{i}.{ZONE}\n")


def write_dnsperf_queries(path: Path, count: int) -> None:
    """The questions the DNS-only scan asks, in its order: AAAA of D, AAAA and A of www.D."""
    with path.open("w", encoding="ascii") as out:
        for i in range(count):
            out.write(f"n{i}.{ZONE} AAAA\nwww.n{i}.{ZONE} AAAA\nwww.n{i}.{ZONE} A\n")


def write_web_list(path: Path, count: int) -> None:
    with path.open("w", encoding="ascii") as out:
        out.writelines(f"{web_host(i)}\n" for i in range(count))


def write_ping_targets(yaml_path: Path, text_path: Path, count: int, per_target: int = 100) -> None:
    """A YAML list of operator targets whose access tier is `count` addresses (net.ping
    applies to address entries), and the same addresses one a line for fping."""
    addresses = [ping_address(i) for i in range(count)]
    text_path.write_text("".join(f"{a}\n" for a in addresses), encoding="ascii")
    lines = ["version: 1", "name: ipv6scan benchmark ping", "targets:"]
    for start in range(0, count, per_target):
        lines.append(f"  - name: ping-{start // per_target}")
        lines.append("    sector: operator")
        lines.append("    systems:")
        lines.append("      access:")
        lines.extend(f'        - "{a}"' for a in addresses[start : start + per_target])
    yaml_path.write_text("\n".join(lines) + "\n", encoding="ascii")
