"""The scan loop's exception handler (engine/loop_faults.py): uvloop's two known faults
are dropped, and every other report still reaches the default handler (and stderr)."""

from __future__ import annotations

import asyncio
import logging
import ssl

import pytest

from ipv6scan.engine import loop_faults

CLOSED = RuntimeError(
    "unable to perform operation on <TCPTransport closed=True reading=False 0x55>; "
    "the handler is closed"
)


@pytest.mark.parametrize(
    ("context", "printed"),
    [
        ({"message": "Fatal error on SSL protocol", "exception": CLOSED}, False),
        (
            {
                "message": "Future exception was never retrieved",
                "exception": ssl.SSLCertVerificationError(1, "self-signed certificate"),
            },
            False,
        ),
        # the same words on another exception, or another message, are somebody's bug
        ({"message": "Fatal error on SSL protocol", "exception": RuntimeError("boom")}, True),
        ({"message": "Fatal error on transport", "exception": CLOSED}, True),
        ({"message": "Future exception was never retrieved", "exception": KeyError(1)}, True),
        ({"message": "Task was destroyed but it is pending!"}, True),
    ],
)
async def test_only_the_known_faults_are_dropped(
    context: dict[str, object], printed: bool, caplog: pytest.LogCaptureFixture
) -> None:
    loop = asyncio.get_running_loop()
    loop_faults.install(loop)
    try:
        with caplog.at_level(logging.ERROR, logger="asyncio"):
            loop.call_exception_handler(context)
    finally:
        loop.set_exception_handler(None)
    assert bool(caplog.records) is printed


async def test_an_owners_own_handler_is_kept() -> None:
    loop = asyncio.get_running_loop()
    seen: list[dict[str, object]] = []
    loop.set_exception_handler(lambda _loop, context: seen.append(context))
    try:
        loop_faults.install(loop)
        assert loop.get_exception_handler() is not loop_faults.handle
    finally:
        loop.set_exception_handler(None)
