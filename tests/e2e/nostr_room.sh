#!/usr/bin/env bash
# nostr_room.sh — two genosdb processes discover each other in a room through the embedded
# relay and exchange sealed offers and answers; a third process in the same app and room but
# without the password reads nothing (it sees the events, and every one is unreadable).
set -euo pipefail
source "$(dirname "$0")/lib/nostr.sh"

start_relay R
room=(--relay "$URL_R" --app genosdb-e2e --room lobby --announce-ms 500)
"$GENOSDB" nostr room "${room[@]}" --duration 60000 >"$WORK/c.out" 2>"$WORK/c.err" &
PIDS+=($!); pid_c=$!
# let the eavesdropper be connected before the others speak
python3 - "$PORT_R" <<'PY' || fail "the third process did not connect"
import json, sys, time, urllib.request
for _ in range(200):
    s = json.load(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/", timeout=5))
    if s["connections"] >= 1:
        sys.exit(0)
    time.sleep(0.05)
sys.exit(1)
PY
"$GENOSDB" nostr room "${room[@]}" --password s3cret --until 1 --duration 15000 >"$WORK/a.out" 2>"$WORK/a.err" &
PIDS+=($!); pid_a=$!
"$GENOSDB" nostr room "${room[@]}" --password s3cret --until 1 --duration 15000 >"$WORK/b.out" 2>"$WORK/b.err" &
PIDS+=($!); pid_b=$!
wait "$pid_a" "$pid_b"
sleep 0.5
kill -TERM "$pid_c" # it prints its summary and leaves
wait "$pid_c"

check() { # check FILE PYTHON-ASSERTIONS
  python3 - "$1" "$2" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
summary = [l["summary"] for l in lines if "summary" in l][0]
signals = [l for l in lines if l.get("event") == "signal"]
seen = [l for l in lines if l.get("event") == "peer:seen"]
exec(sys.argv[2])
PY
}
for p in a b; do
  check "$WORK/$p.out" '
assert summary["handshakes"] == 1, summary
assert len(seen) >= 1, lines
assert any(s["type"] in ("offer", "answer") and s["payload"].startswith("test-") for s in signals), signals
' || fail "peer $p: $(cat "$WORK/$p.out")"
done
a_self=$(python3 -c 'import json,sys; print([json.loads(l) for l in open(sys.argv[1]) if "summary" in l][0]["summary"]["self"])' "$WORK/a.out")
grep -q "\"peer\":\"$a_self\"" "$WORK/b.out" || fail "b never heard of a ($a_self)"
check "$WORK/c.out" '
assert summary["peers"] == 0 and not signals and not seen, lines
assert summary["received"] > 0 and summary["unreadable"] == summary["received"], summary
' || fail "the process without the password read something: $(cat "$WORK/c.out")"
if grep -q "test-offer\|test-answer" "$WORK/c.out"; then fail "plain payload leaked to c"; fi
echo "nostr_room: ok"
