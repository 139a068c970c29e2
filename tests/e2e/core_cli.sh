# core_cli.sh — the database verbs as a user runs them: output, exit codes, bad input.
source "$(dirname "$0")/lib/common.sh"
G=$GENOSDB
D=(--db "$WORK/t.db")

expect_exit 0 $G "${D[@]}" put '{"name":"Ada","age":36}'
[[ $OUT =~ ^[0-9a-f]{64}$ ]] || fail "put did not print a content id: $OUT"
ADA=$OUT
expect_exit 0 $G "${D[@]}" put --id bob '{"name":"Bob","tags":["x",1.5],"blob":{"$bin":"AAE="}}'
[ "$OUT" = bob ] || fail "put --id printed $OUT"
expect_exit 0 $G "${D[@]}" link bob "$ADA"
expect_exit 0 $G "${D[@]}" link bob not-yet-there
expect_exit 0 $G "${D[@]}" get bob
expect_in "$OUT" '"id":"bob","value":{"blob":{"$bin":"AAE="},"name":"Bob","tags":["x",1.5]},"edges":["'"$ADA"'","not-yet-there"],"timestamp":{"physical":'
expect_exit 0 $G "${D[@]}" map '{"query":{"name":"Ada"}}'
[ "$(echo "$OUT" | wc -l)" = 1 ] && expect_in "$OUT" "\"id\":\"$ADA\""

# not found
expect_exit 1 $G "${D[@]}" get nobody
expect_in "$ERR" 'no node "nobody"'
expect_exit 1 $G "${D[@]}" remove nobody
expect_exit 1 $G "${D[@]}" link nobody bob

# bad input: a specific message, exit 2, nothing stored changes
expect_exit 0 $G "${D[@]}" hash; BEFORE=$OUT
expect_exit 2 $G "${D[@]}" put '{"a":'
expect_in "$ERR" "not valid JSON"
expect_exit 2 $G "${D[@]}" put '[1,2,3]'
expect_in "$ERR" "must be a JSON object"
expect_exit 2 $G "${D[@]}" put '"text"'
expect_exit 2 $G "${D[@]}" put '{"a":1,"a":2}'
expect_in "$ERR" "duplicate"
python3 -c 'print("{\"s\":\"" + "x" * (5 * 1024 * 1024) + "\"}")' > big.json
expect_exit 2 $G "${D[@]}" put - < big.json
expect_in "$ERR" "limit"
expect_exit 2 $G "${D[@]}" put --id "" '{}'
expect_exit 2 $G "${D[@]}" frobnicate
expect_in "$ERR" 'unknown command "frobnicate"'
expect_exit 2 $G "${D[@]}" put --colour red '{}'
expect_in "$ERR" 'unknown flag "--colour"'
expect_exit 2 $G --frob "${D[@]}" get bob
expect_in "$ERR" 'unknown option "--frob"'
expect_exit 2 $G "${D[@]}" get
expect_exit 0 $G "${D[@]}" map '{"query":{"age":{"$gt":1}}}'
[ "$(echo "$OUT" | wc -l)" = 1 ] && expect_in "$OUT" "\"id\":\"$ADA\""
expect_exit 2 $G "${D[@]}" map '{"query":{"age":{"$gtt":1}}}'
expect_in "$ERR" 'did you mean "$gt"'
expect_exit 2 $G "${D[@]}" map '{"qeury":{}}'
expect_in "$ERR" 'unknown option "qeury"'
expect_exit 2 $G get bob
expect_in "$ERR" "no database given"
expect_exit 0 $G "${D[@]}" hash
[ "$OUT" = "$BEFORE" ] || fail "bad input changed the database"

# remove and clear
expect_exit 0 $G "${D[@]}" remove "$ADA"
expect_exit 0 $G "${D[@]}" get bob
expect_in "$OUT" '"edges":["not-yet-there"]'
expect_exit 0 $G "${D[@]}" clear
expect_in "$OUT" '"removed":1'
expect_exit 0 $G "${D[@]}" stats
expect_in "$OUT" '"nodes":0,"tombstones":2'

# export | import round trip into a new database keeps nodes and edges
for i in $(seq 1 50); do echo "{\"i\":$i}"; done > vals.jsonl
printf '{"id":"root","value":{"type":"Folder"},"edges":["x1","x2"]}\n{"id":"x1","value":{"type":"File"}}\n\n' >> vals.jsonl
expect_exit 0 $G --db src.db import vals.jsonl
[ "$(echo "$OUT" | wc -l)" = 52 ] || fail "import printed $(echo "$OUT" | wc -l) ids"
expect_exit 0 $G --db src.db export
echo "$OUT" > dump.jsonl
expect_exit 0 $G --db copy.db import dump.jsonl
expect_exit 0 $G --db copy.db export
# (timestamps differ: a copy is new writes)
diff <(sed 's/,"timestamp":{[^}]*}//' dump.jsonl) <(echo "$OUT" | sed 's/,"timestamp":{[^}]*}//') || fail "export/import round trip differs"
expect_exit 0 $G --db copy.db get root
expect_in "$OUT" '"edges":["x1","x2"]'

