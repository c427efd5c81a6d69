"""No function in the package runs over 60 lines (issue 15 item 5): a longer one is split
into well-named parts. Counted from the AST, from the `def` (or its first decorator) to
the last line of the body, docstring and comments included."""

from __future__ import annotations

import ast
from pathlib import Path

import ipv6scan

ROOT = Path(ipv6scan.__file__).resolve().parent
MAX_LINES = 60

# A function named here ('path:name') may stay long; none needs to today.
ALLOWED: set[str] = set()


def long_functions(root: Path, limit: int = MAX_LINES) -> dict[str, int]:
    """'path:name' -> lines, for each function or method longer than `limit` lines."""
    found: dict[str, int] = {}
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                lines = (node.end_lineno or node.lineno) - first + 1
                if lines > limit:
                    found[f"{path.relative_to(root).as_posix()}:{node.name}"] = lines
    return found


def test_no_function_over_60_lines() -> None:
    too_long = {k: v for k, v in long_functions(ROOT).items() if k not in ALLOWED}
    assert too_long == {}


def test_the_count_finds_a_long_function(tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(59))
    (tmp_path / "m.py").write_text(
        f"def short():\n{body}\n\n\n@decorated\nasync def long():\n{body}\n    return 1\n"
    )
    assert long_functions(tmp_path) == {"m.py:long": 62}
