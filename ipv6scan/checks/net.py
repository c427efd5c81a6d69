"""Judgements of net.ping and net.trace: ICMPv6 reach and path of an address or host.

Both start from the same question, which addresses may be probed at all
(`_undecided_target`); pass needs every probed address to answer.
"""

from __future__ import annotations

from typing import Any

from ipv6scan.checks.evidence import (
    UNDECIDED,
    lookup_evidence,
    lookup_failure,
    semicolons,
)
from ipv6scan.checks.intermittent import tries_of, with_tries
from ipv6scan.checks.options import DEFAULT_OPTIONS, CheckOptions
from ipv6scan.messages import message
from ipv6scan.model import Status, Verdict
from ipv6scan.observations.net import (
    NetTarget,
    PingObservation,
    PingResult,
    TraceHop,
    TraceObservation,
)
from ipv6scan.observations.reasons import address_category

NO_PATH_DETAIL = message(
    "net.no_path", "The scanner has no IPv6 path, so %(subject)s's IPv6 reach could not be tested."
)
# The check applies, the scanner cannot make it: `error`, never `skip` (INTERFACE.md).
NO_RAW_SOCKET = "the scanner may not send ICMPv6: no raw socket (CAP_NET_RAW)"
NO_RAW_SOCKET_DETAIL = message("net.no_raw_socket", f"Could not be tested: {NO_RAW_SOCKET}.")
IPV4_ONLY = message(
    "net.ipv4_only",
    "%(subject)s is listed by its IPv4 address only: there is no IPv6 to probe.",
)
NOT_PROBED = message(
    "net.not_probed",
    "Not probed: %(address)s is %(category)s, not global "
    "(--allow-prefix makes a private test range probeable).",
)
NO_GLOBAL_AAAA = message(
    "net.no_global_aaaa",
    "%(subject)s has no global AAAA, so there is no IPv6 address to probe.",
)
ONLY_NON_GLOBAL = message(
    "net.only_non_global", "%(subject)s has no global AAAA; not probed: %(listed)s."
)
SCANNER_SIDE = message(
    "net.scanner_side", "Could not send to %(addresses)s: %(error)s (the scanner's side)."
)
# RFC 4443's Destination Unreachable codes, as words (observations/net.py)


def _target_evidence(target: NetTarget) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if target.aaaa is not None:
        out["aaaa"] = {**lookup_evidence(target.aaaa.lookup), "addresses": list(target.addresses)}
    if target.not_probed:
        out["not_probed"] = [
            {"address": c.address, "reason": f"not probed: {c.category}"} for c in target.not_probed
        ]
    if target.capped:
        out["addresses_not_probed_cap"] = target.capped
    return out


def _undecided_target(
    target: NetTarget, scanner_ipv6: bool, raw_denied: str | None, evidence: dict[str, Any]
) -> Verdict | None:
    """The verdict when nothing could or should be sent, else None."""
    if target.ipv4_only:
        return Verdict(Status.FAIL, IPV4_ONLY(subject=target.subject), evidence)
    if target.kind == "address" and target.not_probed:
        c = target.not_probed[0]
        return Verdict(Status.SKIP, NOT_PROBED(address=c.address, category=c.category), evidence)
    if target.aaaa is not None and not target.addresses:
        lookup = target.aaaa.lookup
        if not lookup.ok:
            return Verdict(Status.ERROR, UNDECIDED(why=lookup_failure(lookup)), evidence)
        if target.not_probed:
            listed = [address_category(c.address, c.category)
                      for c in target.not_probed]  # fmt: skip
            why = ONLY_NON_GLOBAL(subject=target.subject, listed=listed)
        else:
            why = NO_GLOBAL_AAAA(subject=target.subject)
        return Verdict(Status.SKIP, why, evidence)
    if not scanner_ipv6:
        return Verdict(Status.ERROR, NO_PATH_DETAIL(subject=target.subject), evidence)
    if raw_denied is not None:
        evidence["scanner_error"] = raw_denied
        return Verdict(Status.ERROR, NO_RAW_SOCKET_DETAIL(), evidence)
    return None


# ------------------------------------------------------------------ net.ping

SOME_SILENT = message(
    "net.ping.some_silent",
    "%(answered)s of %(total)s IPv6 addresses answer ICMPv6 echo; not answered: %(silent)s.",
)
ALL_SILENT = message("net.ping.no_reply", "No ICMPv6 echo reply; not answered: %(silent)s.")
SILENT_WITH = message("net.ping.silent_with", "%(address)s (%(error)s)")
ANSWERED_ONE = message("net.ping.answered_one", "ICMPv6 echo answered by 1 address: %(medians)s.")
ANSWERED = message("net.ping.answered", "ICMPv6 echo answered by %(count)s addresses: %(medians)s.")
MEDIAN = message("net.ping.median", "%(address)s (%(ms)s ms)", measured=("ms",))
# the common pass, one address: one flat message (a nested list costs a bulk ping scan
# a tenth of its rate), the same English as ANSWERED_ONE of one MEDIAN
ANSWERED_BY = message(
    "net.ping.answered_by",
    "ICMPv6 echo answered by 1 address: %(address)s (%(ms)s ms).",
    measured=("ms",),
)


