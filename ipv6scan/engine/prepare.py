"""What a scan sets up before its first target, in the parent and in each bulk worker
alike: the scan context (preflight, resolvers, limits, options), SIGTERM as a stop, and
the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import signal
import sys

from ipv6scan.addresses import AddressPolicy
from ipv6scan.checks.options import CheckOptions
from ipv6scan.context import Limits, ScanContext
from ipv6scan.dnsclient.fast import recursive_transport
from ipv6scan.dnsclient.resolution import Resolver
from ipv6scan.dnsclient.transport import DnspythonTransport
from ipv6scan.engine.config import NoResolverConfigured, ScanConfig
from ipv6scan.interrupts import forwarded
from ipv6scan.observations.dns import Connectivity
from ipv6scan.preflight import (
    check_connectivity,
    discover_dns64,
    resolver_warning,
    system_resolvers,
    usable_servers,
)


async def prepare_context(config: ScanConfig, known: Connectivity | None = None) -> ScanContext:
    """`known`: the preflight's findings, already made (a bulk worker gets its parent's)."""
    servers = config.resolvers or tuple(system_resolvers())
    if not servers:
        raise NoResolverConfigured(
            "no recursive resolver: none in /etc/resolv.conf; use --resolver"
        )
    transport = DnspythonTransport()  # direct questions to many servers (NS SOA, resolvers)
    probes = asyncio.Semaphore(config.concurrency)
    found = known
    if found is None:
        found = await check_connectivity(transport, servers, config.timeout, config.allow_prefixes)
        warning = resolver_warning(found)
        if warning is not None:
            print(f"ipv6scan: {warning}", file=sys.stderr, flush=True)
    # look-ups through the usable resolvers only: one multiplexed socket each
    resolver = Resolver(
        recursive_transport(),
        usable_servers(servers, found) or servers,
        timeout=config.timeout,
        limit=probes,
        unusable=found.no_resolver_detail,
    )
    if known is None:
        known = dataclasses.replace(found, dns64_prefixes=await discover_dns64(resolver))
    policy = AddressPolicy.from_strings(config.allow_prefixes).with_dns64(known.dns64_prefixes)
    connectivity = known
    make_limits = config.limits_factory or Limits
    limits = make_limits(config.concurrency, config.per_destination)
    options = CheckOptions(attempts=config.attempts)
    if not any(c.id == "web.resources" for c in config.checks):
        options = dataclasses.replace(options, resources_cap=0)  # pages' resources not read
    if config.ping_rate is not None:
        options = dataclasses.replace(options, ping_rate=config.ping_rate)
    return ScanContext(
        resolver=resolver,
        transport=transport,
        policy=policy,
        connectivity=connectivity,
        limits=limits,
        timeout=config.timeout,
        options=options,
    )


def stop_on_sigterm() -> None:
    """SIGTERM (a CI timeout, systemd stop) ends the scan like Ctrl-C: finished results are
    kept and summarised, instead of the process dying before the report is written.
    Under the command line, whose handler already makes SIGTERM a Ctrl-C for the whole
    command (interrupts.py), the loop leaves it alone: a loop's handler goes when the loop
    closes, and SIGTERM would then kill the process while it writes the report."""
    task = asyncio.current_task()
    if task is None or forwarded(signal.getsignal(signal.SIGTERM)):
        return
    # ValueError: uvloop's word for a loop outside the main thread (a distributed worker's)
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)


def use_fast_loop() -> None:
    """uvloop when installed: several times faster for many small datagrams."""
    if sys.platform == "win32":
        return
    try:
        import uvloop
    except ImportError:
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
