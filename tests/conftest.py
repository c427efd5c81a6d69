"""Shared fixtures. `lab`: one namespace lab for the whole session, always torn down."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from ipv6scan.lab import Lab, lab_unavailable_reason


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    reason = lab_unavailable_reason()
    if reason is not None:
        # Under CI a skipped lab test would hide a broken runner: fail instead.
        if os.environ.get("CI") == "true":
            pytest.fail(f"the namespace lab cannot run under CI: {reason}")
        pytest.skip(f"namespace lab unavailable: {reason}")
    # up() removes whatever it built if it fails halfway; the with block covers the rest.
    with Lab(tmp_path_factory.mktemp("lab")) as running:
        yield running
