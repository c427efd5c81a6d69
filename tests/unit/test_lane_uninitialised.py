"""A Lane that __init__ never set up (Lane.__new__ alone, or an __init__ that failed) raises.

Each call runs in a child process: a segfault there fails this test instead of killing
pytest. Before the fix, Lane.__new__(Lane).add(...) wrote into a NULL domain table.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from ipv6scan.engine import lane as lane_module


@pytest.fixture(autouse=True)
def _the_lane_is_built() -> None:
    if lane_module.Lane is None:
        why = "the fast lane (ipv6scan/engine/_lane.c) is not compiled in this install"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{why}; CI must build it", pytrace=False)
        pytest.skip(why)


def _run(body: str) -> subprocess.CompletedProcess[str]:
    code = "from ipv6scan.engine._lane import Lane\n" + textwrap.dedent(body)
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )


CALLS = {
    "add": "lane.add(object(), 'example.org', 'www.example.org', b'T', b'S')",
    "flush": "lane.flush()",
    "read": "lane.read()",
    "expire": "lane.expire()",
    "take": "lane.take()",
}


@pytest.mark.parametrize("call", sorted(CALLS))
def test_a_lane_made_by_new_alone_raises(call: str) -> None:
    done = _run(f"""
        lane = Lane.__new__(Lane)
        try:
            {CALLS[call]}
        except RuntimeError as exc:
            assert "not initialised" in str(exc), exc
            print("raised")
        print(lane.busy, lane.sent, lane.received, lane.expired)
        del lane
    """)
    assert done.returncode == 0, f"exit {done.returncode}: {done.stderr[-2000:]}"
    assert done.stdout.split() == ["raised", "0", "0", "0", "0"]


def test_an_init_that_failed_half_way_leaves_a_lane_that_raises() -> None:
    # the allow table is malformed: the special table was read before it failed
    done = _run("""
        import socket
        from ipv6scan.addresses import AddressPolicy
        special = AddressPolicy().tables().special
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        lane = Lane.__new__(Lane)
        for _ in range(2):  # a retry frees what the first try left
            try:
                lane.__init__(sock.fileno(), 1.0, 8, special, [(b"x", 1)], [], print)
            except ValueError:
                pass
        try:
            lane.add(object(), 'example.org', None, b'T', b'S')
        except RuntimeError:
            print("raised")
        lane.__init__(sock.fileno(), 1.0, 8, special, [], [], print)
        print(lane.add(object(), 'example.org', None, b'T', b'S'))
    """)
    assert done.returncode == 0, f"exit {done.returncode}: {done.stderr[-2000:]}"
    assert done.stdout.split() == ["raised", "True"]
