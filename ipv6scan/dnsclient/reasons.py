"""The DNS transports' and the resolver's own reasons for a question left without answer,
declared once (dnsclient/transport.py, fast.py, resolution.py put them in a DnsReply's or a
Lookup's `error`): each is a Detail, the English text it always was, that a report shows in
its own language (ipv6scan/messages.py). The judges pass them through as they are.

Light on purpose (no dnspython): the compiled modules import it, and the fixed reasons are
module-level constants, so a reply's error on the hot path costs no more than a str did.
What comes from outside (the OS's error text, dnspython's words) is a verbatim parameter.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from ipv6scan.messages import Detail, Message, message, word

if TYPE_CHECKING:  # resolution.py imports this module
    from ipv6scan.dnsclient.resolution import Lookup

NO_ANSWER_IN_TIME: Final[Detail] = word("no answer within the timeout")
PORT_UNREACHABLE: Final[Detail] = word("port unreachable: no DNS server listens there")
CNAME_LOOP: Final[Detail] = word("CNAME loop")
# our side has no path to the address (also the probes' "no route: <why>")
NO_ROUTE: Final[Message] = message("dns.lookup.no_route", "no route: %(reason)s")
NETWORK_ERROR: Final[Message] = message("dns.lookup.net_error", "network error: %(reason)s")
MALFORMED_REPLY: Final[Message] = message("dns.lookup.malformed", "malformed reply: %(reason)s")
DNS_ERROR: Final[Message] = message("dns.lookup.dns_error", "DNS error: %(reason)s")
CNAME_TOO_LONG: Final[Message] = message(
    "dns.lookup.cname_too_long", "CNAME chain longer than %(hops)s"
)
# a reply to another question on the same socket (dnsclient/fast.py)
NOT_THE_QUESTION: Final[Detail] = MALFORMED_REPLY(reason="it does not match the question")

# The fixed reasons by their text: only for reading back a finding that was written as
# text around them (the preflight's "no usable resolver: ..." names each resolver's error).
FIXED: Final[dict[str, Detail]] = {
    str(d): d for d in (NO_ANSWER_IN_TIME, PORT_UNREACHABLE, CNAME_LOOP, NOT_THE_QUESTION)
}

# The OS's texts are few (strerror); each socket error's reason is made once, not per reply.
_SAID: dict[tuple[str, str], Detail] = {}
_SAID_MAX: Final = 64


def said(said_as: Message, reason: str) -> Detail:
    """`said_as`(reason=...), remembered for the next reply that fails the same way."""
    key = (said_as.key, reason)
    found = _SAID.get(key)
    if found is None:
        found = said_as(reason=reason)
        if len(_SAID) < _SAID_MAX:
            _SAID[key] = found
    return found


# Why a look-up gave no answer (what `Lookup.describe_failure` says), as a detail: the
# judges' "Could not decide" and a web probe's reason both say it.
LOOKUP_ERROR: Final[Message] = message("dns.lookup.error", "%(rdtype)s %(name)s: %(error)s")
LOOKUP_RCODE: Final[Message] = message(
    "dns.lookup.rcode", "%(rdtype)s %(name)s: resolver answered %(rcode)s"
)


def lookup_failure(lookup: Lookup) -> Detail:
    """Why `lookup` gave no answer; its error as it is (the transports' own are details)."""
    if lookup.error:
        return LOOKUP_ERROR(rdtype=lookup.rdtype, name=lookup.name, error=lookup.error)
    return LOOKUP_RCODE(rdtype=lookup.rdtype, name=lookup.name, rcode=lookup.rcode)


# preflight.py: why a resolver may not be asked (each one's problem, said without its
# address), and the finding when none may be: every recursive look-up's error then
# (Connectivity.no_resolver_detail, dnsclient/resolution.py Resolver.unusable)
RESOLVER_SILENT = message("scanner.resolver.silent", "did not answer %(question)s (%(error)s)")
RESOLVER_DENIED = message("scanner.resolver.denied", "answered %(rcode)s for %(question)s")
RESOLVER_REWRITES = message(
    "scanner.resolver.rewrites", "answered %(question)s with %(listed)s, not 192.0.0.170/171"
)
NO_RESOLVER = message("engine.no_resolver", "no usable resolver: %(said)s")
NONE_CONFIGURED = word("none configured")
RESOLVER_SAID = message("engine.resolver_said", "%(server)s %(what)s")


def no_resolver(unusable: Sequence[tuple[str, str]]) -> Detail:
    """The finding that no resolver may be asked, naming each with its problem; English
    joins them with "; " (a problem may hold commas), each language its own way."""
    if not unusable:
        return NO_RESOLVER(said=NONE_CONFIGURED)
    listed = NO_RESOLVER(said=[RESOLVER_SAID(server=s, what=what) for s, what in unusable])
    said = "; ".join(f"{server} {what}" for server, what in unusable)
    return Detail(f"no usable resolver: {said}", listed.key, listed.params)
