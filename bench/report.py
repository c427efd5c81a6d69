"""The machine's description, the console lines and bench/RESULTS.md."""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import platform
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Figure:
    """One comparison: ipv6scan's rate against the limit's, or a pending/failed row."""

    what: str
    ours: float | None
    ours_unit: str
    limit: float | None
    limit_tool: str
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.ours is None or not self.limit:
            return None
        return self.ours / self.limit

    def line(self) -> str:
        ours = f"{self.ours:,.0f} {self.ours_unit}" if self.ours is not None else "-"
        limit = f"{self.limit:,.0f} ({self.limit_tool})" if self.limit is not None else "-"
        ratio = f"{self.ratio:.0%}" if self.ratio is not None else "-"
        return f"| {self.what} | {ours} | {limit} | {ratio} | {self.note} |"


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "uvloop": "on" if importlib.util.find_spec("uvloop") else "off",
        "load average at start": load,
    }


def render(
    title: str,
    info: dict[str, str],
    figures: list[Figure],
    extra: list[tuple[str, str]],
    command: str,
) -> str:
    when = dt.datetime.now().astimezone().replace(microsecond=0).isoformat()
    out = [f"# {title}", "", f"Measured {when} with `{command}`.", "", "## Machine", ""]
    out += [f"- {k}: {v}" for k, v in info.items()]
    out += ["", "## ipv6scan against the physical limit", ""]
    out += ["| measurement | ipv6scan | limit (tool) | ratio | note |", "|---|---|---|---|---|"]
    out += [f.line() for f in figures]
    out += ["", "## Other figures", ""]
    out += [f"- {k}: {v}" for k, v in extra]
    return "\n".join(out) + "\n"


def console(figures: list[Figure], extra: list[tuple[str, str]]) -> None:
    for f in figures:
        ratio = f"{f.ratio:.0%} of {f.limit_tool}" if f.ratio is not None else "n/a"
        ours = f"{f.ours:,.0f} {f.ours_unit}" if f.ours is not None else "-"
        print(f"{f.what}: {ours}; {ratio}. {f.note}".rstrip(), file=sys.stderr)
    for k, v in extra:
        print(f"{k}: {v}", file=sys.stderr)
