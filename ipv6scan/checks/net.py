"""Judgements of net.ping and net.trace: ICMPv6 reach and path of an address or host.

Both start from the same question, which addresses may be probed at all
(`_undecided_target`); pass needs every probed address to answer.
"""

from __future__ import annotations

from typing import Any

from ipv6scan.checks.evidence import lookup_evidence, plural
from ipv6scan.checks.intermittent import tries_of, with_tries
from ipv6scan.checks.options import DEFAULT_OPTIONS, CheckOptions
from ipv6scan.model import Status, Verdict
from ipv6scan.observations.net import (
    NetTarget,
    PingObservation,
    PingResult,
    TraceHop,
    TraceObservation,
)

NO_PATH_DETAIL = "The scanner has no IPv6 path, so {what} could not be tested."
# The check applies, the scanner cannot make it: `error`, never `skip` (INTERFACE.md).
NO_RAW_SOCKET = "the scanner may not send ICMPv6: no raw socket (CAP_NET_RAW)"


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
        return Verdict(
            Status.FAIL,
            f"{target.subject} is listed by its IPv4 address only: there is no IPv6 to probe.",
            evidence,
        )
    if target.kind == "address" and target.not_probed:
        c = target.not_probed[0]
        return Verdict(
            Status.SKIP,
            f"Not probed: {c.address} is {c.category}, not global "
            "(--allow-prefix makes a private test range probeable).",
            evidence,
        )
    if target.aaaa is not None and not target.addresses:
        lookup = target.aaaa.lookup
        if not lookup.ok:
            return Verdict(
                Status.ERROR, f"Could not decide: {lookup.describe_failure()}.", evidence
            )
        if target.not_probed:
            listed = ", ".join(f"{c.address} ({c.category})" for c in target.not_probed)
            why = f"{target.subject} has no global AAAA; not probed: {listed}."
        else:
            why = f"{target.subject} has no global AAAA, so there is no IPv6 address to probe."
        return Verdict(Status.SKIP, why, evidence)
    if not scanner_ipv6:
        return Verdict(
            Status.ERROR, NO_PATH_DETAIL.format(what=f"{target.subject}'s IPv6 reach"), evidence
        )
    if raw_denied is not None:
        evidence["scanner_error"] = raw_denied
        return Verdict(Status.ERROR, f"Could not be tested: {NO_RAW_SOCKET}.", evidence)
    return None


# ------------------------------------------------------------------ net.ping


def median(values: tuple[float, ...]) -> float:
    """statistics.median's value, without its overhead: a ping scan takes one per address."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def _ping_evidence(r: PingResult) -> dict[str, Any]:
    row: dict[str, Any] = {
        "address": r.address,
        "sent": r.sent,
        "received": r.received,
        "rtt_ms": [round(x, 3) for x in r.rtts_ms],
        "median_ms": round(median(r.rtts_ms), 3) if r.rtts_ms else None,
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
        listed = "; ".join(
            f"{r.address}" + (f" ({r.errors[0]})" if r.errors else "") for r in silent
        )
        lead = (
            f"{len(answered)} of {len(obs.results)} IPv6 addresses answer ICMPv6 echo"
            if answered
            else "No ICMPv6 echo reply"
        )
        return Verdict(Status.FAIL, f"{lead}; not answered: {listed}.", evidence)
    if untested:
        return Verdict(
            Status.ERROR,
            f"Could not send to {', '.join(r.address for r in untested)}: "
            f"{untested[0].scanner_error} (the scanner's side).",
            evidence,
        )
    medians = ", ".join(f"{r.address} ({median(r.rtts_ms):.1f} ms)" for r in answered if r.rtts_ms)
    return Verdict(
        Status.PASS,
        f"ICMPv6 echo answered by {_addresses(len(answered))}: {medians}.",
        evidence,
    )


def _addresses(n: int) -> str:
    return "1 address" if n == 1 else f"{n} addresses"


# ------------------------------------------------------------------ net.trace


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
        return Verdict(Status.ERROR, "No trace was made.", evidence)
    if result.scanner_error:
        return Verdict(
            Status.ERROR,
            f"Could not send to {result.destination}: {result.scanner_error} (the scanner's side).",
            evidence,
        )
    answering = [h for h in result.hops if h.address]
    if result.reached:
        silent = len(result.hops) - len(answering)
        note = f" ({silent} silent)" if silent else ""
        return Verdict(
            Status.PASS,
            f"Traced {result.destination} in {plural(len(result.hops), 'hop')}{note}.",
            evidence,
        )
    last = f"; last answering hop {answering[-1].ttl}: {answering[-1].address}" if answering else ""
    if result.stopped:
        why = f"not reached: {result.stopped}"
    else:
        why = f"not reached within {result.max_hops} hops"
    return Verdict(Status.FAIL, f"{result.destination} {why}{last}.", evidence)
