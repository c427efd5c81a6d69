"""Exit codes and history keys of the real CLI, run in the lab's client namespace.

- SIGTERM after the scan began but before its first result: exit 130, no traceback, and
  the usual files, empty (today's bug: a FileNotFoundError traceback and exit 1).
- Ctrl-C (SIGINT to the whole process group) in the middle of a plain list fanned out
  over worker processes: exit 130, no traceback from any process, no process left.
- One plain list scanned as `one.txt` from its directory and by its absolute path from
  another, with the lab's mail server refusing IPv6 SMTP in between: one history, and
  `--fail-on-regression` names the regression.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ipv6scan.lab import Lab
from ipv6scan.lab.availability import binary
from tests.integration.test_dns_checks import REPO

pytestmark = pytest.mark.lab

FANNED_LINES = 60_000  # NXDOMAIN names: a scan of some seconds over two worker processes


def _env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), **extra}
    for name in ("IPV6SCAN_ENGINE", "IPV6SCAN_WORKERS"):
        if name not in extra:
            env.pop(name, None)
    return env


def _start(
    lab: Lab, argv: list[str], env: dict[str, str], cwd: Path = REPO
) -> subprocess.Popen[bytes]:
    # `ip netns exec` execs the command: this PID is the scanner's. A session of its own, so
    # that a signal to its process group reaches its workers too, as Ctrl-C on a terminal.
    return subprocess.Popen(lab.netns_argv(lab.client_ns, argv), cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)  # fmt: skip


def _finish(proc: subprocess.Popen[bytes]) -> str:
    try:
        _out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return err.decode(errors="replace")


def _wait(proc: subprocess.Popen[bytes], ready: object, what: str, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the scan ended before {what}: {_finish(proc)[-2000:]}"
        if callable(ready) and ready():
            return
        time.sleep(0.02)
    pytest.fail(f"no {what} within {within} s")


def _children(pid: int) -> set[int]:
    """PIDs whose parent is `pid`, from /proc (no psutil)."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat[stat.rfind(")") + 2 :].split()[1])
        if ppid == pid:
            found.add(int(entry))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return state[state.rfind(")") + 2] != "Z"


def _lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def test_sigterm_before_the_first_result_exits_130_with_empty_files(
    lab: Lab, tmp_path: Path
) -> None:
    # Given a scan whose preflight waits on a resolver that never answers
    targets = tmp_path / "slow.txt"
    targets.write_text("good.example\n")
    out = tmp_path / "out"
    argv = lab.scan_argv(targets, out, checks="dns.aaaa", timeout=3,
                         extra=["--resolver", lab.dead_resolver6])  # fmt: skip
    proc = _start(lab, argv, _env())
    # When SIGTERM comes once the scan has begun (its --out exists) and before any result
    _wait(proc, out.exists, "the scan's start")
    time.sleep(0.3)
    assert _lines(out / "results.jsonl") == 0
    proc.send_signal(signal.SIGTERM)
    err = _finish(proc)
    # Then exit 130, no traceback, and the files say that nothing finished
    assert proc.returncode == 130, err[-3000:]
    assert "Traceback" not in err
    assert "interrupted" in err
    assert (out / "results.jsonl").read_bytes() == b""
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["overall"]["score"] is None
    assert (out / "report.html").stat().st_size > 0


