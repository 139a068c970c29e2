# common.sh — helpers for end-to-end tests (sourced). $GENOSDB is the CLI under test.
set -euo pipefail
: "${GENOSDB:?set GENOSDB to the genosdb binary}"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gdb-e2e.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

fail() { echo "FAIL: $*" >&2; exit 1; }

# expect_exit CODE CMD... : runs CMD, captures stdout/stderr in $OUT/$ERR, checks the status.
expect_exit() {
  local want=$1; shift
  set +e
  OUT=$("$@" 2>"$WORK/.stderr"); local got=$?
  set -e
  ERR=$(cat "$WORK/.stderr")
  [ "$got" = "$want" ] || fail "exit $got (wanted $want) from: $* -- stderr: $ERR"
}

# expect_in HAYSTACK NEEDLE
expect_in() { case "$1" in *"$2"*) ;; *) fail "expected \"$2\" in: $1" ;; esac; }
