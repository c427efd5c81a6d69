"""Compiles the hot-path modules with mypyc; pyproject.toml holds all the metadata.

When they cannot be compiled (IPV6SCAN_PURE_PYTHON=1, mypyc missing, a type error, no C
compiler, a failed compile) the package installs as pure Python and says why, both in
the build output (`pip install -v` shows it) and in the generated ipv6scan/_mypyc_build.py,
which tests/unit/test_compiled.py reads. That file also holds a hash of each compiled
source, so that a stale .so left beside an edited .py is caught.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.machinery
import os
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.dist import Distribution

# Modules compiled with mypyc, as paths from here. Each must stay importable as plain
# Python (the fallback), and mypy-clean with the flags below.
COMPILED = [
    "ipv6scan/dnsclient/wire.py",
    "ipv6scan/dnsclient/records.py",
    # the DNS-only bulk path around it, each answer's way from the socket to its verdict
    "ipv6scan/dnsclient/fast.py",
    "ipv6scan/dnsclient/resolution.py",
    "ipv6scan/probes/dns.py",
    "ipv6scan/engine/lookups.py",
    "ipv6scan/engine/bulk_window.py",
    "ipv6scan/engine/dns_only.py",
    # the net.ping-only bulk path: each address's start and its echoes' verdict
    "ipv6scan/engine/ping_only.py",
    # each answered address's line, filled in from judge_ping's shape
    "ipv6scan/engine/ping_lines.py",
    # net.ping's echoes: packing, sending, matching and pacing, tens of thousands a second
    "ipv6scan/probes/icmp.py",
    "ipv6scan/probes/icmp_socket.py",
    # summary.json's target rows, indented as json.dumps(indent=1) writes them
    "ipv6scan/report/pretty.py",
]

# The DNS-only bulk path's fast lane (engine/lane.py): hand-written C, built beside them,
# with the same fallback (the general bulk path) when it cannot be.
LANE = Extension("ipv6scan.engine._lane", ["ipv6scan/engine/_lane.c"], extra_compile_args=["-O2"])
# The finish's second process cuts each results line into its shape (finish/line_shapes.py)
# in C too, with the same fallback: line_shapes' own _cut.
CUT = Extension("ipv6scan.finish._cut", ["ipv6scan/finish/_cut.c"], extra_compile_args=["-O2"])
HANDWRITTEN = (LANE, CUT)

# Their one shared library, ipv6scan/_mypyc__mypyc.*.so: a fixed name inside the package
# (mypyc's default for several modules is a hash-named top-level module).
GROUP = "ipv6scan._mypyc"
RECORD = "ipv6scan/_mypyc_build.py"
# No config file, so that a project-wide [tool.mypy] cannot change what compiles. Only
# the compiled modules are checked: what they import from elsewhere is Any (the build
# environment holds mypy, not ipv6scan's dependencies), which is all mypyc needs.
MYPY_ARGS = ["--config-file=", "--follow-imports=skip", "--ignore-missing-imports"]
# commands that finalize build_ext (egg_info lists its files) but build nothing
METADATA_ONLY = {"egg_info", "dist_info", "sdist"}

ROOT = Path(__file__).resolve().parent


def _module(path: str) -> str:
    return path.removesuffix(".py").replace("/", ".")


def _artefacts(base: Path, modules: list[str]) -> list[Path]:
    """The extension files a build of `modules` puts under `base`, for every suffix."""
    return [
        base.joinpath(*module.split(".")).with_name(module.rpartition(".")[2] + suffix)
        for module in modules
        for suffix in importlib.machinery.EXTENSION_SUFFIXES
    ]


@functools.cache  # once per build: setuptools finalizes build_ext more than once
def _mypyc() -> tuple[list[Extension], dict[str, str], str | None]:
    """(extensions, sha256 of each source as compiled, why nothing is compiled)."""
    # hashed before mypy reads the sources: the record never claims a later edit
    hashes = {
        _module(path): hashlib.sha256((ROOT / path).read_bytes()).hexdigest() for path in COMPILED
    }
    if os.environ.get("IPV6SCAN_PURE_PYTHON") == "1":
        return [], {}, "IPV6SCAN_PURE_PYTHON=1"
    try:
        from mypyc.build import mypycify

        return mypycify([*MYPY_ARGS, *COMPILED], group_name=GROUP), hashes, None
    except (Exception, SystemExit) as exc:  # mypy reports type errors by SystemExit
        return [], {}, f"mypyc: {type(exc).__name__}: {exc}"


class BuildExt(build_ext):
    """mypyc's extensions, or none: a failure to compile never fails the install."""

    def finalize_options(self) -> None:
        if set(self.distribution.commands) <= METADATA_ONLY:
            self.distribution.ext_modules = []  # pip's metadata queries: spare mypy's time
        else:
            pure = os.environ.get("IPV6SCAN_PURE_PYTHON") == "1"
            self.distribution.ext_modules = [*_mypyc()[0], *([] if pure else HANDWRITTEN)]
        super().finalize_options()

    def get_source_files(self) -> list[str]:
        return []  # mypyc's C is generated at build time: an sdist needs only the .py

    def run(self) -> None:
        _, hashes, why_not = _mypyc()
        inplace = self.inplace  # an editable install: the .so files go beside the sources
        bases = [Path(self.build_lib), ROOT] if inplace else [Path(self.build_lib)]
        names = {ext.name for ext in HANDWRITTEN}
        handwritten = [ext for ext in self.extensions if ext.name in names]
        self.extensions = [ext for ext in self.extensions if ext.name not in names]
        why_nots = {}
        for ext in HANDWRITTEN:
            compiler = self.compiler  # run() replaces the name with the object it makes
            why_nots[ext.name] = self._build_alone(ext, ext in handwritten, bases)
            self.compiler = compiler
        if why_not is None:
            try:
                super().run()
            except Exception as exc:  # no compiler, a compile or link error
                why_not = f"C build: {type(exc).__name__}: {exc}"
                self.extensions = []  # nothing of this build is an output any more
        if why_not is None:
            print(f"ipv6scan: compiled with mypyc: {' '.join(COMPILED)}", file=sys.stderr)
        else:
            hashes = {}
            print(f"ipv6scan: installing pure Python, not compiled: {why_not}", file=sys.stderr)
            # a half build must not ship, nor an earlier in-place .so shadow the sources
            mypyc_modules = [GROUP + "__mypyc", *map(_module, COMPILED)]
            for path in (path for base in bases for path in _artefacts(base, mypyc_modules)):
                if path.exists():
                    print(f"ipv6scan: removing {path}", file=sys.stderr)
                    path.unlink()
        for base in bases:
            _write_record(base / RECORD, hashes, why_not, why_nots)

    def _build_alone(self, ext: Extension, wanted: bool, bases: list[Path]) -> str | None:
        """Build one hand-written extension alone; why it is not built, or None."""
        why_not = "IPV6SCAN_PURE_PYTHON=1" if not wanted else None
        source = ext.sources[0]
        if wanted:
            mypyc_extensions, self.extensions = self.extensions, [ext]
            try:
                super().run()
                print(f"ipv6scan: compiled {source}", file=sys.stderr)
            except Exception as exc:  # no compiler: its Python fallback does it all
                why_not = f"C build: {type(exc).__name__}: {exc}"
                print(f"ipv6scan: {source} not compiled: {why_not}", file=sys.stderr)
            self.extensions = mypyc_extensions
        if why_not is not None:  # nor may an earlier in-place build of it stay
            for path in (path for base in bases for path in _artefacts(base, [ext.name])):
                if path.exists():
                    path.unlink()
        return why_not


