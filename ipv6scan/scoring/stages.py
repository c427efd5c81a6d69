"""The migration stage of a target: a ladder from "IPv4 only" to "IPv6-ready".

Stage ids are stable machine strings (summary.json, the history database, milestones);
display names and descriptions live beside them in English and Chinese, here only:
summary.json carries them and the report shows them (report/labels.py reads them).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from ipv6scan.scoring.profile import ANY_CHECK, STAGE_RULES, Requirement

STAGES: tuple[str, ...] = ("ipv4-only", "aaaa-published", "reachable", "dual-stack", "ipv6-ready")
NOT_ASSESSED = "not-assessed"

STAGE_NAMES: dict[str, dict[str, str]] = {
    "ipv4-only": {"en": "IPv4 only", "zh-CN": "仅IPv4"},
    "aaaa-published": {"en": "AAAA published", "zh-CN": "已发布AAAA"},
    "reachable": {"en": "Reachable over IPv6", "zh-CN": "IPv6可达"},
    "dual-stack": {"en": "Dual-stack service parity", "zh-CN": "双栈一致"},
    "ipv6-ready": {"en": "IPv6-ready", "zh-CN": "IPv6就绪"},
    NOT_ASSESSED: {"en": "Not assessed", "zh-CN": "未评估"},
}
STAGE_DESCRIPTIONS: dict[str, dict[str, str]] = {
    "ipv4-only": {
        "en": "No global IPv6 address is published.",
        "zh-CN": "未发布全球单播IPv6地址。",
    },
    "aaaa-published": {
        "en": "IPv6 addresses are in the DNS, but the service does not answer over IPv6.",
        "zh-CN": "DNS中已有IPv6地址，但服务尚不能通过IPv6访问。",
    },
    "reachable": {
        "en": "The web service answers over IPv6.",
        "zh-CN": "网站服务可通过IPv6访问。",
    },
    "dual-stack": {
        "en": "The same site is served over IPv6 and IPv4.",
        "zh-CN": "IPv6与IPv4提供相同的网站内容。",
    },
    "ipv6-ready": {
        "en": "Dual-stack parity, and name servers, mail and links work over IPv6 too.",
        "zh-CN": "双栈一致，且域名服务器、邮件和链接均支持IPv6。",
    },
    NOT_ASSESSED: {
        "en": "Nothing could be decided.",
        "zh-CN": "没有可判定的结果。",
    },
}

StatusCounts = Mapping[str, Mapping[str, int]]  # check id -> status -> how many results


def rank(stage: str) -> int | None:
    """0 for ipv4-only up to 4 for ipv6-ready; None for not-assessed or an unknown id."""
    return STAGES.index(stage) if stage in STAGES else None


def catalogue() -> list[dict[str, object]]:
    """The ladder for summary.json, lowest first, so that a report can name and order it."""
    return [
        {
            "id": stage,
            "rank": rank(stage),
            "name": STAGE_NAMES[stage],
            "description": STAGE_DESCRIPTIONS[stage],
        }
        for stage in (*STAGES, NOT_ASSESSED)
    ]


def _counts(statuses: Mapping[str, Collection[str]] | StatusCounts) -> dict[str, dict[str, int]]:
    """Accept check -> {status: count} or check -> {statuses seen} (each seen counts once)."""
    out: dict[str, dict[str, int]] = {}
    for check, seen in statuses.items():
        if isinstance(seen, Mapping):
            out[check] = {str(s): int(n) for s, n in seen.items()}
        else:
            out[check] = dict.fromkeys((str(s) for s in seen), 1)
    return out


def _rung_met(
    rung: str, rules: tuple[Requirement, ...], counts: Mapping[str, Mapping[str, int]]
) -> bool:
    good = ("pass",) if rung == "ipv6-ready" else ("pass", "warn")
    named = {r.check for r in rules}
    for req in rules:
        if req.check == ANY_CHECK:
            others = [c for c in counts if c not in named]
            if not all(req.met(counts[c], good) for c in others):
                return False
        elif not req.met(counts.get(req.check, {}), good):
            return False
    return True


def stage_of(
    statuses: Mapping[str, Collection[str]] | StatusCounts,
    rules: Mapping[str, tuple[Requirement, ...]] = STAGE_RULES,
) -> str:
    """The highest rung whose evidence is present: each rung needs the one below.

    Undecided results (error, skip) are no evidence either way. A target without any result
    of the first rung's checks (an operator's systems only) climbs the systems ladder.
    """
    counts = _counts(statuses)
    first = rules.get(STAGES[1], ())
    first_checks = {r.check for r in first if r.check != ANY_CHECK}
    if not _rung_met(STAGES[1], first, counts):
        seen = {s for c in first_checks for s, n in counts.get(c, {}).items() if n}
        if seen & {"pass", "warn", "fail"}:
            return "ipv4-only"
        if seen:
            return NOT_ASSESSED
        return _systems_stage(counts)
    reached = STAGES[1]
    for stage in STAGES[2:]:
        if not _rung_met(stage, rules.get(stage, ()), counts):
            break
        reached = stage
    return reached


def _systems_stage(counts: Mapping[str, Mapping[str, int]]) -> str:
    """A target with systems only: no address is ipv4-only, all passing is ready, and
    anything in between is reachable (some of it answers over IPv6)."""
    seen = {s for per_check in counts.values() for s, n in per_check.items() if n}
    if not seen & {"pass", "warn", "fail"}:
        return NOT_ASSESSED
    if not seen & {"pass", "warn"}:
        return "ipv4-only"
    return "ipv6-ready" if not seen & {"fail", "warn"} else "reachable"
