"""results.csv and junit.xml written by a second process (finish.tables_beside) are the
bytes the pass itself writes; its failure fails the finish; an interrupted pass takes it
down."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ipv6scan.finish import FinishOptions, Outputs, finish, lines, tables_beside
from ipv6scan.finish import stage as finish_stage
from ipv6scan.finish.tables_beside import TablesBeside
from tests.unit.sample_results import sample_lines

SCANNER = {"ipv6": True, "ipv4": True, "resolvers_usable": True}
OUTPUTS = Outputs(summary=False, report=False, junit=True, csv=True)


def _finish(results: Path, out: Path) -> None:
    out.mkdir()
    finish(results, out, FinishOptions(scanner=SCANNER, outputs=OUTPUTS))


def test_a_target_far_apart_is_regrouped_by_the_second_process_as_by_the_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given results whose one target has lines 4,500 targets apart: more than the grouping
    # window (4,096), so junit.xml's suites are made again from an index of the file
    lines = sample_lines(9000, seed=3)
    far = json.loads(lines[0])["target"]
    assert sum(json.loads(line)["target"] == far for line in lines) > 1
    results = tmp_path / "results.jsonl"
    results.write_text("\n".join(lines) + "\n", encoding="utf-8")
    # When the files are written in the pass, and by the second process
    monkeypatch.setattr(tables_beside, "BESIDE_BYTES", 1 << 40)
    _finish(results, tmp_path / "in-pass")
    monkeypatch.setattr(tables_beside, "BESIDE_BYTES", 0)
    _finish(results, tmp_path / "beside")
    # Then the same bytes
    for name in ("junit.xml", "results.csv"):
        got, want = (tmp_path / d / name for d in ("beside", "in-pass"))
        assert got.read_bytes() == want.read_bytes(), name
    assert far in (tmp_path / "beside" / "junit.xml").read_text(encoding="utf-8")


def test_when_the_second_process_fails_the_finish_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = tmp_path / "results.jsonl"
    results.write_text("\n".join(sample_lines(50)) + "\n", encoding="utf-8")
    monkeypatch.setattr(tables_beside, "BESIDE_BYTES", 0)
    out = tmp_path / "out"
    (out / "results.csv").mkdir(parents=True)  # the process cannot write it
    with pytest.raises(OSError, match=r"results\.csv and junit\.xml were not written"):
        finish(results, out, FinishOptions(scanner=SCANNER, outputs=OUTPUTS))


def test_when_the_second_process_cannot_run_the_pass_writes_the_files_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a far-apart target (so the fallback regroups too), written in the pass
    lines = sample_lines(9000, seed=5)
    results = tmp_path / "results.jsonl"
    results.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setattr(tables_beside, "BESIDE_BYTES", 1 << 40)
    _finish(results, tmp_path / "in-pass")
    # When the second process fails at once (a Python that cannot run it)
    monkeypatch.setattr(tables_beside, "BESIDE_BYTES", 0)
    monkeypatch.setattr(tables_beside, "CHILD", "import sys; sys.exit(3)")
    _finish(results, tmp_path / "fallback")
    # Then the files are the pass's own
    for name in ("junit.xml", "results.csv"):
        got, want = (tmp_path / d / name for d in ("fallback", "in-pass"))
        assert got.read_bytes() == want.read_bytes(), name


def test_without_a_second_process_to_be_had_the_pass_writes_the_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = tmp_path / "results.jsonl"
    results.write_text("\n".join(sample_lines(60)) + "\n", encoding="utf-8")
    _finish(results, tmp_path / "in-pass")

    def cannot(*_args: object) -> None:
        raise OSError("no fork here")

    monkeypatch.setattr(tables_beside, "BESIDE_BYTES", 0)
    monkeypatch.setattr(finish_stage, "TablesBeside", cannot)
    _finish(results, tmp_path / "no-process")
    for name in ("junit.xml", "results.csv"):
        got, want = (tmp_path / d / name for d in ("no-process", "in-pass"))
        assert got.read_bytes() == want.read_bytes(), name


def test_an_interrupted_pass_stops_the_second_process(tmp_path: Path) -> None:
    results = tmp_path / "results.jsonl"
    results.write_text(sample_lines(50)[0] + "\n", encoding="utf-8")
    beside = TablesBeside(results, tmp_path / "results.csv", None, 1.0)
    beside.feed(results.read_bytes())
    pid = beside._proc.pid
    beside.stop()  # as the finish's exit stack does on an exception
    assert beside._proc.returncode is not None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


@pytest.mark.parametrize("block", [1, 7, 64, 1 << 18])
@pytest.mark.parametrize(
    "text", [b"", b"\n", b"a\nbb\n\n ccc\r\n", b"a\nno newline at the end", b"x" * 300 + b"\n"]
)
def test_lines_are_the_files_lines_and_the_blocks_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int, text: bytes
) -> None:
    monkeypatch.setattr(lines, "BLOCK", block)
    path = tmp_path / "results.jsonl"
    path.write_bytes(text)
    blocks: list[bytes] = []
    with path.open("rb") as fh:
        assert list(lines.read_lines(path, blocks.append)) == list(fh)
    assert b"".join(blocks) == text
