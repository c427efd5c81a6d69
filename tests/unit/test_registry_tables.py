"""The check registry is the one table: what is derived from it agrees with it, and what is
written elsewhere (the default profile, the fix texts, the catalogues, the docs) is held
to it here, so that adding a check without its other entries fails a test."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from ipv6scan.checks import catalogue, registry
from ipv6scan.checks.registry import CHECK_IDS, CHECKS
from ipv6scan.report import labels
from ipv6scan.report.fixes import FIXES
from ipv6scan.report.i18n import LOCALE_DIR
from ipv6scan.scoring import stages
from ipv6scan.scoring.profile import DEFAULT_PROFILE, WEIGHTS
from ipv6scan.scoring.profile_yaml import load_profile

ROOT = Path(__file__).resolve().parents[2]


def test_every_check_is_complete() -> None:
    assert len(set(CHECK_IDS)) == len(CHECK_IDS)
    assert {check.family for check in CHECKS} == set(registry.FAMILIES)
    for check in CHECKS:
        observe, judge = check.functions()  # the web, mail, delegation ones imported now
        assert check.family in registry.FAMILIES, check.id
        assert inspect.iscoroutinefunction(observe), check.id
        assert len(inspect.signature(judge).parameters) == 2, check.id  # (obs, options)
        assert check.weight > 0 and check.label, check.id
        # advice for a fail always (test_fixes.py), for a warn where it has its own
        assert set(check.fixes) <= {"fail", "warn"} and "fail" in check.fixes, check.id
        # its details are declared in a module the report's catalogue loads
        assert judge.__module__ in catalogue.MODULES, check.id


def test_the_report_names_and_orders_checks_by_the_registry() -> None:
    assert labels.CHECKS == CHECK_IDS
    assert {c.id: c.label for c in CHECKS} == labels.CHECK_NAMES
    words = labels.Words(lambda text: text, "en")
    assert words.check("dns.aaaa") == "IPv6 address (AAAA record)"
    assert words.check("x.custom") == "x.custom"  # unknown ids as they are


def _catalogue(path: Path) -> dict[str, str]:
    with path.open("rb") as fh:
        return {str(m.id): str(m.string) for m in read_po(fh) if m.id and not m.fuzzy}


def test_every_label_is_in_the_catalogue_and_translated() -> None:
    template = _catalogue(LOCALE_DIR / "messages.pot")
    chinese = _catalogue(LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po")
    for check in CHECKS:
        assert check.label in template, check.id
        assert chinese.get(check.label), f"{check.id}: {check.label!r} has no zh_CN text"


def test_the_default_weights_are_the_registrys() -> None:
    assert {c.id: c.weight for c in CHECKS} == WEIGHTS
    assert dict(DEFAULT_PROFILE.weights) == WEIGHTS
    assert list(WEIGHTS) == list(CHECK_IDS)


def test_profiles_default_yaml_spells_out_the_built_in_defaults() -> None:
    path = ROOT / "profiles" / "default.yaml"
    loaded = load_profile(path)
    for name in (
        "weights",
        "default_weight",
        "warn_points",
        "warn_points_by_check",
        "tier_weights",
        "single_ns_cap",
        "fix_first",
        "vantage_share",
        "stages",
    ):
        assert getattr(loaded, name) == getattr(DEFAULT_PROFILE, name), name
    # every check named, in the registry's order, so that the file reads as the table
    text = path.read_text("utf-8")
    block = text.split("\nweights:\n", 1)[1].split("\n\n", 1)[0]
    named = re.findall(r"^  ([a-z0-9_.]+):", block, re.MULTILINE)
    assert named == list(CHECK_IDS)


def test_the_fix_texts_are_keyed_by_the_registrys_checks_in_its_order() -> None:
    expected = [key for check in CHECKS for key in check.fix_keys]
    assert set(FIXES) == set(expected)
    order = list(dict.fromkeys(key.rsplit(".", 1)[0] for key in FIXES))
    assert order == list(CHECK_IDS)


def test_the_stage_names_have_one_source() -> None:
    assert labels.STAGES == stages.STAGES
    for lang in ("en", "zh-CN"):
        words = labels.Words(lambda text: text, lang)
        for stage in (*stages.STAGES, stages.NOT_ASSESSED):
            assert words.stage(stage) == stages.STAGE_NAMES[stage][lang]
            assert words.stage_help(stage) == stages.STAGE_DESCRIPTIONS[stage][lang]
    # a summary's own ladder (another scorer's words) wins
    words = labels.Words(lambda text: text, "en", {"reachable": {"en": "Answers"}})
    assert words.stage("reachable") == "Answers"
    assert words.stage("custom-rung") == "custom-rung"


def _docs(name: str) -> str:
    return (ROOT / "docs" / name).read_text("utf-8")


def test_docs_checks_md_lists_the_catalogue_in_the_registrys_order() -> None:
    section = _docs("checks.md").split("## The catalogue", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([a-z0-9_.]+)` \|", section, re.MULTILINE)
    assert rows == list(CHECK_IDS)


def test_docs_scoring_md_gives_each_check_its_registry_weight() -> None:
    paragraph = _docs("scoring.md").split("**Weights**", 1)[1].split("\n\n", 1)[0]
    documented: dict[str, float] = {}
    for part in paragraph.split(";"):  # "3 for `dns.aaaa`, `web.http` (why); 2 for ..."
        weight = re.search(r"(\d+) for\s", part)
        for check in re.findall(r"`([a-z0-9_.]+)`", part):
            assert weight, part
            documented[check] = float(weight.group(1))
    assert documented == WEIGHTS


@pytest.mark.parametrize("check", CHECKS, ids=CHECK_IDS)
def test_select_by_id_and_family(check: registry.Check) -> None:
    assert registry.select([check.id]) == (check,)
    assert check in registry.select([check.family])


def test_the_adding_a_check_walkthrough_matches_the_registry() -> None:
    # Given the walkthrough's diff of checks/registry.py
    doc = _docs("adding-a-check.md")
    section = doc.split("--- a/ipv6scan/checks/registry.py\n", 1)[1].split("\n--- a/", 1)[0]
    kept = [line[1:] for line in section.splitlines() if line[:1] in (" ", "-")]
    # Then every line it keeps or removes is a line of today's registry
    source = set((ROOT / "ipv6scan" / "checks" / "registry.py").read_text("utf-8").splitlines())
    assert kept and [line for line in kept if line not in source] == []
