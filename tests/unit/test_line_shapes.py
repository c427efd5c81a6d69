"""A line's texts from its shape (finish.line_shapes) are what the writers make of the line
itself: results.csv's row, the test case, the history's records. Where they could differ
(a hole's text that a writer would escape, quote, guard or cut; a hole in a key; a
measured detail; a vantage point), the line takes the slow way."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ipv6scan.finish import line_shapes
from ipv6scan.finish.line_shapes import LineShapes, slow
from ipv6scan.finish.lines import parse_line, read_lines
from ipv6scan.finish.tables_beside import write_tables
from ipv6scan.model import json_text
from ipv6scan.report.tables import BODY_CHARS, CsvWriter, JunitWriter
from tests.unit.sample_results import sample_lines


@pytest.fixture(autouse=True, params=["c", "python"])
def cutting(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test with the lines cut in C (finish/_cut.c) and by line_shapes' own _cut."""
    if request.param == "python":
        monkeypatch.setattr(line_shapes, "cut_in_c", None)
    elif line_shapes.cut_in_c is None:
        if os.environ.get("CI") == "true":
            pytest.fail("finish/_cut.c is not compiled (see ipv6scan/_mypyc_build.py)")
        pytest.skip("finish/_cut.c is not compiled here")
    return str(request.param)


def _line(**fields: Any) -> bytes:
    """A results line as the scan writes it (model.json_text, fields in this order)."""
    record = {
        "target": "n1.bench.example",
        "sector": "enterprise",
        "tier": "services",
        "subject": "n1.bench.example",
        "check": "dns.aaaa",
        "status": "pass",
        "detail": "1 global AAAA record: 2001:db8:100::1.",
        "detail_key": "dns.aaaa.global_one",
        "detail_params": {"count": 1, "addresses": ["2001:db8:100::1"]},
        "evidence": {"rcode": "NOERROR", "resolver": "2001:db8:5353::53",
                     "addresses": [{"address": "2001:db8:100::1", "global": True}]},
        "duration_ms": 2.337,
    }  # fmt: skip
    record.update(fields)
    return (json_text(record) + "\n").encode()


def _made_twice(shapes: LineShapes, line: bytes) -> Any:
    """The line's texts once its shape is known (a shape is learnt when seen again)."""
    shapes.make(line)
    return shapes.make(line)


def _check(shapes: LineShapes, line: bytes) -> bool:
    """Whether the line was made from its shape; made or not, never other texts."""
    made = _made_twice(shapes, line)
    r = parse_line(line)
    if made is None:
        return False
    assert r is not None, line
    assert made == slow(r), line
    return True


def test_a_dns_run_is_made_from_a_few_shapes() -> None:
    shapes = LineShapes()
    lines = [
        _line(target=f"n{i}.bench.example", subject=subject,
              detail=f"1 global AAAA record: 2001:db8:100::{i:x}.",
              detail_params={"count": 1, "addresses": [f"2001:db8:100::{i:x}"]},
              evidence={"rcode": "NOERROR", "resolver": "2001:db8:5353::53",
                        "addresses": [{"address": f"2001:db8:100::{i:x}", "global": True}]},
              duration_ms=1 + i / 1000)
        for i in range(300) for subject in (f"n{i}.bench.example", f"www.n{i}.bench.example")
    ]  # fmt: skip
    made = 0
    for line in lines:
        out = shapes.make(line)
        if out is not None:
            r = parse_line(line)
            assert r is not None
            assert out == slow(r)
            made += 1
    assert made == len(lines) - 1  # one shape, learnt on its second line
    assert len(shapes._plans) == 1


