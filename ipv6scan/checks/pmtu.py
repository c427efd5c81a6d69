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
        return Verdict(
            Status.SKIP,
            f"No IPv6 request to {site.host} got a response or stalled after the handshake, "
            "so there is no response over IPv6 to measure (see web.reachable and web.http).",
            evidence,
        )
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
        return Verdict(Status.SKIP, f"Not requested from {where}: {plain.error}.", evidence)
    if plain.complete:
        if plain.received > LARGE_BYTES:
            return Verdict(
                Status.PASS,
                f"A response of {plain.received} bytes (more than {LARGE_BYTES}) arrived "
                f"intact over IPv6 from {where}.",
                evidence,
            )
        return Verdict(
            Status.SKIP,
            f"The response over IPv6 from {where} is {plain.received} bytes: it fits the "
            f"IPv6 minimum MTU of {LARGE_BYTES} bytes, so it does not test the path's MTU.",
            evidence,
        )
    if not plain.stalled:
        return Verdict(
            Status.ERROR,
            f"Could not decide: the request to {where} ended without a response "
            f"({plain.outcome}: {plain.error}).",
            evidence,
        )
    if clamped is None:  # a stall is always followed by the clamped request
        return Verdict(Status.ERROR, "Could not decide: no clamped request was made.", evidence)
    evidence |= {
        "clamped_mss": CLAMPED_MSS,
        "clamped_ok": clamped.complete,
        "clamped_size": clamped.received,
        "clamped": _request(clamped),
    }
    if clamped.complete:
        return Verdict(
            Status.FAIL,
            f"A path-MTU black hole: the response from {where} stalls after the handshake "
            f"({plain.received} bytes arrived), while the same request with the TCP MSS "
            f"clamped to {CLAMPED_MSS} bytes gets all {clamped.received}. Full-size "
            "packets are lost on the way, and so is the ICMPv6 Packet Too Big that should "
            "tell the server.",
            evidence,
        )
    if clamped.stalled:
        return Verdict(
            Status.ERROR,
            f"The response from {where} stalled with and without the MSS clamp: not a "
            "path-MTU problem, and the path's MTU could not be tested (web.http reports "
            "the server's silence).",
            evidence,
        )
    return Verdict(
        Status.ERROR,
        f"Could not decide: the response from {where} stalled, and the clamped request "
        f"ended without a response ({clamped.outcome}: {clamped.error}).",
        evidence,
    )
