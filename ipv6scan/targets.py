"""Target lists: YAML files checked against INTERFACE.md, and plain .txt/.csv domain lists.

The YAML is composed into nodes, never constructed into objects, and walked here so that
every error names the line of the node at fault. Validation goes on past the first error so
that one `ipv6scan validate` run shows everything to fix. Plain lists are streamed line by
line: a million-line Tranco list costs the memory of its set of names, nothing more.
"""

from __future__ import annotations

import csv
import dataclasses
import difflib
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ipv6scan.model import SECTORS, SYSTEM_KINDS, SYSTEM_TIERS, SystemEntry, Target
from ipv6scan.names import (
    InvalidName,
    format_resolver,
    normalize_hostname,
    normalize_url,
    parse_ip_literal,
    parse_resolver,
)

PathLike = str | os.PathLike[str]

MAX_YAML_BYTES = 64 * 1024 * 1024  # larger sets belong in a streamed .txt/.csv list
MAX_ERRORS = 100  # per file; past this the rest is noise
MAX_LINE_BYTES = 4096  # a plain-list line this long cannot hold a 253-octet name
YAML_SUFFIXES = (".yaml", ".yml")
PLAIN_SUFFIXES = (".txt", ".csv")

TOP_KEYS = ("version", "name", "targets", "milestones")  # milestones: reserved, ignored here
TARGET_KEYS = ("name", "sector", "domains", "systems")
ENTRY_KEYS = (*SYSTEM_KINDS, "checks")

_TAG = "tag:yaml.org,2002:"
# The C parser when PyYAML has it: same nodes and marks, much faster on big files.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class TargetListError(Exception):
    """Base of TargetError and TargetErrors: `errors` lists every problem found."""

    errors: list[TargetError]


class TargetError(TargetListError):
    """One problem in a target file, at a line where known."""

    def __init__(self, path: PathLike, line: int | None, message: str) -> None:
        super().__init__(os.fspath(path), line, message)  # args match __init__: picklable
        self.path = os.fspath(path)
        self.line = line
        self.message = message
        self.errors = [self]

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.message}"


class TargetErrors(TargetListError):
    """Every problem found in a target file (at most MAX_ERRORS, then a note)."""

    def __init__(self, errors: list[TargetError]) -> None:
        super().__init__(errors)
        self.errors = list(errors)

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)


@dataclass(frozen=True)
class TargetList:
    path: str
    name: str
    version: int
    targets: tuple[Target, ...]
    milestones: object = None  # the raw `milestones` value, safely constructed; not validated yet
    # The same value as composed YAML nodes, so ipv6scan.milestones can name lines in its errors.
    milestones_node: Node | None = dataclasses.field(default=None, compare=False, repr=False)


def check_sector(sector: str) -> str:
    """Return `sector` if it is a known sector, else raise ValueError saying which are."""
    if sector not in SECTORS:
        raise ValueError(f"unknown sector {sector!r}; expected one of {', '.join(SECTORS)}")
    return sector


# ---------------------------------------------------------------------------------------------
# YAML


def load_yaml_targets(path: PathLike) -> TargetList:
    """Load and validate one YAML target list; raise TargetErrors listing every problem."""
    spath = os.fspath(path)
    try:
        root = _compose(spath, _read_text(spath, MAX_YAML_BYTES))
    except TargetError as exc:
        raise TargetErrors([exc]) from None
    walker = _Walker(spath)
    try:
        result = walker.document(root)
    except _TooManyErrors:
        result = None
    if walker.errors or result is None:
        # In file order, so the report reads top to bottom; the "too many" note stays last.
        capped = len(walker.errors) > MAX_ERRORS
        errors = sorted(walker.errors[:MAX_ERRORS], key=lambda e: e.line or 0)
        raise TargetErrors(errors + walker.errors[MAX_ERRORS:] if capped else errors)
    return result


