"""Display names for the ids that results and summaries carry (statuses, stages, checks,
tiers, sectors). Marked with N_ so they are in the catalogue; translated where shown.

Two kinds of id are named where they are defined, and only read here: a check's name and
order come from the check registry (checks/registry.py, whose labels are msgids of this
catalogue), a stage's name and description from the scorer's ladder (scoring/stages.py,
in every language, as summary.json carries them).

An id the report does not know (a new check, a custom stage) is shown as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from ipv6scan.checks.registry import CHECKS as REGISTRY
from ipv6scan.report.fixes import ShownFix, shown_fix
from ipv6scan.report.i18n import N_, localized
from ipv6scan.scoring.stages import STAGE_DESCRIPTIONS, STAGE_NAMES
from ipv6scan.scoring.stages import STAGES as STAGES  # the default ladder, lowest first

STATUSES: tuple[str, ...] = ("pass", "warn", "fail", "error", "skip")

STATUS_NAMES: dict[str, str] = {
    # the words of results.csv and junit.xml, so the files and the report agree
    "pass": N_("pass"),
    "warn": N_("warn"),
    "fail": N_("fail"),
    "error": N_("error"),
    "skip": N_("skip"),
}

# The registry's order: charts and drill-downs list checks in it.
CHECKS: tuple[str, ...] = tuple(check.id for check in REGISTRY)
CHECK_NAMES: dict[str, str] = {check.id: check.label for check in REGISTRY if check.label}

TIERS: tuple[str, ...] = ("services", "backbone", "metro", "access", "support")
TIER_NAMES: dict[str, str] = {
    "services": N_("Public services"),
    "backbone": N_("Backbone"),
    "metro": N_("Metro network"),
    "access": N_("Access network"),
    "support": N_("Support systems"),
}

SECTORS: tuple[str, ...] = ("government", "operator", "enterprise")
SECTOR_NAMES: dict[str, str] = {
    "government": N_("Government"),
    "operator": N_("Network operators"),
    "enterprise": N_("Enterprises"),
}

SERVICES: tuple[str, ...] = ("dns", "web", "mail")
SERVICE_NAMES: dict[str, str] = {"dns": N_("DNS"), "web": N_("Web"), "mail": N_("Mail")}
# NIST USGv6-style service colours of scoring.colours; "none" is a service not assessed.
LIGHTS: tuple[str, ...] = ("green", "yellow", "red", "grey", "none")
LIGHT_NAMES: dict[str, str] = {
    "green": N_("works over IPv6"),
    "yellow": N_("IPv6 address, but the service does not work over IPv6"),
    "red": N_("no IPv6 address"),
    "grey": N_("service not present"),
    "none": N_("not assessed"),
}

MILESTONE_STATES: dict[str, str] = {
    "met": N_("Met"),
    "on-track": N_("On track"),
    "behind": N_("Behind"),
    "not-assessed": N_("Not assessed"),
}
MILESTONE_METRICS: dict[str, str] = {
    "score": N_("Score"),
    "pass_share": N_("Pass rate"),
    "stage_share": N_("Share of targets at the stage"),
}
PERCENT_METRICS = ("pass_share", "stage_share")  # values 0-100 that read as a percentage


def order_of(known: tuple[str, ...], ids: Iterable[str]) -> list[str]:
    """Known ids in their fixed order, then the unknown ones alphabetically."""
    present = set(ids)
    return [k for k in known if k in present] + sorted(present - set(known))


class Words:
    """Display names in one language. A summary may bring its own stage names
    (a configured ladder): they win in the language they are given for."""

    def __init__(
        self,
        gettext: Callable[[str], str],
        lang: str,
        stage_names: Mapping[str, object] | None = None,
        stage_help: Mapping[str, object] | None = None,
    ) -> None:
        self._ = gettext
        self.lang = lang
        self.stage_names = dict(stage_names or {})
        self.stage_descriptions = dict(stage_help or {})

    def _known(self, names: Mapping[str, str], key: str) -> str:
        return self._(names[key]) if key in names else key

    def status(self, key: str) -> str:
        return self._known(STATUS_NAMES, key)

    def check(self, key: str) -> str:
        return self._known(CHECK_NAMES, key)

    def tier(self, key: str) -> str:
        return self._known(TIER_NAMES, key)

    def sector(self, key: str) -> str:
        return self._known(SECTOR_NAMES, key)

    def service(self, key: str) -> str:
        return self._known(SERVICE_NAMES, key)

    def light(self, key: str) -> str:
        return self._known(LIGHT_NAMES, key)

    def fix(self, key: object) -> ShownFix | None:
        """How to fix a finding (report.fixes), by its key; None for an unknown key."""
        return shown_fix(key, self._)

    def milestone_state(self, key: str) -> str:
        return self._known(MILESTONE_STATES, key)

    def status_help(self, key: str) -> str:
        return self._(STATUS_HELP[key]) if key in STATUS_HELP else ""

    def metric(self, key: str) -> str:
        return self._known(MILESTONE_METRICS, key)

    def stage_help(self, key: str) -> str:
        """The scorer's description: the summary's (the ladder it used), else this one's."""
        given = self.stage_descriptions.get(key, STAGE_DESCRIPTIONS.get(key))
        return localized(given, self.lang)

    def stage(self, key: str) -> str:
        """The scorer's name: the summary's (the ladder it used), else this one's."""
        return localized(self.stage_names.get(key, STAGE_NAMES.get(key)), self.lang) or key


# For the "how to read this report" part; only the rungs of the ladder in use are shown.
STATUS_HELP: dict[str, str] = {
    "pass": N_("The check found what IPv6 readiness needs."),
    "warn": N_("Partly there: some addresses, servers or pages fall short."),
    "fail": N_("Not there: the check found no working IPv6."),
    "error": N_(
        "Could not be decided (a time-out, a resolver failure, or the scanner had no path"
        " of that address family). It does not count for or against the score."
    ),
    "skip": N_("Does not apply (for example no mail servers). It does not count."),
}
