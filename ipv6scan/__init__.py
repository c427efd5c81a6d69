"""ipv6scan: measure how far domains and operator networks have moved to IPv6.

The Python API (ipv6scan.api), loaded on first use so that `import ipv6scan` stays cheap
for the command line:

- load_targets(paths, sector=...) -> list[Target], or raises TargetErrors (FILE:LINE: ...);
  validate_targets(paths, sector=...) -> list[TargetError]
- scan(targets, out, **options) -> ScanResult, and `await scan_async(...)`: the command
  line's `scan`, the same options and files; ScanInputError for a bad option
- read_results(dir) -> Iterator[CheckResult]; read_summary(dir) -> dict
- schema("result" | "summary") -> the JSON Schema of a results.jsonl record / summary.json
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:  # for type checkers and editors; at run time __getattr__ loads them
    from ipv6scan.api import (
        CheckResult,
        ScanInputError,
        ScanResult,
        Status,
        Target,
        TargetError,
        TargetErrors,
        load_targets,
        read_results,
        read_summary,
        scan,
        scan_async,
        schema,
        validate_targets,
    )

__all__ = [
    "CheckResult",
    "ScanInputError",
    "ScanResult",
    "Status",
    "Target",
    "TargetError",
    "TargetErrors",
    "__version__",
    "load_targets",
    "read_results",
    "read_summary",
    "scan",
    "scan_async",
    "schema",
    "validate_targets",
]


def __getattr__(name: str) -> Any:
    # a name of the API: import ipv6scan.api now (PEP 562), not with every `import ipv6scan`
    if name in __all__:
        from ipv6scan import api

        return getattr(api, name)
    raise AttributeError(f"module 'ipv6scan' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
