"""The namespace lab: a small private internet of real DNS servers in Linux network namespaces.

Used by the test suite and by `ipv6scan demo`. Only documentation prefixes are
used (see topology.py for the address plan); nothing is connected to the
host's own network namespace.
"""

from ipv6scan.lab.availability import LabUnavailable, lab_unavailable_reason
from ipv6scan.lab.lab import Lab, LabTeardownError

__all__ = ["Lab", "LabTeardownError", "LabUnavailable", "lab_unavailable_reason"]
