"""The hand-written C (the fast lane, the line cutter) built with ASan and UBSan, and the
environment a process needs to load it.

Built into a directory of its own, never over the in-tree extension other tests import.
LANE_EXACT_DATAGRAMS gives each datagram a heap block of its exact length (see _lane.c),
so that a read past its end is a report rather than a read of the batch buffer.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import shutil
import subprocess
import sysconfig
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
LANE_SOURCE = ROOT / "ipv6scan" / "engine" / "_lane.c"
CUT_SOURCE = ROOT / "ipv6scan" / "finish" / "_cut.c"
SANITIZE = [
    "-O1", "-g", "-fno-omit-frame-pointer",
    "-fsanitize=address,undefined", "-fno-sanitize-recover=undefined",
    "-DLANE_EXACT_DATAGRAMS", "-DCUT_EXACT_BUFFERS",
]  # fmt: skip
SANITIZER_MARKS = ("AddressSanitizer", "runtime error:", "UndefinedBehaviorSanitizer")


class NoCompiler(RuntimeError):
    """gcc or its sanitizer runtime is missing."""


def libasan() -> str:
    """The ASan runtime gcc links against; preloaded, since Python is not instrumented."""
    gcc = shutil.which("gcc")
    if gcc is None:
        raise NoCompiler("gcc is not installed")
    path = subprocess.run(
        [gcc, "-print-file-name=libasan.so"], capture_output=True, text=True, check=True
    ).stdout.strip()
    if not os.path.isabs(path) or not os.path.exists(path):
        raise NoCompiler(f"gcc has no ASan runtime (libasan.so: {path!r})")
    return os.path.realpath(path)


def build_lane(out_dir: Path, source: Path = LANE_SOURCE) -> Path:
    """The lane compiled with ASan and UBSan into out_dir (never over the in-tree build)."""
    return build(out_dir, source, "_lane")


def build(out_dir: Path, source: Path, name: str) -> Path:
    """Hand-written C (`name`: its module's) with ASan and UBSan, into out_dir."""
    gcc = shutil.which("gcc")
    if gcc is None:
        raise NoCompiler("gcc is not installed")
    out_dir.mkdir(parents=True, exist_ok=True)
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    target = out_dir / f"{name}{suffix}"
    include = sysconfig.get_paths()["include"]
    done = subprocess.run(
        [gcc, "-shared", "-fPIC", *SANITIZE, f"-I{include}", str(source), "-o", str(target)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the sanitizer build of {source} failed:\n{done.stderr[-4000:]}")
    return target


def build_for_test(out_dir: Path, source: Path, name: str) -> Path:
    """build(), or the test skipped where no sanitizer build can be had (failed under CI,
    which must run it)."""
    import pytest

    try:
        libasan()
        return build(out_dir, source, name)
    except NoCompiler as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the sanitizer build needs gcc with libasan under CI: {exc}")
        pytest.skip(str(exc))


def planted(source: Path, check: str, taken: str, out: Path) -> Path:
    """`source` with a bound check taken out (`taken`, from the one place `check` is), at
    `out`: what the fuzzer must find."""
    text = source.read_text()
    assert text.count(check) == 1, "the planted bug no longer applies: update the test"
    out.write_text(text.replace(check, check.replace(taken, "")))
    return out


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        LD_PRELOAD=libasan(),
        ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=0:exitcode=86",
        UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1",
        # PYTHONMALLOC stays pymalloc (2.5 times as fast here): every block the lane asks
        # PyMem for is over pymalloc's 512 octets but one, so it comes from malloc anyway
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")])),
    )
    return env


def load_lane(path: Path) -> Any:
    return load(path, "ipv6scan.engine._lane").Lane


def load(path: Path, name: str) -> Any:
    """The extension module at `path`, as `name` (its PyInit_ is the last part's)."""
    loader = importlib.machinery.ExtensionFileLoader(name, str(path))
    spec = importlib.util.spec_from_loader(name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module
