"""The web namespace's servers: one nginx for the sites, the trickle server, the delay relay.

Everything nginx needs (config, pid, logs, temp paths, documents, certificates)
lives in the lab workdir; nothing under /etc, /var or /run is used.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from ipv6scan.lab import websites as w
from ipv6scan.lab.availability import binary
from ipv6scan.lab.netns import netns_argv, template
from ipv6scan.lab.process import ManagedProcess
from ipv6scan.lab.servers.rawhttp import HEADS as RAW_HEADS

DEFAULT_CERT_NAME = "lab-default.invalid"  # served on 443 to a client that sends no SNI
WEB_CERT_CN = "ipv6scan lab web"
RELAY_BASE_PORT = 18000  # nginx's internal ports on the web namespace's ::1, behind the relay


def _sock(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


# ------------------------------------------------------------------ certificates


def _openssl(key: Path, cert: Path, cn: str, sans: Iterable[str]) -> subprocess.Popen[bytes]:
    # EC P-256: generated in milliseconds, unlike RSA.
    argv = [binary("openssl"), "req", "-x509", "-newkey", "ec",
            "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "3650",
            "-keyout", str(key), "-out", str(cert), "-subj", f"/CN={cn}",
            "-addext", "subjectAltName=" + ",".join(f"DNS:{n}" for n in sans)]  # fmt: skip
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def certificates(directory: Path) -> dict[str, tuple[Path, Path]]:
    """Self-signed certificates, made once per workdir: "web" (every HTTPS name of the
    lab as a SAN) and "default" (CN lab-default.invalid, for clients without SNI)."""
    directory.mkdir(parents=True, exist_ok=True)
    names = w.cert_names()
    # The SAN list is in the file name: a changed site table gets a fresh certificate.
    tag = hashlib.sha256(",".join(names).encode()).hexdigest()[:12]
    wanted = {
        "web": (WEB_CERT_CN, names, tag),
        "default": (DEFAULT_CERT_NAME, [DEFAULT_CERT_NAME], "default"),
    }
    out: dict[str, tuple[Path, Path]] = {}
    jobs = []
    for role, (cn, sans, stem) in wanted.items():
        key, cert = directory / f"{role}-{stem}.key", directory / f"{role}-{stem}.pem"
        out[role] = (cert, key)
        if not (key.exists() and cert.exists()):
            jobs.append((role, _openssl(key, cert, cn, sans)))
    for role, job in jobs:
        _, err = job.communicate()
        if job.returncode != 0:
            raise RuntimeError(f"openssl could not make the {role} certificate: {err.decode()}")
    return out


# ------------------------------------------------------------------ documents


def _write_docs(root: Path, pages: dict[str, str]) -> None:
    for rel, body in pages.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, encoding="utf-8")


def _write_huge(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    head = b"<!doctype html><html><head><title>Huge</title></head><body><pre>\n"
    with (root / "index.html").open("wb") as out:
        out.write(head)
        # Sparse: 256 MiB on the wire, a few bytes on disk, written in no time.
        out.truncate(w.HUGE_SIZE)


def documents(directory: Path) -> dict[tuple[str, int], Path]:
    """(site key, family) -> document root; the IPv6 root differs only with pages6."""
    roots: dict[tuple[str, int], Path] = {}
    for site in w.SITES:
        if site.server != "nginx":
            continue
        both = directory / site.key / "both"
        if site.huge:
            _write_huge(both)
        else:
            _write_docs(both, site.pages)
        roots[(site.key, 4)] = roots[(site.key, 6)] = both
        if site.pages6 is not None:
            roots[(site.key, 6)] = directory / site.key / "v6"
            _write_docs(roots[(site.key, 6)], site.pages6)
    return roots


# ------------------------------------------------------------------ nginx config


def relay_maps() -> list[tuple[str, str]]:
    """(public IPv6 endpoint, nginx's internal endpoint) of every delayed site."""
    maps: list[tuple[str, str]] = []
    delayed = [s for s in w.SITES if s.delay6]
    for i, site in enumerate(delayed):
        for j, port in enumerate(site.ports6):
            inner = RELAY_BASE_PORT + 10 * i + j
            maps += [(_sock(a, port), _sock("::1", inner)) for a in site.addresses(6)]
    return maps


def _listens(site: w.Site, version: int) -> list[tuple[str, int, bool]]:
    """(address, port, ssl) sockets of one site and family, in nginx's own terms."""
    ports = site.ports6 if version == 6 else site.ports4
    if version == 6 and site.delay6:
        i = [s for s in w.SITES if s.delay6].index(site)
        return [("::1", RELAY_BASE_PORT + 10 * i + j, port == 443) for j, port in enumerate(ports)]
    return [(a, p, p == 443) for a in site.addresses(version) for p in ports]


def _server_block(site: w.Site, version: int, root: Path, web_cert: tuple[Path, Path]) -> str:
    listens = _listens(site, version)
    if not listens:
        return ""
    lines = [f"    # {site.key}, IPv{version}"]
    lines += [f"    listen {_sock(a, p)}{' ssl' if tls else ''};" for a, p, tls in listens]
    lines.append(f"    server_name {' '.join(site.names)};")
    lines.append(f"    root {root};")
    if any(tls for *_, tls in listens):
        lines.append(f"    ssl_certificate {web_cert[0]};")
        lines.append(f"    ssl_certificate_key {web_cert[1]};")
    if site.redirect:
        lines.append(f"    location / {{ return 301 {site.redirect}; }}")
    elif version == 6 and site.status6:
        lines.append(f"    location / {{ return {site.status6}; }}")
    return "  server {\n" + "\n".join(lines) + "\n  }\n"


def _default_blocks(sockets: set[tuple[str, int, bool]], cert: tuple[Path, Path]) -> str:
    # Without SNI a client lands here and gets the lab-default certificate: only
    # a client that sends the host name (SNI) gets the site's.
    tls = sorted((a, p) for a, p, ssl in sockets if ssl)
    if not tls:
        return ""
    listens = "\n".join(f"    listen {_sock(a, p)} ssl default_server;" for a, p in tls)
    return (
        f"  server {{\n{listens}\n    server_name {DEFAULT_CERT_NAME};\n"
        f"    ssl_certificate {cert[0]};\n    ssl_certificate_key {cert[1]};\n"
        "    return 421;\n  }\n"
    )


def nginx_conf(directory: Path, roots: dict[tuple[str, int], Path],
               certs: dict[str, tuple[Path, Path]]) -> str:  # fmt: skip
    blocks: list[str] = []
    sockets: set[tuple[str, int, bool]] = set()
    for site in w.SITES:
        if site.server != "nginx":
            continue
        for version in (6, 4):
            blocks.append(_server_block(site, version, roots[(site.key, version)], certs["web"]))
            sockets.update(_listens(site, version))
    blocks.insert(0, _default_blocks(sockets, certs["default"]))
    return template("nginx.conf.in").substitute(dir=directory, servers="".join(blocks))


# ------------------------------------------------------------------ processes


def _trickle_endpoints() -> list[str]:
    out: list[str] = []
    for site in w.SITES:
        if site.server == "trickle":
            out += [_sock(a, p) for a in site.addresses(6) for p in site.ports6]
            out += [_sock(a, p) for a in site.addresses(4) for p in site.ports4]
    return out


def _rawhttp_endpoints() -> list[str]:
    """KIND=ENDPOINT of each site served by servers/rawhttp.py."""
    out: list[str] = []
    for site in w.SITES:
        if site.server in RAW_HEADS:
            out += [f"{site.server}={_sock(a, p)}" for a in site.addresses(6) for p in site.ports6]
            out += [f"{site.server}={_sock(a, p)}" for a in site.addresses(4) for p in site.ports4]
    return out


def prepare(workdir: Path, ns: str, repo_root: Path) -> list[ManagedProcess]:
    """Write documents, certificates and nginx.conf; return the (not started) servers."""
    base = workdir / "web"
    nginx_dir = base / "nginx"
    for sub in ("tmp/body", "tmp/proxy", "tmp/fastcgi", "tmp/uwsgi", "tmp/scgi"):
        (nginx_dir / sub).mkdir(parents=True, exist_ok=True)
    certs = certificates(workdir / "certs")
    conf = nginx_dir / "nginx.conf"
    conf.write_text(nginx_conf(nginx_dir, documents(base / "docs"), certs))
    pid = nginx_dir / "nginx.pid"
    nginx = [binary("nginx"), "-p", str(nginx_dir), "-e", str(nginx_dir / "error.log"),
             "-c", str(conf), "-g", "daemon off;"]  # fmt: skip
    servers = [
        # nginx writes its pid file only after it has bound every listening socket.
        ManagedProcess("nginx", netns_argv(ns, nginx), nginx_dir / "stdout.log", ready=pid),
    ]
    py = [sys.executable, "-m"]
    trickle = _trickle_endpoints()
    if trickle:
        ready = base / "trickle.ready"
        argv = [*py, "ipv6scan.lab.servers.trickle", "--ready", str(ready), *trickle]
        servers.append(ManagedProcess("trickle", netns_argv(ns, argv), base / "trickle.log",
                                      ready=ready, cwd=repo_root))  # fmt: skip
    raw = _rawhttp_endpoints()
    if raw:
        ready = base / "rawhttp.ready"
        argv = [*py, "ipv6scan.lab.servers.rawhttp", "--ready", str(ready), *raw]
        servers.append(ManagedProcess("rawhttp", netns_argv(ns, argv), base / "rawhttp.log",
                                      ready=ready, cwd=repo_root))  # fmt: skip
    maps = relay_maps()
    if maps:
        ready = base / "relay.ready"
        argv = [*py, "ipv6scan.lab.servers.relay", "--ready", str(ready),
                "--delay", str(w.RELAY_DELAY), *(f"{a}={b}" for a, b in maps)]  # fmt: skip
        servers.append(ManagedProcess("relay6", netns_argv(ns, argv), base / "relay.log",
                                      ready=ready, cwd=repo_root))  # fmt: skip
    return servers
