"""Once-per-scan results shared by every check that needs them.

The first caller of a key starts the work; later callers await the same future.
Finished entries are evicted oldest-first beyond `size`, so memory stays flat.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any


class Memo:
    def __init__(self, size: int = 100_000) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, asyncio.Future[Any]] = OrderedDict()

    async def get(self, key: Hashable, make: Callable[[], Awaitable[Any]]) -> Any:
        fut = self._entries.get(key)
        if fut is None:
            fut = asyncio.ensure_future(make())
            self._entries[key] = fut
            self._evict()
        else:
            self._entries.move_to_end(key)
        # shield: one waiter's cancellation (its check's deadline) must not cancel the others'
        return await asyncio.shield(fut)

    def _evict(self) -> None:
        while len(self._entries) > self.size:
            key, oldest = next(iter(self._entries.items()))
            if not oldest.done():
                return  # never drop work others may be waiting on
            del self._entries[key]