@pytest.mark.parametrize(
    "fields",
    [
        # names a writer would guard, quote or escape: the slow way
        {"target": "-n1.example"},
        {"target": "=cmd.example"},
        {"subject": "a,b.example"},
        {"subject": "a b.example"},
        {"target": "a&b.example"},
        {"target": "门户.example"},
        # names that are also other fields' texts, or in each other
        {"target": "dns", "subject": "dns"},
        {"target": "pass"},
        {"target": "services"},
        {"target": "aaaa"},
        {"target": "example", "subject": "www.n1.example"},
        {"target": "www.n1.example", "subject": "n1.example"},
        {"target": "1", "subject": "1"},
        {"subject": "2001:db8:100::1"},
        {"target": "2001:db8:100::1", "subject": "2001:db8:100::1"},
        # a name in a key of the evidence: where it sorts depends on it
        {"evidence": {"n1.bench.example": {"a": 1}, "m": "n1.bench.example"}},
        {"evidence": {"2001:db8:100::1": "x", "z": "2001:db8:100::1"}},
        # an address in upper case, in a text, or one that is a part of another
        {"evidence": {"address": "2001:DB8::1"}},
        {"evidence": {"a": "2001:db8::1", "b": "2001:db8::10", "c": "x 2001:db8::1 y"}},
        # failures whose test case cuts the detail (500) or the evidence's JSON (4000)
        {"status": "fail", "detail": "x" * 480 + " 2001:db8:100::1."},
        {"status": "fail", "detail": "x" * 490 + " 2001:db8:100::1."},
        {"status": "error", "evidence": {"a": ["2001:db8::" + f"{i:x}" for i in range(150)]}},
        {"status": "skip", "detail": "s" * 499},
        {"status": "warn", "detail": "w" * 900},
        # literals that every writer treats in its own way
        {"detail": 'a "quoted" <b>&amp;</b> 2001:db8:100::1, =x'},
        {"detail": "=cmd|' /C calc'!A0"},
        {"detail": "tab\there, line\nbreak, \x7f and \u2028"},
        {"evidence": {"title": "省政府门户网站 \u2028 </script>", "v": "2001:db8:100::1"}},
        {"detail_key": None, "detail_params": None},
        # durations: negative (guarded in results.csv), long, exact, zero
        {"duration_ms": -1.5},
        {"duration_ms": 123456789012.125},
        {"duration_ms": 0},
        {"duration_ms": 0.0001},
        # a vantage point, a measured detail (compared without its figures)
        {"vantage": "cn-north"},
        {
            "check": "net.ping",
            "detail": "Answered in 1.25 ms.",
            "detail_key": "net.ping.median",
            "detail_params": {"ms": 1.25},
        },
        # the stand-ins' own prefix in the line
        {"detail": "qZ7a0x"},
    ],
)
def test_a_line_is_made_from_its_shape_only_as_the_writers_make_it(fields: dict[str, Any]) -> None:
    # the line, and one like it with plain names: each learnt first, the other then made
    line = _line(**fields)
    plain = _line(**{**fields, "target": "n2.bench.example", "subject": "n2.bench.example"})
    for first, then in ((line, plain), (plain, line)):
        shapes = LineShapes()
        _check(shapes, first)
        _check(shapes, then)


def test_lines_cut_the_slow_way() -> None:
    shapes = LineShapes()
    compact = json.dumps(json.loads(_line()), separators=(",", ":")).encode()
    for line in (
        compact,  # another layout
        _line()[:-1],  # no newline at the end: still a line
        _line().replace(b"2.337", b"2.337e0"),  # an exponent
        _line().replace(b"2.337", b"NaN"),
        _line().replace(b'"n1.bench.example"', b'"n1.bench\\u002eexample"', 1),
        _line().replace(b"NOERROR", b"NO\x00ERROR"),
        b"",
        b"\n",
        b'{"target": "a"}\n',
    ):
        assert not _check(shapes, line) or line == _line()[:-1]


_NAME = st.from_regex(r"[a-z0-9][a-z0-9.-]{0,20}", fullmatch=True) | st.sampled_from(
    ["-a", "a,b", "=x", "a b", "dns", "pass", "example", "2001:db8::1", "qZ7", "a&b", "é"]
)
_ADDRESS = st.from_regex(r"2001:db8:[0-9a-f]{1,4}::[0-9a-f]{1,4}", fullmatch=True)
_TEXT = st.text(max_size=30) | _NAME | _ADDRESS


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    names=st.lists(st.tuples(_NAME, _NAME, _ADDRESS), min_size=2, max_size=4),
    status=st.sampled_from(["pass", "fail", "warn", "error", "skip"]),
    texts=st.lists(_TEXT, min_size=1, max_size=3),
    duration=st.floats(min_value=0, max_value=1e9, allow_nan=False) | st.integers(0, 10**6),
)
def test_any_line_is_made_only_as_the_writers_make_it(
    names: list[tuple[str, str, str]], status: str, texts: list[str], duration: float
) -> None:
    """Lines of one shape with other holes, and texts of any kind around them: each line
    made from its shape gives what the writers give."""
    shapes = LineShapes()
    for target, subject, address in names:
        detail = f"{texts[0]} {address} {target}"
        evidence = {"t": texts[-1], "a": address, "chain": [target, subject],
                    "more": [{"x": address}]}  # fmt: skip
        line = _line(target=target, subject=subject, status=status, detail=detail,
                     detail_params={"a": [address], "n": target}, evidence=evidence,
                     duration_ms=duration)  # fmt: skip
        _check(shapes, line)


