"""A run's arrays spilled to a scratch file a part at a time read back whole, in order."""

from __future__ import annotations

import sqlite3
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
        with column.packed(level) as packed:
            data = packed.read()
        assert unpack(data, typecode) == values
        assert zlib.decompress(data) == values.tobytes()
    column.close()
    column.close()  # twice: nothing left to close


def test_columns_are_stored_a_block_at_a_time_as_packed(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given two columns, one spilled and read back in blocks of 24 bytes, one empty
    monkeypatch.setattr(history_columns, "SPILL", 100)
    monkeypatch.setattr(history_columns, "READ", 24)
    full, empty = Column("q"), Column("d")
    for i in range(1000):
        full.values.append(i * 7919 - 2**62)
        full.spill()
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, a BLOB, b BLOB)")
    conn.execute("INSERT INTO t VALUES (7, 0, x'00', x'00')")  # the row is replaced
    # When they are stored into one row
    history_columns.store(conn, "INSERT OR REPLACE INTO t VALUES (?, ?, zeroblob(?), zeroblob(?))",
                          (7, 1000), "t", {"a": full.packed(1), "b": empty.packed(0)})  # fmt: skip
    # Then the row holds each column's zlib stream whole, and only that row is there
    ((n, a, b),) = conn.execute("SELECT n, a, b FROM t").fetchall()
    assert n == 1000
    assert list(unpack(a, "q")) == [i * 7919 - 2**62 for i in range(1000)]
    assert unpack(b, "d") == array("d")
    full.close()
