"""Every check module's declared messages, loaded: what the report and the catalogue test
need, when they read results rather than judge them."""

from __future__ import annotations

import importlib
from functools import cache

# The modules that declare details (ipv6scan/messages.py `message`): the judges, and the
# engine's own details (deadlines, internal errors, scanner errors).
MODULES = (
    "ipv6scan.checks.dns",
    "ipv6scan.checks.delegation",
    "ipv6scan.checks.resolver",
    "ipv6scan.checks.web",
    "ipv6scan.checks.web_evidence",
    "ipv6scan.checks.web_parity",
    "ipv6scan.checks.web_links",
    "ipv6scan.checks.web_latency",
    "ipv6scan.checks.web_resources",
    "ipv6scan.checks.web_words",
    "ipv6scan.dnsclient.reasons",
    "ipv6scan.observations.reasons",
    "ipv6scan.observations.delegation",
    "ipv6scan.addresses",
    "ipv6scan.preflight",
    "ipv6scan.checks.pmtu",
    "ipv6scan.checks.mail",
    "ipv6scan.checks.net",
    "ipv6scan.checks.intermittent",
    "ipv6scan.checks.evidence",
    "ipv6scan.checks.engine_details",
)


# Of those, the modules that declare a measured figure (messages.py, `measured=`): all
# the history's keys need (messages.identity), loaded in a third of the time and memory
# (the finish's second process: 0.07 s and 6 MB against 0.12 s and 10 MB)
MEASURED = (
    "ipv6scan.checks.net",
    "ipv6scan.checks.pmtu",
    "ipv6scan.checks.web_latency",
    "ipv6scan.checks.web_parity",
    "ipv6scan.checks.intermittent",
)


@cache
def load() -> None:
    for name in MODULES:
        importlib.import_module(name)


@cache
def load_measured() -> None:
    for name in MEASURED:
        importlib.import_module(name)
