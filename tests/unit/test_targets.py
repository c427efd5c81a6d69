import ipaddress
import pickle
import random
import textwrap
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ipv6scan.model import SystemEntry, Target
from ipv6scan.targets import (
    MAX_ERRORS,
    TargetError,
    TargetErrors,
    TargetList,
    entries,
    iter_plain_targets,
    iter_targets,
    load_yaml_targets,
    validate_files,
)
from ipv6scan.targets.entries import check_domain
from ipv6scan.targets.plain_lists import _ready_name, _txt_domain

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def yaml_errors(path: Path) -> list[tuple[int | None, str]]:
    with pytest.raises(TargetErrors) as info:
        load_yaml_targets(path)
    return [(e.line, e.message) for e in info.value.errors]


def only_error(path: Path) -> tuple[int | None, str]:
    errors = yaml_errors(path)
    assert len(errors) == 1, errors
    return errors[0]


def one_target(tmp_path: Path, target: str) -> Path:
    """A valid file around one target, given as YAML text indented for the targets list."""
    body = textwrap.indent(textwrap.dedent(target).strip("\n"), "  ")
    return write(tmp_path, "t.yaml", f"version: 1\nname: test\ntargets:\n{body}\n")


# --- the shipped lists -------------------------------------------------------------------------


def test_shipped_example_loads() -> None:
    tl = load_yaml_targets(REPO / "targets" / "example.yaml")
    assert {t.sector for t in tl.targets} == {"government", "operator", "enterprise"}
    operator = next(t for t in tl.targets if t.sector == "operator")
    assert {e.tier for e in operator.systems} == {"backbone", "metro", "access", "support"}
    assert {e.kind for e in operator.systems} == {"host", "address", "url", "resolver"}


def test_shipped_hunan_loads() -> None:
    tl = load_yaml_targets(REPO / "targets" / "hunan.yaml")
    assert tl.name == "Hunan province IPv6 readiness"
    government = [t for t in tl.targets if t.sector == "government"]
    assert len(government) == 15
    assert government[0].name == "湖南省人民政府 Hunan Provincial People's Government"
    assert government[0].domains == ("hunan.gov.cn",)
    assert government[1].domains == ("changsha.gov.cn",)
    assert government[-1].domains == ("xxz.gov.cn",)
    assert len([t for t in tl.targets if t.sector == "operator"]) == 3
    assert any(t.sector == "enterprise" for t in tl.targets)
    assert (
        validate_files([REPO / "targets" / "hunan.yaml", REPO / "targets" / "example.yaml"]) == []
    )


# --- a valid file ------------------------------------------------------------------------------


def test_valid_file_is_loaded_and_normalised(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "ok.yaml",
        """
        version: 1
        name: Example audit
        targets:
          - name: Portal
            sector: government
            domains: [Bücher.Example., GOV.example]
          - name: Operator
            sector: operator
            systems:
              backbone: [core1.operator.example, "2001:DB8:1:0::1", "[2001:db8:2::1]", 192.0.2.1]
              metro: [{resolver: "2001:DB8:53::53#5353"}, {resolver: "198.51.100.53#53"}]
              access: ["HTTPS://Selfcare.Operator.example:443/a/b?x=1"]
              support:
                - {host: CRM.operator.example, checks: [net, dns.aaaa, net]}
                - {address: "2001:db8::9"}
                - {url: "http://[2001:db8::80]:8080"}
        milestones: {2026: [a, b]}
        """,
    )
    tl = load_yaml_targets(path)
    assert isinstance(tl, TargetList)
    assert (tl.path, tl.name, tl.version) == (str(path), "Example audit", 1)
    assert tl.milestones == {2026: ["a", "b"]}
    portal, operator = tl.targets
    assert portal == Target(
        "Portal", "government", ("xn--bcher-kva.example", "gov.example"), (), str(path), 4
    )
    assert operator.line == 7
    assert operator.domains == ()
    assert operator.systems == (
        SystemEntry("backbone", "host", "core1.operator.example", None, 10),
        SystemEntry("backbone", "address", "2001:db8:1::1", None, 10),
        SystemEntry("backbone", "address", "2001:db8:2::1", None, 10),
        SystemEntry("backbone", "address", "192.0.2.1", None, 10),
        SystemEntry("metro", "resolver", "2001:db8:53::53#5353", None, 11),
        SystemEntry("metro", "resolver", "198.51.100.53", None, 11),
        SystemEntry("access", "url", "https://selfcare.operator.example/a/b?x=1", None, 12),
        SystemEntry("support", "host", "crm.operator.example", ("net", "dns.aaaa"), 14),
        SystemEntry("support", "address", "2001:db8::9", None, 15),
        SystemEntry("support", "url", "http://[2001:db8::80]:8080/", None, 16),
    )


