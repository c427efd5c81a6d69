"""The finish stage's one pass (ipv6scan.finish) makes the files the earlier code made of
the same results.jsonl: summary.json with the same content, junit.xml, results.csv and
report.html byte for byte; whether a target's lines lie close together (the grouping
window holds) or far apart (the file is grouped again from an index)."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path
from typing import Any

import pytest

from ipv6scan.finish import FinishOptions, Outputs, finish, tables_beside
from ipv6scan.finish import groups as window
from ipv6scan.report import html, view
from ipv6scan.report.jsonl import read_results
from ipv6scan.report.summary_json import read_fields
from ipv6scan.report.tables import write_csv, write_junit
from ipv6scan.scoring import summarize
from ipv6scan.scoring.summary import with_scanner
from tests.unit.sample_results import write_sample

NOW = dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC)
SCANNER = {"ipv6": True, "ipv4": True, "resolvers_usable": True}


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    made = view.build_from  # view.build goes through it too

    def at_now(*args: Any, **kwargs: Any) -> view.Report:
        kwargs["now"] = NOW
        return made(*args, **kwargs)

    monkeypatch.setattr(view, "build_from", at_now)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1,500 interleaved targets (more than the report ranks), one of them far apart."""
    out = tmp_path_factory.mktemp("sample")
    write_sample(out / "results.jsonl", targets=1500)
    return out


def reference(results: Path, out: Path) -> dict[str, Any]:
    """The earlier code: everything in memory, grouped in a dict."""
    out.mkdir()
    rows = list(read_results(results))
    summary = summarize(rows)
    with_scanner(summary, SCANNER)
    write_junit(rows, out / "junit.xml")
    write_csv(rows, out / "results.csv")
    (out / "report.html").write_text(html.render_html(rows, summary, "en"), encoding="utf-8")
    return summary


def finished(results: Path, out: Path, outputs: Outputs | None = None) -> bool:
    out.mkdir()
    (out / "results.jsonl").write_bytes(results.read_bytes())
    options = FinishOptions(scanner=SCANNER, outputs=outputs or Outputs())
    done = finish(out / "results.jsonl", out, options)
    return done.regrouped


@pytest.mark.parametrize("beside", [False, True], ids=["in-pass", "tables-beside"])
@pytest.mark.parametrize("open_targets", [window.WINDOW, 8])
def test_the_one_pass_makes_the_files_the_earlier_code_made(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, open_targets: int, beside: bool
) -> None:
    # Given the sample, and a grouping window that holds it (4096) or does not (8); and
    # results.csv and junit.xml written in the pass or by a second process (tables_beside)
    monkeypatch.setattr(window, "WINDOW", open_targets)
    monkeypatch.setattr(tables_beside, "BESIDE_BYTES", 0 if beside else 1 << 40)
    results = sample / "results.jsonl"
    # When the finish stage writes the files, and the in-memory reference does
    regrouped = finished(results, tmp_path / "new")
    summary = reference(results, tmp_path / "old")
    # Then the window held, or the file was grouped again: either way the same files
    assert regrouped is (open_targets == 8)
    new, old = tmp_path / "new", tmp_path / "old"
    assert json.loads((new / "summary.json").read_text(encoding="utf-8")) == summary
    for name in ("junit.xml", "results.csv", "report.html"):
        assert (new / name).read_bytes() == (old / name).read_bytes(), name
    assert (new / "results.jsonl").read_bytes() == results.read_bytes()
    assert not list(new.glob(".ipv6scan-work-*")), "scratch files left behind"


def test_summary_rows_are_one_line_each_and_read_fields_still_finds_the_keys(
    sample: Path, tmp_path: Path
) -> None:
    finished(sample / "results.jsonl", tmp_path / "new")
    text = (tmp_path / "new" / "summary.json").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith('  {"name"')]
    assert len(rows) == len(json.loads(text)["targets"]) == 1500
    got = read_fields(tmp_path / "new" / "summary.json", ["scanner", "overall"], whole_below=0)
    assert got == {k: json.loads(text)[k] for k in ("scanner", "overall")}


def test_only_the_chosen_outputs_are_written(sample: Path, tmp_path: Path) -> None:
    finished(sample / "results.jsonl", tmp_path / "new", Outputs.parse("summary,csv"))
    names = sorted(p.name for p in (tmp_path / "new").iterdir())
    assert names == ["results.csv", "results.jsonl", "summary.json"]


def test_an_empty_results_file_gives_empty_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    finished(empty, tmp_path / "new")
    summary = json.loads((tmp_path / "new" / "summary.json").read_text(encoding="utf-8"))
    assert summary["targets"] == [] and summary["overall"]["score"] is None
    assert "<testsuites" in (tmp_path / "new" / "junit.xml").read_text(encoding="utf-8")


def test_junit_escaping_is_saxutils_escaping() -> None:
    # junit.xml escapes with its own str.replace chains: the same text as escape and quoteattr
    from xml.sax.saxutils import escape, quoteattr

    from ipv6scan.report import tables

    rng = random.Random(5)
    alphabet = "ab<>&\"'\n\r\t\x00\x1f\ud800\ufffe é中"
    for _ in range(5000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(10)))
        clean = tables._NOT_XML.sub("\ufffd", text)
        assert tables._xml_attr(text) == quoteattr(clean), repr(text)
        assert tables._xml_text(text) == escape(clean), repr(text)


def test_the_pass_gives_its_headline_typed(sample: Path, tmp_path: Path) -> None:
    out = tmp_path / "new"
    out.mkdir()
    (out / "results.jsonl").write_bytes((sample / "results.jsonl").read_bytes())
    done = finish(out / "results.jsonl", out, FinishOptions(scanner=SCANNER))
    reference = summarize(read_results(sample / "results.jsonl"))
    assert done.scores is not None
    assert done.scores.overall == reference["overall"]["score"]
    assert done.scores.targets == len(reference["targets"]) == 1500
    assert done.scores.results == sum(1 for _ in read_results(sample / "results.jsonl"))
    assert done.scores.sectors == {k: v["score"] for k, v in reference["sectors"].items()}