# a bad line in a file: nothing imported, the line named
printf '{"ok":1}\n{"broken":\n{"ok":2}\n' > bad.jsonl
expect_exit 2 $G --db fresh.db import bad.jsonl
expect_in "$ERR" "line 2"
expect_exit 0 $G --db fresh.db stats
expect_in "$OUT" '"nodes":0'

# lines the database itself refuses (a value over max_value_size, an id or an edge target over
# 512 bytes) are found by the check too: a file changes nothing, a stream keeps the lines before
long=$(printf 'x%.0s' $(seq 1 600))
python3 -c 'print("{\"big\":\"%s\"}" % ("x" * 5000000))' > big.txt
bad_lines=("$(cat big.txt)" '{"id":"'"$long"'","value":{"a":2}}' '{"id":"e","value":{"a":3},"edges":["ok","'"$long"'"]}')
bad_why=("put: value is" "put: an id must be 1 to 512 bytes" "edges: an id must be 1 to 512 bytes")
for i in 0 1 2; do
  printf '{"ok":1}\n%s\n{"ok":2}\n' "${bad_lines[$i]}" > refused.jsonl
  expect_exit 2 $G --db fresh.db import refused.jsonl
  expect_in "$ERR" "refused.jsonl line 2: ${bad_why[$i]}"
  expect_in "$ERR" "nothing was imported"
  expect_exit 0 $G --db fresh.db stats
  expect_in "$OUT" '"nodes":0'
  expect_exit 2 bash -c "cat refused.jsonl | $G --db stream.db import -"
  expect_in "$ERR" "line 2: ${bad_why[$i]}"
  expect_in "$ERR" "the lines before it were imported"
done
expect_exit 0 $G --db stream.db stats
expect_in "$OUT" '"nodes":1' # {"ok":1}, three times; nothing of the refused lines, no edge "ok" stub

# backup: a faithful copy (same state hash, log and timestamps), never over an existing file
expect_exit 0 $G --db src.db backup src-copy.db
expect_in "$OUT" '"backup":"src-copy.db"'
expect_exit 0 $G --db src.db hash
h1=$OUT
expect_exit 0 $G --db src-copy.db hash
[ "$OUT" = "$h1" ] || fail "backup has another state hash: $OUT vs $h1"
expect_exit 0 $G --db src.db oplog
o1=$OUT
expect_exit 0 $G --db src-copy.db oplog
[ "$OUT" = "$o1" ] || fail "backup has another operation log"
expect_exit 2 $G --db src.db backup src-copy.db
expect_in "$ERR" "exists"
expect_exit 2 $G --db src.db backup
expect_in "$ERR" "usage: backup DEST"

# the shell, driven by a script
printf 'put --id s1 {"from": "shell"}\nget s1\nlink s1 "id with spaces"\nget nobody\nhelp\nquit\n' > script.txt
expect_exit 0 $G --db shell.db shell < script.txt
expect_in "$OUT" '"id":"s1","value":{"from":"shell"}'
expect_in "$ERR" 'no node "nobody"'
expect_exit 0 $G --db shell.db get s1
expect_in "$OUT" '"edges":["id with spaces"]'

# remote operations through apply, and the log
printf '%s\n' '{"type":"upsert","id":"r1","value":{"v":1},"timestamp":{"physical":5,"logical":0},"origin":"peer-x"}' \
  '{"type":"remove","id":"r1","timestamp":{"physical":6,"logical":0},"origin":"peer-y"}' \
  '{"type":"upsert","id":"r1","value":{"v":0},"timestamp":{"physical":4,"logical":9},"origin":"peer-z"}' > ops.jsonl
expect_exit 0 $G --db ops.db apply ops.jsonl
expect_in "$OUT" '"applied":2,"ignored":1,"rejected":0'
expect_exit 1 $G --db ops.db get r1
expect_exit 0 $G --db ops.db oplog
[ "$(echo "$OUT" | wc -l)" = 2 ] || fail "oplog: $OUT"

# another process holds the database: the error names it
mkfifo hold.fifo
$G --db held.db shell < hold.fifo > /dev/null 2>&1 &
HOLDER=$!
exec 7>hold.fifo
for _ in $(seq 1 100); do [ -s held.db.lock ] && break; sleep 0.05; done
expect_exit 3 $G --db held.db get x
expect_in "$ERR" "in use by pid $HOLDER"
expect_in "$ERR" "shell"
exec 7>&-
wait $HOLDER
expect_exit 1 $G --db held.db get x
echo "core_cli: ok"
