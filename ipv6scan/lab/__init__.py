"""The namespace lab: a small private internet of real servers in Linux network namespaces.

Used by the test suite and by `ipv6scan demo`. Only documentation prefixes are
used (see topology.py for the address plan); nothing is connected to the
host's own network namespace.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ipv6scan.lab.availability import LabUnavailable, lab_unavailable_reason
    from ipv6scan.lab.lab import Lab, LabTeardownError

__all__ = ["Lab", "LabTeardownError", "LabUnavailable", "lab_unavailable_reason"]


def __getattr__(name: str) -> Any:
    # Imported on first use: the small servers and probes the lab runs inside its
    # namespaces (python -m ipv6scan.lab.X) start without loading the Lab itself.
    if name in ("Lab", "LabTeardownError"):
        from ipv6scan.lab import lab

        return getattr(lab, name)
    if name in ("LabUnavailable", "lab_unavailable_reason"):
        from ipv6scan.lab import availability

        return getattr(availability, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
