"""A bulk scan worker (see workers.py): a WorkerSpec on stdin, result lines on stdout."""

from __future__ import annotations

import pickle
import sys


def main() -> int:
    from ipv6scan.run import run_share, use_fast_loop

    spec = pickle.loads(sys.stdin.buffer.read())  # from our own parent process
    use_fast_loop()
    import asyncio

    try:
        asyncio.run(run_share(spec))
    except (KeyboardInterrupt, asyncio.CancelledError):
        return 0  # stopped: the finished lines are flushed
    return 0


if __name__ == "__main__":
    sys.exit(main())
