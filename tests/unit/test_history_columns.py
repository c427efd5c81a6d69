"""A run's arrays spilled to a scratch file a part at a time read back whole, in order;
stored a block at a time, each block once (history_columns)."""

from __future__ import annotations

import sqlite3
from array import array

import pytest

from ipv6scan import history_columns
from ipv6scan.history_columns import Column, block_keys, load_blocks, store_blocks


def _blocks_db() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute(history_columns.BLOCKS)
    return conn


@pytest.mark.parametrize("count", [0, 1, 99, 100, 101, 1000])
@pytest.mark.parametrize("typecode", ["q", "d"])
def test_a_spilled_column_is_stored_and_read_back_whole_in_order(
    monkeypatch: pytest.MonkeyPatch, count: int, typecode: str
) -> None:
    # blocks of 16 values: spills of 100 values end inside a block
    monkeypatch.setattr(history_columns, "SPILL", 100)
    monkeypatch.setattr(history_columns, "BLOCK", 16)
    column = Column(typecode)
    values = array(typecode, [(-1) ** i * i * 7919 for i in range(count)])
    for i, value in enumerate(values):
        column.values.append(value)
        if i % 37 == 0:
            column.spill()  # as the writer does at each batch: only past SPILL values
        assert len(column) == i + 1
    assert len(column.values) <= 100 + 37
    blocks = list(column.blocks())
    assert all(len(b) == 16 * values.itemsize for b in blocks[:-1])
    assert b"".join(blocks) == values.tobytes()
    conn = _blocks_db()
    for level in (0, 1):
        packed = store_blocks(conn, column.blocks(), level)
        assert load_blocks(conn, packed, typecode) == values
        assert len(block_keys(packed)) == -(-count // 16)
    column.close()
    column.close()  # twice: nothing left to close


def test_a_block_is_stored_once_whoever_repeats_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given two runs' arrays alike but for one value in their third block
    monkeypatch.setattr(history_columns, "BLOCK", 10)
    first = array("q", range(50))
    second = array("q", range(50))
    second[25] = -1
    conn = _blocks_db()
    # When both are stored
    a = store_blocks(conn, history_columns.split(first.tobytes(), 8), 1)
    b = store_blocks(conn, history_columns.split(second.tobytes(), 8), 1)
    # Then the blocks they share are stored once: 5 of the first, 1 of the second
    assert conn.execute("SELECT count(*) FROM run_blocks").fetchone()[0] == 6
    assert [x == y for x, y in zip(block_keys(a), block_keys(b), strict=True)] == [
        True, True, False, True, True]  # fmt: skip
    assert load_blocks(conn, a, "q") == first and load_blocks(conn, b, "q") == second


def test_a_missing_block_reads_as_no_values() -> None:
    conn = _blocks_db()
    packed = store_blocks(conn, [array("q", [1, 2]).tobytes()], 0)
    conn.execute("DELETE FROM run_blocks")
    assert load_blocks(conn, packed, "q") == array("q")
