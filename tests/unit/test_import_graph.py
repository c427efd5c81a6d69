"""The package's import graph (issue 15 item 3): no cycle among ipv6scan's modules, and a
bulk worker never loads engine/run.py, which starts the workers.

Read from the source (AST), not by importing: a module-level import runs when its module
loads, so a cycle of them makes a module see another half-initialised. Imports inside
functions run later and are left out of the cycle check (the lazy ones that keep start-up
light); the worker's test follows them too, since the worker runs them on its first call.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import ipv6scan

ROOT = Path(ipv6scan.__file__).resolve().parent


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in ROOT.rglob("*.py")}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _top_level_imports(body: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    """The imports a module runs as it loads: its body's, and inside its if/try blocks."""
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If) and not _is_type_checking(node):
            yield from _top_level_imports(node.body)
            yield from _top_level_imports(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody, *(h.body for h in node.handlers)):
                yield from _top_level_imports(block)


def _all_imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node


def _targets(name: str, node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    """The ipv6scan modules an import statement names (a name that is a module counts as
    that module, any other name as the module it comes from)."""
    if isinstance(node, ast.Import):
        yield from (a.name for a in node.names if a.name in MODULES)
        return
    source = node.module or ""
    if node.level:
        package = name if MODULES[name].name == "__init__.py" else name.rpartition(".")[0]
        base = package.split(".")[: len(package.split(".")) - node.level + 1]
        source = ".".join([*base, *([node.module] if node.module else [])])
    for alias in node.names:
        if f"{source}.{alias.name}" in MODULES:
            yield f"{source}.{alias.name}"
        elif source in MODULES:
            yield source


def import_graph(*, lazy: bool) -> dict[str, set[str]]:
    """module -> the ipv6scan modules it imports (at load; with `lazy`, anywhere)."""
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        nodes = _all_imports(tree) if lazy else _top_level_imports(tree.body)
        graph[name] = {t for node in nodes for t in _targets(name, node)} - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen = {start}
    todo = [start]
    while todo:
        for nxt in graph.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_no_import_cycle_among_the_package_modules() -> None:
    assert len(MODULES) > 100
    assert cycles(import_graph(lazy=False)) == []


def test_a_bulk_worker_never_loads_the_scan_that_starts_it() -> None:
    graph = import_graph(lazy=True)
    assert "ipv6scan.engine.workers" in reachable(graph, "ipv6scan.engine.run")
    worker = reachable(graph, "ipv6scan.engine.worker")
    assert "ipv6scan.engine.share" in worker
    assert "ipv6scan.engine.run" not in worker


def test_the_layers_below_the_judges_never_import_them() -> None:
    """dnsclient -> probes -> observations -> checks: what the judges share with the
    probes (the page fingerprint, ipv6scan/similarity.py) sits beside both."""
    below = ("ipv6scan.dnsclient", "ipv6scan.probes", "ipv6scan.observations")
    graph = import_graph(lazy=True)
    upward = {
        (module, target)
        for module, targets in graph.items()
        if module.startswith(below)
        for target in targets
        if target.startswith("ipv6scan.checks")
    }
    assert upward == set()


def test_the_cycle_check_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
