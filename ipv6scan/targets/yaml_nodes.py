"""Line-aware YAML reading, shared by ipv6scan's YAML files (target lists, scoring profiles,
milestones).

A file is composed into nodes, never constructed into objects, so that every error names the
line of the node at fault; YamlWalker collects those errors as it checks a document, and goes
on past the first one.
"""

from __future__ import annotations

import difflib
import os
import sys
from collections.abc import Iterable
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ipv6scan.safetext import excerpt, quote
from ipv6scan.targets.errors import MAX_ERRORS, PathLike, TargetError, too_many_errors

MAX_YAML_BYTES = 64 * 1024 * 1024  # larger sets belong in a streamed .txt/.csv list
# A composed YAML file costs memory per node, not per byte: measured, about 340 bytes of
# RSS a node in the densest valid text (`{a,a,a,...}`, a node a byte: 4 MiB took 1.4 GB)
# and 450 in an ordinary list (name, sector, two domains a target: 155,000 targets, 14 MB,
# took 660 MB). The budget of nodes keeps a file under about 700 MB whatever its shape.
MAX_YAML_NODES = 1_500_000
# At most a node a byte: a smaller file cannot pass the budget, and skips the counting
# pass (a parse of events, flat in memory, a tenth of compose's time).
COUNT_NODES_ABOVE = 1024 * 1024

TAG = "tag:yaml.org,2002:"
# The C parser when PyYAML has it: same nodes and marks, much faster on big files.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def compose_yaml(path: PathLike) -> Node | None:
    """Read and compose one YAML file (no aliases); raise TargetError (file:line) if it cannot."""
    spath = os.fspath(path)
    return _compose(spath, _read_text(spath, MAX_YAML_BYTES))


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
        # (and the target set) grow exponentially. Target lists do not need them. An alias
        # is written *name: a text without "*" has none, and needs no pass to find them.
        if "*" in text or len(text) > COUNT_NODES_ABOVE:
            _check_events(path, text)
        return yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = exc.problem or exc.context or "error"
        if exc.context and exc.problem and exc.context_mark:
            what += f" ({exc.context} at line {exc.context_mark.line + 1})"
        raise TargetError(path, mark.line + 1 if mark else None, f"YAML syntax: {what}") from None
    except RecursionError:  # a nesting too deep for the composer
        raise TargetError(path, None, "YAML: the document is nested too deeply") from None
    except yaml.YAMLError as exc:  # ReaderError: a character YAML does not allow
        line = text.count("\n", 0, getattr(exc, "position", 0)) + 1
        reason = getattr(exc, "reason", "") or str(exc).splitlines()[0]
        raise TargetError(path, line, f"YAML syntax: {reason}") from None


_NODE_EVENTS = (yaml.ScalarEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent)


def _check_events(path: str, text: str) -> None:
    """Refuse aliases, and more nodes than MAX_YAML_NODES, before anything is composed."""
    nodes = 0
    for event in yaml.parse(text, Loader=_LOADER):
        line = event.start_mark.line + 1 if event.start_mark is not None else None
        if isinstance(event, _NODE_EVENTS):
            nodes += 1
            if nodes > MAX_YAML_NODES:
                raise TargetError(
                    path,
                    line,
                    f"more than {MAX_YAML_NODES:,} YAML values, more than a YAML list may "
                    "hold (it would take over 700 MB of memory); put large sets in a .txt "
                    "or .csv list, which is read as a stream",
                )
        elif isinstance(event, yaml.AliasEvent):
            raise TargetError(
                path,
                line,
                f"YAML alias *{excerpt(event.anchor)} is not supported in target lists; "
                "write the value out",
            )


class TooManyErrors(Exception):
    pass


def node_line(node: Node) -> int:
    return int(node.start_mark.line) + 1


def is_str(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == TAG + "str"


_KINDS = {
    "str": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "true/false",
    "null": "nothing",
    "timestamp": "a date",
    "binary": "binary data",
}


def describe_node(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    kind = _KINDS.get(node.tag.removeprefix(TAG), f"a value tagged {node.tag}")
    value = str(node.value)
    return f"{kind} ({value[:40]!r})" if value else kind


def _unknown_key(key: str, what: str, allowed: Iterable[str]) -> str:
    allowed = tuple(allowed)
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f" (did you mean {quote(close[0])}?)" if close else ""
    return f"unknown key {quote(key)} in {what}{hint}; allowed keys: {', '.join(allowed)}"


class YamlWalker:
    """Checks one composed YAML document, collecting errors as it goes."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.errors: list[TargetError] = []

    def error(self, where: Node | None, message: str) -> None:
        self.errors.append(
            TargetError(self.path, node_line(where) if where is not None else None, message)
        )
        if len(self.errors) >= MAX_ERRORS:
            self.errors.append(too_many_errors(self.path))
            raise TooManyErrors

    def fields(
        self, node: Node, what: str, allowed: tuple[str, ...], required: tuple[str, ...]
    ) -> dict[str, tuple[Node, Node]] | None:
        """The (key node, value node) pairs of a mapping, by key; None if it is no mapping."""
        if not isinstance(node, MappingNode):
            self.error(node, f"{what} must be a mapping, got {describe_node(node)}")
            return None
        out: dict[str, tuple[Node, Node]] = {}
        for key, value in node.value:
            if not is_str(key):
                self.error(key, f"keys of {what} must be strings, got {describe_node(key)}")
            elif key.value in out:
                first = node_line(out[key.value][0])
                self.error(
                    key, f"duplicate key {quote(key.value)} in {what} (first at line {first})"
                )
            elif key.value not in allowed:
                self.error(key, _unknown_key(key.value, what, allowed))
            else:
                out[key.value] = (key, value)
        for name in required:
            if name not in out:
                self.error(node, f"{what} is missing required key {quote(name)}")
        return out

    def string(self, node: Node, what: str) -> str | None:
        if not is_str(node):
            self.error(node, f"{what} must be a string, got {describe_node(node)}")
            return None
        value = str(node.value).strip()
        if not value:
            self.error(node, f"{what} is empty")
            return None
        return value

    def sequence(self, node: Node, what: str) -> list[Node]:
        if not isinstance(node, SequenceNode):
            self.error(node, f"{what} must be a list, got {describe_node(node)}")
            return []
        return list(node.value)

    def construct(self, node: Node) -> object:
        # SafeLoader's constructor builds only plain data (str, int, list, dict, date ...).
        loader = yaml.SafeLoader("")
        try:
            return loader.construct_object(node, deep=True)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or node.start_mark
            self.errors.append(TargetError(self.path, mark.line + 1, f"YAML: {exc.problem}"))
        except CONSTRUCT_ERRORS as exc:
            self.errors.append(TargetError(self.path, node_line(node), _construct_failure(exc)))
        finally:
            loader.dispose()
        return None


# What SafeLoader's constructors raise besides YAML errors, on values a user can write:
# `!!int abc` and `2026-02-30` (ValueError), `version:` with 5,000 digits (ValueError of
# int's digit limit), `!!float` or a date out of range (OverflowError), a flow
# nesting a few hundred deep (RecursionError), an unhashable key (TypeError).
CONSTRUCT_ERRORS = (yaml.YAMLError, ValueError, ArithmeticError, RecursionError, TypeError)


def _construct_failure(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "YAML: the value is nested too deeply"
    if "integer string conversion" in str(exc):  # int's digit limit (sys.int_info)
        return f"YAML: an integer of more than {sys.get_int_max_str_digits()} digits"
    return f"YAML: {excerpt(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)}"
