#!/usr/bin/env bash
# rtc_turn.sh — a connection relayed through TURN: Debian's coturn runs on 127.0.0.1 with a
# long-term credential, both genosdb peers use it with --relay-only (relay candidates only),
# messages and a file are echoed and checked, and the offerer's selected pair must be relay.
# Then the same server as STUN for two peers that must still connect.
set -euo pipefail
: "${GENOSDB:?set GENOSDB to the genosdb binary}"
command -v turnserver >/dev/null || { echo "rtc_turn: needs turnserver (Debian coturn; ./dev.sh installs it)"; exit 1; }
work=$(mktemp -d)
cleanup() {
  [ -f "$work/turn.pid" ] && kill "$(cat "$work/turn.pid")" 2>/dev/null || true
  kill $(jobs -p) 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
port=$((35000 + RANDOM % 2000))
turnserver -n --listening-ip=127.0.0.1 --relay-ip=127.0.0.1 --listening-port=$port \
  --min-port=$((port + 1)) --max-port=$((port + 200)) --lt-cred-mech --user=gdb:secret \
  --realm=genosdb.test --no-tls --no-dtls --no-cli --allow-loopback-peers --fingerprint \
  --pidfile="$work/turn.pid" --log-file=stdout --simple-log --no-software-attribute \
  >turn.log 2>&1 &
turn=$!
for _ in $(seq 100); do grep -q "Total UDP servers" turn.log 2>/dev/null && break; sleep 0.05; done
sleep 0.2
kill -0 $turn || { echo "turnserver did not start:"; cat turn.log; exit 1; }

ice=(--bind 127.0.0.1 --turn "turn:127.0.0.1:$port" --turn-user gdb --turn-pass secret --relay-only)
mkfifo a b
head -c 1048576 /dev/urandom > file.bin
timeout 60 "$GENOSDB" rtc answer --echo "${ice[@]}" --timeout 50 <a >b 2>answer.err &
answer=$!
timeout 60 "$GENOSDB" rtc offer "${ice[@]}" --channels 2 --messages 100 --send-file file.bin \
  --timeout 50 <b 2>offer.err | tee -p offer.out >a || true
wait $answer || { echo "answerer failed:"; cat answer.err; tail -20 turn.log; exit 1; }
report=$(grep '"type":"report"' offer.out) || { cat offer.err; tail -30 turn.log; exit 1; }
echo "$report"
grep -q '"ok":true' <<<"$report" || { echo "relayed exchange failed"; cat offer.err; exit 1; }
grep -q '"local_candidate_type":"relay"' <<<"$report" || { echo "selected pair is not relayed"; exit 1; }
grep -q '"remote_candidate_type":"relay"' <<<"$report" || { echo "remote side is not relayed"; exit 1; }
echo "relayed through coturn on 127.0.0.1:$port"

# The same coturn as a STUN server: peers configured with it still connect (on loopback the
# server-reflexive address equals the host one, so the pair stays host).
rm -f a b && mkfifo a b
stun=(--bind 127.0.0.1 --stun "stun:127.0.0.1:$port")
timeout 60 "$GENOSDB" rtc answer --echo "${stun[@]}" --timeout 50 <a >b 2>answer2.err &
answer=$!
timeout 60 "$GENOSDB" rtc offer "${stun[@]}" --channels 1 --messages 50 --timeout 50 <b \
  2>offer2.err | tee -p offer2.out >a || true
wait $answer || { echo "answerer with STUN failed:"; cat answer2.err; exit 1; }
grep -q '"ok":true' offer2.out || { echo "exchange with a STUN server configured failed"; cat offer2.err; exit 1; }
echo "STUN-configured peers connected"
