# lib/nostr.sh — helpers sourced by the Nostr end-to-end tests (tests/e2e/nostr_*.sh).
: "${GENOSDB:?set GENOSDB to the genosdb binary}"
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

# start_relay NAME [ARGS...]: runs `genosdb relay --port 0 ARGS` in the background and sets
# URL_<NAME>, PORT_<NAME> and PID_<NAME>.
start_relay() {
  local name=$1; shift
  "$GENOSDB" relay --port 0 "$@" >"$WORK/relay_$name.out" 2>"$WORK/relay_$name.err" &
  PIDS+=($!)
  eval "PID_$name=$!"
  for _ in $(seq 1 100); do
    grep -q listening "$WORK/relay_$name.out" 2>/dev/null && break
    sleep 0.05
  done
  local url
  url=$(sed -n 's/.*"listening":"\([^"]*\)".*/\1/p' "$WORK/relay_$name.out")
  [ -n "$url" ] || fail "relay $name did not start: $(cat "$WORK/relay_$name.err")"
  eval "URL_$name=$url"
  eval "PORT_$name=${url##*:}"
}
