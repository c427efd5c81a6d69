"""How the web judges word what the probes observed: an outcome or a chain's end (a
StrEnum) as a translated word, a probe's reason as it came, a count with its noun."""

from __future__ import annotations

from collections.abc import Callable

from ipv6scan.messages import Detail, Message, word
from ipv6scan.observations.pmtu import RawOutcome
from ipv6scan.observations.web import ChainEnd, ConnectOutcome

# Outcome and chain-end words, declared at import so that the catalogue sees them.
OUTCOMES = {str(o): word(str(o)) for o in (*ConnectOutcome, *ChainEnd, *RawOutcome)}


def outcome(value: str) -> str:
    """An outcome or a chain's end as its translated word."""
    return OUTCOMES.get(str(value), str(value))


def reason(value: str | None) -> str:
    """A probe's `error` or `reason` as the detail shows it: one of the scanner's own
    (observations/reasons.py) is a Detail already; anything else is outside text, as it is."""
    return value if value is not None else str(value)


def failure(error: str | None, value: str) -> str:
    """Why a request got no response: its error, else its outcome (the English detail's
    `error or outcome`)."""
    return error if error else outcome(value)


def plural(one: Message, many: Message) -> Callable[[int], Detail]:
    """A count with its noun: `one` for 1, `many` otherwise (both with %(count)s)."""
    return lambda n: (one if n == 1 else many)(count=n)
