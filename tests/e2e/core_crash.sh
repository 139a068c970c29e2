# core_crash.sh — durability under SIGKILL: `import --sync` is killed at random moments, many
# times; after each kill the database must open cleanly and hold every id the import printed
# (an id is printed only once its line is committed to disk).
source "$(dirname "$0")/lib/common.sh"
G=$GENOSDB
ROUNDS=${CRASH_ROUNDS:-30}
DB=crash.db
: > acked.txt
RANDOM=4242 # a fixed sequence of kill times, so a failure can be reproduced

for round in $(seq 1 "$ROUNDS"); do
  # fresh content every round, so every acknowledged id is new
  python3 - "$round" > in.jsonl <<'PY'
import sys
r = int(sys.argv[1])
for i in range(8000):
    print('{"round":%d,"i":%d,"text":"line %d of round %d"}' % (r, i, i, r))
PY
  $G --db $DB import --sync in.jsonl > out.txt 2> err.txt &
  pid=$!
  # kill somewhere between 20 ms and 600 ms into the import
  sleep "0.$(printf '%03d' $(( RANDOM % 580 + 20 )))"
  kill -9 $pid 2>/dev/null || true
  wait $pid 2>/dev/null || true
  # only complete lines are acknowledgements
  grep -E '^[0-9a-f]{64}$' out.txt >> acked.txt || true

  # the database opens cleanly and holds everything acknowledged so far
  expect_exit 0 $G --db $DB stats
  expect_exit 0 $G --db $DB export
  echo "$OUT" | python3 -c '
import sys, json, hashlib
have = set()
for line in sys.stdin:
    if line.strip():
        have.add(json.loads(line)["id"])
acked = [l.strip() for l in open("acked.txt") if l.strip()]
missing = [a for a in acked if a not in have]
if missing:
    print("lost %d acknowledged ids, e.g. %s" % (len(missing), missing[0]))
    sys.exit(1)
' || fail "round $round: acknowledged writes lost"
done
n=$(sort -u acked.txt | wc -l)
[ "$n" -gt 0 ] || fail "no import was acknowledged before its kill: the test proved nothing"
echo "core_crash: $ROUNDS kills, $n acknowledged ids all present"
