#!/usr/bin/env bash
# rtc_two_process.sh — two genosdb processes connect over 127.0.0.1: the offerer sends text
# and binary messages of 0 B to 256 KiB on three channels plus a 4 MiB file, the answerer
# echoes everything, and the offerer checks every byte. Then a one-way 8 MiB transfer closed
# right after the last send (all of it must arrive), and a pair where the answerer is killed
# mid-transfer: the offerer must report the failure within the consent timeout.
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

# 2. One way, no echo: the offerer sends 8 MiB and closes at once; the graceful SCTP shutdown
#    must still deliver every byte (the answerer counts them in its end report).
rm -f a b && mkfifo a b
head -c 8388608 /dev/urandom > one.bin
( timeout 60 "$GENOSDB" rtc answer --bind 127.0.0.1 --timeout 50 <a 2>answer1.err \
    | tee -p answer1.out >b ) &
answer=$!
timeout 60 "$GENOSDB" rtc offer --bind 127.0.0.1 --channels 0 --send-file one.bin --no-echo \
  --timeout 50 <b 2>offer1.err | tee -p offer1.out >a
wait $answer || { echo "answerer failed:"; cat answer1.err; exit 1; }
grep -q '"ok":true' offer1.out || { echo "one-way send failed"; cat offer1.err; exit 1; }
end=$(grep '"type":"end"' answer1.out)
echo "$end"
grep -q '"state":"closed"' <<<"$end" || { echo "answerer did not see a clean close"; exit 1; }
grep -q '"bytes":8388608' <<<"$end" || { echo "not every byte arrived before the close"; exit 1; }

# 3. The same over IPv6 loopback, where the machine has it.
if ip -6 addr show dev lo 2>/dev/null | grep -q '::1/128'; then
  rm -f a b && mkfifo a b
  timeout 60 "$GENOSDB" rtc answer --echo --bind ::1 --timeout 50 <a >b 2>answer6.err &
  answer=$!
  timeout 60 "$GENOSDB" rtc offer --bind ::1 --channels 2 --messages 100 --send-file file.bin \
    --timeout 50 <b 2>offer6.err | tee -p offer6.out >a
  wait $answer || { echo "IPv6 answerer failed:"; cat answer6.err; exit 1; }
  grep -q '"ok":true' offer6.out || { echo "IPv6 exchange failed"; cat offer6.err; exit 1; }
  grep -q '"local_address":"\[::1\]:' offer6.out || { echo "IPv6 pair not selected"; exit 1; }
  echo "IPv6 loopback: ok"
fi

# 4. The answerer vanishes (SIGKILL) mid-transfer: the offerer fails cleanly and quickly.
# (Half a million small echoed messages take far longer than the 1.5 s before the kill on
# any machine; a file transfer of a fixed size could finish first on a fast one.)
rm -f a b && mkfifo a b
"$GENOSDB" rtc answer --echo --bind 127.0.0.1 --timeout 50 <a >b 2>answer2.err &
answer=$!
( sleep 1.5; kill -9 $answer ) &
start=$(date +%s)
set +e
timeout 60 "$GENOSDB" rtc offer --bind 127.0.0.1 --channels 1 --messages 500000 --max-size 64 \
  --consent-timeout 3000 --timeout 50 <b 2>offer2.err | tee -p offer2.out >a
status=${PIPESTATUS[0]}
set -e
elapsed=$(( $(date +%s) - start ))
cat offer2.err
[ "$status" -eq 3 ] || { echo "offerer exit status $status, expected 3 (failure)"; exit 1; }
[ "$elapsed" -lt 20 ] || { echo "failure took ${elapsed}s to detect"; exit 1; }
grep -q '"ok":false' offer2.out || { echo "no failed report"; exit 1; }
echo "vanished peer detected after ${elapsed}s"
