"""model.json_loads is json.loads, faster: the same values and the same errors."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ipv6scan import model
from ipv6scan.model import CheckResult, Status, json_loads

_scalars = (
    st.none()
    | st.booleans()
    | st.integers()  # beyond 64 bits too: orjson refuses them, json takes them
    | st.floats(allow_nan=True, allow_infinity=True)  # json writes NaN and Infinity
    | st.text()  # lone surrogates too
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)


def _same(a: Any, b: Any) -> bool:
    # json's own text tells int from float, -0.0 from 0.0 and NaN from NaN, keeping order
    return json.dumps(a) == json.dumps(b)


def _outcome(data: str | bytes, loads: Any) -> tuple[str, Any]:
    try:
        return "value", loads(data)
    except ValueError:
        return "error", None


@given(_values, st.booleans())
def test_what_json_writes_reads_back_as_json_reads_it(value: Any, ascii_only: bool) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    assert _same(json_loads(text), json.loads(text))


@given(st.text(max_size=60))
def test_any_text_gives_json_s_value_or_json_s_error(text: str) -> None:
    ours, theirs = _outcome(text, json_loads), _outcome(text, json.loads)
    assert ours[0] == theirs[0]
    assert _same(ours[1], theirs[1])


@given(st.binary(max_size=60))
def test_any_bytes_give_json_s_value_or_json_s_error(data: bytes) -> None:
    # a line read in binary (the grouping index); json.loads also guesses UTF-16 and -32,
    # so compare only what is UTF-8
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        with pytest.raises(ValueError):
            json_loads(data)
        return
    ours, theirs = _outcome(data, json_loads), _outcome(data, json.loads)
    assert ours[0] == theirs[0]
    assert _same(ours[1], theirs[1])


def test_every_torn_prefix_of_a_results_line_is_an_error() -> None:
    line = CheckResult("t", "government", "services", "例え.example", "dns.aaaa", Status.PASS,
                       "ok", {"aaaa": ["2001:db8::1"], "ttl": 60}).to_line()  # fmt: skip
    assert CheckResult.from_json(json_loads(line)) == CheckResult.from_json(json.loads(line))
    for cut in range(1, len(line)):
        with pytest.raises(ValueError):
            json_loads(line[:cut])
        with pytest.raises(ValueError):
            json_loads(line.encode()[:cut])


def test_the_compiled_decoder_is_the_one_ci_tests() -> None:
    if os.environ.get("CI", "").lower() != "true":
        pytest.skip("checked under CI (CI=true) only: json's decoder is fine elsewhere")
    assert model._fast_loads is not None, "orjson (the `fast` extra) is not installed"
