"""The garbage collector's tuning (ipv6scan/collector.py): on for the long phases, undone after."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from ipv6scan import audit, history
from ipv6scan.collector import YOUNG_COLLECTION, tuned_collector


def test_the_settings_are_undone_after_a_phase() -> None:
    before = gc.get_threshold()
    with tuned_collector():
        assert gc.get_threshold()[0] >= YOUNG_COLLECTION
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


class _Scored(Exception):
    """Raised by the stub scorer once it has seen the collector's settings."""


def test_the_work_after_a_scan_runs_tuned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []

    def finish(*args: object, **kwargs: object) -> object:
        seen.append(gc.get_threshold()[0])
        raise _Scored

    monkeypatch.setattr(audit, "finish", finish)
    conn = history.open_db(tmp_path / "h.db")
    recording = audit.Recording(db=tmp_path / "h.db", target_files=("a.txt",))
    with pytest.raises(_Scored):
        audit.finish_scan(conn, recording, tmp_path, "en", None, "2026-11-27T00:00:00+00:00")
    conn.close()
    assert seen and seen[0] >= YOUNG_COLLECTION
    assert gc.get_threshold()[0] < YOUNG_COLLECTION  # undone on the way out
