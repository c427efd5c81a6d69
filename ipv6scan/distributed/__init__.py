"""Distributed scans (INTERFACE.md "Distributed scans"): Celery workers, Redis between.

A coordinator (`ipv6scan scan --broker`) splits the targets into shards (run.in_shard),
queues each for the workers of each vantage point, and appends each shard's lines to
results.jsonl once; the files are then made by the same finish as a local scan's. A worker
(`ipv6scan worker`) scans a shard with run.scan, its own network, resolver and preflight,
and returns the shard's lines through Redis, compressed.
"""
