# query_cli.sh — the query verbs as a user runs them: map, watch, explain, index; bad input
# exits 2 with a message (and a "did you mean" when a name is close); indexes persist.
source "$(dirname "$0")/lib.sh"
G=$GENOSDB
D=(--db "$WORK/q.db")

for i in 1 2 3 4 5 6; do
  expect_exit 0 $G "${D[@]}" put --id "u$i" "{\"type\":\"user\",\"age\":$((i * 10)),\"name\":\"User $i\",\"tags\":[\"t$((i % 2))\"]}"
done
expect_exit 0 $G "${D[@]}" put --id root '{"type":"Folder","name":"root"}'
expect_exit 0 $G "${D[@]}" put --id f1 '{"type":"File","size":10}'
expect_exit 0 $G "${D[@]}" put --id f2 '{"type":"File","size":900}'
expect_exit 0 $G "${D[@]}" link root f1
expect_exit 0 $G "${D[@]}" link f1 f2

# map: results in order, one JSON per line
expect_exit 0 $G "${D[@]}" map '{"query":{"age":{"$gt":25},"tags":"t1"}}'
[ "$(echo "$OUT" | wc -l)" = 2 ] || fail "map returned: $OUT"
expect_in "$(echo "$OUT" | sed -n 1p)" '"id":"u3"'
expect_in "$(echo "$OUT" | sed -n 2p)" '"id":"u5"'
expect_in "$OUT" '"value":{"age":30,"name":"User 3","tags":["t1"],"type":"user"},"edges":[],"timestamp":{"physical":'
expect_exit 0 $G "${D[@]}" map '{"query":{"type":"user"},"field":"age","order":"desc","$limit":2}'
[ "$(echo "$OUT" | grep -o '"id":"u[0-9]"' | tr '\n' ' ')" = '"id":"u6" "id":"u5" ' ] || fail "sort: $OUT"
expect_exit 0 $G "${D[@]}" map '{"query":{"type":"user"},"field":"age","$after":"u2","$limit":2}'
[ "$(echo "$OUT" | grep -o '"id":"u[0-9]"' | tr '\n' ' ')" = '"id":"u3" "id":"u4" ' ] || fail "cursor: $OUT"
expect_exit 0 $G "${D[@]}" map '{"query":{"name":"root","$edge":{"size":{"$gt":500}}}}'
[ "$(echo "$OUT" | wc -l)" = 1 ] && expect_in "$OUT" '"id":"f2"'
expect_exit 0 $G "${D[@]}" map '{"query":{"name":{"$text":"USER 4"}}}'
expect_in "$OUT" '"id":"u4"'
expect_exit 1 $G "${D[@]}" map '{"$after":"nobody"}'
expect_in "$ERR" 'not a node'

# explain: a scan before the index exists, the index after; indexes persist across processes
expect_exit 0 $G "${D[@]}" explain '{"query":{"age":40}}'
expect_in "$OUT" '"access":"scan"'
expect_in "$OUT" '"returned":1'
expect_exit 0 $G "${D[@]}" index create age
expect_in "$OUT" '"kind":"range"'
expect_exit 0 $G "${D[@]}" index create name --kind text
expect_exit 0 $G "${D[@]}" index list
expect_in "$OUT" '{"field":"age","kind":"range","entries":0,"built":false}' # built when a query needs it
expect_in "$OUT" '{"field":"name","kind":"text"'
expect_exit 0 $G "${D[@]}" explain '{"query":{"age":40}}'
expect_in "$OUT" '"access":"index"'
expect_in "$OUT" '"field":"age","kind":"range"'
expect_exit 0 $G "${D[@]}" explain '{"query":{"type":"user"},"field":"age","$limit":1}'
expect_in "$OUT" '"access":"index walk"'
expect_exit 0 $G "${D[@]}" map '{"query":{"age":{"$gte":50}}}'
[ "$(echo "$OUT" | wc -l)" = 2 ] || fail "indexed map: $OUT"
expect_exit 0 $G "${D[@]}" index drop name --kind text
expect_exit 1 $G "${D[@]}" index drop name --kind text
expect_in "$ERR" 'no text index on "name"'

# watch: initial events, then events of the commands read on stdin (their output on stderr)
OUTW=$(printf '%s\n' 'put --id u7 {"type":"user","age":70}' 'put --id u1 {"type":"user","age":5}' \
  'remove u2' 'put --id x {"type":"other"}' 'link u3 x' | $G "${D[@]}" watch '{"query":{"type":"user","age":{"$gte":20}}}' 2>"$WORK/watch.err")
