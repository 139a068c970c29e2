#!/usr/bin/env bash
# nostr_resilience.sh — a relay killed (SIGKILL) and restarted on the same port mid-session:
# the subscriber reconnects with backoff, re-subscribes, and gets an event published after the
# restart. Also: a relay that never answers does not keep `nostr publish` from succeeding on
# the other one.
set -euo pipefail
source "$(dirname "$0")/lib/nostr.sh"

start_relay R
"$GENOSDB" nostr sub --relay "$URL_R" --count 1 --timeout 30000 '{"#t":["after-restart"]}' \
  >"$WORK/sub.out" 2>"$WORK/sub.err" &
PIDS+=($!); pid_sub=$!
sleep 1
kill -9 "$PID_R"
sleep 1.5
"$GENOSDB" relay --port "$PORT_R" >"$WORK/relay2.out" 2>"$WORK/relay2.err" &
PIDS+=($!)
for _ in $(seq 1 100); do grep -q listening "$WORK/relay2.out" 2>/dev/null && break; sleep 0.05; done
grep -q listening "$WORK/relay2.out" || fail "relay did not restart on port $PORT_R"
"$GENOSDB" nostr publish --relay "$URL_R" --kind 1 --content back --tags '[["t","after-restart"]]' >/dev/null
wait "$pid_sub" || fail "subscriber failed: $(cat "$WORK/sub.err")"
grep -q '"content":"back"' "$WORK/sub.out" || fail "no event after restart: $(cat "$WORK/sub.out")"

# a TCP listener that never answers, next to a working relay
python3 - >"$WORK/silent.port" <<'PY' &
import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
print(s.getsockname()[1], flush=True)
time.sleep(20)
PY
PIDS+=($!)
for _ in $(seq 1 100); do [ -s "$WORK/silent.port" ] && break; sleep 0.05; done
out=$("$GENOSDB" nostr publish --relay "ws://127.0.0.1:$(cat "$WORK/silent.port")" --relay "$URL_R" \
  --kind 1 --content x --timeout 3000 2>&1)
echo "$out" | grep -q "\"relay\":\"$URL_R\",\"accepted\":true" || fail "working relay not used: $out"
echo "nostr_resilience: ok"
