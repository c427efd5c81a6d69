"""net.ping's passing line filled in from its shape (engine/ping_lines.py) must be the line
judge_ping's verdict makes through the engine's writer, byte for byte, whatever the names
and times; and where the rule stops being told apart by its marks, no shape is used."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ipv6scan.checks.options import DEFAULT_OPTIONS, CheckOptions
from ipv6scan.engine import ping_lines
from ipv6scan.engine.ping_lines import ShapeCache, compile_shape, judged_line
from ipv6scan.model import Status, Subject, Target, Verdict

names = st.text(min_size=1, max_size=12)
times = st.floats(min_value=0.0, max_value=120_000.0, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(name=names, sector=st.sampled_from(["government", "operator", "enterprise"]),
       tier=names, address=st.sampled_from(["2001:db8::1", "2001:db8:ffff:1:2:3:4:5"]),
       rtts=st.lists(times, min_size=1, max_size=7), duration=times)  # fmt: skip
def test_a_shape_writes_what_judge_ping_writes(
    name: str, sector: str, tier: str, address: str, rtts: list[float], duration: float
) -> None:
    shape = compile_shape(len(rtts), DEFAULT_OPTIONS)
    assert shape is not None
    subject = Subject("address", address, Target(name, sector), tier)
    assert shape.line(subject, address, rtts, duration) == judged_line(
        subject, address, rtts, duration, DEFAULT_OPTIONS
    )


def test_a_rule_that_decides_on_the_times_gets_no_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    real = ping_lines.judge_ping

    def slow_is_a_warning(obs: Any, options: CheckOptions) -> Verdict:
        verdict = real(obs, options)
        if max(obs.results[0].rtts_ms) > 1000:
            return dataclasses.replace(verdict, status=Status.WARN)
        return verdict

    monkeypatch.setattr(ping_lines, "judge_ping", slow_is_a_warning)
    assert compile_shape(3, DEFAULT_OPTIONS) is None
    monkeypatch.setattr(ping_lines, "ms_text", lambda ms: f"{ms:.2f}")  # worded otherwise
    monkeypatch.setattr(ping_lines, "judge_ping", real)
    assert compile_shape(3, DEFAULT_OPTIONS) is None


def test_counts_beyond_the_marks_get_no_shape() -> None:
    cache = ShapeCache(DEFAULT_OPTIONS)
    assert cache.get(0) is None and cache.get(65) is None
    assert cache.get(3) is cache.get(3) is not None
