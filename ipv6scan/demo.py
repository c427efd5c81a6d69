"""`ipv6scan demo`: bring the namespace lab up, scan it from its client namespace,
write the usual files, tear the lab down. Linux and root only.

A newcomer sees the whole pipeline on a machine with no IPv6 and no Internet; an
operator rehearses a nightly audit against answers known in advance.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

DEMO_CHECKS = "dns,web,mail,net,resolver"


def run_demo(out: Path, *, lang: str, quiet: bool = False) -> int:
    from ipv6scan.lab import Lab, LabUnavailable, lab_unavailable_reason

    reason = lab_unavailable_reason()
    if reason is not None:
        print(f"ipv6scan demo: the lab cannot run here: {reason}", file=sys.stderr)
        return 2
    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    say = (lambda *_: None) if quiet else (lambda msg: print(msg, file=sys.stderr))
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ipv6scan-demo-") as tmp:
        try:
            with Lab(Path(tmp)) as lab:
                say(
                    f"lab up in {time.monotonic() - started:.1f} s: namespaces "
                    f"{', '.join(lab.namespaces)}"
                )
                argv = lab.scan_argv(
                    lab.full_targets_file,
                    out,
                    checks=DEMO_CHECKS,
                    timeout=2.0,
                    extra=["--lang", lang, "--db", str(out / "ipv6scan.db")],
                )
                say(f"scanning {lab.full_targets_file.name} from {lab.client_ns} ...")
                done = lab.run(lab.client_ns, argv)
                # keep the target list beside the results: the report's input, for reference
                shutil.copy(lab.full_targets_file, out / "lab-targets.yaml")
        except LabUnavailable as exc:
            print(f"ipv6scan demo: the lab cannot run here: {exc}", file=sys.stderr)
            return 2
    if done.returncode not in (0, 1):
        print(f"ipv6scan demo: the scan exited {done.returncode}", file=sys.stderr)
        return done.returncode
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    counts: dict[str, int] = {}
    with (out / "results.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            status = json.loads(line)["status"]
            counts[status] = counts.get(status, 0) + 1
    tally = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    score = summary["overall"]["score"]
    print(
        f"demo finished in {time.monotonic() - started:.1f} s: {tally}; overall score "
        f"{'not scored' if score is None else score}; report: {out / 'report.html'}"
    )
    return 0