# --- syntax and file problems ------------------------------------------------------------------


def test_malformed_yaml_reports_line(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.yaml", "version: 1\nname: x\n  bad: indent\ntargets: []\n")
    assert only_error(path) == (3, "YAML syntax: mapping values are not allowed in this context")
    path = write(tmp_path, "bad.yaml", "version: 1\nname: x\ntargets:\n  - {name: a\n  - b\n")
    line, message = only_error(path)
    assert line == 6  # where the parser gave up; the message names where the mapping began
    assert message.endswith("(while parsing a flow mapping at line 4)")


def test_tab_indentation_is_a_syntax_error(tmp_path: Path) -> None:
    path = write(tmp_path, "tab.yaml", "version: 1\nname: x\ntargets:\n\t- name: a\n")
    line, message = only_error(path)
    assert (line, message.startswith("YAML syntax:")) == (4, True)


def test_alias_is_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "alias.yaml",
        """
        version: 1
        name: x
        targets:
          - {name: a, sector: government, domains: &d [a.example]}
          - {name: b, sector: government, domains: *d}
        """,
    )
    assert only_error(path) == (
        5,
        "YAML alias *d is not supported in target lists; write the value out",
    )


def test_python_tags_are_never_constructed(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "tag.yaml",
        """
        version: 1
        name: !!python/object/apply:os.system ["touch pwned"]
        targets: [{name: a, sector: government, domains: [a.example]}]
        """,
    )
    line, message = only_error(path)
    assert line == 2
    assert message.startswith("name must be a string, got a list")
    assert not (tmp_path / "pwned").exists()


def test_empty_file(tmp_path: Path) -> None:
    path = write(tmp_path, "empty.yaml", "# nothing\n")
    assert only_error(path) == (
        None,
        "file is empty; expected a mapping with version, name and targets",
    )


def test_missing_file_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    errors = validate_files([tmp_path / "nope.yaml", tmp_path / "nope.txt"])
    assert [(e.line, e.message) for e in errors] == [
        (None, "cannot read file: No such file or directory"),
        (None, "cannot read file: No such file or directory"),
    ]
    assert (
        str(errors[0]) == f"{tmp_path / 'nope.yaml'}: cannot read file: No such file or directory"
    )


def test_non_utf8_yaml(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"version: 1\nname: caf\xe9\n")
    assert only_error(path) == (2, "not valid UTF-8 (byte 0xe9)")


def test_file_size_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("ipv6scan.targets.yaml_nodes.MAX_YAML_BYTES", 1 << 20)
    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" * ((1 << 20) + 1))
    line, message = only_error(path)
    assert (line, message.startswith("file is larger than 1 MiB")) == (None, True)


def test_unknown_suffix(tmp_path: Path) -> None:
    path = write(tmp_path, "list.json", "[]")
    errors = validate_files([path])
    assert [(e.line, e.message) for e in errors] == [
        (None, "unknown target file type '.json'; expected one of .yaml, .yml, .txt, .csv")
    ]
    with pytest.raises(TargetError, match="unknown target file type"):
        list(iter_targets([path]))


def test_error_str_and_pickle() -> None:
    err = TargetError("a.yaml", 3, "boom")
    assert str(err) == "a.yaml:3: boom"
    assert str(TargetError("a.yaml", None, "boom")) == "a.yaml: boom"
    again = pickle.loads(pickle.dumps(err))
    assert (again.path, again.line, again.message) == ("a.yaml", 3, "boom")


# --- top level ---------------------------------------------------------------------------------


def test_version_must_be_1(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "v.yaml",
        "version: 2\nname: x\ntargets: [{name: a, sector: operator, domains: [a.example]}]\n",
    )
    assert only_error(path) == (1, "unsupported version 2; this ipv6scan reads version 1")
    path = write(
        tmp_path,
        "v.yaml",
        "version: '1'\nname: x\ntargets: [{name: a, sector: operator, domains: [a.example]}]\n",
    )
    assert only_error(path) == (1, "version must be the integer 1, got a string ('1')")


