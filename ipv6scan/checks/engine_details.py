"""The details the engine writes itself, not a judge: a check that overran its deadline or
raised, and the scanner's own errors (no usable resolver, no raw socket)."""

from __future__ import annotations

import re
from collections.abc import Callable

from ipv6scan.dnsclient.reasons import NO_RESOLVER, NONE_CONFIGURED, RESOLVER_SAID
from ipv6scan.messages import Detail, message

DEADLINE = message("engine.deadline", "The check ran out of time (%(seconds)s s).")
# the exception's type and text, as Python wrote them
INTERNAL_ERROR = message("engine.internal_error", "Internal error: %(error)s")

# The preflight's finding when no resolver may be asked: keyed where it is made
# (dnsclient/reasons.py no_resolver); `no_resolver` below reads it back from its text,
# as a look-up made without the preflight's detail (or an older run) carries it.
NO_RESOLVER_PREFIX = "no usable resolver: "
_PROBLEMS = tuple(
    (re.compile(pattern), message(key, template))
    for pattern, key, template in (
        (
            r"did not answer (?P<question>\S+ \S+) \((?P<error>.*)\)",
            "engine.resolver_silent",
            "%(server)s did not answer %(question)s (%(error)s)",
        ),
        (
            r"answered (?P<rcode>\S+) for (?P<question>\S+ \S+)",
            "engine.resolver_denied",
            "%(server)s answered %(rcode)s for %(question)s",
        ),
        (
            r"answered (?P<question>\S+ \S+) with (?P<listed>.*), not 192\.0\.0\.170/171",
            "engine.resolver_rewrites",
            "%(server)s answered %(question)s with %(listed)s, not 192.0.0.170/171",
        ),
    )
)


def no_resolver(text: str, error: Callable[[str], str]) -> str:
    """The NO_RESOLVER finding as a detail, each resolver's problem translated where it is
    said the preflight's way (`error` translates a query's error); else the text as it is."""
    if not text.startswith(NO_RESOLVER_PREFIX):
        return text
    said = text[len(NO_RESOLVER_PREFIX) :]
    if said == str(NONE_CONFIGURED):
        return NO_RESOLVER(said=NONE_CONFIGURED)
    parts: list[str] = []
    for one in said.split("; "):
        server, _, what = one.partition(" ")
        parts.append(_problem(server, what, error))
    listed = NO_RESOLVER(said=parts)
    # English joins the resolvers with "; " (their problems may hold commas)
    return Detail(text, listed.key, listed.params)


def _problem(server: str, what: str, error: Callable[[str], str]) -> Detail:
    for pattern, said in _PROBLEMS:
        if found := pattern.fullmatch(what):
            params: dict[str, str] = {"server": server, **found.groupdict()}
            if "error" in params:
                params["error"] = error(params["error"])
            return said(**params)
    return RESOLVER_SAID(server=server, what=what)
