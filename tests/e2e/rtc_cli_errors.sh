#!/usr/bin/env bash
# rtc_cli_errors.sh — the rtc commands refuse bad input with exit status 2 and a message.
set -uo pipefail
: "${GENOSDB:?set GENOSDB to the genosdb binary}"
fail=0
expect() { # expect STATUS DESCRIPTION -- command...
  local want=$1 what=$2; shift 3
  local out; out=$("$@" 2>&1); local got=$?
  if [ "$got" -ne "$want" ]; then echo "FAIL $what: exit $got, expected $want: $out"; fail=1
  else echo "ok   $what: ${out%%$'\n'*}"; fi
}
expect 2 "no subcommand" -- "$GENOSDB" rtc
expect 2 "unknown option" -- "$GENOSDB" rtc answer --frobnicate
expect 2 "empty stdin" -- "$GENOSDB" rtc answer --bind 127.0.0.1 </dev/null
expect 2 "not JSON" -- bash -c "echo 'hello' | '$GENOSDB' rtc answer --bind 127.0.0.1"
expect 2 "wrong type" -- bash -c "echo '{\"type\":\"answer\",\"sdp\":\"v=0\"}' | '$GENOSDB' rtc answer --bind 127.0.0.1"
expect 2 "malformed SDP" -- bash -c "echo '{\"type\":\"offer\",\"sdp\":\"v=0\\r\\nm=audio 9 RTP/AVP 0\\r\\n\"}' | '$GENOSDB' rtc answer --bind 127.0.0.1"
expect 2 "bad bind address" -- bash -c "echo '{\"type\":\"offer\",\"sdp\":\"v=0\"}' | '$GENOSDB' rtc answer --bind nowhere"
expect 2 "bad timeout" -- "$GENOSDB" rtc offer --timeout -1
expect 2 "missing file" -- "$GENOSDB" rtc offer --send-file /nonexistent/file
exit $fail
