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
            self.distribution.ext_modules = [*_mypyc()[0], *([] if pure else [LANE])]
        super().finalize_options()

    def get_source_files(self) -> list[str]:
        return []  # mypyc's C is generated at build time: an sdist needs only the .py

    def run(self) -> None:
        _, hashes, why_not = _mypyc()
        inplace = self.inplace  # an editable install: the .so files go beside the sources
        bases = [Path(self.build_lib), ROOT] if inplace else [Path(self.build_lib)]
        lane = [ext for ext in self.extensions if ext.name == LANE.name]
        self.extensions = [ext for ext in self.extensions if ext.name != LANE.name]
        compiler = self.compiler  # run() replaces the name with the object it makes
        lane_why_not = self._build_lane(lane, bases)
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
            _write_record(base / RECORD, hashes, why_not, lane_why_not)

    def _build_lane(self, lane: list[Extension], bases: list[Path]) -> str | None:
        """Build the fast lane alone; why it is not built, or None."""
        why_not = "IPV6SCAN_PURE_PYTHON=1" if not lane else None
        if lane:
            mypyc_extensions, self.extensions = self.extensions, lane
            try:
                super().run()
                print("ipv6scan: compiled the fast lane (engine/_lane.c)", file=sys.stderr)
            except Exception as exc:  # no compiler: the general bulk path does it all
                why_not = f"C build: {type(exc).__name__}: {exc}"
                print(f"ipv6scan: fast lane not compiled: {why_not}", file=sys.stderr)
            self.extensions = mypyc_extensions
        if why_not is not None:  # nor may an earlier in-place build of it stay
            for path in (path for base in bases for path in _artefacts(base, [LANE.name])):
                if path.exists():
                    path.unlink()
        return why_not


def _write_record(
    path: Path, hashes: dict[str, str], why_not: str | None, lane_why_not: str | None
) -> None:
    lane_source = ROOT / LANE.sources[0]
    lane_hash = None if lane_why_not else hashlib.sha256(lane_source.read_bytes()).hexdigest()
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
        f"LANE_NOT_COMPILED: str | None = {lane_why_not!r}",
        "# sha256 of engine/_lane.c as it was compiled",
        f"LANE_SHA256: str | None = {lane_hash!r}",
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


class BinaryDistribution(Distribution):
    """Always runs build_ext, which decides what to compile, possibly nothing."""

    def has_ext_modules(self) -> bool:
        return True


setup(distclass=BinaryDistribution, cmdclass={"build_ext": BuildExt})
