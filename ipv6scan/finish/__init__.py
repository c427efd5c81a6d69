"""The typed stage after a scan: one pass over results.jsonl makes summary.json, junit.xml,
results.csv, report.html and the history's records (finish.stage)."""

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
