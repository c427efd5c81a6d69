"""The explicit list of checks. The id here is the only place a check is named."""

# Placeholder until the check modules land; replaced by ids derived from the check objects.
CHECK_IDS: tuple[str, ...] = (
    "dns.aaaa",
    "dns.ns_ipv6",
    "dns.ns_reachable",
    "dns.mx_ipv6",
    "mail.smtp",
    "web.reachable",
    "web.http",
    "web.parity",
    "web.links",
    "web.latency",
    "net.ping",
    "net.trace",
    "resolver.ipv6",
)
FAMILIES: tuple[str, ...] = ("dns", "web", "mail", "net", "resolver")
