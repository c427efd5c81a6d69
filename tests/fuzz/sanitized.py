"""The fast lane built with ASan and UBSan, and the environment a process needs to load it.

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
SANITIZE = [
    "-O1", "-g", "-fno-omit-frame-pointer",
    "-fsanitize=address,undefined", "-fno-sanitize-recover=undefined",
    "-DLANE_EXACT_DATAGRAMS",
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
    gcc = shutil.which("gcc")
    if gcc is None:
        raise NoCompiler("gcc is not installed")
    out_dir.mkdir(parents=True, exist_ok=True)
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    target = out_dir / f"_lane{suffix}"
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
    loader = importlib.machinery.ExtensionFileLoader("ipv6scan.engine._lane", str(path))
    spec = importlib.util.spec_from_loader("ipv6scan.engine._lane", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module.Lane
