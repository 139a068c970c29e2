#!/usr/bin/env bash
# rtc_browser.sh — runs rtc_browser.mjs (headless Chromium <-> genosdb) inside a network
# namespace of its own: Chromium gathers no loopback candidates, so the namespace gets a veth
# pair with 10.250.0.1/24 and 10.250.0.2/24 and a default route, and both peers use
# 10.250.0.1. Nothing outside the namespace is reachable from inside it.
# Needs root (unshare), /usr/bin/chromium and node; installs playwright-core with `npm ci`.
# `rtc_browser.sh SCRIPT.mjs [ARGS]` runs another script of this folder the same way
# (bench_chromium.mjs for the Chromium-to-Chromium figures).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ ! -x /usr/bin/chromium ] || ! command -v node >/dev/null; then
  echo "rtc_browser: needs /usr/bin/chromium and node (./dev.sh installs them)" >&2
  exit 1
fi
if [ ! -d "$here/node_modules/playwright-core" ]; then
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi
script=${1:-rtc_browser.mjs}
[ $# -gt 0 ] && shift
[ "$script" != rtc_browser.mjs ] || : "${GENOSDB:?set GENOSDB to the genosdb binary}"
export GENOSDB RTC_ADDR=10.250.0.1
exec unshare -n bash -c '
  set -e
  ip link set lo up
  ip link add gdbv0 type veth peer name gdbv1
  ip addr add 10.250.0.1/24 dev gdbv0
  ip addr add 10.250.0.2/24 dev gdbv1
  ip link set gdbv0 up
  ip link set gdbv1 up
  ip route add default via 10.250.0.2 dev gdbv0 2>/dev/null || true
  exec timeout 900 node "'"$here/$script"'" "$@"
' rtc_browser "$@"
