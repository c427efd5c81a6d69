"""Target lists: YAML files checked against INTERFACE.md, and plain .txt/.csv domain lists.

The YAML is composed into nodes, never constructed into objects, and walked so that every
error names the line of the node at fault. Validation goes on past the first error so that one
`ipv6scan validate` run shows everything to fix. Plain lists are streamed line by line: a
million-line Tranco list costs the memory of its set of names, nothing more.

The modules, one job each:
- errors: TargetError and TargetErrors, and the error cap shared by every kind of list;
- yaml_nodes: line-aware YAML reading (compose_yaml, YamlWalker), shared with ipv6scan's other
  YAML files (scoring profiles, milestones);
- yaml_list: the YAML target list (load_yaml_targets, TargetList);
- entries: sectors, domains and systems entries, checked and normalised;
- plain_lists: the streamed .txt/.csv lists (iter_plain_targets);
- seen_names: target names seen in a run, for duplicate detection across files;
- files: the front door over several files (iter_targets, validate_files), and ListReader,
  which reads each YAML list of a run once.
"""

from ipv6scan.targets.entries import check_domain, check_sector
from ipv6scan.targets.errors import (
    MAX_ERRORS,
    PathLike,
    TargetError,
    TargetErrors,
    TargetListError,
)
from ipv6scan.targets.files import (
    PLAIN_SUFFIXES,
    YAML_SUFFIXES,
    ListReader,
    TargetSource,
    iter_targets,
    validate_files,
)
from ipv6scan.targets.plain_lists import MAX_LINE_BYTES, iter_plain_targets
from ipv6scan.targets.yaml_list import (
    ENTRY_KEYS,
    TARGET_KEYS,
    TOP_KEYS,
    TargetList,
    load_yaml_targets,
)
from ipv6scan.targets.yaml_nodes import (
    MAX_YAML_BYTES,
    TooManyErrors,
    YamlWalker,
    compose_yaml,
    describe_node,
    node_line,
)

__all__ = [
    "ENTRY_KEYS",
    "MAX_ERRORS",
    "MAX_LINE_BYTES",
    "MAX_YAML_BYTES",
    "PLAIN_SUFFIXES",
    "TARGET_KEYS",
    "TOP_KEYS",
    "YAML_SUFFIXES",
    "ListReader",
    "PathLike",
    "TargetError",
    "TargetErrors",
    "TargetList",
    "TargetListError",
    "TargetSource",
    "TooManyErrors",
    "YamlWalker",
    "check_domain",
    "check_sector",
    "compose_yaml",
    "describe_node",
    "iter_plain_targets",
    "iter_targets",
    "load_yaml_targets",
    "node_line",
    "validate_files",
]
