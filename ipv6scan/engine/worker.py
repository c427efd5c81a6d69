"""A bulk scan worker (see workers.py): a WorkerSpec on stdin, result lines on stdout.

Its parent starts it with SIGINT blocked and stops it with SIGTERM; SIGINT (a Ctrl-C sent
to the whole process group) is ignored here before it is unblocked, so it is dropped,
never a KeyboardInterrupt traceback.
"""

from __future__ import annotations

import signal

signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})

import ctypes  # noqa: E402  (SIGINT is settled first)
import os  # noqa: E402
import pickle  # noqa: E402
import sys  # noqa: E402

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """SIGTERM from the kernel when the parent dies, even by SIGKILL: no orphan keeps
    scanning into a pipe nobody reads. Linux only; elsewhere the closed pipe stops it."""
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before prctl: nobody will signal us
        os.kill(os.getpid(), signal.SIGTERM)


def main() -> int:
    _die_with_parent()
    from ipv6scan.engine.prepare import use_fast_loop
    from ipv6scan.engine.share import run_share

    spec = pickle.loads(sys.stdin.buffer.read())  # from our own parent process
    use_fast_loop()
    import asyncio

    try:
        asyncio.run(run_share(spec))
    except asyncio.CancelledError:
        return 0  # stopped: the finished lines are flushed
    return 0


if __name__ == "__main__":
    sys.exit(main())