[ "$(echo "$OUTW" | sed -n 1p)" = '{"action":"initial","id":"u2","value":{"age":20,"name":"User 2","tags":["t0"],"type":"user"}}' ] || fail "watch initial: $OUTW"
[ "$(echo "$OUTW" | grep -c '"action":"initial"')" = 5 ] || fail "watch initial count: $OUTW"
expect_in "$OUTW" '{"action":"added","id":"u7","value":{"age":70,"type":"user"}}'
expect_in "$OUTW" '{"action":"removed","id":"u2","value":{"age":20,"name":"User 2","tags":["t0"],"type":"user"}}'
expect_in "$OUTW" '{"action":"updated","id":"u3"'
if echo "$OUTW" | grep -q '"id":"u1"'; then fail "u1 (age 10, then 5) never matched: $OUTW"; fi
if echo "$OUTW" | grep -q '"id":"x"'; then fail "x is not a user: $OUTW"; fi
expect_in "$(cat "$WORK/watch.err")" 'u7' # the put's own output went to stderr
[ "$(echo "$OUTW" | wc -l)" = 8 ] || fail "watch printed extra lines: $OUTW"
OUTW=$(printf 'put --id u6 {"type":"user","age":61}\nremove u6\n' | $G "${D[@]}" watch --id u6 2>/dev/null)
[ "$(echo "$OUTW" | cut -d, -f1 | tr '\n' ' ')" = '{"action":"initial" {"action":"updated" {"action":"removed" ' ] || fail "watch --id: $OUTW"
# a window: the youngest two users
OUTW=$(printf 'put --id kid {"type":"user","age":1}\n' | $G "${D[@]}" watch '{"query":{"type":"user"},"field":"age","$limit":2}' 2>/dev/null)
expect_in "$OUTW" '{"action":"added","id":"kid"'
expect_in "$OUTW" '"action":"removed"'

# bad input: exit 2, a clear message, "did you mean" when close; nothing changes
expect_exit 0 $G "${D[@]}" hash; BEFORE=$OUT
expect_exit 2 $G "${D[@]}" map '{"query":{"age":{"$gte ":1}}}'
expect_in "$ERR" 'unknown operator "$gte " on "age" (did you mean "$gte"?)'
expect_exit 2 $G "${D[@]}" map '{"qeury":{}}'
expect_in "$ERR" 'did you mean "query"?'
expect_exit 2 $G "${D[@]}" map '{"query":{"name":{"$regex":"(["}}}'
expect_in "$ERR" 'invalid regular expression'
expect_exit 2 $G "${D[@]}" map '{"query":{"age":{"$in":5}}}'
expect_in "$ERR" 'needs an array'
expect_exit 2 $G "${D[@]}" map '{"query":'
expect_in "$ERR" 'not valid JSON'
expect_exit 2 $G "${D[@]}" map '{}' '{}'
expect_exit 2 $G "${D[@]}" map --fast '{}'
expect_exit 2 $G "${D[@]}" explain '{"order":"sideways"}'
expect_in "$ERR" '"order" must be "asc" or "desc"'
expect_exit 2 $G "${D[@]}" watch '{"query":{"$ro":[]}}' </dev/null
expect_in "$ERR" 'did you mean "$or"?'
expect_exit 2 $G "${D[@]}" index create age --kind rnage
expect_in "$ERR" 'did you mean "range"?'
expect_exit 2 $G "${D[@]}" index craete age
expect_in "$ERR" 'did you mean "create"?'
expect_exit 2 $G "${D[@]}" index create 'a..b'
expect_in "$ERR" 'empty part'
expect_exit 2 $G "${D[@]}" index
expect_exit 0 $G "${D[@]}" hash
[ "$OUT" = "$BEFORE" ] || fail "bad input changed the database"

# the shell runs the same verbs
OUTS=$(printf '%s\n' 'map {"query":{"age":70}}' 'index list' 'explain {"query":{"age":70}}' | $G "${D[@]}" shell)
expect_in "$OUTS" '"id":"u7"'
expect_in "$OUTS" '"kind":"range"'
expect_in "$OUTS" '"access":"index"'
echo "query_cli: ok"