def test_empty_targets_list(tmp_path: Path) -> None:
    path = write(tmp_path, "e.yaml", "version: 1\nname: x\ntargets: []\n")
    assert only_error(path) == (3, "targets is empty; list at least one target")
    path = write(tmp_path, "e.yaml", "version: 1\nname: x\ntargets:\n")
    assert only_error(path) == (3, "targets must be a list, got nothing")


def test_top_level_missing_and_unknown_keys(tmp_path: Path) -> None:
    path = write(tmp_path, "k.yaml", "version: 1\ntarget: []\nowner: me\n")
    assert yaml_errors(path) == [
        (1, "the top level is missing required key 'name'"),
        (1, "the top level is missing required key 'targets'"),
        (
            2,
            "unknown key 'target' in the top level (did you mean 'targets'?); "
            "allowed keys: version, name, targets, milestones",
        ),
        (
            3,
            "unknown key 'owner' in the top level; "
            "allowed keys: version, name, targets, milestones",
        ),
    ]


def test_top_level_must_be_mapping(tmp_path: Path) -> None:
    path = write(tmp_path, "l.yaml", "- a.example\n")
    assert only_error(path) == (1, "the top level must be a mapping, got a list")


def test_duplicate_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "d.yaml",
        """
        version: 1
        name: x
        targets:
          - name: a
            sector: enterprise
            domains: [a.example]
            sector: government
        """,
    )
    assert only_error(path) == (7, "duplicate key 'sector' in target (first at line 5)")


# --- targets -----------------------------------------------------------------------------------


def test_duplicate_target_names_both_lines(tmp_path: Path) -> None:
    path = one_target(
        tmp_path,
        """
        - {name: Portal, sector: government, domains: [a.example]}
        - name: Other
          sector: government
          domains: [b.example]
        - {name: Portal, sector: enterprise, domains: [c.example]}
        """,
    )
    assert only_error(path) == (8, "duplicate target name 'Portal' (first at line 4)")


def test_bad_sector(tmp_path: Path) -> None:
    path = one_target(tmp_path, "- {name: a, sector: gov, domains: [a.example]}")
    assert only_error(path) == (
        4,
        "unknown sector 'gov'; expected one of government, operator, enterprise",
    )


def test_wrong_types_in_target(tmp_path: Path) -> None:
    path = one_target(
        tmp_path,
        """
        - name: 42
          sector: [government]
          domains: a.example
        - just-a-string
        """,
    )
    assert yaml_errors(path) == [
        (4, "target name must be a string, got an integer ('42')"),
        (5, "sector must be a string, got a list"),
        (6, "domains must be a list, got a string; write [a.example]"),
        (7, "target must be a mapping, got a string ('just-a-string')"),
    ]


def test_unknown_target_key(tmp_path: Path) -> None:
    path = one_target(tmp_path, "- {name: a, sector: operator, domain: [a.example]}")
    assert only_error(path) == (
        4,
        "unknown key 'domain' in target (did you mean 'domains'?); "
        "allowed keys: name, sector, domains, systems",
    )


def test_target_needs_domains_or_systems(tmp_path: Path) -> None:
    path = one_target(tmp_path, "- name: a\n  sector: operator\n  domains: []\n")
    assert only_error(path) == (
        4,
        "target 'a' has no domains and no systems; give at least one",
    )


def test_bad_domains(tmp_path: Path) -> None:
    path = one_target(
        tmp_path,
        """
        - name: a
          sector: government
          domains:
            - https://gov.example/
            - 192.0.2.1
            - "2001:db8::1"
            - xn--zz.example
            - bad_name.example
            - ok.example
            - OK.example.
            - 1.5
        """,
    )
    hint = "; put URLs and addresses under systems"
    assert yaml_errors(path) == [
        (7, f"'https://gov.example/' is a URL, not a domain{hint}"),
        (8, f"'192.0.2.1' is an IP address, not a domain{hint}"),
        (9, f"'2001:db8::1' is an IP address, not a domain{hint}"),
        (
            10,
            "invalid host name 'xn--zz.example': label 'xn--zz' is not a valid IDNA A-label "
            "(Invalid A-label)",
        ),
        (
            11,
            "invalid host name 'bad_name.example': character '_' in label 'bad_name' "
            "(only letters, digits and '-' allowed)",
        ),
        (13, "duplicate domain 'ok.example' (first at line 12)"),
        (14, "domain must be a string, got a number ('1.5')"),
    ]


