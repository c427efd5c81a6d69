"""The shipped JSON Schemas (ipv6scan/schemas): valid draft 2020-12, their enums the ones the
code uses (so they cannot drift), and strict where INTERFACE.md is: the unit-test sample
results and a summary.json scored and recorded from them validate, and broken copies do not.
The lab's own outputs are validated in tests/integration/test_api_lab.py."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

import ipv6scan
from ipv6scan import audit
from ipv6scan.checks.registry import CHECK_IDS
from ipv6scan.history import open_db
from ipv6scan.model import SECTORS, TIERS, Status
from ipv6scan.scoring.colours import COLOURS, SERVICES
from ipv6scan.scoring.stages import NOT_ASSESSED, STAGES
from tests.unit.sample_results import sample_lines, write_sample

SCANNER = {
    "ipv6": True,
    "ipv4": True,
    "dns64_prefixes": [],
    "notes": [],
    "resolvers_usable": True,
    "unusable_resolvers": [],
}


def validator(name: str) -> Draft202012Validator:
    schema = ipv6scan.schema(name)  # type: ignore[arg-type]
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def problems(name: str, document: Any) -> list[str]:
    return [f"{e.json_path}: {e.message}" for e in validator(name).iter_errors(document)]


@pytest.fixture(scope="module")
def summary(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """summary.json of the sample results, scored and recorded the way a scan finishes."""
    out = tmp_path_factory.mktemp("sample")
    write_sample(out / "results.jsonl", targets=60)
    db = out.parent / "sample.db"
    conn = open_db(db)
    try:
        rec = audit.Recording(db=db, target_files=("sample.txt",), history_key="sample")
        audit.finish_scan(conn, rec, out, "en", SCANNER, audit.timestamp())
    finally:
        conn.close()
    return ipv6scan.read_summary(out)


@pytest.mark.parametrize("name", ["result", "summary"])
def test_the_schemas_are_valid_draft_2020_12(name: str) -> None:
    schema = ipv6scan.schema(name)  # type: ignore[arg-type]
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


def test_the_enums_are_the_codes() -> None:
    fields = ipv6scan.schema("result")["properties"]
    assert tuple(fields["check"]["enum"]) == CHECK_IDS
    assert tuple(fields["sector"]["enum"]) == SECTORS
    assert tuple(fields["tier"]["enum"]) == TIERS
    assert fields["status"]["enum"] == [s.value for s in Status]
    defs = ipv6scan.schema("summary")["$defs"]
    assert tuple(defs["sector"]["enum"]) == SECTORS
    assert tuple(defs["tier"]["enum"]) == TIERS
    assert defs["status"]["enum"] == [s.value for s in Status]
    assert tuple(defs["stage"]["enum"]) == (*STAGES, NOT_ASSESSED)
    assert tuple(defs["colour"]["enum"]) == COLOURS
    assert tuple(defs["service"]["enum"]) == tuple(SERVICES)


def test_the_record_fields_are_interface_md() -> None:
    schema = ipv6scan.schema("result")
    required = ["target", "sector", "tier", "subject", "check", "status", "detail", "evidence",
                "duration_ms"]  # fmt: skip
    assert schema["required"] == required
    assert set(schema["properties"]) == {*required, "detail_key", "detail_params", "vantage"}
    assert schema["additionalProperties"] is False
    assert schema["properties"]["evidence"]["additionalProperties"] is True


def test_the_sample_results_validate() -> None:
    check = validator("result")
    lines = sample_lines(targets=300)
    for line in lines:
        record = json.loads(line)
        assert not list(check.iter_errors(record)), (record, problems("result", record))
    assert len(lines) > 1000


def test_records_written_by_the_model_validate() -> None:
    from ipv6scan.model import CheckResult

    result = CheckResult("T", "operator", "backbone", "2001:db8::1", "net.ping", Status.WARN,
                         "Answered on the 2nd try: intermittent.",
                         {"attempts": 3, "failed_attempts": 1, "intermittent": True,
                          "tries": [{"probe": "echo", "attempts": 3, "failed_attempts": 1}]},
                         12.5)  # fmt: skip
    assert problems("result", json.loads(result.to_line())) == []
    assert problems("result", {**result.to_json(), "vantage": "beijing"}) == []


GOOD_RECORD = json.loads(sample_lines(targets=20)[0])


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda r: r.pop("evidence"), "'evidence' is a required property"),
        (lambda r: r.pop("duration_ms"), "'duration_ms' is a required property"),
        (lambda r: r.update(check="dns.nope"), "'dns.nope' is not one of"),
        (lambda r: r.update(status="passed"), "'passed' is not one of"),
        (lambda r: r.update(sector="military"), "'military' is not one of"),
        (lambda r: r.update(tier="core"), "'core' is not one of"),
        (lambda r: r.update(extra=1), "Additional properties are not allowed"),
        (lambda r: r.update(evidence=[]), "[] is not of type 'object'"),
        (lambda r: r.update(duration_ms=-1), "-1 is less than the minimum"),
        (lambda r: r.update(duration_ms="1"), "'1' is not of type 'number'"),
        (lambda r: r.update(subject=""), "should be non-empty"),
        (lambda r: r["evidence"].update(attempts=0), "0 is less than the minimum"),
        (lambda r: r["evidence"].update(intermittent=False), "True was expected"),
        (lambda r: r.update(vantage=""), "should be non-empty"),
    ],
)
def test_broken_records_do_not_validate(change: Any, why: str) -> None:
    record = copy.deepcopy(GOOD_RECORD)
    assert problems("result", record) == []
    change(record)
    found = problems("result", record)
    assert any(why in p for p in found), found


def test_a_summary_scored_and_recorded_validates(summary: dict[str, Any]) -> None:
    assert problems("summary", summary) == []
    # the parts that are optional in the schema are there to be checked
    assert {"scanner", "milestones", "run", "trends"} <= set(summary)
    assert summary["targets"] and summary["targets"][0]["tiers"]


def test_a_summary_with_no_score_validates(summary: dict[str, Any]) -> None:
    unscored = copy.deepcopy(summary)
    unscored["overall"]["score"] = None
    unscored["targets"][0]["score"] = None
    assert problems("summary", unscored) == []


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda s: s.pop("overall"), "'overall' is a required property"),
        (lambda s: s["overall"].update(score=100.5), "100.5 is greater than the maximum"),
        (lambda s: s["overall"].update(score="50"), "'50' is not of type 'number', 'null'"),
        (lambda s: s["sectors"].update(military=s["overall"]), "'military' is not one of"),
        (lambda s: s["targets"][0].update(stage="done"), "'done' is not one of"),
        (lambda s: s["targets"][0]["services"].update(web="blue"), "is not valid under any"),
        (lambda s: s["targets"][0].pop("fix_first"), "'fix_first' is a required property"),
        (lambda s: s["overall"]["tiers"]["services"]["checks"].update(DNS={"pass": 1}),
         "does not match"),
        (lambda s: s["overall"]["stages"].update({"ipv4-only": -1}), "less than the minimum"),
        (lambda s: s.update(schema=2), "1 was expected"),
        (lambda s: s["run"].update(id="one"), "'one' is not of type 'integer'"),
        (lambda s: s["scanner"].update(ipv6="yes"), "'yes' is not of type 'boolean'"),
    ],
)  # fmt: skip
def test_broken_summaries_do_not_validate(summary: dict[str, Any], change: Any, why: str) -> None:
    broken = copy.deepcopy(summary)
    change(broken)
    found = problems("summary", broken)
    assert any(why in p for p in found), found


def test_the_schemas_ship_as_package_data() -> None:
    root = Path(ipv6scan.__file__).parent / "schemas"
    assert sorted(p.name for p in root.glob("*.json")) == [
        "result.schema.json",
        "summary.schema.json",
    ]
    pyproject = (root.parents[1] / "pyproject.toml").read_text(encoding="utf-8")
    assert '"schemas/*.json"' in pyproject and '"py.typed"' in pyproject
