"""Judgement of web.pmtu: do responses larger than the IPv6 minimum MTU arrive?

Pure: observation in, Verdict out. The one finding is the path-MTU black hole: the
response stalls after the handshake, and the same request with the MSS clamped to
1,220 bytes (every segment then fits 1,280 bytes) gets through. Full-size packets are
lost on the way, and the ICMPv6 Packet Too Big that would tell the server is lost too
(RFC 8201; RFC 4890 says never to filter it).

A stall that the clamp does not cure is `error`, not `fail` and not `pass`: small
segments stall as well, so packet size is not the cause and this check cannot say
whether the path would carry large packets. The server's silence is web.http's finding
(a fail there); counting it again here would name a path-MTU fault that was not seen.
A connection that will not open, or breaks, is `error` for the same reason: the check
could not be made. `skip`: no IPv6 page to fetch, or one too small to test the path.
"""

from __future__ import annotations

from typing import Any

from ipv6scan.checks import web_evidence as ev
from ipv6scan.checks.intermittent import Tries, tries_of, with_tries
from ipv6scan.checks.options import DEFAULT_OPTIONS, CheckOptions
from ipv6scan.checks.web_words import outcome, reason
from ipv6scan.messages import message
from ipv6scan.model import Status, Verdict
from ipv6scan.observations.pmtu import (
    CLAMPED_MSS,
    LARGE_BYTES,
    NOT_SENT,
    PmtuObservation,
    RawFetch,
)
from ipv6scan.observations.web import Fetch
from ipv6scan.probes.url_parts import split_url

NOTHING_TO_MEASURE = message(
    "web.pmtu.nothing_to_measure",
    "No IPv6 request to %(host)s got a response or stalled after the handshake, so there is "
    "no response over IPv6 to measure (see %(reachable)s and %(http)s).",
)
NOT_REQUESTED = message("web.pmtu.not_requested", "Not requested from %(where)s: %(error)s.")
# a response's size varies with the page from run to run: measured
ARRIVED = message(
    "web.pmtu.arrived",
    "A response of %(size)s bytes (more than %(large)s) arrived intact over IPv6 from %(where)s.",
    measured=("size",),
)
TOO_SMALL = message(
    "web.pmtu.too_small",
    "The response over IPv6 from %(where)s is %(size)s bytes: it fits the IPv6 minimum MTU "
    "of %(large)s bytes, so it does not test the path's MTU.",
    measured=("size",),
)
NO_RESPONSE = message(
    "web.pmtu.no_response",
    "Could not decide: the request to %(where)s ended without a response (%(outcome)s: %(error)s).",
)
NOT_CLAMPED = message("web.pmtu.not_clamped", "Could not decide: no clamped request was made.")
BLACK_HOLE = message(
    "web.pmtu.black_hole",
    "A path-MTU black hole: the response from %(where)s stalls after the handshake "
    "(%(received)s bytes arrived), while the same request with the TCP MSS clamped to "
    "%(mss)s bytes gets all %(size)s. Full-size packets are lost on the way, and so is the "
    "ICMPv6 Packet Too Big that should tell the server.",
    measured=("received", "size"),
)
STALLS_ANYWAY = message(
    "web.pmtu.stalls_anyway",
    "The response from %(where)s stalled with and without the MSS clamp: not a path-MTU "
    "problem, and the path's MTU could not be tested (%(http)s reports the server's "
    "silence).",
)
CLAMPED_NO_RESPONSE = message(
    "web.pmtu.clamped_no_response",
    "Could not decide: the response from %(where)s stalled, and the clamped request ended "
    "without a response (%(outcome)s: %(error)s).",
)


def _where(got: RawFetch) -> str:
    port = split_url(got.url)[2]
    return f"[{got.address}]:{port}" if ":" in got.address else f"{got.address}:{port}"


