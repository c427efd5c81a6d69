"""Check details as message keys (messages.py): what results.jsonl stores, how the
report renders them, and the zh-CN catalogue kept in step with the declared templates."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from ipv6scan.checks import catalogue
from ipv6scan.messages import MESSAGES, Detail, identity, message, word
from ipv6scan.model import CheckResult, Status, json_loads
from ipv6scan.report.details import render_detail
from ipv6scan.report.i18n import LOCALE_DIR, translations

PLACEHOLDER = re.compile(r"%\((\w+)\)s")
SAMPLE = message(
    "test.sample", "closed on IPv6: %(addresses)s (%(why)s, %(ms)s ms)", measured=("ms",)
)


def _zh_details() -> dict[str, str]:
    found: dict[str, str] = {}
    for po in sorted((LOCALE_DIR / "zh_CN" / "LC_MESSAGES").glob("details*.po")):
        with po.open("rb") as fh:
            for m in read_po(fh):
                if m.id:
                    assert m.string and not m.fuzzy, (po.name, m.id)
                    assert m.id not in found, f"{m.id!r} translated twice ({po.name})"
                    found[str(m.id)] = str(m.string)
    return found


def _declared() -> dict[str, str]:
    catalogue.load()
    return {m.key: m.template for m in MESSAGES.values() if not m.key.startswith("test.")}


def test_templates_use_named_placeholders_only() -> None:
    for key, template in _declared().items():
        bare = PLACEHOLDER.sub("", template).replace("%%", "")
        assert "%" not in bare, (key, template)


def test_every_declared_detail_has_a_chinese_translation() -> None:
    zh = _zh_details()
    declared = _declared()
    missing = sorted(t for t in declared.values() if t not in zh)
    assert missing == [], "translate in report/locale/zh_CN/LC_MESSAGES/details*.po"
    obsolete = sorted(set(zh) - set(declared.values()))
    assert obsolete == [], "obsolete entries in details*.po"
    for template in declared.values():
        assert set(PLACEHOLDER.findall(template)) == set(PLACEHOLDER.findall(zh[template]))


def test_a_detail_is_its_english_text_and_keeps_key_and_params() -> None:
    detail = SAMPLE(
        addresses=["[2001:db8::1]:443", "[2001:db8::2]:443"], why=word("refused"), ms="12.5"
    )
    assert detail == "closed on IPv6: [2001:db8::1]:443, [2001:db8::2]:443 (refused, 12.5 ms)"
    assert detail.key == "test.sample"
    assert detail.params["why"] == {"key": "word.refused", "params": {}}


def test_results_jsonl_round_trip() -> None:
    detail = SAMPLE(addresses=["[2001:db8::1]:443"], why=word("refused"), ms="3")
    result = CheckResult(
        "T", "government", "services", "a.example", "web.reachable", Status.FAIL, detail
    )
    line = result.to_line()
    data = json_loads(line)
    assert data["detail"] == str(detail)
    assert data["detail_key"] == "test.sample"
    back = CheckResult.from_json(data)
    assert isinstance(back.detail, Detail) and back.to_line() == line


def test_identity_leaves_measured_figures_out() -> None:
    one = SAMPLE(addresses=["[2001:db8::1]:443"], why="x", ms="3")
    two = SAMPLE(addresses=["[2001:db8::1]:443"], why="x", ms="900")
    other = SAMPLE(addresses=["[2001:db8::9]:443"], why="x", ms="3")
    assert identity(one) == identity(two) != identity(other)
    assert identity("plain text") == "plain text"


def test_rendered_in_the_reports_language() -> None:
    zh = translations("zh-CN").gettext
    fake = {SAMPLE.template: "IPv6 不通：%(addresses)s（%(why)s，%(ms)s 毫秒）", "refused": "拒绝"}

    def gettext(text: str) -> str:
        return fake.get(text, zh(text))

    detail = SAMPLE(
        addresses=["[2001:db8::1]:443", "[2001:db8::2]:443"], why=word("refused"), ms="3"
    )
    assert render_detail(detail, gettext, "zh-CN") == (
        "IPv6 不通：[2001:db8::1]:443、[2001:db8::2]:443（拒绝，3 毫秒）"
    )
    assert render_detail(detail, gettext, "en") == str(detail)


@pytest.mark.parametrize(
    "params", [{"addresses": {"key": "no.such.key"}}, {"other": "x"}, "not a mapping"]
)
def test_a_detail_that_does_not_fit_is_shown_in_english(params: object) -> None:
    detail = Detail("the English sentence", "test.sample", params)  # type: ignore[arg-type]
    assert render_detail(detail, lambda t: t, "zh-CN") == "the English sentence"


def test_one_key_one_template() -> None:
    with pytest.raises(ValueError):
        message("test.sample", "another sentence")


def test_catalogue_lists_every_checks_module() -> None:
    here = Path(catalogue.__file__).parent
    declaring = {
        f"ipv6scan.checks.{p.stem}"
        for p in here.glob("*.py")
        if "message(" in p.read_text(encoding="utf-8") and p.stem not in ("messages",)
    }
    assert declaring <= set(catalogue.MODULES)


def test_the_measured_modules_declare_every_measured_figure() -> None:
    """What catalogue.load_measured imports declares every message with a measured figure
    that the whole catalogue declares (history_store keys verdicts by them alone)."""
    import subprocess
    import sys

    code = (
        "from ipv6scan.checks import catalogue; from ipv6scan.messages import MESSAGES;"
        " catalogue.load_measured(); few = {k for k, m in MESSAGES.items() if m.measured};"
        " catalogue.load(); every = {k for k, m in MESSAGES.items() if m.measured};"
        " print(sorted(every - few), len(every))"
    )
    said = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                          text=True).stdout.split(maxsplit=1)  # fmt: skip
    assert said[0] == "[]" and int(said[1]) > 5, said
