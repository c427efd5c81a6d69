"""A running mean that gives exactly what `round(sum(values) / len(values), 1)` gives, so a
mean over a million targets needs two numbers instead of a list of a million scores."""

from __future__ import annotations

import sys

# sum() of floats compensates rounding (Neumaier) since Python 3.12; before, it just adds.
_COMPENSATED = sys.version_info >= (3, 12)


class Mean:
    __slots__ = ("_c", "_f", "count")

    def __init__(self) -> None:
        self._f = 0.0  # the running sum, as sum() keeps it
        self._c = 0.0  # its compensation term (3.12 and later)
        self.count = 0

    def add(self, value: float) -> None:
        x = float(value)
        self.count += 1
        if not _COMPENSATED:
            self._f += x
            return
        t = self._f + x
        if abs(self._f) >= abs(x):
            self._c += (self._f - t) + x
        else:
            self._c += (x - t) + self._f
        self._f = t

    @property
    def total(self) -> float:
        c = self._c
        return self._f + c if c and c - c == 0.0 else self._f  # c - c == 0: c is finite

    def value(self) -> float | None:
        """The mean rounded to one decimal; None when nothing was added."""
        return round(self.total / self.count, 1) if self.count else None
