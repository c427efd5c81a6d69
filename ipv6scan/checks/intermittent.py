"""Tries in a verdict: the one rule every judge applies to the probes' tries, and the one
rule that tells an intermittent record in results.jsonl (diff, the gate, the report).

A probe may have needed several tries (probes/tries.py). A check is `fail` only when
every try of what it needed failed; that needs nothing here, as a probe's outcome is its
first success, else its last failure. What this adds:
- `evidence.attempts` and `evidence.failed_attempts` whenever a probe made more than one
  try: the most tries any one probe made and the most failed tries of any one probe
  (so attempts == --attempts and failed_attempts == attempts when a probe never
  answered), and `evidence.tries`, the probes that needed more than one try;
- a check that would pass, but where a probe it relied on answered only after failed
  tries, is `warn`, with "intermittent" and the failed tries in its detail, and
  `evidence.intermittent = true`. That key marks exactly the records whose only fault
  is intermittence: what `is_intermittent` reads. A check that is `warn` or `fail` for
  another reason keeps its status; its detail mentions the intermittence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ipv6scan.checks.evidence import semicolons
from ipv6scan.messages import Detail, message
from ipv6scan.model import Status, Verdict

INTERMITTENT = "intermittent"  # the evidence key, and the word in the detail
LISTED = 20  # probes listed in evidence.tries
NAMED = 3  # probes named in the detail

# The verdict's own detail is the first parameter: a pass turned intermittent keeps its
# sentence (without its full stop), another status gains a sentence. How many tries
# failed is a figure, not the verdict.
BUT_INTERMITTENT = message("intermittent.pass", "%(detail)s, but intermittent: %(tries)s%(more)s.")
ALSO_INTERMITTENT = message("intermittent.also", "%(detail)s Also intermittent: %(tries)s%(more)s.")
FAILED_TRIES = message(
    "intermittent.tries",
    "%(failed)s of %(attempts)s tries failed on %(label)s",
    measured=("failed", "attempts"),
)
MORE = message("intermittent.more", " and %(count)s more", measured=("count",))


@dataclass(frozen=True)
class Tries:
    """One probe's tries, as a judge sees them."""

    label: str  # what was probed, as the detail names it: "[2001:db8::10]:443"
    attempts: int
    failed: int


def tries_of(label: str, probe: Any) -> Tries:
    """The tries of an observation with `attempts` and `failed_attempts` fields."""
    return Tries(label, probe.attempts, probe.failed_attempts)


def with_tries(
    verdict: Verdict, probes: Sequence[Tries], relied_on: Sequence[Tries] = ()
) -> Verdict:
    """`verdict` with the tries of the check's `probes` in its evidence, and turned into an
    intermittent `warn` when it passed but one of `relied_on` (probes that answered, whose
    answer the verdict rests on) answered only after failed tries."""
    several = [p for p in probes if p.attempts > 1]
    if not several:
        return verdict
    evidence = dict(verdict.evidence)
    evidence["attempts"] = max(p.attempts for p in several)
    evidence["failed_attempts"] = max(p.failed for p in several)
    evidence["tries"] = [
        {"probe": p.label, "attempts": p.attempts, "failed_attempts": p.failed}
        for p in several[:LISTED]
    ]
    flaky = [p for p in relied_on if p.failed > 0]
    if not flaky:
        return Verdict(verdict.status, verdict.detail, evidence)
    named = semicolons(
        [FAILED_TRIES(failed=p.failed, attempts=p.attempts, label=p.label) for p in flaky[:NAMED]]
    )
    more = MORE(count=len(flaky) - NAMED) if len(flaky) > NAMED else ""
    if verdict.status is Status.PASS:
        evidence[INTERMITTENT] = True
        detail = BUT_INTERMITTENT(detail=_without_stop(verdict.detail), tries=named, more=more)
        return Verdict(Status.WARN, detail, evidence)
    detail = ALSO_INTERMITTENT(detail=verdict.detail, tries=named, more=more)
    return Verdict(verdict.status, detail, evidence)


def _without_stop(detail: str) -> str:
    """The detail without its closing full stop in English; the same key and parameters,
    so that another language renders its own whole sentence."""
    text = detail.rstrip(".")
    key = getattr(detail, "key", None)
    return text if key is None else Detail(text, key, getattr(detail, "params", {}))


def is_intermittent(status: str, evidence: Mapping[str, Any]) -> bool:
    """The one rule for "this record is an intermittent result": a `warn` whose only
    fault is that some tries failed before a later one succeeded."""
    return status == Status.WARN and evidence.get(INTERMITTENT) is True


def steady_status(status: str, evidence: Mapping[str, Any]) -> str:
    """The status the record would have without its failed tries: what diff compares and
    scores, so that intermittence alone is never a regression nor a fall in score."""
    return str(Status.PASS) if is_intermittent(status, evidence) else str(status)
