"""Host names, address literals and resolver specs as users write them.

Everything the scanner prints or stores uses one spelling of a host name: lower-case IDNA
A-labels without the trailing dot (see INTERFACE.md, `subject`). `normalize_hostname` is the
only place that spelling is produced, so target lists, the command line and the report agree.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

import idna

from ipv6scan.safetext import quote

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_LABEL_OCTETS = 63
MAX_NAME_OCTETS = 253  # presentation form without the trailing dot (RFC 1035: 255 on the wire)
DEFAULT_DNS_PORT = 53
_DEFAULT_PORTS = {"http": 80, "https": 443}  # the URL schemes a target list may use

# Letters, digits and hyphen (RFC 952/1123 "LDH"). The underscore is deliberately refused: it is
# legal in DNS owner names (_dmarc, _sip._tcp) but never in the name of a host one connects
# to, and every subject we check is such a host.
_LDH = re.compile(r"[a-z0-9-]+")
# Fast path for the common case (plain ASCII LDH name, no A-labels): a million-line list
# should not pay for the label-by-label checks below.
_PLAIN_NAME = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)(?:\.(?!-)[a-z0-9-]{1,63}(?<!-))*")
_ADDRESS_CHARS = frozenset("0123456789abcdefABCDEF:.")


class InvalidName(ValueError):
    """A host name, address or resolver spec that cannot be used; the message says why."""

    def __init__(self, name: str, reason: str, what: str = "host name") -> None:
        self.name = name
        self.reason = reason
        self.what = what
        super().__init__(f"invalid {what} {quote(name)}: {reason}")

    def __reduce__(self) -> tuple[type[InvalidName], tuple[str, str, str]]:
        return type(self), (self.name, self.reason, self.what)  # picklable across processes


def normalize_hostname(text: str) -> str:
    """Return `text` as a lower-case A-label name without the trailing dot, or raise InvalidName."""
    if not isinstance(text, str):
        raise InvalidName(repr(text), f"expected a string, got {type(text).__name__}")
    name = text.strip()
    if not name.isascii():
        # UTS46 maps case, full-width forms and the ideographic full stop (。) the way browsers
        # do, so a name copied from a Chinese page normalises to what a browser would look up.
        try:
            name = idna.uts46_remap(name, std3_rules=False, transitional=False)
        except idna.IDNAError as exc:
            raise InvalidName(text, str(exc)) from None
    name = name.lower()
    if name.endswith("."):
        name = name[:-1]
    if is_normal_name(name):
        return name
    if not name:
        raise InvalidName(text, "empty name")
    labels = [_label_to_ascii(text, label) for label in name.split(".")]
    result = ".".join(labels)
    if len(result) > MAX_NAME_OCTETS:
        raise InvalidName(text, f"name is {len(result)} octets, longer than {MAX_NAME_OCTETS}")
    if labels[-1].isdigit():
        # An all-digit last label makes a name indistinguishable from an IPv4 literal (RFC 3696
        # s2); refusing it catches mistyped addresses such as 192.0.2.999.
        raise InvalidName(text, f"last label {labels[-1]!r} is all digits (not a top-level domain)")
    return result


def is_normal_name(name: str) -> bool:
    """`name` is what normalize_hostname returns for it, with no more checks to make:
    lower-case LDH labels, no A-label to check, not too long, not an IPv4 look-alike."""
    return (
        _PLAIN_NAME.fullmatch(name) is not None
        and "xn--" not in name
        and len(name) <= MAX_NAME_OCTETS
        and not name.rpartition(".")[2].isdigit()
    )


def www_name(domain: str) -> str | None:
    """www.D, or None when that is longer than a DNS name can be: a domain of 250 to 253
    octets is valid, but its www cannot exist (and no DNS message can carry the name)."""
    name = f"www.{domain}"
    return name if len(name) <= MAX_NAME_OCTETS else None


def _label_to_ascii(text: str, label: str) -> str:
    if not label:
        raise InvalidName(text, "empty label")
    if not label.isascii():
        try:
            label = idna.alabel(label).decode("ascii")
        except (idna.IDNAError, UnicodeError) as exc:
            reason = f"label {quote(label)} is not a valid IDN label: {exc}"
            raise InvalidName(text, reason) from None
    if len(label) > MAX_LABEL_OCTETS:
        raise InvalidName(
            text, f"label '{label[:16]}...' is {len(label)} octets, longer than {MAX_LABEL_OCTETS}"
        )
    if not _LDH.fullmatch(label):
        bad = next(ch for ch in label if not _LDH.fullmatch(ch))
        raise InvalidName(
            text,
            f"character {quote(bad)} in label {quote(label)} "
            "(only letters, digits and '-' allowed)",
        )
    if label.startswith("-") or label.endswith("-"):
        raise InvalidName(text, f"label {quote(label)} starts or ends with '-'")
    if label.startswith("xn--"):
        # An A-label must decode and re-encode to itself; anything else is punycode garbage.
        try:
            if idna.alabel(idna.ulabel(label)).decode("ascii") != label:
                raise idna.IDNAError("does not round-trip")
        except (idna.IDNAError, UnicodeError) as exc:
            raise InvalidName(
                text, f"label {quote(label)} is not a valid IDNA A-label ({exc})"
            ) from None
    return label


def to_unicode(name: str) -> str:
    """Return the U-label form of an A-label name for display; the input itself if not decodable."""
    try:
        return idna.decode(name)
    except (idna.IDNAError, UnicodeError, ValueError):
        return name


def parse_ip_literal(text: str) -> IPAddress | None:
    """Return the address `text` spells, or None if it is not an address literal.

    A bracketed form ``[2001:db8::1]`` is accepted for IPv6. Zone ids (``fe80::1%eth0``) are
    refused with InvalidName: they name an interface of this machine and mean nothing in a
    shared target list.
    """
    raw = text.strip()
    bracketed = raw.startswith("[") and raw.endswith("]")
    inner = raw[1:-1] if bracketed else raw
    if "%" in inner and ":" in inner:
        raise InvalidName(text, "zone ids (%...) are not accepted", what="address")
    if not bracketed and not _ADDRESS_CHARS.issuperset(inner):
        return None  # cheap answer for host names, which nearly always have other letters
    try:
        addr = ipaddress.ip_address(inner)
    except ValueError:
        if bracketed:
            raise InvalidName(text, "brackets must hold an IPv6 address", what="address") from None
        return None
    if bracketed and addr.version != 6:
        raise InvalidName(text, "brackets are only for IPv6 addresses", what="address")
    return addr


def parse_resolver(text: str) -> tuple[str, int]:
    """Parse ``ADDR[#PORT]`` (ADDR an IPv4 or IPv6 literal) into (compressed address, port)."""
    raw = text.strip()
    addr_text, sep, port_text = raw.partition("#")
    try:
        addr = parse_ip_literal(addr_text) if addr_text else None
    except InvalidName as exc:
        raise InvalidName(text, exc.reason, what="resolver") from None
    if addr is None:
        raise InvalidName(
            text, "expected an IPv4 or IPv6 address literal, optionally with #port", "resolver"
        )
    port = DEFAULT_DNS_PORT
    if sep:
        if not port_text.isdecimal() or not port_text.isascii() or not 0 < int(port_text) < 65536:
            raise InvalidName(text, f"port {quote(port_text)} is not a number 1-65535", "resolver")
        port = int(port_text)
    return str(addr), port


def format_resolver(address: str, port: int = DEFAULT_DNS_PORT) -> str:
    """The stored spelling of a resolver: ``addr``, or ``addr#port`` when the port is not 53."""
    return address if port == DEFAULT_DNS_PORT else f"{address}#{port}"


def normalize_url(text: str) -> str:
    """Return an http(s) URL with its host normalised, or raise InvalidName.

    The scheme and host are lower-cased, the host goes to A-labels (IPv6 in brackets,
    compressed), a default port is dropped, an empty path becomes ``/``; path and query are
    kept as written. The fragment is dropped: it never reaches the server.
    """
    raw = text.strip()
    if not raw or any(ch.isspace() for ch in raw):
        raise InvalidName(text, "empty or contains white space", what="URL")
    try:
        parts = urlsplit(raw)
    except ValueError as exc:
        raise InvalidName(text, str(exc), what="URL") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise InvalidName(text, f"scheme {quote(parts.scheme)} is not http or https", what="URL")
    if "@" in parts.netloc:
        raise InvalidName(text, "credentials (user@) do not belong in a target list", what="URL")
    host_text, port = _split_hostport(text, parts.netloc)
    try:
        addr = parse_ip_literal(host_text)
        if addr is None:
            host = normalize_hostname(host_text)
        else:
            host = f"[{addr}]" if addr.version == 6 else str(addr)
    except InvalidName as exc:
        raise InvalidName(text, f"host {quote(host_text)}: {exc.reason}", what="URL") from None
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    query = f"?{parts.query}" if parts.query else ""
    return f"{scheme}://{host}{parts.path or '/'}{query}"


def _split_hostport(text: str, netloc: str) -> tuple[str, int | None]:
    if netloc.startswith("["):
        end = netloc.find("]")
        host, rest = netloc[: end + 1], netloc[end + 1 :]
    elif netloc.count(":") > 1:
        raise InvalidName(text, "an IPv6 address in a URL needs brackets", what="URL")
    else:
        host, colon, port_text = netloc.partition(":")
        rest = colon + port_text
    if not host:
        raise InvalidName(text, "no host", what="URL")
    port_text = rest[1:]
    if not port_text and rest in ("", ":"):  # RFC 3986 allows an empty port after the colon
        return host, None
    if rest[0] != ":" or not (port_text.isascii() and port_text.isdecimal()):
        raise InvalidName(text, f"bad port {quote(rest)}", what="URL")
    if not 0 < int(port_text) < 65536:
        raise InvalidName(text, f"port {port_text} is not in 1-65535", what="URL")
    return host, int(port_text)