def median(values: tuple[float, ...]) -> float:
    """statistics.median's value, without its overhead: a ping scan takes one per address."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def rtt_figure(ms: float) -> float:
    """A round-trip time as the evidence keeps it."""
    return round(ms, 3)


def ms_text(ms: float) -> str:
    """A median round-trip time as a detail says it."""
    return f"{ms:.1f}"


def _ping_evidence(r: PingResult) -> dict[str, Any]:
    row: dict[str, Any] = {
        "address": r.address,
        "sent": r.sent,
        "received": r.received,
        "rtt_ms": [rtt_figure(x) for x in r.rtts_ms],
        "median_ms": rtt_figure(median(r.rtts_ms)) if r.rtts_ms else None,
    }
    if r.errors:
        row["errors"] = list(r.errors)
    if r.scanner_error:
        row["scanner_error"] = r.scanner_error
    return row


def judge_ping(obs: PingObservation, options: CheckOptions = DEFAULT_OPTIONS) -> Verdict:
    """Each address's echoes, with the series' tries (probes/net.py): `fail` only
    when every series of an address went unanswered; a pass where an address answered
    only in a later series is intermittent."""
    verdict = _ping(obs)
    if all(r.attempts == 1 for r in obs.results):  # the common case: nothing to add
        return verdict
    answered = [tries_of(r.address, r) for r in obs.results if r.received]
    return with_tries(verdict, [tries_of(r.address, r) for r in obs.results], answered)


def _ping(obs: PingObservation) -> Verdict:
    evidence = {"pings": [_ping_evidence(r) for r in obs.results], **_target_evidence(obs.target)}
    undecided = _undecided_target(obs.target, obs.scanner_ipv6, obs.raw_denied, evidence)
    if undecided is not None:
        return undecided
    untested = [r for r in obs.results if r.scanner_error]
    silent = [r for r in obs.results if not r.scanner_error and not r.received]
    answered = [r for r in obs.results if r.received]
    if silent:
        listed = semicolons(
            [SILENT_WITH(address=r.address, error=r.errors[0]) if r.errors
             else r.address for r in silent]
        )  # fmt: skip
        if answered:
            return Verdict(
                Status.FAIL,
                SOME_SILENT(answered=len(answered), total=len(obs.results), silent=listed),
                evidence,
            )
        return Verdict(Status.FAIL, ALL_SILENT(silent=listed), evidence)
    if untested:
        return Verdict(
            Status.ERROR,
            SCANNER_SIDE(
                addresses=[r.address for r in untested], error=str(untested[0].scanner_error)
            ),
            evidence,
        )
    if len(answered) == 1 and answered[0].rtts_ms:
        one = answered[0]
        detail = ANSWERED_BY(address=one.address, ms=ms_text(median(one.rtts_ms)))
        return Verdict(Status.PASS, detail, evidence)
    medians = [
        MEDIAN(address=r.address, ms=ms_text(median(r.rtts_ms))) for r in answered if r.rtts_ms
    ]
    if len(answered) == 1:
        return Verdict(Status.PASS, ANSWERED_ONE(medians=medians), evidence)
    return Verdict(Status.PASS, ANSWERED(count=len(answered), medians=medians), evidence)


# ------------------------------------------------------------------ net.trace

NO_TRACE = message("net.trace.none", "No trace was made.")
TRACED_ONE = message(
    "net.trace.reached_one", "Traced %(destination)s in 1 hop%(silent)s.", measured=("silent",)
)
TRACED = message(
    "net.trace.reached",
    "Traced %(destination)s in %(hops)s hops%(silent)s.",
    measured=("hops", "silent"),
)
SILENT_HOPS = message("net.trace.silent_hops", " (%(count)s silent)")
NOT_REACHED = message("net.trace.not_reached", "%(destination)s %(why)s%(last)s.")
NOT_WITHIN = message("net.trace.not_within", "not reached within %(max_hops)s hops")
STOPPED = message("net.trace.stopped", "not reached: %(stopped)s")
LAST_HOP = message("net.trace.last_hop", "; last answering hop %(ttl)s: %(address)s")


def _hop_evidence(h: TraceHop) -> dict[str, Any]:
    row: dict[str, Any] = {"ttl": h.ttl, "address": h.address, "rtt_ms": h.rtt_ms}
    if h.others:
        row["others"] = list(h.others)
    if h.unreachable:
        row["unreachable"] = h.unreachable
    return row


def judge_trace(obs: TraceObservation, options: CheckOptions = DEFAULT_OPTIONS) -> Verdict:
    evidence: dict[str, Any] = {**_target_evidence(obs.target)}
    result = obs.result
    if result is not None:
        evidence = {
            "destination": result.destination,
            "reached": result.reached,
            "hops": [_hop_evidence(h) for h in result.hops],
            "max_hops": result.max_hops,
            **evidence,
        }
        if len(obs.target.addresses) > 1:
            evidence["not_traced"] = list(obs.target.addresses[1:])
    undecided = _undecided_target(obs.target, obs.scanner_ipv6, obs.raw_denied, evidence)
    if undecided is not None:
        return undecided
    if result is None:  # cannot happen after the checks above; kept for a clear error
        return Verdict(Status.ERROR, NO_TRACE(), evidence)
    if result.scanner_error:
        return Verdict(
            Status.ERROR,
            SCANNER_SIDE(addresses=[result.destination], error=result.scanner_error),
            evidence,
        )
    answering = [h for h in result.hops if h.address]
    if result.reached:
        silent = len(result.hops) - len(answering)
        note: str = SILENT_HOPS(count=silent) if silent else ""
        if len(result.hops) == 1:
            return Verdict(
                Status.PASS, TRACED_ONE(destination=result.destination, silent=note), evidence
            )
        return Verdict(
            Status.PASS,
            TRACED(destination=result.destination, hops=len(result.hops), silent=note),
            evidence,
        )
    last = ""
    if answering:
        last = LAST_HOP(ttl=answering[-1].ttl, address=str(answering[-1].address))
    if result.stopped:
        why = STOPPED(stopped=result.stopped)
    else:
        why = NOT_WITHIN(max_hops=result.max_hops)
    return Verdict(
        Status.FAIL, NOT_REACHED(destination=result.destination, why=why, last=last), evidence
    )
