"""The judges stay light: importing the checks loads no DNS library, HTTP client or
X.509 parser (issue 15 item 3), so a judge can be read, tested and reused without the
probes' stacks. Each import runs in a fresh interpreter: this one has loaded them all."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import ipv6scan.checks

HEAVY = ("dns", "aiohttp", "cryptography")
# The table that pairs each judge with its probe: it loads the probes, and they load
# dnspython; aiohttp and cryptography load with the first fetch (probes/redirects.py).
REGISTRY = "ipv6scan.checks.registry"


def _heavy_loaded(modules: list[str]) -> list[str]:
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    loaded: list[str] = json.loads(done.stdout)
    return loaded


def _checks_modules() -> list[str]:
    return [f"ipv6scan.checks.{m.name}" for m in pkgutil.iter_modules(ipv6scan.checks.__path__)]


def test_every_judge_module_imports_without_the_heavy_stacks() -> None:
    modules = [m for m in _checks_modules() if m != REGISTRY]
    assert "ipv6scan.checks.dns" in modules and "ipv6scan.checks.web" in modules
    assert _heavy_loaded(modules) == []


def test_the_registry_loads_no_http_client_or_x509_parser() -> None:
    assert set(_heavy_loaded([REGISTRY])) <= {"dns"}


def test_the_check_detects_a_heavy_import() -> None:
    # the probe can fail: the DNS transport does load dnspython
    assert _heavy_loaded(["ipv6scan.dnsclient.transport"]) == ["dns"]
