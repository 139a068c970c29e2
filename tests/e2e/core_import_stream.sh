# core_import_stream.sh — `import -` on a stream that stays open: each id is printed as soon as
# its line is acknowledged (committed, with --sync) without waiting for more input or for the
# end of the stream; an id printed and then a SIGKILL loses nothing.
source "$(dirname "$0")/lib/common.sh"
G=$GENOSDB

# wait_lines FILE N : waits (at most 10 s) until FILE holds N complete lines
wait_lines() {
  for _ in $(seq 1 200); do
    [ "$(grep -c '' "$1" 2>/dev/null || true)" -ge "$2" ] && return 0
    sleep 0.05
  done
  fail "$1 holds $(grep -c '' "$1" || true) lines after 10 s, wanted $2 (stderr: $(cat err.txt))"
}

for mode in --sync ""; do
  rm -f in.fifo s.db s.db-* out.txt
  mkfifo in.fifo
  # shellcheck disable=SC2086 # $mode is one flag or none
  $G --db s.db import $mode - < in.fifo > out.txt 2> err.txt &
  pid=$!
  exec 3> in.fifo
  echo '{"n":1,"mode":"'"$mode"'"}' >&3
  wait_lines out.txt 1
  echo '{"n":2,"mode":"'"$mode"'"}' >&3
  wait_lines out.txt 2
  if [ "$mode" = --sync ]; then
    kill -9 $pid
    wait $pid 2>/dev/null || true
    exec 3>&-
    for id in $(cat out.txt); do
      expect_exit 0 $G --db s.db get "$id"
      expect_in "$OUT" '"mode":"--sync"'
    done
  else
    exec 3>&- # the end of the input ends the import
    wait $pid || fail "import exited $? at the end of its input"
    [ "$(grep -c '' out.txt)" = 2 ] || fail "expected 2 ids, got: $(cat out.txt)"
  fi
done
echo "core_import_stream: ids printed while the input stayed open, durable with --sync"