def _request(got: RawFetch) -> dict[str, Any]:
    out: dict[str, Any] = {"outcome": got.outcome, "received": got.received}
    if got.mss is not None:
        out["mss"] = got.mss
    if got.status is not None:
        out["status"] = got.status
    if got.ms is not None:
        out["ms"] = round(got.ms, 1)
    if got.error:
        out["error"] = got.error
    return out


def _seen(fetch: Fetch) -> dict[str, Any]:
    """What web.http's own request of the page got: a stall there, or a status and then
    a body that stalled (what the page's visitors see), is what sent web.pmtu looking."""
    out: dict[str, Any] = {"outcome": fetch.outcome}
    if fetch.responded:
        out |= {"status": fetch.status, "body_bytes": fetch.body_bytes}
        if fetch.body_error:
            out["body_error"] = ev.cut(fetch.body_error)
    return out


def _tries(obs: PmtuObservation) -> tuple[list[Tries], list[Tries]]:
    """(every request's tries, those of the requests that completed: what a verdict
    rests on, so an answer that came only after failed tries is intermittent)."""
    made = [r for r in (obs.plain, obs.clamped) if r is not None]
    label = {None: "", CLAMPED_MSS: f" (MSS {CLAMPED_MSS})"}
    every = [tries_of(f"{_where(r)}{label.get(r.mss, '')}", r) for r in made]
    done = [t for t, r in zip(every, made, strict=True) if r.complete]
    return every, done


def judge_pmtu(obs: PmtuObservation, options: CheckOptions = DEFAULT_OPTIONS) -> Verdict:
    if (early := ev.preconditions(obs.site)) is not None:
        return early
    every, done = _tries(obs)
    return with_tries(_verdict(obs), every, done)


def _verdict(obs: PmtuObservation) -> Verdict:
    site, plain, clamped = obs.site, obs.plain, obs.clamped
    evidence: dict[str, Any] = {"host": site.host, "large_bytes": LARGE_BYTES}
    if obs.seen is None or plain is None:
        detail = NOTHING_TO_MEASURE(host=site.host, reachable="web.reachable", http="web.http")
        return Verdict(Status.SKIP, detail, evidence)
    evidence |= {
        "url": ev.cut(plain.url),
        "address": plain.address,
        "port": split_url(plain.url)[2],
        "size": plain.received,
        "stalled": plain.stalled,
        "request": _request(plain),
        "web_http": _seen(obs.seen),
    }
    where = _where(plain)
    if plain.outcome == NOT_SENT:
        return Verdict(Status.SKIP, NOT_REQUESTED(where=where, error=reason(plain.error)), evidence)
    if plain.complete:
        if plain.received > LARGE_BYTES:
            detail = ARRIVED(size=plain.received, large=LARGE_BYTES, where=where)
            return Verdict(Status.PASS, detail, evidence)
        detail = TOO_SMALL(where=where, size=plain.received, large=LARGE_BYTES)
        return Verdict(Status.SKIP, detail, evidence)
    if not plain.stalled:
        detail = NO_RESPONSE(where=where, outcome=outcome(plain.outcome), error=reason(plain.error))
        return Verdict(Status.ERROR, detail, evidence)
    if clamped is None:  # a stall is always followed by the clamped request
        return Verdict(Status.ERROR, NOT_CLAMPED(), evidence)
    evidence |= {
        "clamped_mss": CLAMPED_MSS,
        "clamped_ok": clamped.complete,
        "clamped_size": clamped.received,
        "clamped": _request(clamped),
    }
    if clamped.complete:
        detail = BLACK_HOLE(
            where=where, received=plain.received, mss=CLAMPED_MSS, size=clamped.received
        )
        return Verdict(Status.FAIL, detail, evidence)
    if clamped.stalled:
        return Verdict(Status.ERROR, STALLS_ANYWAY(where=where, http="web.http"), evidence)
    detail = CLAMPED_NO_RESPONSE(
        where=where, outcome=outcome(clamped.outcome), error=reason(clamped.error)
    )
    return Verdict(Status.ERROR, detail, evidence)
