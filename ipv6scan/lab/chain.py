"""The lab's delegation chains (dns.delegation): middle zones between the TLD `example.`
and a leaf zone, on an NSD of their own, so that the walk meets real referrals.

    example.  (ns1/ns2: IPv6 and IPv4; the main NSD)
      chain6.example.   NS nsmid6.dns.example (IPv6 and IPv4; the chain NSD)
        leaf.chain6.example.   NS ns1/ns2 (the main NSD): a clean chain, pass
      chain4.example.   NS nsmid4.dns.example (IPv4 only; the chain NSD)
        leaf.chain4.example.   NS ns1/ns2 (the main NSD): broken in the middle, fail
                               naming chain4.example, while the leaf's own
                               dns.ns_ipv6 passes

The main NSD serves the TLD and the leaves, never the middle zones: asked about a leaf, it
refers to the middle zone's server (the TLD's delegation) instead of answering itself.
Data only; zones.py renders the zone files, dnsservers.py runs the chain NSD.
"""

from __future__ import annotations

from ipv6scan.lab import topology as t

NSMID6, NSMID4 = "nsmid6.dns.example", "nsmid4.dns.example"
# name server host -> (AAAA or None, A or None); merged into scenarios.NAMESERVERS
NAMESERVERS: dict[str, tuple[str | None, str | None]] = {
    NSMID6: (t.NSMID6_6, t.NSMID6_4),
    NSMID4: (None, t.NSMID4_4),
}
MIDDLE_V6, MIDDLE_V4 = "chain6.example", "chain4.example"
LEAF_CLEAN, LEAF_BROKEN = f"leaf.{MIDDLE_V6}", f"leaf.{MIDDLE_V4}"
# a name under the clean middle zone that does not exist: dns.delegation skip
MISSING = f"missing.{MIDDLE_V6}"
# The benchmark's 1,000-domain list (tests/integration/test_delegation.py): each name a zone
# cut of its own, delegated from the clean leaf to ns1/ns2, which do not serve it (so each
# costs what a real per-domain cut costs: its referral and its own SOA questions).
BENCH_DOMAINS = tuple(f"d{i}.{LEAF_CLEAN}" for i in range(1000))
# middle zone -> its name servers (delegated from example., served by the chain NSD)
MIDDLE_ZONES: dict[str, tuple[str, ...]] = {MIDDLE_V6: (NSMID6,), MIDDLE_V4: (NSMID4,)}
# leaf zone -> (its middle zone, its name servers); served by the main NSD
LEAF_ZONES: dict[str, tuple[str, tuple[str, ...]]] = {
    LEAF_CLEAN: (MIDDLE_V6, ("ns1.dns.example", "ns2.dns.example")),
    LEAF_BROKEN: (MIDDLE_V4, ("ns1.dns.example", "ns2.dns.example")),
}
