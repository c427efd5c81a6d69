#!/usr/bin/env bash
# One-time set-up on a fresh Debian/Ubuntu machine: the lab's servers from Debian's
# packages, then a virtualenv with ipv6scan and its test tools. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

# Lab servers and tools (the namespace lab and `ipv6scan demo` need them; scans do not),
# and a C compiler with Python's headers for setup.py's mypyc build (without them the
# install falls back to pure Python, which CI's tests/unit/test_compiled.py rejects).
DEB_PACKAGES=(python3-venv iproute2 nftables procps nsd unbound nginx-light dnsperf fping
              bind9-dnsutils chromium openssl wrk gcc python3-dev redis-server
              fonts-noto-cjk)  # CJK glyphs in headless screenshots of the zh-CN report

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  missing=()
  for pkg in "${DEB_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
      || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q </dev/null
    # The lab starts its own servers in namespaces; nothing is enabled on the host.
    apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
  fi
else
  echo "setup: not root or no apt-get: skipping Debian packages (${DEB_PACKAGES[*]});" \
       "lab tests will skip" >&2
fi

PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/pip install -q --upgrade pip </dev/null
.venv/bin/pip install -q -e '.[test,fast]' </dev/null
echo "setup: done (.venv ready)"
