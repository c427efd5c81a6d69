"""A deterministic results.jsonl of a few thousand targets, shaped like a concurrent scan's:
every sector and tier, all statuses, the name-server pair that the scorer settles late,
hostile and Chinese text, and one target's lines far apart. For the streamed outputs'
tests, which compare them with what the in-memory code makes of the same lines."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

STATUSES = ("pass", "pass", "fail", "fail", "warn", "error", "skip")
SERVICE_CHECKS = (
    "dns.aaaa",
    "dns.ns_ipv6",
    "dns.ns_reachable",
    "dns.mx_ipv6",
    "mail.smtp",
    "web.reachable",
    "web.http",
    "web.parity",
    "web.links",
)
DOMAIN_CHECKS = ("dns.ns_ipv6", "dns.ns_reachable", "dns.mx_ipv6", "mail.smtp")
SYSTEM_CHECKS = ("net.ping", "net.trace", "resolver.ipv6")
SECTORS = ("government", "operator", "enterprise")


def _record(
    rng: random.Random, target: str, sector: str, tier: str, subject: str, check: str
) -> dict[str, Any]:
    status = rng.choice(STATUSES)
    detail = rng.choice(
        [
            f"{check} is {status}.",
            "No AAAA record.",
            "没有全局 AAAA 记录 <b>&amp;</b>",
            '<script>alert("x")</script>',
            "=cmd|' /C calc'!A0",
        ]
    )
    evidence: dict[str, Any] = {"rcode": rng.choice(["NOERROR", "NXDOMAIN", "SERVFAIL"])}
    if rng.random() < 0.5:
        evidence["addresses"] = [
            {"address": f"2001:db8::{rng.randrange(1, 0xFFFF):x}", "global": True}
        ]
    if rng.random() < 0.1:
        evidence["title"] = "省政府门户网站 \u2028 </script>"
    return {
        "target": target,
        "sector": sector,
        "tier": tier,
        "subject": subject,
        "check": check,
        "status": status,
        "detail": detail,
        "evidence": evidence,
        "duration_ms": round(rng.uniform(0.01, 900), 3),
    }


def sample_lines(targets: int = 3000, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    lines: list[str] = []
    for i in range(targets):
        sector = SECTORS[i % 3]
        name = f"门户 {i}" if i % 97 == 0 else f"t{i}.example"
        domain = f"d{i}.example"
        for subject in (domain, f"www.{domain}")[: 1 + (rng.random() < 0.6)]:
            checks = ("dns.aaaa",) if i % 2 else SERVICE_CHECKS
            for check in checks:
                if check in DOMAIN_CHECKS and subject != domain:
                    continue  # zone-level checks look at D only
                lines.append(json.dumps(_record(rng, name, sector, "services", subject, check)))
        if sector == "operator" and i % 5 == 0:
            for tier in ("backbone", "metro", "access"):
                subject = f"2001:db8:{i:x}::1"
                for check in SYSTEM_CHECKS:
                    lines.append(json.dumps(_record(rng, name, sector, tier, subject, check)))
    # a concurrent scan: each line moves by up to a window of others
    out: list[str] = []
    window: list[str] = []
    for line in lines:
        window.append(line)
        if len(window) > 80:
            out.append(window.pop(rng.randrange(len(window))))
    rng.shuffle(window)
    out.extend(window)
    # one target (with systems too) whose results are far apart: its first line opens the file
    late = [line for line in out if json.loads(line)["target"] == "t10.example"]
    rest = [line for line in out if json.loads(line)["target"] != "t10.example"]
    return [late[0], *rest[: len(rest) // 2], *late[1:], *rest[len(rest) // 2 :]]


def write_sample(path: Path, targets: int = 3000, seed: int = 11) -> Path:
    """The sample, with a blank line and a torn last line that readers must skip."""
    lines = sample_lines(targets, seed)
    lines.insert(len(lines) // 3, "")
    text = "\n".join(lines) + "\n" + lines[5][: len(lines[5]) // 2]
    path.write_text(text, encoding="utf-8")
    return path
