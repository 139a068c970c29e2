#!/usr/bin/env bash
# rtc_two_process.sh — two genosdb processes connect over 127.0.0.1: the offerer sends text
# and binary messages of 0 B to 256 KiB on three channels plus a 4 MiB file, the answerer
# echoes everything, and the offerer checks every byte. Then a second pair where the
# answerer is killed mid-transfer: the offerer must report the failure within the consent
# timeout instead of hanging.
set -euo pipefail
: "${GENOSDB:?set GENOSDB to the genosdb binary}"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"
mkfifo a b
head -c 4194304 /dev/urandom > file.bin

# 1. Echo over three channels and a file channel, every byte verified by the offerer.
timeout 60 "$GENOSDB" rtc answer --echo --bind 127.0.0.1 --timeout 50 <a >b 2>answer.err &
answer=$!
timeout 60 "$GENOSDB" rtc offer --bind 127.0.0.1 --channels 3 --messages 200 --max-size 262144 \
  --send-file file.bin --timeout 50 <b 2>offer.err | tee -p offer.out >a
wait $answer || { echo "answerer failed:"; cat answer.err; exit 1; }
report=$(grep '"type":"report"' offer.out)
echo "$report"
grep -q '"ok":true' <<<"$report" || { echo "offer report not ok"; cat offer.err; exit 1; }
grep -q '"messages_verified":600' <<<"$report" || { echo "not all messages verified"; exit 1; }
grep -q '"file_bytes_verified":4194304' <<<"$report" || { echo "file not verified"; exit 1; }

# 2. The answerer vanishes (SIGKILL) mid-transfer: the offerer fails cleanly and quickly.
rm -f a b && mkfifo a b
head -c 67108864 /dev/zero > big.bin
"$GENOSDB" rtc answer --echo --bind 127.0.0.1 --timeout 50 <a >b 2>answer2.err &
answer=$!
( sleep 1.5; kill -9 $answer ) &
start=$(date +%s)
set +e
timeout 60 "$GENOSDB" rtc offer --bind 127.0.0.1 --channels 0 --send-file big.bin --chunk 16384 \
  --consent-timeout 3000 --timeout 50 <b 2>offer2.err | tee -p offer2.out >a
status=${PIPESTATUS[0]}
set -e
elapsed=$(( $(date +%s) - start ))
cat offer2.err
[ "$status" -eq 3 ] || { echo "offerer exit status $status, expected 3 (failure)"; exit 1; }
[ "$elapsed" -lt 20 ] || { echo "failure took ${elapsed}s to detect"; exit 1; }
grep -q '"ok":false' offer2.out || { echo "no failed report"; exit 1; }
echo "vanished peer detected after ${elapsed}s"
