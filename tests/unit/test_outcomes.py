"""The outcome vocabularies (issue 15 item 3): one StrEnum per kind of outcome, each value
spelled once, and written to results.jsonl exactly as the plain strings were before."""

from __future__ import annotations

from enum import StrEnum
from types import ModuleType

from ipv6scan.dnsclient import records
from ipv6scan.model import json_text
from ipv6scan.observations import delegation, mail, net, pmtu, web

# Every value as results.jsonl carries it (evidence "outcome", "end", "ending", "kind",
# "rcode"): renaming one changes the files users keep and compare, so it fails here first.
WRITTEN: dict[type[StrEnum], set[str]] = {
    records.DnsOutcome: {"TIMEOUT", "PORT_UNREACHABLE", "NO_PATH", "NET_ERROR", "MALFORMED"},
    web.ConnectOutcome: {
        "open",
        "response",
        "refused",
        "reset",
        "timeout",
        "tls_error",
        "protocol_error",
        "no_path",
        "error",
        "not_probed",
    },
    web.ChainEnd: {
        "final",
        "no_response",
        "no_address",
        "lookup_failed",
        "too_many_redirects",
        "bad_redirect",
    },
    mail.SmtpOutcome: {
        "greeting",
        "rejected",
        "refused",
        "timeout",
        "closed",
        "reset",
        "malformed",
        "oversized",
        "no_path",
        "net_error",
    },
    net.EchoKind: {"reply", "time_exceeded", "unreachable", "timeout", "no_path", "send_error"},
    delegation.WalkEnding: {
        "reached",
        "nxdomain",
        "stuck",
        "unfollowed",
        "too_long",
        "no_tld",
        "no_ipv6",
    },
    pmtu.RawOutcome: {"complete", "stalled", "no_connection", "broken", "not_sent"},
}
# Where each enum lives, with its members also under their old module-level names.
HOMES: dict[type[StrEnum], ModuleType] = {
    records.DnsOutcome: records,
    web.ConnectOutcome: web,
    web.ChainEnd: web,
    mail.SmtpOutcome: mail,
    net.EchoKind: net,
    delegation.WalkEnding: delegation,
    pmtu.RawOutcome: pmtu,
}


def test_the_written_values_are_unchanged() -> None:
    for enum, values in WRITTEN.items():
        assert {member.value for member in enum} == values, enum.__name__


def test_each_value_is_spelled_once() -> None:
    spellings: dict[str, str] = {}
    for enum in WRITTEN:
        assert len(enum.__members__) == len(list(enum)), f"{enum.__name__} has an alias"
        for member in enum:
            # a member's name is its value, in the case of its vocabulary
            assert member.name.lower() == member.value.lower() or (
                member is records.DnsOutcome.PORT_UNREACHABLE
            )
            if enum is not records.DnsOutcome:  # rcodes are upper case: NOERROR, TIMEOUT
                assert member.value == member.name.lower()
                assert spellings.setdefault(member.name, member.value) == member.value


def test_the_old_names_are_the_members() -> None:
    for enum, module in HOMES.items():
        for member in enum:
            if hasattr(module, member.name):
                assert getattr(module, member.name) is member, f"{module.__name__}.{member.name}"
    assert records.REFUSED_PORT is records.DnsOutcome.PORT_UNREACHABLE


def test_a_member_writes_as_its_plain_string() -> None:
    evidence = {"outcome": web.ConnectOutcome.NO_PATH, "rcode": records.DnsOutcome.NO_PATH}
    assert json_text(evidence) == json_text({"outcome": "no_path", "rcode": "NO_PATH"})
    assert f"{mail.SmtpOutcome.GREETING}" == str(mail.SmtpOutcome.GREETING) == "greeting"
    # a plain string (a test's, an older observation's) finds its member, and hashes alike
    assert "no_path" in net.SCANNER_SIDE and hash("open") == hash(web.ConnectOutcome.OPEN)


def test_no_answer_outcomes_are_the_dns_outcomes() -> None:
    assert frozenset(records.DnsOutcome) == records.NO_ANSWER_OUTCOMES
    assert not records.DnsReply("a.test", "AAAA", "::1", "TIMEOUT").answered
    assert records.DnsReply("a.test", "AAAA", "::1", "NOERROR").answered