def test_long_label_in_domain(tmp_path: Path) -> None:
    name = "a" * 64 + ".example"
    path = one_target(tmp_path, f"- {{name: a, sector: government, domains: [{name}]}}")
    line, message = only_error(path)
    assert line == 4
    assert (
        message
        == f"invalid host name {name!r}: label 'aaaaaaaaaaaaaaaa...' is 64 octets, longer than 63"
    )


# --- systems -----------------------------------------------------------------------------------


def test_unknown_tier(tmp_path: Path) -> None:
    path = one_target(
        tmp_path,
        """
        - name: op
          sector: operator
          systems:
            core: [core1.op.example]
        """,
    )
    assert only_error(path) == (
        7,
        "unknown key 'core' in systems; allowed keys: backbone, metro, access, support",
    )


def test_entry_with_two_kinds_and_none(tmp_path: Path) -> None:
    path = one_target(
        tmp_path,
        """
        - name: op
          sector: operator
          systems:
            metro:
              - {host: bras.op.example, url: "https://bras.op.example/"}
              - {checks: [net]}
        """,
    )
    assert yaml_errors(path) == [
        (
            8,
            "a systems entry needs exactly one of host, address, url, resolver; "
            "got 'host' and 'url'",
        ),
        (9, "a systems entry needs exactly one of host, address, url, resolver; got none"),
    ]


def test_unknown_entry_key(tmp_path: Path) -> None:
    path = one_target(
        tmp_path,
        """
        - name: op
          sector: operator
          systems:
            access:
              - host: olt.op.example
                port: 22
        """,
    )
    assert only_error(path) == (
        9,
        "unknown key 'port' in systems entry; allowed keys: host, address, url, resolver, checks",
    )


def test_entries_of_the_wrong_shape(tmp_path: Path) -> None:
    path = one_target(
        tmp_path,
        """
        - name: op
          sector: operator
          systems:
            backbone:
              - 17
              - [core1.op.example]
              - {host: {name: x}}
              - ""
              - {address: core1.op.example}
              - {host: "2001:db8::1"}
              - {host: "https://x.op.example/"}
              - {url: "ftp://x.op.example/"}
              - {resolver: "2001:db8::53#99999"}
              - "fe80::1%eth0"
            access:
        """,
    )
    shape = (
        "a systems entry must be a host name, an address, a URL, or a mapping with one of "
        "host, address, url, resolver; got "
    )
    assert yaml_errors(path) == [
        (8, shape + "an integer ('17')"),
        (9, shape + "a list"),
        (10, "host must be a string, got a mapping"),
        (11, "systems entry is empty"),
        (12, "address 'core1.op.example' is not an IPv4 or IPv6 address literal"),
        (13, "host '2001:db8::1' is an IP address; use address:"),
        (14, "host 'https://x.op.example/' is a URL; use url:"),
        (15, "invalid URL 'ftp://x.op.example/': scheme 'ftp' is not http or https"),
        (16, "invalid resolver '2001:db8::53#99999': port '99999' is not a number 1-65535"),
        (17, "invalid address 'fe80::1%eth0': zone ids (%...) are not accepted"),
        (18, "systems tier 'access' must be a list, got nothing"),
    ]


def test_duplicate_entry_in_tier(tmp_path: Path) -> None:
    path = one_target(
        tmp_path,
        """
        - name: op
          sector: operator
          systems:
            backbone: ["2001:db8::1"]
            metro:
              - "2001:db8::1"
              - "2001:DB8:0::1"
        """,
    )
    assert only_error(path) == (10, "duplicate metro entry '2001:db8::1' (first at line 9)")


def test_checks_override(tmp_path: Path) -> None:
    path = one_target(
        tmp_path,
        """
        - name: op
          sector: operator
          systems:
            support:
              - {resolver: "2001:db8::53", checks: [resolver, dns.aaaa]}
              - {host: a.op.example, checks: [web.nope]}
              - {host: b.op.example, checks: []}
              - {host: c.op.example, checks: net}
        """,
    )
    errors = yaml_errors(path)
    assert [line for line, _ in errors] == [9, 10, 11]
    assert errors[0][1].startswith(
        "unknown check 'web.nope'; "
        "expected a family (dns, web, mail, net, resolver) or a check id ("
    )
    assert "dns.aaaa" in errors[0][1]
    assert errors[1][1] == "checks is empty; leave it out to run the tier's default checks"
    assert errors[2][1] == "checks must be a list, got a string ('net')"


