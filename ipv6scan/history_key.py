"""Which history a scan continues (INTERFACE.md "History"): its key in the database.

By default the key is what the lists are, not where they lie: each YAML list's `name:`,
each plain list's file name without its directory (and the sector its targets get), and
the set of checks. `one.txt`, `./one.txt` and `/srv/audit/one.txt` are one history; a
scan of other lists, or of other checks, is another. `--history-key` names it outright.
Each shard of a sharded scan keeps a history of its own: it compares with the same shard.

The set of checks is written as the families it holds whole (`dns`, or `all` for every
check) and the single ids left over, so that a check added to a family by a later version
does not start a new history for `--checks dns` or the default.
"""

from __future__ import annotations

import json
import os
import unicodedata
from collections.abc import Iterable, Sequence

from ipv6scan.checks.registry import CHECKS, FAMILIES, Check
from ipv6scan.targets import PLAIN_SUFFIXES, ListReader

MAX_KEY_CHARS = 200


def is_plain(path: str) -> bool:
    return os.path.splitext(path)[1].lower() in PLAIN_SUFFIXES


def list_identity(path: str, lists: ListReader) -> str:
    """A validated list's identity: a YAML list's name, a plain list's file name."""
    if is_plain(path):
        return os.path.basename(os.path.normpath(path))
    return lists.load(path).name


def checks_identity(ids: Iterable[str]) -> list[str]:
    chosen = set(ids)
    if chosen == {c.id for c in CHECKS}:
        return ["all"]
    named: list[str] = []
    for family in FAMILIES:
        members = {c.id for c in CHECKS if c.family == family}
        if members and members <= chosen:
            named.append(family)
            chosen -= members
    return sorted(named) + sorted(chosen)


def derived(paths: Sequence[str], sector: str, check_ids: Iterable[str], lists: ListReader) -> str:
    """The default key: compact JSON, the same for the same lists wherever they are."""
    identity: dict[str, object] = {
        "lists": sorted(list_identity(p, lists) for p in paths),
        "checks": checks_identity(check_ids),
    }
    if any(is_plain(p) for p in paths):
        identity["sector"] = sector  # a plain list's targets take the sector of the run
    return json.dumps(identity, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def explicit(text: str) -> str:
    """A key given with --history-key; ValueError says what is wrong with it."""
    key = text.strip()
    if not key:
        raise ValueError("empty")
    if len(key) > MAX_KEY_CHARS:
        raise ValueError(f"longer than {MAX_KEY_CHARS} characters")
    if any(unicodedata.category(ch).startswith("C") for ch in key):
        raise ValueError("holds a control character")
    return key


def for_scan(
    given: str | None,
    paths: Sequence[str],
    sector: str,
    checks: Sequence[Check],
    shard: tuple[int, int] | None,
    lists: ListReader,
) -> str:
    """The key a scan is recorded under. The lists must have been validated."""
    if given is not None:
        key = explicit(given)
    else:
        key = derived(paths, sector, (c.id for c in checks), lists)
    return f"{key} [shard {shard[0]}/{shard[1]}]" if shard else key
