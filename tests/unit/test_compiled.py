"""The modules setup.py compiles with mypyc: what is imported, and from which source.

An editable install puts each compiled module (a .so) beside its .py, and `import`
prefers the .so. One left from an earlier build would silently shadow an edited .py,
so every compiled module in the package must have been built from the .py beside it
as it is now. Under CI (CI=true) the compiled modules must be the ones imported: CI
proves that the fast path is what ships.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import importlib.machinery
import importlib.util
import os
from pathlib import Path
from types import ModuleType

import pytest

import ipv6scan

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = Path(ipv6scan.__file__ or "").parent
SUFFIXES = tuple(importlib.machinery.EXTENSION_SUFFIXES)
REBUILD = "rebuild: .venv/bin/pip install -e '.[test,fast]' (IPV6SCAN_PURE_PYTHON=1 for none)"


def _compiled_list() -> list[str]:
    """setup.py's COMPILED, read without running setup.py."""
    for node in ast.parse((ROOT / "setup.py").read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "COMPILED" for target in node.targets
        ):
            return list(ast.literal_eval(node.value))
    raise AssertionError("setup.py has no COMPILED list")


COMPILED = [path.removesuffix(".py").replace("/", ".") for path in _compiled_list()]


def is_compiled(module: ModuleType) -> bool:
    return (module.__file__ or "").endswith(SUFFIXES)


def _build_record() -> ModuleType | None:
    """ipv6scan/_mypyc_build.py, which setup.py writes; None without one."""
    try:
        return importlib.import_module("ipv6scan._mypyc_build")
    except ImportError:
        return None


def test_compiled_list_names_modules() -> None:
    assert COMPILED
    for name in COMPILED:
        assert importlib.util.find_spec(name) is not None, name


def test_every_compiled_module_matches_its_source() -> None:
    record = _build_record()
    built: dict[str, str] = getattr(record, "SOURCE_SHA256", {})
    stale = []
    # every extension beside a .py shadows it: also one no longer in COMPILED
    for extension in sorted({path for suffix in SUFFIXES for path in PACKAGE.rglob("*" + suffix)}):
        stem = extension.name.split(".")[0]
        source = extension.with_name(stem + ".py")
        if not source.exists():
            continue  # not a module of ours: mypyc's shared library
        name = ".".join(source.relative_to(PACKAGE.parent).with_suffix("").parts)
        if built.get(name) != hashlib.sha256(source.read_bytes()).hexdigest():
            stale.append(f"{extension.relative_to(PACKAGE.parent)} (not from this {source.name})")
    assert not stale, f"compiled modules built from other sources: {stale}; {REBUILD}"


@pytest.mark.parametrize("name", COMPILED)
def test_ci_imports_the_compiled_module(name: str) -> None:
    if os.environ.get("CI") != "true":
        pytest.skip("checked under CI (CI=true) only: pure Python is fine elsewhere")
    if os.environ.get("IPV6SCAN_PURE_PYTHON") == "1":
        pytest.skip("IPV6SCAN_PURE_PYTHON=1 asks for a pure-Python build")
    module = importlib.import_module(name)
    record = _build_record()
    why = getattr(record, "NOT_COMPILED", None) or "no build record: installed without setup.py?"
    assert is_compiled(module), f"{name} imports from {module.__file__}, not compiled: {why}"


# the hand-written C: (its directory, its name, the record's prefix, its module, the name
# that module binds to it, or None without it)
HANDWRITTEN = [
    ("engine", "_lane", "LANE", "ipv6scan.engine.lane", "Lane"),
    ("finish", "_cut", "CUT", "ipv6scan.finish.line_shapes", "cut_in_c"),
]


@pytest.mark.parametrize(("folder", "name", "prefix", "_user", "_bound"), HANDWRITTEN)
def test_the_hand_written_c_matches_its_source(
    folder: str, name: str, prefix: str, _user: str, _bound: str
) -> None:
    """A .c has no .py beside it to check against: its hash is in the record."""
    built = [path for suffix in SUFFIXES for path in (PACKAGE / folder).glob(name + suffix)]
    if not built:
        pytest.skip(f"{folder}/{name}.c is not built here")
    record = _build_record()
    source = hashlib.sha256((PACKAGE / folder / f"{name}.c").read_bytes()).hexdigest()
    assert getattr(record, f"{prefix}_SHA256", None) == source, f"{built[0]} is stale; {REBUILD}"


@pytest.mark.parametrize(("folder", "name", "prefix", "user", "bound"), HANDWRITTEN)
def test_ci_has_the_hand_written_c(
    folder: str, name: str, prefix: str, user: str, bound: str
) -> None:
    if os.environ.get("CI") != "true":
        pytest.skip("checked under CI (CI=true) only: the Python fallbacks are fine elsewhere")
    if os.environ.get("IPV6SCAN_PURE_PYTHON") == "1":
        pytest.skip("IPV6SCAN_PURE_PYTHON=1 asks for a pure-Python build")
    module = importlib.import_module(user)
    why = getattr(_build_record(), f"{prefix}_NOT_COMPILED", None) or "no build record"
    assert getattr(module, bound) is not None, f"{folder}/{name}.c is not compiled: {why}"
