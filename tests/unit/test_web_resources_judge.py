"""The web.resources judge on hand-built observations: all, most, few and none of the
home page's sub-resources over IPv6, the per-host evidence, and when unknowns decide."""

from __future__ import annotations

from ipv6scan.checks.web_resources import judge_resources
from ipv6scan.model import Status
from ipv6scan.observations.web import (
    LOOKUP_FAILED,
    NO_ADDRESS,
    NO_RESPONSE,
    TIMEOUT,
    Chain,
    Fetch,
    ResourceResult,
    ResourcesObservation,
)
from tests.unit.test_web_judges import HOME, V6A, all_open, chain, check, response, site


def ok(url: str, kind: str = "image", status: int = 200) -> ResourceResult:
    return ResourceResult(url, kind, chain(response(url, status=status)))


def no_aaaa(url: str, kind: str = "script") -> ResourceResult:
    return ResourceResult(
        url, kind, Chain(6, url, (), NO_ADDRESS, stopped_at=url, reason="no AAAA record")
    )


def observe(*results: ResourceResult, home: Chain | None = None) -> ResourcesObservation:
    return ResourcesObservation(all_open(), home or chain(response()), results, found=len(results))


def images(n: int, host: str = "www.example") -> list[ResourceResult]:
    return [ok(f"https://{host}/i{i}.png") for i in range(n)]


def test_all_on_ipv6_passes() -> None:
    v = check(
        judge_resources(observe(*images(18), ok("https://cdn.example/a.js", "script"))),
        Status.PASS,
        "19 of 19",
        "2 hosts",
    )
    assert v.evidence["hosts_without_ipv6"] == [] and v.evidence["share"] == 1.0
    assert {h["host"]: h["ipv6"] for h in v.evidence["hosts"]} == {
        "www.example": True,
        "cdn.example": True,
    }


def test_most_on_ipv6_warns_and_names_the_host_without_ipv6() -> None:
    v = check(
        judge_resources(observe(*images(19), no_aaaa("http://stats.v4only.example/s.js"))),
        Status.WARN,
        "19 of 20",
        "95%",
        "stats.v4only.example",
    )
    assert v.evidence["hosts"][0] == {
        "host": "stats.v4only.example",
        "ipv6": False,
        "resources": 1,
        "failed": 1,
        "unchecked": 0,
        "reason": "no AAAA record",
    }
    assert v.evidence["failing"] == [
        {
            "url": "http://stats.v4only.example/s.js",
            "kind": "script",
            "reason": "no IPv6: no AAAA record",
        }
    ]
    assert v.evidence["kinds"]["script"] == {"checked": 1, "ok": 0, "unchecked": 0}


def test_few_on_ipv6_fails() -> None:
    bad = [no_aaaa(f"https://cdn{i % 3}.v4.example/x{i}.js") for i in range(18)]
    v = check(judge_resources(observe(*images(2), *bad)), Status.FAIL, "2 of 20", "below the 90%")
    assert v.evidence["hosts_without_ipv6"] == [
        "cdn0.v4.example",
        "cdn1.v4.example",
        "cdn2.v4.example",
    ]
    assert v.evidence["resources_failed"] == 18


def test_a_status_of_400_or_more_fails_a_resource_on_a_host_with_ipv6() -> None:
    v = check(
        judge_resources(observe(*images(1), ok("https://www.example/gone.css", "stylesheet", 404))),
        Status.FAIL,
        "1 of 2",
        "status 404",
    )
    assert v.evidence["hosts"] == [
        {"host": "www.example", "ipv6": True, "resources": 2, "failed": 1, "unchecked": 0}
    ]


def test_none_declared_skips() -> None:
    check(judge_resources(observe()), Status.SKIP, "declares no sub-resources")
    dead = chain(Fetch(HOME, V6A, TIMEOUT), end=NO_RESPONSE)
    check(judge_resources(observe(*images(1), home=dead)), Status.SKIP, "no response")


def test_no_ipv6_path_is_an_error() -> None:
    obs = ResourcesObservation(site({}, ipv6=False), None)
    check(judge_resources(obs), Status.ERROR, "no IPv6 path")


def test_unknowns_decide_only_when_they_could_change_the_outcome() -> None:
    late = ResourceResult("https://late.example/x.png", "image", None)
    failed_lookup = ResourceResult(
        "https://dns.example/y.png",
        "image",
        Chain(6, "https://dns.example/y.png", (), LOOKUP_FAILED, reason="SERVFAIL"),
    )
    # 19 good and one unknown: pass or warn, so undecided
    check(judge_resources(observe(*images(19), late)), Status.ERROR, "1 of 20")
    # 18 good, one bad, one unknown: warn whatever the unknown does
    v = check(
        judge_resources(observe(*images(18), no_aaaa("http://v4.example/a.js"), failed_lookup)),
        Status.WARN,
    )
    assert {h["host"]: h["ipv6"] for h in v.evidence["hosts"]}["dns.example"] is None
