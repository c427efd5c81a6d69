"""CheckResult.to_line writes its fields piece by piece for speed: the bytes must stay
json_text(to_json())'s, the one serialisation of a result, whatever the fields hold."""

from __future__ import annotations

import itertools
import math
from types import MappingProxyType
from typing import Any

import pytest

from ipv6scan.messages import message
from ipv6scan.model import CheckResult, Status, json_loads, json_text

ODD_TEXTS = ["plain", "", 'quote " and \\ back', "line\nbreak\ttab\x00nul\x1f", "中文 ünï",
             "lone \udcff surrogate", "\u2028 separators \u2029", "</script>"]  # fmt: skip
DETAIL = message("test.result_line.detail", "Seen %(what)s at %(ms)s ms.", measured=("ms",))


def _results() -> list[CheckResult]:
    details: list[str] = ["a plain detail", DETAIL(what="x \"y\"", ms="1.5"),
                          DETAIL(what=["a", "b"], ms=3)]  # fmt: skip
    nested = {"addresses": [{"a": 1, "b": None, "c": 1.25}], "ok": True}
    evidences: list[Any] = [{}, nested, MappingProxyType({"k": "v"}), {"n": math.nan, "t": "\x7f"}]
    durations = [0.0, 2.3456789, 1e20, 1e-7, -0.0, math.nan, math.inf, 7]
    out = []
    for i, (text, detail, evidence, ms) in enumerate(
        itertools.product(ODD_TEXTS, details, evidences, durations)
    ):
        out.append(CheckResult(text, "government", "services", f"{text}.example", "dns.aaaa",
                               list(Status)[i % len(Status)], detail, evidence, ms,  # type: ignore[arg-type]
                               vantage=text if i % 3 == 0 else None))  # fmt: skip
    return out


@pytest.mark.parametrize("result", _results())
def test_the_line_is_the_one_serialisation(result: CheckResult) -> None:
    assert result.to_line() == json_text(result.to_json())


def test_fields_that_are_not_texts_take_the_whole_encoder() -> None:
    odd = CheckResult(7, "s", "t", None, "dns.aaaa", Status.PASS, "d")  # type: ignore[arg-type]
    assert odd.to_line() == json_text(odd.to_json())
    assert json_loads(odd.to_line())["target"] == 7


def test_a_line_reads_back_as_the_result() -> None:
    evidence = {"pings": [{"rtt_ms": [0.061]}]}
    result = CheckResult("T", "operator", "access", "2001:db8::1", "net.ping", Status.PASS,
                         DETAIL(what="it", ms="0.1"), evidence, 203.6651)  # fmt: skip
    back = CheckResult.from_json(json_loads(result.to_line()))
    assert back == CheckResult(**{**result.__dict__, "duration_ms": 203.665})
    assert getattr(back.detail, "key", None) == "test.result_line.detail"
