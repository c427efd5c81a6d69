import ipaddress
import pickle

import pytest

from ipv6scan.names import (
    InvalidName,
    format_resolver,
    normalize_hostname,
    normalize_url,
    parse_ip_literal,
    parse_resolver,
    to_unicode,
    www_name,
)
from ipv6scan.safetext import quote


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Example.COM", "example.com"),
        ("  www.example.com.  ", "www.example.com"),
        ("Bücher.Example.", "xn--bcher-kva.example"),
        ("湖南。中国", "xn--6kr114d.xn--fiqs8s"),  # ideographic full stop is a dot (UTS46)
        ("ＥＸＡＭＰＬＥ.com", "example.com"),  # full-width letters map to ASCII
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("r3---sn-abc.googlevideo.com", "r3---sn-abc.googlevideo.com"),
        ("localhost", "localhost"),
        ("a" * 63 + ".example", "a" * 63 + ".example"),
    ],
)
def test_normalize_hostname_accepts(text: str, expected: str) -> None:
    assert normalize_hostname(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("a..b", "empty label"),
        ("example.com..", "empty label"),
        (".", "empty name"),
        ("   ", "empty name"),
        ("bad_name.example", "character '_' in label 'bad_name'"),
        ("a b.example", "character ' '"),
        ("-a.example", "starts or ends with '-'"),
        ("a-.example", "starts or ends with '-'"),
        ("xn--zz.example", "not a valid IDNA A-label"),
        ("a" * 64 + ".example", "is 64 octets, longer than 63"),
        (".".join(["a" * 60] * 5), "longer than 253"),
        ("192.0.2.999", "all digits"),
        ("bü_cher.example", "not a valid IDN label"),
    ],
)
def test_normalize_hostname_rejects(text: str, reason: str) -> None:
    with pytest.raises(InvalidName) as info:
        normalize_hostname(text)
    message = str(info.value)
    # the value quoted as every error message quotes one: whole, or a bounded excerpt
    assert message.startswith(f"invalid host name {quote(text)}: ")
    assert reason in message


def test_invalid_name_message_format() -> None:
    with pytest.raises(InvalidName, match=r"^invalid host name 'a\.\.b': empty label$"):
        normalize_hostname("a..b")


def test_invalid_name_pickles() -> None:
    err = pickle.loads(pickle.dumps(InvalidName("a..b", "empty label")))
    assert (str(err), err.name, err.reason) == (
        "invalid host name 'a..b': empty label",
        "a..b",
        "empty label",
    )


def test_to_unicode() -> None:
    assert to_unicode("xn--bcher-kva.example") == "bücher.example"
    assert to_unicode("xn--zz.example") == "xn--zz.example"  # undecodable: shown as is
    assert to_unicode("plain.example") == "plain.example"


def test_parse_ip_literal() -> None:
    assert parse_ip_literal("2001:DB8:0::1") == ipaddress.IPv6Address("2001:db8::1")
    assert parse_ip_literal("[2001:db8::1]") == ipaddress.IPv6Address("2001:db8::1")
    assert parse_ip_literal(" 198.51.100.7 ") == ipaddress.IPv4Address("198.51.100.7")
    assert parse_ip_literal("www.example") is None
    assert parse_ip_literal("192.0.2.999") is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("fe80::1%eth0", "zone ids"),
        ("[fe80::1%eth0]", "zone ids"),
        ("[192.0.2.1]", "only for IPv6"),
        ("[www.example]", "must hold an IPv6 address"),
    ],
)
def test_parse_ip_literal_rejects(text: str, reason: str) -> None:
    with pytest.raises(InvalidName, match=reason):
        parse_ip_literal(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("198.51.100.53", ("198.51.100.53", 53)),
        ("2001:db8::53#5353", ("2001:db8::53", 5353)),
        ("2001:DB8:0:0::53", ("2001:db8::53", 53)),
        ("[2001:db8::53]#53", ("2001:db8::53", 53)),
    ],
)
def test_parse_resolver(text: str, expected: tuple[str, int]) -> None:
    assert parse_resolver(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("dns.example", "expected an IPv4 or IPv6 address literal"),
        ("2001:db8::53#0", "port '0' is not a number 1-65535"),
        ("2001:db8::53#65536", "port '65536'"),
        ("2001:db8::53#", "port ''"),
        ("198.51.100.53:53", "expected an IPv4 or IPv6 address literal"),
        ("fe80::53%eth0#53", "zone ids"),
    ],
)
def test_parse_resolver_rejects(text: str, reason: str) -> None:
    with pytest.raises(InvalidName) as info:
        parse_resolver(text)
    assert str(info.value).startswith(f"invalid resolver {text!r}: ")
    assert reason in str(info.value)


def test_format_resolver() -> None:
    assert format_resolver("2001:db8::53") == "2001:db8::53"
    assert format_resolver("2001:db8::53", 5353) == "2001:db8::53#5353"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://Selfcare.Operator.example", "https://selfcare.operator.example/"),
        ("HTTP://[2001:DB8::1]:80/a?b=1#frag", "http://[2001:db8::1]/a?b=1"),
        ("https://Bücher.example:8443/x", "https://xn--bcher-kva.example:8443/x"),
        ("http://192.0.2.1:8080", "http://192.0.2.1:8080/"),
    ],
)
def test_normalize_url(text: str, expected: str) -> None:
    assert normalize_url(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("ftp://files.example/", "scheme 'ftp' is not http or https"),
        ("http://2001:db8::1/", "needs brackets"),
        ("https://user:pw@a.example/", "credentials"),
        ("https://a_b.example/", "character '_'"),
        ("https://a.example:99999/", "not in 1-65535"),
        ("https:///path", "no host"),
        ("https://a.example/a b", "white space"),
    ],
)
def test_normalize_url_rejects(text: str, reason: str) -> None:
    with pytest.raises(InvalidName) as info:
        normalize_url(text)
    assert str(info.value).startswith(f"invalid URL {text!r}: ")
    assert reason in str(info.value)


def test_www_of_a_domain_too_long_for_it_is_none() -> None:
    # Given valid domains of 249 and 250 octets (the limit is 253)
    short = normalize_hostname(".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 57]))
    longer = normalize_hostname(".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 58]))
    assert (len(short), len(longer)) == (249, 250)
    # Then only the shorter one has a www name that DNS can carry
    assert www_name(short) == f"www.{short}" and len(f"www.{short}") == 253
    assert www_name(longer) is None
