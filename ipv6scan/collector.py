"""The garbage collector tuned for the long phases: the scan, and the scoring, reports
and history after it.

What is loaded before a phase (modules, the target lists: hundreds of thousands of
objects that live to the end) is frozen out of every collection, and the youngest
generation is collected less often. Both phases make many short-lived objects (futures,
tasks, results, rows) but few reference cycles: collections that walked the loaded
lists again and again took a fifth of a 10,000-address ping scan's CPU (3% now), and a
sixth of the work after a DNS-only scan of 100,000 names.

The finish's pass over results.jsonl (finish.stage, and its second process) makes no
reference cycles at all: results, groups and rows are trees, freed by their counts. Its
young collections found nothing to free yet took 0.4 s at 100,000 names, walking the
tens of thousands of objects the open groups and batches hold: `paused` turns the
collector off for it, and back on (with a collection) when it ends.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

YOUNG_COLLECTION = 50_000  # new objects (net of those freed) between young collections


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """No collections inside (for code that makes no reference cycles). What it leaves
    alive is frozen after it (gc.freeze: a splice of lists), not walked by a young
    collection, which took 0.1 s of the finish's last, single-threaded second at 100,000
    names and freed nothing; tuned_collector's unfreeze gives it back to the collector
    (should the block have made a cycle after all: a torn line's exception, say)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.freeze()
            gc.enable()


@contextlib.contextmanager
def tuned_collector() -> Iterator[None]:
    old = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(old[0], YOUNG_COLLECTION), *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)
        gc.unfreeze()
