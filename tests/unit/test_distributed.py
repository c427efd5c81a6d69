"""Distributed scans without a network: what travels, how shards are cut, how results of
several vantage points are scored, and how a merge checks its shards."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ipv6scan.cli import main
from ipv6scan.distributed.coordinator import Books, scanner_of
from ipv6scan.distributed.payload import (
    PayloadError,
    ShardJob,
    ShardOptions,
    ShardResult,
    with_vantage,
)
from ipv6scan.distributed.plan import SIZE_ENV, dns_only_size, plan_shards, shard_size
from ipv6scan.distributed.settings import check_vantage, queue_for, shown_url
from ipv6scan.engine.run import in_shard
from ipv6scan.merge import MergeError, check_shards
from ipv6scan.model import CheckResult, Status, SystemEntry, Target
from ipv6scan.scoring.profile import DEFAULT_PROFILE
from ipv6scan.scoring.summary import summarize
from ipv6scan.scoring.vantage import VantageTally, combine, differing, pick

OPTIONS = ShardOptions(("dns",), 2.0, 1, ("2001:db8::/32",), "government", None)


def _result(status: str, vantage: str | None, check: str = "web.reachable",
            subject: str = "a.example") -> CheckResult:  # fmt: skip
    return CheckResult("A", "enterprise", "services", subject, check, Status(status),
                       f"{check} {status}", {"n": 1}, 1.5, vantage=vantage)  # fmt: skip


# --- what travels -----------------------------------------------------------------------


def test_a_shard_job_round_trips_through_json() -> None:
    target = Target("Op", "operator", ("op.example",),
                    (SystemEntry("metro", "resolver", "2001:db8::53", ("resolver.ipv6",), 7),),
                    "list.yaml", 3)  # fmt: skip
    job = ShardJob("scan1", (2, 9), "east", OPTIONS, (target,))
    # Given the job as Celery's JSON serializer carries it
    again = ShardJob.from_json(json.loads(json.dumps(job.to_json())))
    # Then nothing is lost, and its key names scan, shard and vantage point
    assert again == job
    assert job.key == "scan1:2-9:east"


def test_a_foreign_or_malformed_task_is_refused() -> None:
    with pytest.raises(PayloadError):
        ShardJob.from_json({"format": 99})
    with pytest.raises(PayloadError):
        ShardJob.from_json({"format": 1, "scan": "x", "shard": ["a", 2]})
    with pytest.raises(PayloadError):
        ShardResult.from_json({"format": 1, "key": "k", "lines": "not base64!"})


def test_a_shard_result_round_trips_compressed() -> None:
    lines = b"".join(_result("pass", None).to_line().encode() + b"\n" for _ in range(500))
    result = ShardResult("scan1:1-1:-", "w1", None, lines, 500, {"ipv6": True})
    data = json.loads(json.dumps(result.to_json()))
    assert len(data["lines"]) < len(lines) / 10  # compressed, then armoured
    assert ShardResult.from_json(data) == result


def test_vantage_is_added_as_the_model_writes_it() -> None:
    # Given a local scan's line
    line = _result("fail", None).to_line().encode() + b"\n"
    # When a worker of vantage point "east" labels it
    labelled = with_vantage([line], "east")
    # Then the bytes are those CheckResult writes for that vantage point, which reads back
    assert labelled == _result("fail", "east").to_line().encode() + b"\n"
    assert CheckResult.from_json(json.loads(labelled)).vantage == "east"


def test_a_local_record_has_no_vantage_field() -> None:
    assert "vantage" not in _result("pass", None).to_json()
    assert list(_result("pass", "east").to_json())[-1] == "vantage"


def test_vantage_names_are_checked() -> None:
    assert check_vantage("cn-telecom.sh_1") == "cn-telecom.sh_1"
    assert queue_for("east") == "ipv6scan.east" and queue_for(None) == "ipv6scan"
    for bad in ("", "-x", "a b", "a:b", "x" * 64):
        with pytest.raises(ValueError):
            check_vantage(bad)


# --- how shards are cut -----------------------------------------------------------------


def test_shards_partition_the_targets_by_the_local_shard_hash() -> None:
    targets = [Target(f"t{i}.example", "enterprise", (f"t{i}.example",)) for i in range(53)]
    jobs = plan_shards(targets, OPTIONS, ("east", "west"), "s", size=5)
    east = [j for j in jobs if j.vantage == "east"]
    # every target once per vantage point, in the shard --shard K/N would give it
    assert sorted(t.name for j in east for t in j.targets) == sorted(t.name for t in targets)
    assert all(in_shard(t.name, j.shard) for j in east for t in j.targets)
    assert {j.shard[1] for j in jobs} == {11}
    assert [j.shard for j in east] == [j.shard for j in jobs if j.vantage == "west"]
    assert all(j.targets for j in jobs)  # an empty shard is not queued


def test_shard_size_by_checks_list_and_environment() -> None:
    assert shard_size(True, {}) is None and shard_size(False, {}) == 10
    # DNS-only: 32 shards where the sizes allow, 500 to 5,000 names each
    assert [dns_only_size(n) for n in (100, 100_000, 1_000_000)] == [500, 3125, 5000]
    assert shard_size(False, {SIZE_ENV: "3"}) == 3
    with pytest.raises(ValueError):
        shard_size(True, {SIZE_ENV: "0"})


def test_a_shard_that_ran_twice_is_taken_once() -> None:
    job = ShardJob("s", (1, 2), None, OPTIONS, ())
    books = Books({job.key: job})
    result = ShardResult(job.key, "w1", None, b"x\n", 1, {"ipv6": True, "resolvers_usable": True})
    assert books.accept(result) is True
    assert books.accept(ShardResult(job.key, "w2", None, b"x\n", 1, {})) is False
    assert books.results == 1 and books.pending == []
    assert books.accept(ShardResult("other", "w1", None, b"", 0, {})) is False
    assert scanner_of(books)["resolvers_usable"] is True


# --- several vantage points, scored once ------------------------------------------------


def test_by_default_a_result_holds_only_where_it_holds_from_every_vantage_point() -> None:
    group = [_result("pass", "east"), _result("fail", "west"), _result("warn", "north")]
    assert pick(group).status == Status.FAIL
    assert pick(group, share=0.5).status == Status.WARN  # two of three at least warn
    assert pick(group, share=0.3).status == Status.PASS


def test_a_vantage_point_that_could_not_decide_does_not_vote() -> None:
    assert pick([_result("pass", "east"), _result("error", "west")]).status == Status.PASS
    assert pick([_result("skip", "east"), _result("error", "west")]).status == Status.ERROR


def test_local_results_are_scored_as_they_are() -> None:
    local = [_result("pass", None), _result("fail", None)]
    assert combine(local) is local


def test_a_target_from_two_vantage_points_is_scored_once() -> None:
    both = [_result("pass", "east"), _result("fail", "west"),
            _result("pass", "east", "dns.aaaa"), _result("pass", "west", "dns.aaaa")]  # fmt: skip
    summary = summarize(both, profile=DEFAULT_PROFILE)
    (row,) = summary["targets"]
    assert row["tiers"]["services"]["counts"] == {"pass": 1, "fail": 1}
    assert differing(both) == [
        ("A", "a.example", "web.reachable", {"east": "pass", "west": "fail"})
    ]


def test_the_tally_gives_pass_rates_per_vantage_point_and_the_differences() -> None:
    pings = [_result("pass", "east", "net.ping"), _result("error", "west", "net.ping")]
    results = [_result("pass", "east"), _result("fail", "west"), *pings]
    tally = VantageTally()
    for r in results:
        tally.count(r)
    tally.group(results)
    summary: dict[str, object] = {}
    tally.into(summary)
    vantages = summary["vantages"]
    assert isinstance(vantages, dict)
    assert vantages["points"] == ["east", "west"]
    assert vantages["pass_rates"]["west"]["web.reachable"]["rate"] == 0.0
    assert vantages["pass_rates"]["west"]["net.ping"]["rate"] is None  # undecided
    assert [d["check"] for d in vantages["differing"]] == ["web.reachable"]
    local: dict[str, object] = {}
    VantageTally().into(local)
    assert local == {}


# --- merge: shards whole ----------------------------------------------------------------


def _shard_dir(path: Path, shard: str | None) -> Path:
    path.mkdir()
    (path / "results.jsonl").write_text("")
    history = "lists" + (f" [shard {shard}]" if shard else "")
    (path / "summary.json").write_text(json.dumps({"schema": 1, "run": {"history": history}}))
    return path


def test_merge_refuses_a_missing_or_doubled_shard_and_names_it(tmp_path: Path) -> None:
    one, two = _shard_dir(tmp_path / "a", "1/3"), _shard_dir(tmp_path / "b", "2/3")
    three, again = _shard_dir(tmp_path / "c", "3/3"), _shard_dir(tmp_path / "d", "2/3")
    check_shards([one, two, three])
    with pytest.raises(MergeError, match="shard 3/3 missing"):
        check_shards([one, two])
    with pytest.raises(MergeError, match="shard 2/3 twice"):
        check_shards([one, two, three, again])
    plain = _shard_dir(tmp_path / "e", None)
    check_shards([plain])  # directories with no shard: nothing to check
    code = main(["merge", str(one), str(two), "--out", str(tmp_path / "out"), "--quiet"])
    assert code == 2
    code = main(["merge", str(one), str(two), "--out", str(tmp_path / "out"), "--quiet",
                 "--partial", "--lang", "en"])  # fmt: skip
    assert code == 0


# --- the command line -------------------------------------------------------------------


def test_vantage_needs_a_broker_and_a_good_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    targets = tmp_path / "t.txt"
    targets.write_text("a.example\n")
    out = str(tmp_path / "out")
    assert main(["scan", str(targets), "--out", out, "--vantage", "east"]) == 2
    assert "--vantage needs --broker" in capsys.readouterr().err
    code = main(["scan", str(targets), "--out", out, "--broker", "redis://127.0.0.1:1/0",
                 "--vantage", "a b", "--quiet"])  # fmt: skip
    assert code == 2 and "vantage point" in capsys.readouterr().err


def test_a_broker_that_cannot_be_reached_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    targets = tmp_path / "t.txt"
    targets.write_text("a.example\n")
    code = main(["scan", str(targets), "--out", str(tmp_path / "out"), "--quiet",
                 "--broker", "redis://127.0.0.1:1/0"])  # fmt: skip
    assert code == 2
    assert "--broker redis://127.0.0.1:1/0" in capsys.readouterr().err
    assert not (tmp_path / "out").exists() and not (tmp_path / "ipv6scan.db").exists()


def test_a_broker_password_is_not_printed() -> None:
    assert shown_url("redis://:s3cret@redis.example:6379/0") == "redis://:***@redis.example:6379/0"
    assert shown_url("redis://10.0.0.1:6379/0") == "redis://10.0.0.1:6379/0"


def test_a_profile_may_lower_the_vantage_share(tmp_path: Path) -> None:
    from ipv6scan.scoring.profile_yaml import ProfileError, load_profile

    half = tmp_path / "half.yaml"
    half.write_text("version: 1\nvantage_share: 0.5\n")
    profile = load_profile(half)
    both = [_result("pass", "east"), _result("fail", "west")]
    assert summarize(both, profile=profile)["targets"][0]["score"] == 100
    assert summarize(both, profile=DEFAULT_PROFILE)["targets"][0]["score"] == 0
    zero = tmp_path / "zero.yaml"
    zero.write_text("version: 1\nvantage_share: 0\n")
    with pytest.raises(ProfileError, match="vantage_share"):
        load_profile(zero)
