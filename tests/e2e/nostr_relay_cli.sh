#!/usr/bin/env bash
# nostr_relay_cli.sh — `genosdb relay` with `genosdb nostr publish|sub`: an event published by
# one process is served to another, GET / reports it, a relay verifying on its network thread
# without a seen-event cache serves the same way, and bad input exits with status 2.
set -euo pipefail
source "$(dirname "$0")/lib/nostr.sh"

start_relay A
out=$("$GENOSDB" nostr publish --relay "$URL_A" --kind 1 --content 'hello "e2e"' --tags '[["t","e2e"]]')
id=$(echo "$out" | head -1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
echo "$out" | tail -1 | grep -q '"accepted":true' || fail "publish not accepted: $out"

subbed=$("$GENOSDB" nostr sub --relay "$URL_A" --eose --timeout 5000 '{"#t":["e2e"]}')
[ "$(echo "$subbed" | wc -l)" -eq 1 ] || fail "expected one event, got: $subbed"
echo "$subbed" | grep -q "\"id\":\"$id\"" || fail "sub did not return $id"

python3 - "$PORT_A" <<'PY' || fail "GET / status"
import json, sys, urllib.request
s = json.load(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/", timeout=5))
assert s["relay"] == "genosdb" and s["events"] == 1 and s["dropped"] == 0, s
assert "connections" in s, s
req = urllib.request.Request(f"http://127.0.0.1:{sys.argv[1]}/", headers={"Accept": "application/nostr+json"})
info = json.load(urllib.request.urlopen(req, timeout=5))
assert 1 in info["supported_nips"] and info["limitation"]["max_subscriptions"] > 0, info
PY

start_relay B --verify-threads 0 --seen 0
"$GENOSDB" nostr publish --relay "$URL_B" --kind 1 --content inline | tail -1 |
  grep -q '"accepted":true' || fail "publish to a relay verifying inline not accepted"

set +e
"$GENOSDB" nostr publish --relay "$URL_A" --kind 99999 --content x 2>/dev/null; rc1=$?
"$GENOSDB" nostr sub --relay "$URL_A" '{"kinds":"x"}' 2>/dev/null; rc2=$?
"$GENOSDB" nostr publish --relay "http://nope" --kind 1 --content x 2>/dev/null; rc3=$?
"$GENOSDB" relay --port 70000 2>/dev/null; rc4=$?
"$GENOSDB" relay --port 0 --verify-threads 65 2>/dev/null; rc5=$?
set -e
[ "$rc1" -eq 2 ] && [ "$rc2" -eq 2 ] && [ "$rc3" -eq 2 ] && [ "$rc4" -eq 2 ] && [ "$rc5" -eq 2 ] ||
  fail "bad input exit codes: $rc1 $rc2 $rc3 $rc4 $rc5 (want 2 2 2 2 2)"
echo "nostr_relay_cli: ok"
