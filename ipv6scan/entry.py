"""The `ipv6scan` command's first instructions: SIGINT and SIGTERM are an interruption
(exit 130, one line) from the start, while the command line's modules are still loading
(a second or so), not a KeyboardInterrupt traceback or a silent death by SIGTERM."""

from __future__ import annotations

import signal
import sys

from ipv6scan.interrupts import as_sigint


def main() -> int:
    signal.signal(signal.SIGTERM, as_sigint)  # cli.main installs (and restores) its own
    try:
        from ipv6scan.cli import main as cli_main
    except KeyboardInterrupt:
        print("ipv6scan: interrupted", file=sys.stderr)
        return 130
    return cli_main()