def test_the_sample_run_is_written_the_same_with_shapes_and_without(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """results.csv and junit.xml of the streamed outputs' sample (hostile texts, every
    status, a target far apart), with most lines made from their shapes and with none."""
    results = tmp_path / "results.jsonl"
    results.write_text("\n".join(sample_lines(3000, seed=7)) + "\n", encoding="utf-8")
    made: list[int] = []
    make = LineShapes.make

    def counted(self: LineShapes, line: bytes) -> Any:
        out = make(self, line)
        made.append(out is not None)
        return out

    for name, shaped in (("with", True), ("without", False)):
        out = tmp_path / name
        out.mkdir()
        if shaped:
            monkeypatch.setattr(LineShapes, "make", counted)
        else:
            monkeypatch.setattr(LineShapes, "make", lambda self, line: None)
        with CsvWriter(out / "results.csv") as csv, JunitWriter(out / "junit.xml") as junit:
            write_tables(read_lines(results), csv, junit, 1.0)
    for name in ("results.csv", "junit.xml"):
        assert (tmp_path / "with" / name).read_bytes() == (tmp_path / "without" / name).read_bytes()
    assert sum(made) > len(made) // 3, (sum(made), len(made))


def test_a_file_whose_lines_do_not_repeat_stops_being_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(line_shapes, "TRIAL", 50)
    shapes = LineShapes()
    for i in range(60):
        shapes.make(_line(evidence={"n": i}))
    assert shapes.off


def _pair(first: bytes, then: bytes) -> None:
    """`then` made from the plan that `first` taught: only as the writers make it."""
    shapes = LineShapes()
    _check(shapes, first)
    _check(shapes, then)


def test_a_name_that_makes_a_test_case_cut_its_detail_takes_the_slow_way() -> None:
    def line(name: str, status: str) -> bytes:
        return _line(target=name, subject=name, status=status, detail="x" * 480 + f" {name}.")

    for status in ("fail", "error", "skip"):
        _pair(line("a.example", status), line("a-much-longer-name.example", status))


def test_a_name_that_makes_a_test_case_cut_its_evidence_takes_the_slow_way() -> None:
    """A line short enough to be cut (LONGEST) has a shorter evidence JSON than a test case
    holds (BODY_CHARS), but for numbers that json writes longer than the line does."""
    short, long = "a.example", "a-much-longer-name.example"

    def line(name: str, count: int) -> bytes:
        numbers = ", ".join(["1e9"] * count)
        evidence = f'{{"n": [{numbers}], "name": "{name}"}}'
        return _line(target=name, subject=name, status="fail").replace(
            _line(status="fail").split(b'"evidence": ')[1].rsplit(b', "duration_ms"')[0],
            evidence.encode(),
        )

    def body(name: str, count: int) -> int:
        r = parse_line(line(name, count))
        assert r is not None
        return len(json_text(r.evidence))

    count = next(c for c in range(200, 400) if body(short, c) <= BODY_CHARS < body(long, c))
    assert len(line(long, count)) <= line_shapes.LONGEST
    _pair(line(short, count), line(long, count))


def test_a_name_in_a_key_takes_the_slow_way() -> None:
    # the stand-ins sort after "m", as "z1" does; "a1" sorts before it
    def line(name: str) -> bytes:
        return _line(target=name, subject=name, evidence={name: 1, "m": 2})

    _pair(line("z1.example"), line("a1.example"))


def test_a_writer_that_reads_a_name_is_caught_on_the_first_line_a_plan_fills(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Should a writer's text depend on a name beyond copying it (here: a name starting
    with "z"), the first line a shape's plan fills shows it, and the plan goes."""
    real = line_shapes.csv_row

    def reading(r: Any, evidence: str) -> str:
        return real(r, evidence).upper() if r.target.startswith("z") else real(r, evidence)

    monkeypatch.setattr(line_shapes, "csv_row", reading)
    _pair(_line(target="z1.example"), _line(target="z2.example"))


def test_a_writer_that_reads_a_names_length_is_caught_by_stand_ins_of_two_lengths(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = line_shapes.csv_row

    def cutting(r: Any, evidence: str) -> str:
        return real(r, evidence)[:100] if len(r.target) > 8 else real(r, evidence)

    monkeypatch.setattr(line_shapes, "csv_row", cutting)
    _pair(_line(target="a.ex"), _line(target="a-longer-one.example"))


_BYTES = st.binary(max_size=300) | st.builds(
    lambda parts: b"".join(parts),
    st.lists(st.sampled_from([b'{"target": "', b'a.b', b'", "subject": "', b'"', b'2001:db8::1',
                              b'"::"', b'"a:"', b'"abcde:1"', b", ", b': "', b"\x00", b"\\",
                              b', "duration_ms": ', b"1.5", b"}", b"}\n", b"\x80", b"-", b"="]),
             max_size=30),
)  # fmt: skip


@settings(max_examples=2000, deadline=None)
@given(data=_BYTES)
def test_the_c_cut_is_the_python_cut(data: bytes) -> None:
    if line_shapes.cut_in_c is None:
        return  # the run with line_shapes' own cut (see `cutting`): nothing to compare
    assert line_shapes.cut_in_c(data) == line_shapes._cut(data)
    line = _line()
    for at in (0, len(line) // 3, len(line) - 3):
        mutated = line[:at] + data + line[at:]
        assert line_shapes.cut_in_c(mutated) == line_shapes._cut(mutated)
