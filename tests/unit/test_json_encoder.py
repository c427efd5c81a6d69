"""model.json_encoder: the once-built C encoder writes what json.dumps writes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ipv6scan.model import Status, json_encoder, json_text

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()  # NaN and infinities included: json.dumps writes them too
    | st.text()
    | st.sampled_from(list(Status))  # a str enum, as results carry
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(VALUES)
def test_json_text_is_json_dumps(value: Any) -> None:
    assert json_text(value) == json.dumps(value, ensure_ascii=False, default=str)


@given(VALUES)
def test_sorted_encoder_is_json_dumps_sorted(value: Any) -> None:
    sorted_json = json_encoder(sort_keys=True)
    assert sorted_json(value) == json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)


def test_values_json_cannot_hold_become_text() -> None:
    assert json_text({"when": {1, 2}.__class__}) == '{"when": "<class \'set\'>"}'


def test_an_encoding_error_leaves_the_encoder_usable() -> None:
    class Bad:
        def __str__(self) -> str:
            raise RuntimeError("no text")

    with pytest.raises(RuntimeError):
        json_text({"a": [Bad()]})
    assert json_text({"a": [1]}) == '{"a": [1]}'
