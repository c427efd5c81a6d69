"""The typed stage after a scan: one pass over results.jsonl makes summary.json, junit.xml,
results.csv, report.html and the history's records (finish.stage)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ipv6scan.finish.outputs import FILES, Outputs, OutputsError
    from ipv6scan.finish.stage import FinishOptions, Pass, RunSink, Summary, TargetRow, finish

__all__ = [
    "FILES",
    "FinishOptions",
    "Outputs",
    "OutputsError",
    "Pass",
    "RunSink",
    "Summary",
    "TargetRow",
    "finish",
]


def __getattr__(name: str) -> Any:
    # Imported on first use: the second process (tables_beside.py) lives in this package
    # and needs none of finish.stage's imports.
    if name in ("FILES", "Outputs", "OutputsError"):
        from ipv6scan.finish import outputs

        return getattr(outputs, name)
    if name in __all__:
        from ipv6scan.finish import stage

        return getattr(stage, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
