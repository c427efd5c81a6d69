"""The garbage collector's tuning (ipv6scan/collector.py): on for the long phases, undone after;
off for the finish's passes."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from ipv6scan import audit, history
from ipv6scan.collector import YOUNG_COLLECTION, paused, tuned_collector
from ipv6scan.finish import FinishOptions, finish
from ipv6scan.finish.tables_beside import OpenGroups, write_from_file
from ipv6scan.model import CheckResult
from ipv6scan.report.digest import Digest
from tests.unit.sample_results import write_sample


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


def test_paused_turns_the_collector_off_inside_and_back_on_after() -> None:
    assert gc.isenabled()
    with paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(_Scored), paused():
        raise _Scored
    assert gc.isenabled()  # on again when the block fails too


def test_what_a_paused_block_leaves_alive_is_frozen_until_the_phase_ends() -> None:
    """Not walked by a young collection on the way out (0.1 s at 100,000 names, nothing
    freed): frozen, and given back to the collector when the tuned phase ends."""
    with tuned_collector():
        before = gc.get_freeze_count()
        with paused():
            kept = [[i] for i in range(1000)]
        assert gc.get_freeze_count() >= before + len(kept)
        assert gc.get_count()[0] < len(kept)  # nothing of it left for a young collection
    assert gc.get_freeze_count() == 0


def test_paused_leaves_a_collector_that_was_off_off() -> None:
    gc.disable()
    try:
        with paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_finish_pass_and_its_second_process_run_with_the_collector_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both passes over results.jsonl (finish.stage and finish.tables_beside) make no cycles;
    the young collections they would run only walk the open groups (collector.py)."""
    write_sample(tmp_path / "results.jsonl", targets=20)
    during: list[bool] = []
    count = Digest.count

    def counting(self: Digest, r: CheckResult) -> None:
        during.append(gc.isenabled())
        count(self, r)

    monkeypatch.setattr(Digest, "count", counting)
    finish(tmp_path / "results.jsonl", tmp_path, FinishOptions())
    assert during and not any(during)
    assert gc.isenabled()

    during.clear()
    add = OpenGroups.add

    def grouping(self: OpenGroups, r: CheckResult) -> None:
        during.append(gc.isenabled())
        add(self, r)

    monkeypatch.setattr(OpenGroups, "add", grouping)
    write_from_file(tmp_path / "results.jsonl", tmp_path / "c.csv", None, 1.0, False)
    assert during and not any(during)
    assert gc.isenabled()
