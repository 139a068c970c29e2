#!/usr/bin/env bash
# run.sh — Nostr interoperability with software this project did not write (npm packages,
# installed with `npm ci` from the committed lockfile):
#   1. nostr-tools publishes and subscribes through genosdb's embedded relay, sees invalid
#      events refused, and verifies events signed by genosdb's CLI;
#   2. genosdb's client (CLI publish/sub and a sealed room) works through @nostr-relay/core;
#   3. the same over wss://, with certificates checked (trusted CA, unknown CA, wrong host).
# Needs node >= 20 and npm; $GENOSDB is the CLI binary.
set -euo pipefail
cd "$(dirname "$0")"
: "${GENOSDB:?set GENOSDB to the genosdb binary}"
command -v node >/dev/null || { echo "FAIL: node is not installed (apt-get install nodejs npm)" >&2; exit 1; }
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error >&2
fi

WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
wait_url() { # wait_url FILE -> prints the ws:// URL from {"listening":...}
  for _ in $(seq 1 200); do grep -q listening "$1" 2>/dev/null && break; sleep 0.05; done
  sed -n 's/.*"listening":"\([^"]*\)".*/\1/p' "$1"
}

# 1. nostr-tools against the embedded relay
"$GENOSDB" relay --port 0 >"$WORK/relay.out" 2>"$WORK/relay.err" &
PIDS+=($!)
url=$(wait_url "$WORK/relay.out")
[ -n "$url" ] || fail "embedded relay did not start: $(cat "$WORK/relay.err")"
"$GENOSDB" nostr publish --relay "$url" --kind 1 --content 'genosdb says "hi"
with a newline and é' --tags '[["t","cli"]]' | head -1 >"$WORK/cli_events.jsonl"
timeout 30 node embedded_relay.mjs "$url" "$WORK/cli_events.jsonl" || fail "nostr-tools against the embedded relay"
curl_status=$(node -e "fetch('${url/ws:/http:}').then(r=>r.json()).then(s=>console.log(JSON.stringify(s)))")
echo "$curl_status" | grep -q '"dropped":2' || fail "relay did not count the 2 invalid events: $curl_status"

# 2. genosdb's client against @nostr-relay/core
node npm_relay.mjs >"$WORK/npm.out" 2>"$WORK/npm.err" &
PIDS+=($!)
nurl=$(wait_url "$WORK/npm.out")
[ -n "$nurl" ] || fail "npm relay did not start: $(cat "$WORK/npm.err")"
out=$("$GENOSDB" nostr publish --relay "$nurl" --kind 1 --content 'through an npm relay' --tags '[["t","npm"]]')
echo "$out" | grep -q '"accepted":true' || fail "npm relay refused genosdb's event: $out"
id=$(echo "$out" | head -1 | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).id))')
subbed=$("$GENOSDB" nostr sub --relay "$nurl" --eose --timeout 5000 '{"#t":["npm"]}')
echo "$subbed" | grep -q "\"id\":\"$id\"" || fail "genosdb did not get its event back from the npm relay: $subbed"
# live delivery through the npm relay: a waiting subscriber gets an ephemeral event
"$GENOSDB" nostr sub --relay "$nurl" --count 1 --timeout 10000 '{"kinds":[20001]}' >"$WORK/live.out" &
PIDS+=($!); sub=$!
sleep 1
"$GENOSDB" nostr publish --relay "$nurl" --kind 20001 --content live >/dev/null
wait "$sub" || true
grep -q '"content":"live"' "$WORK/live.out" || fail "no live event through the npm relay"
# a sealed room through the npm relay
room=(--relay "$nurl" --app interop --room npm --password pw --until 1 --duration 15000 --announce-ms 500)
"$GENOSDB" nostr room "${room[@]}" >"$WORK/a.out" 2>/dev/null & PIDS+=($!); a=$!
"$GENOSDB" nostr room "${room[@]}" >"$WORK/b.out" 2>/dev/null & PIDS+=($!); b=$!
wait "$a" "$b"
grep -q '"handshakes":1' "$WORK/a.out" && grep -q '"handshakes":1' "$WORK/b.out" ||
  fail "room through the npm relay: $(cat "$WORK/a.out" "$WORK/b.out")"

# 3. wss://: genosdb's client through the npm relay behind TLS, with certificate verification.
# A throwaway CA signs a certificate for 127.0.0.1; trusted through --ca-file it works, and the
# same relay is refused without it (the system trust store does not know that CA) and when the
# certificate names another host.
command -v openssl >/dev/null || fail "openssl (the command) is needed to make test certificates"
tls_cert() { # tls_cert NAME SAN: a key and a certificate signed by the test CA
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1" \
    -keyout "$WORK/$1.key" -out "$WORK/$1.csr" 2>/dev/null
  printf 'subjectAltName=%s\n' "$2" > "$WORK/$1.ext"
  openssl x509 -req -in "$WORK/$1.csr" -CA "$WORK/ca.pem" -CAkey "$WORK/ca.key" -CAcreateserial \
    -days 2 -extfile "$WORK/$1.ext" -out "$WORK/$1.pem" 2>/dev/null
}
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=genosdb test CA" \
  -days 2 -keyout "$WORK/ca.key" -out "$WORK/ca.pem" 2>/dev/null || fail "openssl could not make the test CA"
tls_cert local 'IP:127.0.0.1,DNS:localhost'
tls_cert other 'DNS:relay.example'
node npm_relay.mjs --tls "$WORK/local.pem" "$WORK/local.key" >"$WORK/tls.out" 2>"$WORK/tls.err" &
PIDS+=($!)
turl=$(wait_url "$WORK/tls.out")
case "$turl" in wss://*) ;; *) fail "TLS npm relay did not start: $(cat "$WORK/tls.err")" ;; esac
out=$("$GENOSDB" nostr publish --relay "$turl" --ca-file "$WORK/ca.pem" --kind 1 --content 'over wss' --tags '[["t","wss"]]') ||
  fail "publish over wss:// with the CA trusted: $out"
echo "$out" | grep -q '"accepted":true' || fail "publish over wss:// was not accepted: $out"
subbed=$("$GENOSDB" nostr sub --relay "$turl" --ca-file "$WORK/ca.pem" --eose --timeout 5000 '{"#t":["wss"]}')
echo "$subbed" | grep -q '"content":"over wss"' || fail "sub over wss:// did not return the event: $subbed"
if out=$("$GENOSDB" nostr publish --relay "$turl" --kind 1 --content 'untrusted' --timeout 3000 2>"$WORK/untrusted.err"); then
  fail "publish over wss:// succeeded with a certificate from an unknown CA: $out"
fi
grep -q 'TLS handshake failed' "$WORK/untrusted.err" || fail "no TLS reason in the relay health: $(cat "$WORK/untrusted.err")"
node npm_relay.mjs --tls "$WORK/other.pem" "$WORK/other.key" >"$WORK/tls2.out" 2>"$WORK/tls2.err" &
PIDS+=($!)
turl2=$(wait_url "$WORK/tls2.out")
[ -n "$turl2" ] || fail "second TLS npm relay did not start: $(cat "$WORK/tls2.err")"
if out=$("$GENOSDB" nostr publish --relay "$turl2" --ca-file "$WORK/ca.pem" --kind 1 --content 'wrong name' --timeout 3000 2>"$WORK/wrongname.err"); then
  fail "publish over wss:// succeeded with a certificate for another host: $out"
fi
echo "npm relay interop: ok (ws:// and wss://)"