def _write_record(
    path: Path, hashes: dict[str, str], why_not: str | None, why_nots: dict[str, str | None]
) -> None:
    def source_hash(ext: Extension) -> str | None:
        if why_nots.get(ext.name) is not None:
            return None
        return hashlib.sha256((ROOT / ext.sources[0]).read_bytes()).hexdigest()

    lines = [
        '"""Written by setup.py (not in git): what the last build compiled with mypyc."""',
        "",
        "# sha256 of each compiled module's source, as it was compiled",
        "SOURCE_SHA256: dict[str, str] = {",
        *(f"    {module!r}: {digest!r}," for module, digest in hashes.items()),
        "}",
        "# why nothing was compiled, if nothing was",
        f"NOT_COMPILED: str | None = {why_not!r}",
        "# why the fast lane (engine/_lane.c) was not compiled, if it was not",
        f"LANE_NOT_COMPILED: str | None = {why_nots.get(LANE.name)!r}",
        "# sha256 of engine/_lane.c as it was compiled",
        f"LANE_SHA256: str | None = {source_hash(LANE)!r}",
        "# why the line cutter (finish/_cut.c) was not compiled, if it was not",
        f"CUT_NOT_COMPILED: str | None = {why_nots.get(CUT.name)!r}",
        "# sha256 of finish/_cut.c as it was compiled",
        f"CUT_SHA256: str | None = {source_hash(CUT)!r}",
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


class BinaryDistribution(Distribution):
    """Always runs build_ext, which decides what to compile, possibly nothing."""

    def has_ext_modules(self) -> bool:
        return True


setup(distclass=BinaryDistribution, cmdclass={"build_ext": BuildExt})
