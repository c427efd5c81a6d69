"""Benchmarks of ipv6scan against the physical limit, measured side by side.

    sudo .venv/bin/python -m bench [--names N] [--smoke]   (or: bash bench/run ...)

Brings up two network namespaces (a server and a client joined by a veth pair),
NSD with a synthetic zone, nginx on a few thousand addresses and a range of
addresses that answer ICMPv6 echo, then measures each tool of the limit (dnsperf,
wrk, fping) and ipv6scan on the same servers from the same client namespace.
Figures go to the terminal and to bench/RESULTS.md. See bench/__main__.py.
"""