def test_many_errors_are_capped(tmp_path: Path) -> None:
    items = "\n".join(f"  - {{name: t{i}, sector: nope, domains: [a.example]}}" for i in range(150))
    path = write(tmp_path, "many.yaml", f"version: 1\nname: x\ntargets:\n{items}\n")
    errors = yaml_errors(path)
    assert len(errors) == MAX_ERRORS + 1
    assert errors[0][0] == 4
    assert errors[-1] == (None, f"too many errors; stopped after {MAX_ERRORS}")


# --- plain lists -------------------------------------------------------------------------------


def test_txt_list(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "list.txt",
        """
        # Hunan portals
        hunan.gov.cn

        Changsha.gov.cn.   # the capital
          Bücher.example
        """,
    )
    targets = list(iter_plain_targets(path, "government"))
    assert targets == [
        Target("hunan.gov.cn", "government", ("hunan.gov.cn",), (), str(path), 2),
        Target("changsha.gov.cn", "government", ("changsha.gov.cn",), (), str(path), 4),
        Target("xn--bcher-kva.example", "government", ("xn--bcher-kva.example",), (), str(path), 5),
    ]


def test_txt_bad_lines(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "list.txt",
        """
        a.example
        b.example c.example
        https://d.example/
        bad_name.example
        A.example
        """,
    )
    with pytest.raises(TargetError) as info:
        list(iter_plain_targets(path, "enterprise"))
    assert (info.value.line, info.value.message) == (
        2,
        "expected one domain a line, got 'b.example c.example'",
    )
    errors = validate_files([path])
    assert [(e.line, e.message) for e in errors] == [
        (2, "expected one domain a line, got 'b.example c.example'"),
        (3, "'https://d.example/' is a URL, not a domain"),
        (
            4,
            "invalid host name 'bad_name.example': character '_' in label 'bad_name' "
            "(only letters, digits and '-' allowed)",
        ),
        (5, "duplicate domain 'a.example' (first at line 1)"),
    ]


@pytest.mark.parametrize(
    ("name", "text"),
    [("empty.txt", ""), ("comments.txt", "# to be filled\n\n"), ("header.csv", "rank,domain\n")],
)
def test_a_plain_list_without_domains_is_an_error(tmp_path: Path, name: str, text: str) -> None:
    # Given a good list and one with no domain (an empty download, say)
    good = write(tmp_path, "good.txt", "a.example\n")
    empty = tmp_path / name
    empty.write_text(text, encoding="utf-8")
    # Then validation names the empty one, as a YAML list with no targets is named
    errors = validate_files([good, empty])
    assert [(e.path, e.line, e.message) for e in errors] == [
        (str(empty), None, "no domains in it (only blank lines, comments or a header)")
    ]


def test_csv_tranco_list_with_header(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "top.csv",
        """
        # Tranco list, downloaded for the test
        rank,domain
        1,google.com
        2,Example.ORG

        3,xn--bcher-kva.example
        """,
    )
    targets = list(iter_plain_targets(path, "enterprise"))
    assert [(t.name, t.domains, t.line, t.sector) for t in targets] == [
        ("google.com", ("google.com",), 3, "enterprise"),
        ("example.org", ("example.org",), 4, "enterprise"),
        ("xn--bcher-kva.example", ("xn--bcher-kva.example",), 6, "enterprise"),
    ]


def test_csv_bad_rank_and_shape(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "top.csv",
        """
        1,a.example
        0,b.example
        x,c.example
        -4,d.example
        5,e.example,extra
        rank,domain
        7,a.example
        8,
        """,
    )
    errors = validate_files([path])
    assert [(e.line, e.message) for e in errors] == [
        (2, "rank '0' is not a positive integer"),
        (3, "rank 'x' is not a positive integer"),
        (4, "rank '-4' is not a positive integer"),
        (5, "expected 'rank,domain', got 3 fields"),
        (6, "rank 'rank' is not a positive integer"),  # a header only on the first line
        (7, "duplicate domain 'a.example' (first at line 1)"),
        (8, "empty domain"),
    ]


