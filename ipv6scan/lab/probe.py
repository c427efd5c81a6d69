"""A tiny DNS client run *inside* a lab namespace (`ip netns exec NS python -m ...`).

The lab never queries its servers from the host's namespace: lab addresses
there would leave through the real default route.

    python -m ipv6scan.lab.probe query SERVER NAME TYPE [--norec] [--tcp] [--timeout S]
    python -m ipv6scan.lab.probe wait DEADLINE CHECK ...

CHECK is SERVER,NAME,TYPE[,norec] (a DNS answer), tcp,ADDR,PORT (a listener;
`tcp,ADDR,PORT,refused`: any answer, a reset too) or echo,ADDR (an ICMPv6 echo
reply, so forwarding works both ways along the path).

`query` prints one JSON object; `wait` retries every check until each gets
the expected kind of answer or DEADLINE seconds pass, printing what it saw.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype


def _server(text: str) -> tuple[str, int]:
    if "#" in text:
        address, port = text.rsplit("#", 1)
        return address, int(port)
    return text, 53


def query(
    server: str, name: str, rdtype: str, *, recursive: bool = True, tcp: bool = False,
    timeout: float = 2.0,
) -> dict[str, Any]:  # fmt: skip
    address, port = _server(server)
    message = dns.message.make_query(name, dns.rdatatype.from_text(rdtype))
    if not recursive:
        message.flags &= ~dns.flags.RD
    started = time.monotonic()
    result: dict[str, Any] = {"server": server, "name": name, "type": rdtype}
    try:
        if tcp:
            response = dns.query.tcp(message, address, port=port, timeout=timeout)
        else:
            response = dns.query.udp(message, address, port=port, timeout=timeout)
            if response.flags & dns.flags.TC:
                response = dns.query.tcp(message, address, port=port, timeout=timeout)
    except (dns.exception.DNSException, OSError) as exc:
        result.update(error=f"{type(exc).__name__}: {exc}", rcode=None)
    else:
        result.update(
            error=None,
            rcode=dns.rcode.to_text(response.rcode()),
            aa=bool(response.flags & dns.flags.AA),
            answer=[line for rrset in response.answer for line in rrset.to_text().splitlines()],
        )
    result["elapsed_ms"] = round((time.monotonic() - started) * 1000, 1)
    return result


def _ok(result: dict[str, Any]) -> bool:
    # NOERROR with data from a resolver; for authoritative checks any NOERROR will do.
    return result.get("rcode") == "NOERROR"


def _check(parts: list[str]) -> tuple[bool, dict[str, Any]]:
    from ipv6scan.lab import svcprobe

    if parts[0] == "tcp":
        result = svcprobe.tcp(parts[1], int(parts[2]), timeout=0.2)
        return result["result"] in ("open", *parts[3:]), result
    if parts[0] == "echo":
        result = svcprobe.echo(parts[1], timeout=0.2)
        return result["kind"] == "reply", result
    server, name, rdtype = parts[:3]
    result = query(server, name, rdtype, recursive="norec" not in parts[3:], timeout=0.1)
    return _ok(result), result


def wait(deadline: float, checks: list[str]) -> int:
    end = time.monotonic() + deadline
    pending = [c.split(",") for c in checks]
    last: dict[str, dict[str, Any]] = {}
    while pending:
        still: list[list[str]] = []
        for parts in pending:
            ok, result = _check(parts)
            last[",".join(parts)] = result
            if not ok:
                still.append(parts)
        pending = still
        if pending and time.monotonic() > end:
            break
        if pending:
            time.sleep(0.1)
    print(json.dumps({"ok": not pending, "results": last}))
    return 0 if not pending else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ipv6scan.lab.probe")
    sub = parser.add_subparsers(dest="command", required=True)
    q = sub.add_parser("query")
    q.add_argument("server")
    q.add_argument("name")
    q.add_argument("type")
    q.add_argument("--norec", action="store_true")
    q.add_argument("--tcp", action="store_true")
    q.add_argument("--timeout", type=float, default=2.0)
    w = sub.add_parser("wait")
    w.add_argument("deadline", type=float)
    w.add_argument("checks", nargs="+")
    args = parser.parse_args(argv)
    if args.command == "query":
        result = query(args.server, args.name, args.type, recursive=not args.norec,
                       tcp=args.tcp, timeout=args.timeout)  # fmt: skip
        print(json.dumps(result))
        return 0
    return wait(args.deadline, args.checks)


if __name__ == "__main__":
    sys.exit(main())