def _read_text(path: str, limit: int) -> str:
    try:
        with open(path, "rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise TargetError(path, None, f"cannot read file: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise TargetError(
            path, None, f"file is larger than {limit >> 20} MiB; use a .txt or .csv list instead"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise TargetError(path, line, f"not valid UTF-8 (byte 0x{data[exc.start]:02x})") from None
    return text.removeprefix("\ufeff")


def _compose(path: str, text: str) -> Node | None:
    try:
        # Aliases are refused: an alias re-uses a node, and a few nested aliases make the walk
        # (and the target set) grow exponentially. Target lists do not need them.
        for event in yaml.parse(text, Loader=_LOADER):
            if isinstance(event, yaml.AliasEvent):
                raise TargetError(
                    path,
                    event.start_mark.line + 1,
                    f"YAML alias *{event.anchor} is not supported in target lists; "
                    "write the value out",
                )
        return yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = exc.problem or exc.context or "error"
        if exc.context and exc.problem and exc.context_mark:
            what += f" ({exc.context} at line {exc.context_mark.line + 1})"
        raise TargetError(path, mark.line + 1 if mark else None, f"YAML syntax: {what}") from None
    except yaml.YAMLError as exc:  # ReaderError: a character YAML does not allow
        line = text.count("\n", 0, getattr(exc, "position", 0)) + 1
        reason = getattr(exc, "reason", "") or str(exc).splitlines()[0]
        raise TargetError(path, line, f"YAML syntax: {reason}") from None


class _TooManyErrors(Exception):
    pass


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


def _is_str(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == _TAG + "str"


_KINDS = {
    "str": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "true/false",
    "null": "nothing",
    "timestamp": "a date",
    "binary": "binary data",
}


def _describe(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    kind = _KINDS.get(node.tag.removeprefix(_TAG), f"a value tagged {node.tag}")
    value = str(node.value)
    return f"{kind} ({value[:40]!r})" if value else kind


def _unknown_key(key: str, what: str, allowed: Iterable[str]) -> str:
    allowed = tuple(allowed)
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown key {key!r} in {what}{hint}; allowed keys: {', '.join(allowed)}"


class _Walker:
    """Checks one composed YAML document, collecting errors as it goes."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.errors: list[TargetError] = []
        self.names: dict[str, int] = {}  # target name -> line of its first use

    def error(self, where: Node | None, message: str) -> None:
        self.errors.append(
            TargetError(self.path, _line(where) if where is not None else None, message)
        )
        if len(self.errors) >= MAX_ERRORS:
            self.errors.append(
                TargetError(self.path, None, f"too many errors; stopped after {MAX_ERRORS}")
            )
            raise _TooManyErrors

    def fields(
        self, node: Node, what: str, allowed: tuple[str, ...], required: tuple[str, ...]
    ) -> dict[str, tuple[Node, Node]] | None:
        """The (key node, value node) pairs of a mapping, by key; None if it is no mapping."""
        if not isinstance(node, MappingNode):
            self.error(node, f"{what} must be a mapping, got {_describe(node)}")
            return None
        out: dict[str, tuple[Node, Node]] = {}
        for key, value in node.value:
            if not _is_str(key):
                self.error(key, f"keys of {what} must be strings, got {_describe(key)}")
            elif key.value in out:
                first = _line(out[key.value][0])
                self.error(key, f"duplicate key {key.value!r} in {what} (first at line {first})")
            elif key.value not in allowed:
                self.error(key, _unknown_key(key.value, what, allowed))
            else:
                out[key.value] = (key, value)
        for name in required:
            if name not in out:
                self.error(node, f"{what} is missing required key {name!r}")
        return out

    def string(self, node: Node, what: str) -> str | None:
        if not _is_str(node):
            self.error(node, f"{what} must be a string, got {_describe(node)}")
            return None
        value = str(node.value).strip()
        if not value:
            self.error(node, f"{what} is empty")
            return None
        return value

    def sequence(self, node: Node, what: str) -> list[Node]:
        if not isinstance(node, SequenceNode):
            self.error(node, f"{what} must be a list, got {_describe(node)}")
            return []
        return list(node.value)

    def document(self, root: Node | None) -> TargetList | None:
        if root is None:
            self.error(None, "file is empty; expected a mapping with version, name and targets")
            return None
        fields = self.fields(root, "the top level", TOP_KEYS, ("version", "name", "targets"))
        if fields is None:
            return None
        version = self.version(fields["version"][1]) if "version" in fields else None
        name = self.string(fields["name"][1], "name") if "name" in fields else None
        targets: list[Target] = []
        if "targets" in fields:
            node = fields["targets"][1]
            items = self.sequence(node, "targets")
            if isinstance(node, SequenceNode) and not items:
                self.error(node, "targets is empty; list at least one target")
            for item in items:
                target = self.target(item)
                if target is not None:
                    targets.append(target)
        milestones = self.construct(fields["milestones"][1]) if "milestones" in fields else None
        if version is None or name is None or self.errors:
            return None
        node = fields["milestones"][1] if "milestones" in fields else None
        return TargetList(self.path, name, version, tuple(targets), milestones, node)

    def version(self, node: Node) -> int | None:
        value = self.construct(node) if node.tag == _TAG + "int" else None
        if type(value) is not int:
            self.error(node, f"version must be the integer 1, got {_describe(node)}")
            return None
        if value != 1:
            self.error(node, f"unsupported version {value}; this ipv6scan reads version 1")
            return None
        return value

    def construct(self, node: Node) -> object:
        # SafeLoader's constructor builds only plain data (str, int, list, dict, date ...).
        loader = yaml.SafeLoader("")
        try:
            return loader.construct_object(node, deep=True)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or node.start_mark
            self.errors.append(TargetError(self.path, mark.line + 1, f"YAML: {exc.problem}"))
            return None
        finally:
            loader.dispose()

    def target(self, node: Node) -> Target | None:
        before = len(self.errors)
        fields = self.fields(node, "target", TARGET_KEYS, ("name", "sector"))
        if fields is None:
            return None
        name = self.target_name(fields["name"][1]) if "name" in fields else None
        sector = self.sector(fields["sector"][1]) if "sector" in fields else None
        domains = self.domains(fields["domains"][1]) if "domains" in fields else ()
        systems = self.systems(fields["systems"][1]) if "systems" in fields else ()
        if not domains and not systems and len(self.errors) == before:
            self.error(node, f"target {name!r} has no domains and no systems; give at least one")
        if name is None or sector is None or len(self.errors) != before:
            return None
        return Target(name, sector, domains, systems, source=self.path, line=_line(node))

    def target_name(self, node: Node) -> str | None:
        name = self.string(node, "target name")
        if name is None:
            return None
        if name in self.names:
            self.error(node, f"duplicate target name {name!r} (first at line {self.names[name]})")
            return None
        self.names[name] = _line(node)
        return name

    def sector(self, node: Node) -> str | None:
        value = self.string(node, "sector")
        if value is not None and value not in SECTORS:
            self.error(node, f"unknown sector {value!r}; expected one of {', '.join(SECTORS)}")
            return None
        return value

    def domains(self, node: Node) -> tuple[str, ...]:
        if _is_str(node):
            self.error(node, f"domains must be a list, got a string; write [{node.value}]")
            return ()
        seen: dict[str, int] = {}
        for item in self.sequence(node, "domains"):
            text = self.string(item, "domain")
            if text is None:
                continue
            try:
                domain = check_domain(text, "; put URLs and addresses under systems")
            except ValueError as exc:
                self.error(item, str(exc))
                continue
            if domain in seen:
                self.error(item, f"duplicate domain {domain!r} (first at line {seen[domain]})")
            else:
                seen[domain] = _line(item)
        return tuple(seen)

    def systems(self, node: Node) -> tuple[SystemEntry, ...]:
        fields = self.fields(node, "systems", SYSTEM_TIERS, ())
        entries: list[SystemEntry] = []
        for tier, (_key, value) in (fields or {}).items():
            seen: dict[tuple[str, str], int] = {}
            for item in self.sequence(value, f"systems tier {tier!r}"):
                entry = self.entry(tier, item)
                if entry is None:
                    continue
                first = seen.get((entry.kind, entry.value))
                if first is not None:
                    self.error(
                        item, f"duplicate {tier} entry {entry.value!r} (first at line {first})"
                    )
                else:
                    seen[(entry.kind, entry.value)] = _line(item)
                    entries.append(entry)
        return tuple(entries)

    def entry(self, tier: str, node: Node) -> SystemEntry | None:
        if _is_str(node):
            text = self.string(node, "systems entry")
            kind = _classify(text) if text is not None else None
            return self.entry_value(tier, node, kind, node, None) if kind else None
        if not isinstance(node, MappingNode):
            self.error(
                node,
                "a systems entry must be a host name, an address, a URL, or a mapping with one "
                f"of {', '.join(SYSTEM_KINDS)}; got {_describe(node)}",
            )
            return None
        fields = self.fields(node, "systems entry", ENTRY_KEYS, ())
        if fields is None:
            return None
        kinds = [k for k in SYSTEM_KINDS if k in fields]
        if len(kinds) != 1:
            given = " and ".join(repr(k) for k in kinds) if kinds else "none"
            self.error(
                node, f"a systems entry needs exactly one of {', '.join(SYSTEM_KINDS)}; got {given}"
            )
            return None
        checks = self.checks(fields["checks"][1]) if "checks" in fields else None
        return self.entry_value(tier, node, kinds[0], fields[kinds[0]][1], checks)

    def entry_value(
        self, tier: str, node: Node, kind: str, value: Node, checks: tuple[str, ...] | None
    ) -> SystemEntry | None:
        text = self.string(value, kind)
        if text is None:
            return None
        try:
            normalised = _ENTRY_PARSERS[kind](text)
        except ValueError as exc:
            self.error(value, str(exc))
            return None
        return SystemEntry(tier, kind, normalised, checks, _line(node))

    def checks(self, node: Node) -> tuple[str, ...] | None:
        # Imported here: the registry will import the check modules, which are heavy and
        # need not be loaded just to read a target list.
        from ipv6scan.checks.registry import CHECK_IDS, FAMILIES

        items = self.sequence(node, "checks")
        if isinstance(node, SequenceNode) and not items:
            self.error(node, "checks is empty; leave it out to run the tier's default checks")
        out: list[str] = []
        for item in items:
            text = self.string(item, "check")
            if text is None:
                continue
            if text not in CHECK_IDS and text not in FAMILIES:
                self.error(
                    item,
                    f"unknown check {text!r}; expected a family ({', '.join(FAMILIES)}) "
                    f"or a check id ({', '.join(CHECK_IDS)})",
                )
            elif text not in out:
                out.append(text)
        return tuple(out) if out else None


def _classify(text: str) -> str:
    """The kind of a bare-string systems entry: url, address or host."""
    if "://" in text:
        return "url"
    try:
        return "address" if parse_ip_literal(text) is not None else "host"
    except InvalidName:
        return "address"  # e.g. a zone id: let the address parser say what is wrong


def _parse_host(text: str) -> str:
    if "://" in text:
        raise ValueError(f"host {text!r} is a URL; use url:")
    if parse_ip_literal(text) is not None:
        raise ValueError(f"host {text!r} is an IP address; use address:")
    return normalize_hostname(text)


def _parse_address(text: str) -> str:
    addr = parse_ip_literal(text)
    if addr is None:
        raise ValueError(f"address {text!r} is not an IPv4 or IPv6 address literal")
    return str(addr)


def _parse_resolver(text: str) -> str:
    return format_resolver(*parse_resolver(text))


_ENTRY_PARSERS: dict[str, Callable[[str], str]] = {
    "host": _parse_host,
    "address": _parse_address,
    "url": normalize_url,
    "resolver": _parse_resolver,
}


def check_domain(text: str, hint: str = "") -> str:
    """Normalise a domain of a target, or raise ValueError (with a hint for URLs and addresses)."""
    if "://" in text or "/" in text:
        raise ValueError(f"{text!r} is a URL, not a domain{hint}")
    try:
        is_address = parse_ip_literal(text) is not None
    except InvalidName:
        is_address = True
    if is_address:
        raise ValueError(f"{text!r} is an IP address, not a domain{hint}")
    return normalize_hostname(text)


# ---------------------------------------------------------------------------------------------
# Plain lists and several files


class _Seen:
    """Target names seen in this run and where, for duplicate detection across files.

    One int per name (file number << 32 | line) keeps a million-name list cheap.
    """

    def __init__(self) -> None:
        self._where: dict[str, int] = {}
        self._paths: list[str] = []

    def add_file(self, path: str) -> int:
        self._paths.append(path)
        return len(self._paths) - 1

    def first(self, name: str, file_no: int, line: int | None) -> str | None:
        """Record `name`; if it was seen before, return where ('line N' or 'PATH:N')."""
        code = self._where.setdefault(name, file_no << 32 | (line or 0))
        if code == file_no << 32 | (line or 0):
            return None
        first_file, first_line = code >> 32, code & 0xFFFFFFFF
        if first_file == file_no:
            return f"line {first_line}"
        return f"{self._paths[first_file]}:{first_line}"


def iter_plain_targets(path: PathLike, sector: str) -> Iterator[Target]:
    """Stream the targets of one .txt or .csv list; raise TargetError at the first bad line."""
    check_sector(sector)
    seen = _Seen()
    spath = os.fspath(path)
    for item in _plain_items(spath, sector, seen, seen.add_file(spath)):
        if isinstance(item, TargetError):
            raise item
        yield item


def _plain_items(
    path: str, sector: str, seen: _Seen, file_no: int
) -> Iterator[Target | TargetError]:
    is_csv = path.lower().endswith(".csv")
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed by the with below, after the error path
    except OSError as exc:
        yield TargetError(path, None, f"cannot read file: {exc.strerror or exc}")
        return
    header_possible = is_csv  # until the first line that is not blank or a comment
    with fh:
        for number, raw in _numbered_lines(fh):
            try:
                if raw is None:
                    raise ValueError(f"line longer than {MAX_LINE_BYTES} bytes")
                text = _decode_line(raw, number)
                if is_csv:
                    row = _csv_row(text)
                    if row is None:
                        continue
                    skip_header, header_possible = header_possible and _is_header(row), False
                    domain: str | None = None if skip_header else _csv_domain(row)
                else:
                    domain = _txt_domain(text)
                if domain is None:
                    continue
                name = check_domain(domain)
            except ValueError as exc:
                header_possible = False
                yield TargetError(path, number, str(exc))
                continue
            first = seen.first(name, file_no, number)
            if first is not None:
                what = "domain" if first.startswith("line ") else "target name"
                yield TargetError(path, number, f"duplicate {what} {name!r} (first at {first})")
                continue
            yield Target(name, sector, (name,), source=path, line=number)


def _numbered_lines(fh: IO[bytes]) -> Iterator[tuple[int, bytes | None]]:
    """(line number, bytes) for each line; bytes is None for an over-long line, skipped whole."""
    number = 0
    while raw := fh.readline(MAX_LINE_BYTES):
        number += 1
        if len(raw) >= MAX_LINE_BYTES and not raw.endswith(b"\n"):
            while (rest := fh.readline(MAX_LINE_BYTES)) and not rest.endswith(b"\n"):
                pass
            yield number, None
        else:
            yield number, raw


def _decode_line(raw: bytes, number: int) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not valid UTF-8 (byte 0x{raw[exc.start]:02x})") from None
    return text.removeprefix("\ufeff") if number == 1 else text


def _txt_domain(text: str) -> str | None:
    text = text.split("#", 1)[0].strip()
    if not text:
        return None
    if len(text.split()) > 1:
        raise ValueError(f"expected one domain a line, got {text!r}")
    return text


def _csv_row(text: str) -> list[str] | None:
    """The stripped fields of a CSV line; None for a blank or `#` comment line."""
    if not text.strip() or text.lstrip().startswith("#"):
        return None
    try:
        return [field.strip() for field in next(csv.reader([text]))]
    except csv.Error as exc:
        raise ValueError(f"bad CSV: {exc}") from None


def _is_header(row: list[str]) -> bool:
    # A header is a first line whose first field is a word, such as `rank,domain`.
    return row[0].replace("_", "").replace(" ", "").isalpha()


def _csv_domain(row: list[str]) -> str:
    """The domain of a `rank,domain` row."""
    rank = row[0]
    if len(row) != 2:
        raise ValueError(f"expected 'rank,domain', got {len(row)} fields")
    if not (rank.isascii() and rank.isdecimal()) or int(rank) < 1:
        raise ValueError(f"rank {rank!r} is not a positive integer")
    if not row[1]:
        raise ValueError("empty domain")
    return row[1]


def _file_kind(path: str) -> str:
    suffix = os.path.splitext(path)[1].lower()
    if suffix in YAML_SUFFIXES:
        return "yaml"
    if suffix in PLAIN_SUFFIXES:
        return "plain"
    raise TargetError(
        path,
        None,
        f"unknown target file type {suffix or '(no suffix)'!r}; "
        f"expected one of {', '.join(YAML_SUFFIXES + PLAIN_SUFFIXES)}",
    )


def _files(paths: Iterable[PathLike], seen: _Seen) -> Iterator[tuple[str, int, str | TargetError]]:
    """(path, file number, kind) per file; kind is a TargetError for a bad suffix or a repeat."""
    real: set[str] = set()
    for path in paths:
        spath = os.fspath(path)
        kind: str | TargetError
        try:
            kind = _file_kind(spath)
        except TargetError as exc:
            kind = exc
        if os.path.realpath(spath) in real:
            kind = TargetError(spath, None, "file given more than once")
        real.add(os.path.realpath(spath))
        yield spath, seen.add_file(spath), kind


def _duplicate(seen: _Seen, target: Target, file_no: int) -> TargetError | None:
    first = seen.first(target.name, file_no, target.line)
    if first is None:
        return None
    return TargetError(
        target.source, target.line, f"duplicate target name {target.name!r} (first at {first})"
    )


def iter_targets(paths: Iterable[PathLike], default_sector: str = "enterprise") -> Iterator[Target]:
    """Every target of `paths` in order, streaming plain lists.

    Raises TargetErrors for a YAML file that does not validate, TargetError for anything else
    (both are TargetListError). Targets already yielded stay valid: call `validate_files` first
    when nothing may start before everything has been checked.
    """
    check_sector(default_sector)
    seen = _Seen()
    for path, file_no, kind in _files(paths, seen):
        if isinstance(kind, TargetError):
            raise kind
        if kind == "yaml":
            for target in load_yaml_targets(path).targets:
                if error := _duplicate(seen, target, file_no):
                    raise error
                yield target
        else:
            for item in _plain_items(path, default_sector, seen, file_no):
                if isinstance(item, TargetError):
                    raise item
                yield item


def validate_files(paths: Iterable[PathLike], sector: str = "enterprise") -> list[TargetError]:
    """Read every file and return every problem (at most MAX_ERRORS a file); [] means valid."""
    check_sector(sector)
    seen = _Seen()
    errors: list[TargetError] = []
    for path, file_no, kind in _files(paths, seen):
        if isinstance(kind, TargetError):
            errors.append(kind)
        else:
            errors.extend(_file_errors(path, file_no, kind, sector, seen))
    return errors


def _file_errors(path: str, file_no: int, kind: str, sector: str, seen: _Seen) -> list[TargetError]:
    errors: list[TargetError] = []
    if kind == "yaml":
        try:
            targets: Iterable[Target | TargetError] = load_yaml_targets(path).targets
        except TargetErrors as exc:
            return exc.errors
    else:
        targets = _plain_items(path, sector, seen, file_no)
    for item in targets:
        error = item if isinstance(item, TargetError) else None
        if kind == "yaml" and isinstance(item, Target):
            error = _duplicate(seen, item, file_no)
        if error is None:
            continue
        errors.append(error)
        if len(errors) >= MAX_ERRORS:
            errors.append(TargetError(path, None, f"too many errors; stopped after {MAX_ERRORS}"))
            break
    return errors


# ---------------------------------------------------------------------------------------------
# Line-aware YAML reading, shared with ipv6scan's other YAML files (scoring profiles, milestones)

YamlWalker = _Walker
TooManyErrors = _TooManyErrors
node_line = _line
describe_node = _describe


def compose_yaml(path: PathLike) -> Node | None:
    """Read and compose one YAML file (no aliases); raise TargetError (file:line) if it cannot."""
    spath = os.fspath(path)
    return _compose(spath, _read_text(spath, MAX_YAML_BYTES))
