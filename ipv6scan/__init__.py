"""ipv6scan: measure how far domains and operator networks have moved to IPv6."""

__version__ = "0.1.0"
