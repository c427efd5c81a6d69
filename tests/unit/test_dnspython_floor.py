"""dnswire follows dnspython's reading of compression pointers; the floor must share it.

dnspython before 2.9 follows pointer chains of any length, where 2.9 and dnswire stop
after 16 hops: with 2.6.1 (which `>=2.6` allowed) the two disagreed on a 17-hop chain.
So pyproject.toml asks for 2.9, and this test holds the floor to it.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import dns.name
import dns.version

from ipv6scan.dnsclient import wire as dnswire

FIRST_WITH_THE_BOUND = (2, 9)
PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def test_the_installed_dnspython_bounds_pointer_chains_as_dnswire_does() -> None:
    assert dns.name.MAX_COMPRESSION_POINTER_CHAIN == dnswire._MAX_HOPS


def test_the_dependency_floor_has_the_bound() -> None:
    dependencies = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    (spec,) = [d for d in dependencies if re.match(r"dnspython\b", d)]
    found = re.search(r">=\s*(\d+)\.(\d+)", spec)
    assert found is not None, f"no floor in {spec!r}"
    assert (int(found.group(1)), int(found.group(2))) >= FIRST_WITH_THE_BOUND, spec
    assert (dns.version.MAJOR, dns.version.MINOR) >= FIRST_WITH_THE_BOUND
