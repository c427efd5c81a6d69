"""Scores (0-100) per subject, tier, target, sector and overall; the migration stage; NIST
colours per service; what to fix first. See docs/scoring.md.

`error` and `skip` never count: an undecided check neither helps nor hurts.
"""

from ipv6scan.scoring.colours import SERVICES, colour, service_colours
from ipv6scan.scoring.profile import (
    DEFAULT_PROFILE,
    POINTS,
    STAGE_RULES,
    WEIGHTS,
    Profile,
    Requirement,
)
from ipv6scan.scoring.stages import NOT_ASSESSED, STAGE_NAMES, STAGES, rank, stage_of
from ipv6scan.scoring.summary import summarize
from ipv6scan.scoring.tally import Tally, TargetScore

__all__ = [
    "DEFAULT_PROFILE",
    "NOT_ASSESSED",
    "POINTS",
    "SERVICES",
    "STAGES",
    "STAGE_NAMES",
    "STAGE_RULES",
    "WEIGHTS",
    "Profile",
    "Requirement",
    "Tally",
    "TargetScore",
    "colour",
    "rank",
    "service_colours",
    "stage_of",
    "summarize",
]
