"""Socket errors that mean *we* have no path of that family: the scanner's problem, not
the remote's. Shared by the DNS transports and the TCP, HTTP, SMTP and ICMP probes."""

from __future__ import annotations

import errno
from typing import Final

NO_PATH_ERRNOS: Final = frozenset(
    {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT}
)
