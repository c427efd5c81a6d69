"""YAML target lists, checked against INTERFACE.md.

The YAML is composed into nodes and walked here so that every error names the line of the
node at fault. Validation goes on past the first error so that one `ipv6scan validate` run
shows everything to fix.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

from yaml.nodes import MappingNode, Node, SequenceNode

from ipv6scan.model import SYSTEM_KINDS, SYSTEM_TIERS, SystemEntry, Target
from ipv6scan.safetext import quote
from ipv6scan.targets.entries import ENTRY_PARSERS, check_domain, check_sector, classify
from ipv6scan.targets.errors import MAX_ERRORS, PathLike, TargetError, TargetErrors
from ipv6scan.targets.yaml_nodes import (
    TAG,
    TooManyErrors,
    YamlWalker,
    compose_yaml,
    describe_node,
    is_str,
    node_line,
)

TOP_KEYS = ("version", "name", "targets", "milestones")  # milestones: reserved, ignored here
TARGET_KEYS = ("name", "sector", "domains", "systems")
ENTRY_KEYS = (*SYSTEM_KINDS, "checks")


@dataclass(frozen=True)
class TargetList:
    path: str
    name: str
    version: int
    targets: tuple[Target, ...]
    milestones: object = None  # the raw `milestones` value, safely constructed; not validated yet
    # The same value as composed YAML nodes, so ipv6scan.milestones can name lines in its errors.
    milestones_node: Node | None = dataclasses.field(default=None, compare=False, repr=False)


def load_yaml_targets(path: PathLike) -> TargetList:
    """Load and validate one YAML target list; raise TargetErrors listing every problem."""
    spath = os.fspath(path)
    try:
        root = compose_yaml(spath)
    except TargetError as exc:
        raise TargetErrors([exc]) from None
    walker = _TargetListWalker(spath)
    try:
        result = walker.document(root)
    except TooManyErrors:
        result = None
    if walker.errors or result is None:
        # In file order, so the report reads top to bottom; the "too many" note stays last.
        capped = len(walker.errors) > MAX_ERRORS
        errors = sorted(walker.errors[:MAX_ERRORS], key=lambda e: e.line or 0)
        raise TargetErrors(errors + walker.errors[MAX_ERRORS:] if capped else errors)
    return result


class _TargetListWalker(YamlWalker):
    """Checks one composed target-list document, collecting errors as it goes."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.names: dict[str, int] = {}  # target name -> line of its first use

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
        plan = fields["milestones"][1] if "milestones" in fields else None
        return TargetList(self.path, name, version, tuple(targets), milestones, plan)

    def version(self, node: Node) -> int | None:
        value = self.construct(node) if node.tag == TAG + "int" else None
        if type(value) is not int:
            self.error(node, f"version must be the integer 1, got {describe_node(node)}")
            return None
        if value != 1:
            self.error(node, f"unsupported version {value}; this ipv6scan reads version 1")
            return None
        return value

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
            self.error(
                node, f"target {quote(name)} has no domains and no systems; give at least one"
            )
        if name is None or sector is None or len(self.errors) != before:
            return None
        return Target(name, sector, domains, systems, source=self.path, line=node_line(node))

    def target_name(self, node: Node) -> str | None:
        name = self.string(node, "target name")
        if name is None:
            return None
        if name in self.names:
            first = self.names[name]
            self.error(node, f"duplicate target name {quote(name)} (first at line {first})")
            return None
        self.names[name] = node_line(node)
        return name

    def sector(self, node: Node) -> str | None:
        value = self.string(node, "sector")
        if value is None:
            return None
        try:
            return check_sector(value)
        except ValueError as exc:
            self.error(node, str(exc))
            return None

    def domains(self, node: Node) -> tuple[str, ...]:
        if is_str(node):
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
                self.error(item, f"duplicate domain {quote(domain)} (first at line {seen[domain]})")
            else:
                seen[domain] = node_line(item)
        return tuple(seen)

    def systems(self, node: Node) -> tuple[SystemEntry, ...]:
        fields = self.fields(node, "systems", SYSTEM_TIERS, ())
        entries: list[SystemEntry] = []
        for tier, (_key, value) in (fields or {}).items():
            seen: dict[tuple[str, str], int] = {}
            for item in self.sequence(value, f"systems tier {quote(tier)}"):
                entry = self.entry(tier, item)
                if entry is None:
                    continue
                first = seen.get((entry.kind, entry.value))
                if first is not None:
                    self.error(
                        item, f"duplicate {tier} entry {quote(entry.value)} (first at line {first})"
                    )
                else:
                    seen[(entry.kind, entry.value)] = node_line(item)
                    entries.append(entry)
        return tuple(entries)

    def entry(self, tier: str, node: Node) -> SystemEntry | None:
        if is_str(node):
            text = self.string(node, "systems entry")
            kind = classify(text) if text is not None else None
            return self.entry_value(tier, node, kind, node, None) if kind else None
        if not isinstance(node, MappingNode):
            self.error(
                node,
                "a systems entry must be a host name, an address, a URL, or a mapping with one "
                f"of {', '.join(SYSTEM_KINDS)}; got {describe_node(node)}",
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
            normalised = ENTRY_PARSERS[kind](text)
        except ValueError as exc:
            self.error(value, str(exc))
            return None
        return SystemEntry(tier, kind, normalised, checks, node_line(node))

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
                    f"unknown check {quote(text)}; expected a family ({', '.join(FAMILIES)}) "
                    f"or a check id ({', '.join(CHECK_IDS)})",
                )
            elif text not in out:
                out.append(text)
        return tuple(out) if out else None
