"""The probes' own reasons, declared once: why a connect, a fetch, a redirect chain or a
web.pmtu request ended without what it went for.

A probe puts one of these into its observation's `error` or `reason`: a Detail, so
the observation holds the English text it always held (evidence and details read it as
text, byte for byte) and a report renders it in its own language (ipv6scan/messages.py).
What truly comes from outside (a TLS library's error, an OS error text we have no word
for, a server's words) is a verbatim parameter or the text itself, never guessed at.
"""

from __future__ import annotations

import errno

from ipv6scan.addresses import category_word
from ipv6scan.dnsclient import reasons as dns_reasons
from ipv6scan.messages import Detail, message, word
from ipv6scan.observations.net import UNREACHABLE_CODES

# probes/http.py and tcp.py: a connect or a request without a response
NO_ANSWER = word("no answer in time")
REFUSED = word("connection refused")
RESET = word("connection reset")
CLOSED_WITHOUT_ANSWER = word("the server closed the connection without an answer")
NO_PATH_OF_FAMILY = word("the scanner has no path of this family")
NO_ANSWER_WITHIN = message("web.common.no_answer_within", "no answer within %(seconds)s s")
# the transports' and the probes' "no route: <why>" (our side has no path to the address)
NO_ROUTE = dns_reasons.NO_ROUTE

# probes/redirects.py: why a chain ended before a response
NOT_HTTP_LOCATION = word("the Location is not an http(s) URL")
MORE_REDIRECTS = message("web.common.too_many_redirects", "more than %(count)s redirects")
LITERAL_OF_OTHER_FAMILY = message(
    "web.common.literal_of_other_family", "an IPv%(literal)s address literal, no IPv%(family)s"
)
NO_GLOBAL_ADDRESS = message(
    "web.common.no_global_address", "no global %(rdtype)s; not probed: %(addresses)s"
)
NOT_PROBED_ADDRESS = message(
    "web.common.not_probed_address", "not probed: %(category)s (%(address)s)"
)
# An address with its registry category ("documentation", "unique-local").
ADDRESS_CATEGORY = message("address.category", "%(address)s (%(category)s)")
CATEGORY_OF = message("address.category_first", "%(category)s (%(address)s)")
NXDOMAIN = message("web.common.nxdomain", "%(host)s does not exist (NXDOMAIN)")
NO_RECORD = message("web.common.no_record", "no %(rdtype)s record")

# probes/pmtu.py: web.pmtu's own requests
NOT_SENDABLE = word("a URL that cannot be sent as is")
NO_CONNECT_ANSWER = word("no answer to the connect in time")
CLOSED_WITHOUT_RESPONSE = word("the server closed the connection without a response")
CANNOT_CLAMP = message("web.common.cannot_clamp", "the MSS cannot be clamped here: %(error)s")
DID_NOT_FINISH = message(
    "web.common.did_not_finish", "the response did not finish in %(seconds)s s"
)

# probes/net.py: what came back instead of an echo reply, where a trace stopped; the
# code is RFC 4443's (observations/net.py UNREACHABLE_CODES), as a word
UNREACHABLE_WORDS: dict[int, Detail] = {n: word(text) for n, text in UNREACHABLE_CODES.items()}
NO_ECHO_REPLY = word("timeout")
UNREACHABLE_FROM = message("net.ping.unreachable_from", "unreachable (%(code)s) from %(responder)s")
TIME_EXCEEDED_FROM = message("net.ping.time_exceeded_from", "time_exceeded from %(responder)s")
STOPPED_AT = message(
    "net.trace.stopped_at", "hop %(ttl)s (%(address)s) answered unreachable (%(code)s)"
)


def unreachable_code(code: int | None) -> str:
    """An ICMPv6 unreachable code as its word; an unknown one as "code N"."""
    return UNREACHABLE_WORDS.get(code or 0, f"code {code}")


# The OS's words for the errors a probe meets, by errno: what strerror says on Linux,
# translated. Another text for the same errno (another libc) is kept as it is.
ERRNO_WORDS: dict[int, Detail] = {
    number: word(text)
    for number, text in (
        (errno.ECONNREFUSED, "Connection refused"),
        (errno.ECONNRESET, "Connection reset by peer"),
        (errno.ETIMEDOUT, "Connection timed out"),
        (errno.ENETUNREACH, "Network is unreachable"),
        (errno.EHOSTUNREACH, "No route to host"),
        (errno.EADDRNOTAVAIL, "Cannot assign requested address"),
        (errno.EAFNOSUPPORT, "Address family not supported by protocol"),
    )
}


def os_words(number: int | None, text: str) -> str:
    """An OS error's text as our word for its errno when it says exactly that, else as it
    is."""
    known = ERRNO_WORDS.get(number) if number is not None else None
    return known if known is not None and known == text else text


def address_category(address: str, category: str) -> Detail:
    return ADDRESS_CATEGORY(address=address, category=category_word(category))


def seconds(value: float) -> str:
    """A timeout as the reasons show it: 5 s, 1.5 s."""
    return f"{value:g}"