def test_plain_list_non_utf8_and_long_line(tmp_path: Path) -> None:
    path = tmp_path / "list.txt"
    path.write_bytes(b"a.example\nb\xffb.example\n" + b"c" * 5000 + b"\nd.example\n")
    errors = validate_files([path])
    assert [(e.line, e.message) for e in errors] == [
        (2, "not valid UTF-8 (byte 0xff)"),
        (3, "line longer than 4096 bytes"),
    ]


def test_plain_list_streams_a_million_lines(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text("".join(f"d{i}.example\n" for i in range(1_000_000)))
    it = iter_plain_targets(path, "enterprise")
    first = next(it)
    assert (first.name, first.line) == ("d0.example", 1)
    count = 1 + sum(1 for _ in it)
    assert count == 1_000_000


def test_bad_sector_for_plain_lists(tmp_path: Path) -> None:
    path = write(tmp_path, "list.txt", "a.example\n")
    message = "unknown sector 'goverment'; expected one of government, operator, enterprise"
    with pytest.raises(ValueError, match=message):
        list(iter_plain_targets(path, "goverment"))
    with pytest.raises(ValueError, match=message):
        list(iter_targets([path], "goverment"))
    with pytest.raises(ValueError, match=message):
        validate_files([path], "goverment")


# --- several files -----------------------------------------------------------------------------


def test_iter_targets_dispatches_and_finds_duplicates_across_files(tmp_path: Path) -> None:
    yaml_path = write(
        tmp_path,
        "a.yaml",
        """
        version: 1
        name: x
        targets:
          - {name: a.example, sector: government, domains: [a.example]}
        """,
    )
    txt = write(tmp_path, "b.txt", "b.example\n")
    csv_path = write(tmp_path, "c.csv", "1,c.example\n2,A.example\n")
    targets = list(iter_targets([yaml_path, txt], default_sector="operator"))
    assert [(t.name, t.sector, t.source, t.line) for t in targets] == [
        ("a.example", "government", str(yaml_path), 4),  # YAML targets keep their own sector
        ("b.example", "operator", str(txt), 1),
    ]
    assert [t.sector for t in iter_targets([txt])] == ["enterprise"]
    with pytest.raises(TargetError) as info:
        list(iter_targets([yaml_path, txt, csv_path], "operator"))
    assert (
        str(info.value)
        == f"{csv_path}:2: duplicate target name 'a.example' (first at {yaml_path}:4)"
    )
    assert [str(e) for e in validate_files([yaml_path, txt, csv_path])] == [str(info.value)]


def test_keep_splits_a_validated_list_into_disjoint_shares(tmp_path: Path) -> None:
    """A bulk worker's share (run_share): each target in exactly one share, the names as
    the whole list gives them, whatever case or form a line wrote its domain in."""
    from ipv6scan.engine.run import share_of

    yaml_path = write(
        tmp_path,
        "a.yaml",
        """
        version: 1
        name: x
        targets:
          - {name: y1.example, sector: government, domains: [y1.example]}
          - {name: y2.example, sector: government, domains: [y2.example]}
        """,
    )
    txt = write(tmp_path, "b.txt", "".join(f"N{i}.Example.\n# c\n\n" for i in range(40)))
    csv_path = write(
        tmp_path, "c.csv", "rank,domain\n" + "".join(f"{i + 1},c{i}.example\n" for i in range(40))
    )
    paths = [yaml_path, txt, csv_path]
    whole = [(t.name, t.line) for t in iter_targets(paths, validated=True)]
    shares = [
        [
            (t.name, t.line)
            for t in iter_targets(paths, validated=True, keep=lambda d, k=k: share_of(d, 3) == k)
        ]
        for k in range(3)
    ]
    assert sorted(t for share in shares for t in share) == sorted(whole) and len(whole) == 82
    assert all(shares)  # each worker gets some
    assert ("n0.example", 1) in whole  # normalised after the split


def test_yaml_duplicate_across_files(tmp_path: Path) -> None:
    a = write(
        tmp_path,
        "a.yml",
        "version: 1\nname: x\ntargets: [{name: P, sector: operator, domains: [a.example]}]\n",
    )
    b = write(
        tmp_path,
        "b.yaml",
        "version: 1\nname: y\ntargets:\n  - {name: P, sector: operator, domains: [b.example]}\n",
    )
    errors = validate_files([a, b])
    assert [(e.path, e.line, e.message) for e in errors] == [
        (str(b), 4, f"duplicate target name 'P' (first at {a}:3)")
    ]


def test_same_file_twice(tmp_path: Path) -> None:
    path = write(tmp_path, "list.txt", "a.example\n")
    errors = validate_files([path, path])
    assert [(e.line, e.message) for e in errors] == [(None, "file given more than once")]


def test_iter_targets_raises_target_errors_for_invalid_yaml(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "bad.yaml",
        "version: 1\nname: x\ntargets: [{name: a, sector: x, domains: [a.example]}]\n",
    )
    with pytest.raises(TargetErrors) as info:
        list(iter_targets([path]))
    assert [(e.line, e.message) for e in info.value.errors] == [
        (3, "unknown sector 'x'; expected one of government, operator, enterprise")
    ]


# --- addresses: the C library's reading agrees with ipaddress's --------------------------------


def _address_spellings(rnd: random.Random) -> list[str]:
    """One address in several spellings: compressed, exploded, upper case, unpadded."""
    words = [rnd.choice([0, 0, 0, 1, 0xFFFF, rnd.getrandbits(16)]) for _ in range(8)]
    address = ipaddress.IPv6Address(b"".join(w.to_bytes(2, "big") for w in words))
    exploded = address.exploded
    unpadded = ":".join(h.lstrip("0") or "0" for h in exploded.split(":"))
    return [address.compressed, exploded, exploded.upper(), unpadded, f" {address} "]


def test_address_entries_read_fast_as_ipaddress_writes_them() -> None:
    rnd = random.Random(6)
    for _ in range(5_000):
        for text in _address_spellings(rnd):
            fast = entries._plain_ipv6(text)
            assert fast is None or fast == str(ipaddress.ip_address(text.strip())), text
            assert entries.classify(text.strip()) == "address"
            assert entries.ENTRY_PARSERS["address"](text) == str(ipaddress.ip_address(text.strip()))


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("::ffff:1.2.3.4", "::ffff:102:304"),  # glibc writes the IPv4 form: ipaddress decides
        ("::1:2", "::1:2"),  # glibc writes ::0.1.0.2
        ("2001:db8::1.2.3.4", "2001:db8::102:304"),
        ("1:0:0:1:0:0:0:1", "1:0:0:1::1"),
        ("[2001:db8::1]", "2001:db8::1"),
    ],
)
def test_address_entries_the_fast_reading_leaves_alone(text: str, written: str) -> None:
    assert entries.ENTRY_PARSERS["address"](text) == written


