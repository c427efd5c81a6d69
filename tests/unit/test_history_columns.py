"""A run's arrays spilled to a scratch file a part at a time read back whole, in order."""

from __future__ import annotations

import zlib
from array import array

import pytest

from ipv6scan import history_columns
from ipv6scan.history_columns import Column
from ipv6scan.history_store import unpack


@pytest.mark.parametrize("count", [0, 1, 99, 100, 101, 1000])
@pytest.mark.parametrize("typecode", ["q", "d"])
def test_a_spilled_column_packs_all_its_values_in_order(
    monkeypatch: pytest.MonkeyPatch, count: int, typecode: str
) -> None:
    monkeypatch.setattr(history_columns, "SPILL", 100)
    monkeypatch.setattr(history_columns, "READ", 24)  # read back in several blocks
    column = Column(typecode)
    values = array(typecode, [(-1) ** i * i * 7919 for i in range(count)])
    for i, value in enumerate(values):
        column.values.append(value)
        if i % 37 == 0:
            column.spill()  # as the writer does at each batch: only past SPILL values
        assert len(column) == i + 1
    assert len(column.values) <= 100 + 37
    for level in (0, 1):
        assert unpack(column.packed(level), typecode) == values
        assert zlib.decompress(column.packed(level)) == values.tobytes()
    column.close()
    column.close()  # twice: nothing left to close
