"""Scores (0-100) per subject, tier, target, sector and overall; the migration stage; NIST
colours per service; what to fix first. See docs/scoring.md.

`error` and `skip` never count: an undecided check neither helps nor hurts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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


def __getattr__(name: str) -> Any:
    # Imported on first use: the finish's second process (finish/tables_beside.py) needs
    # scoring.vantage alone, not the profile and, through its check weights, every check
    # family (32 MB and 0.2 s before its first line).
    if name in ("SERVICES", "colour", "service_colours"):
        from ipv6scan.scoring import colours

        return getattr(colours, name)
    if name in ("DEFAULT_PROFILE", "POINTS", "STAGE_RULES", "WEIGHTS", "Profile", "Requirement"):
        from ipv6scan.scoring import profile

        return getattr(profile, name)
    if name in ("NOT_ASSESSED", "STAGE_NAMES", "STAGES", "rank", "stage_of"):
        from ipv6scan.scoring import stages

        return getattr(stages, name)
    if name == "summarize":
        from ipv6scan.scoring import summary

        return summary.summarize
    if name in ("Tally", "TargetScore"):
        from ipv6scan.scoring import tally

        return getattr(tally, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