def test_text_that_is_no_address_is_not_read_as_one() -> None:
    for text in ("1::2::3", "12345::", "g::1", "fe80::1%eth0", "2001:db8::1/64", "host.example"):
        assert entries._plain_ipv6(text) is None, text


# --- a plain line already in normal form skips the general checks ---------------------------

_LINE_PIECES = ["a", "b", "z", "0", "9", "-", ".", "xn--", "A", "_", " ", "#", "\r", "\ufeff",
                "1", "123", "é", "/", ":", "x" * 63, "y" * 64]  # fmt: skip


@given(st.lists(st.sampled_from(_LINE_PIECES), min_size=1, max_size=12), st.booleans())
def test_a_ready_line_reads_as_the_general_checks_read_it(pieces: list[str], newline: bool) -> None:
    raw = ("".join(pieces) + ("\n" if newline else "")).encode("utf-8")
    ready = _ready_name(raw)
    if ready is None:
        return
    assert ready == check_domain(_txt_domain(raw.decode("utf-8")) or "")


@pytest.mark.parametrize(
    ("line", "ready"),
    [
        (b"example.gov.cn\n", "example.gov.cn"),
        (b"n7.bench.example\r\n", "n7.bench.example"),
        (b"localhost", "localhost"),
        (b"Example.com\n", None),  # upper case: normalised by the general path
        (b"example.com.\n", None),  # the final dot too
        (b"xn--fiqs8s.cn\n", None),  # an A-label is checked by IDNA
        (b"198.51.100.7\n", None),  # an address is an error there
        (b"example.com # ministry\n", None),
        (b"-bad.example\n", None),
        (b"a." * 126 + b"ab\n", None),  # 254 octets
    ],
)
def test_only_a_name_in_normal_form_is_ready(line: bytes, ready: str | None) -> None:
    assert _ready_name(line) == ready
