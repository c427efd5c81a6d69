"""Property tests of target files and scoring profiles (issue 14, item 7).

Mutated copies of the shipped YAML lists and profile, and arbitrary bytes as plain .txt
and .csv lists: each either loads or raises the project's own error (TargetListError,
ProfileError) whose every problem names the file and, where it gives one, a line inside
it; and `ipv6scan validate` on it exits 0 or 2, never 3 (a crash).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ipv6scan import cli
from ipv6scan.scoring.profile_yaml import ProfileError, load_profile
from ipv6scan.targets import TargetError, TargetListError, iter_targets, validate_files

ROOT = Path(__file__).resolve().parents[2]
YAML_SEEDS = [
    (ROOT / "targets" / "example.yaml").read_bytes(),
    (ROOT / "targets" / "hunan.yaml").read_bytes(),
    (ROOT / "examples" / "audit-with-milestones.yaml").read_bytes(),
]
PROFILE_SEED = (ROOT / "profiles" / "default.yaml").read_bytes()
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))

# pieces of YAML that change its structure, and bytes that are not text
TOKENS = [
    b":", b": ", b"- ", b"[", b"]", b"{", b"}", b",", b"!!int ", b"!!str ", b"!!python/none ",
    b"!!binary ", b"!!timestamp ", b"&a ", b"*a", b"*b", b"<<: *a\n", b"\t", b"\x00", b"'", b'"',
    b"\n", b"  ", b"    ", b"%YAML 1.1\n", b"---\n", b"...\n", b"? ", b"|\n", b">\n",
    b"\xef\xbb\xbf",
    b"\xff", b"\xe9", b"\\", b"#", b"~", b"null", b"1e999", b"0x1F", b"9" * 400, b"2026-02-30",
    b"-1", b".inf", b".nan", b"[" * 60, b"]" * 60, b"{a: 1, a: 2}", b"version: 1\n",
    b"targets:\n", b"sector: ", b"operator", b"systems:\n", b"domains: ", b"name: ",
    b"milestones:\n", b"weights:\n", b"\xe4\xb8\xad", b"xn--", b"a" * 300, b"\r", b"\r\n",
]  # fmt: skip


@st.composite
def mutated(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        kind = draw(st.integers(0, 3))
        if kind == 0:  # insert a token
            data[at:at] = draw(st.sampled_from(TOKENS))
        elif kind == 1:  # delete a run
            del data[at : at + draw(st.integers(1, 40))]
        elif kind == 2:  # overwrite a byte
            if at < len(data):
                data[at] = draw(st.integers(0, 255))
        else:  # duplicate a run somewhere else (repeated keys and targets)
            piece = bytes(data[at : at + draw(st.integers(1, 120))])
            where = draw(st.integers(0, len(data)))
            data[where:where] = piece
    return bytes(data)


def _assert_own_errors(errors: list[TargetError], path: Path, data: bytes) -> None:
    assert errors, "an error without problems"
    lines = data.count(b"\n") + 1
    for error in errors:
        assert isinstance(error, TargetError), repr(error)
        assert error.path == str(path) and str(error).startswith(str(path)), str(error)
        assert error.line is None or 1 <= error.line <= lines + 1, (error.line, lines)
        assert error.message and len(str(error)) < 2000, str(error)[:300]


def _load_targets(path: Path, data: bytes) -> None:
    try:
        list(iter_targets([path]))
    except TargetListError as exc:
        _assert_own_errors(exc.errors, path, data)
    problems = validate_files([path])
    if problems:
        _assert_own_errors(problems, path, data)


def _validate_exit(path: Path) -> None:
    assert cli.main(["validate", str(path)]) in (0, 2)


def _in_a_file(suffix: str, data: bytes) -> tuple[tempfile.TemporaryDirectory[str], Path]:
    tmp = tempfile.TemporaryDirectory()
    path = Path(tmp.name) / f"list{suffix}"
    path.write_bytes(data)
    return tmp, path


@SETTINGS
@given(data=mutated(YAML_SEEDS))
def test_a_mutated_yaml_list_loads_or_names_file_and_line(
    data: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    tmp, path = _in_a_file(".yaml", data)
    with tmp:
        _load_targets(path, data)
        _validate_exit(path)
    capsys.readouterr()


plain_text = st.lists(
    st.one_of(
        st.binary(max_size=40),
        st.sampled_from(
            [
                b"example.org",
                b"1,example.org",
                b'1,"example.org',
                b"rank,domain",
                b"# c",
                b"xn--bcher-kva.example",
                b"a..b",
                b"-a.example",
                b"\xff.org",
                b"a" * 300 + b".org",
                b'"',
                b",,,",
                b"1,",
                b"2,b.example,extra",
            ]
        ),
    ),
    max_size=12,
).map(lambda rows: b"\n".join(rows))


@SETTINGS
@given(data=plain_text, suffix=st.sampled_from([".txt", ".csv"]))
def test_any_plain_list_loads_or_names_file_and_line(
    data: bytes, suffix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    tmp, path = _in_a_file(suffix, data)
    with tmp:
        _load_targets(path, data)
        _validate_exit(path)
    capsys.readouterr()


@SETTINGS
@given(data=mutated([PROFILE_SEED]))
def test_a_mutated_profile_loads_or_names_file_and_line(data: bytes) -> None:
    tmp, path = _in_a_file(".yaml", data)
    with tmp:
        try:
            load_profile(path)
        except ProfileError as exc:
            _assert_own_errors(exc.errors, path, data)


def test_the_seeds_load() -> None:
    # the mutations start from valid files: the properties above test what breaks them
    for data in YAML_SEEDS:
        tmp, path = _in_a_file(".yaml", data)
        with tmp:
            assert list(iter_targets([path]))
    tmp, path = _in_a_file(".yaml", PROFILE_SEED)
    with tmp:
        load_profile(path)