@pytest.mark.parametrize("moment", ["workers starting", "results flowing"])
def test_ctrl_c_mid_scan_of_a_fanned_out_list_leaves_no_traceback_and_no_process(
    lab: Lab, tmp_path: Path, moment: str
) -> None:
    # Given a plain list big enough for the bulk path, fanned out over two workers
    targets = tmp_path / "big.txt"
    targets.write_text("".join(f"h{i}.allnsdead.example\n" for i in range(FANNED_LINES)))
    out = tmp_path / "out"
    argv = lab.scan_argv(targets, out, checks="dns.aaaa", timeout=2)
    proc = _start(lab, argv, _env(IPV6SCAN_WORKERS="2"))
    results = out / "results.jsonl"
    # When Ctrl-C reaches the whole process group as the workers start (loading their
    # modules), or later, while their results are flowing
    _wait(proc, lambda: len(_children(proc.pid)) >= 2, "two worker processes")
    if moment == "results flowing":
        _wait(proc, lambda: _lines(results) >= 500, "500 results")
    workers = _children(proc.pid)
    assert len(workers) >= 2, f"the list was not fanned out: children {workers}"
    os.killpg(proc.pid, signal.SIGINT)
    err = _finish(proc)
    # Then exit 130, not one traceback from the scan or a worker, and every worker gone
    assert proc.returncode == 130, err[-3000:]
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err[-3000:]
    assert "interrupted" in err
    assert not [pid for pid in workers if _alive(pid)]
    raw = results.read_bytes()
    assert raw.endswith(b"\n") or not raw  # nothing yet, as the workers start
    records = [json.loads(line) for line in raw.splitlines()]
    assert len(records) < FANNED_LINES, "the scan was not stopped part-way"
    if moment == "results flowing":
        assert len(records) >= 500


@pytest.fixture
def smtp_refused(lab: Lab) -> Iterator[object]:
    """A callable that makes the mail namespace refuse SMTP over IPv6 (TCP reset), as a
    mail server whose IPv6 listener went away; the rule is removed after the test."""
    nft = binary("nft")
    table = f"exitcodes{os.getpid()}"
    added: list[bool] = []

    def refuse() -> None:
        rules = (f"table inet {table} {{\n chain input {{\n"
                 "  type filter hook input priority -5;\n"
                 "  meta nfproto ipv6 tcp dport 25 reject with tcp reset\n }\n}\n")  # fmt: skip
        lab.run(lab.mail_ns, [nft, "-f", "-"], input=rules, text=True, check=True)
        added.append(True)

    yield refuse
    if added:
        lab.run(lab.mail_ns, [nft, "delete", "table", "inet", table], check=True)


def test_two_path_spellings_are_one_history_and_the_gate_catches_a_regression(
    lab: Lab, tmp_path: Path, smtp_refused: object
) -> None:
    lists, elsewhere = tmp_path / "lists", tmp_path / "elsewhere"
    lists.mkdir()
    elsewhere.mkdir()
    (lists / "one.txt").write_text("good.example\n")
    db = tmp_path / "history.db"

    def scan(target: str, out: Path, cwd: Path) -> tuple[int, str]:
        extra = ["--db", str(db), "--fail-on-regression", "--attempts", "2"]
        argv = lab.scan_argv(Path(target), out, checks="mail.smtp", timeout=2, extra=extra)
        proc = lab.run(lab.client_ns, argv, cwd=cwd, env=_env(), capture_output=True,
                       text=True, timeout=300)  # fmt: skip
        return proc.returncode, proc.stderr

    # Given one.txt scanned from its own directory: SMTP over IPv6 works
    code, err = scan("one.txt", tmp_path / "r1", lists)
    assert code == 0, err[-3000:]
    assert "nothing to compare; the gate passes" in err
    first = [
        json.loads(line) for line in (tmp_path / "r1" / "results.jsonl").read_text().splitlines()
    ]
    assert [(r["subject"], r["status"]) for r in first] == [("good.example", "pass")]
    # When the mail server stops taking IPv6 connections, and the same list is scanned by
    # its absolute path from another directory
    assert callable(smtp_refused)
    smtp_refused()
    code, err = scan(str(lists / "one.txt"), tmp_path / "r2", elsewhere)
    # Then it continues the first run's history, and the gate names the regression
    assert code == 1, err[-3000:]
    assert "gate: regressed: good.example / good.example / mail.smtp: pass -> fail" in err
    summary = json.loads((tmp_path / "r2" / "summary.json").read_text(encoding="utf-8"))
    assert summary["run"]["previous"] == 1
    assert json.loads(summary["run"]["history"])["lists"] == ["one.txt"]
