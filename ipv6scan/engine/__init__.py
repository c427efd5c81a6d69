"""The bulk path: DNS-only scans of long lists, driven by callbacks instead of tasks.

A scan of a million names with `--checks dns.aaaa` spends its time on the engine's
machinery (a task per target, per check and per look-up, a deadline object per
check), not on DNS. Here each name is a small state machine advanced by the
transport's reply callbacks (lookups.py), and the results are judged and written
by the same functions the engine uses (dns_only.py). The rules (which resolver next,
CNAME chains, which subjects exist, the verdicts) are the engine's own, imported,
so the two paths cannot drift; tests/lab hold them to identical results.
"""
