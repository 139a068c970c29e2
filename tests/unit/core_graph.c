/* core_graph.c — the graph API: put, get, link, remove, clear, limits, middleware, oplog. */
#include "test.h"

#include "core/value.h"
#include "genosdb.h"

#include <stdlib.h>

static gdb_t *mem_db(void) {
  gdb_t *db = NULL;
  gdb_options o;
  gdb_options_init(&o);
  o.peer_id = "peer-a";
  if (gdb_open(NULL, &o, &db)) return NULL;
  return db;
}

static char *get_json(gdb_t *db, const char *id) {
  gdb_node *n;
  if (gdb_get(db, id, &n)) return NULL;
  char *j = gdb_node_json(n);
  gdb_node_release(n);
  return j;
}

/* The node's value as JSON (caller frees), or NULL. */
static char *value_json(gdb_t *db, const char *id) {
  gdb_node *n;
  if (gdb_get(db, id, &n)) return NULL;
  size_t len;
  const uint8_t *v = gdb_node_value(n, &len);
  char *j = NULL;
  gdb_value_to_json(v, len, &j, NULL);
  gdb_node_release(n);
  return j;
}

static size_t edge_count(gdb_t *db, const char *id) {
  gdb_node *n;
  if (gdb_get(db, id, &n)) return (size_t)-1;
  size_t c = gdb_node_edge_count(n);
  gdb_node_release(n);
  return c;
}

TEST(put_get_content_addressed) {
  gdb_t *db = mem_db();
  CHECK(db);
  char id[GDB_ID_BUFSZ], id2[GDB_ID_BUFSZ];
  CHECK_OK(gdb_put_json(db, NULL, "{\"b\":1,\"a\":\"x\"}", 15, id));
  /* the id is the SHA-256 of the canonical JSON {"a":"x","b":1} */
  uint8_t d[32];
  char hex[65];
  gdb_sha256("{\"a\":\"x\",\"b\":1}", 15, d);
  gdb_hex(d, 32, hex);
  CHECK_STR(id, hex);
  CHECK_OK(gdb_put_json(db, NULL, "{\"a\":\"x\",\"b\":1.0}", 17, id2));
  CHECK_STR(id, id2);
  char *j = get_json(db, id);
  CHECK(j);
  CHECK(strstr(j, "\"value\":{\"a\":\"x\",\"b\":1}"));
  CHECK(strstr(j, "\"edges\":[]"));
  free(j);
  gdb_node *n;
  CHECK(gdb_get(db, "nope", &n) == GDB_ENOTFOUND);
  gdb_close(db);
}

TEST(put_replaces_value_keeps_edges) {
  gdb_t *db = mem_db();
  CHECK_OK(gdb_put_json(db, "a", "{\"v\":1,\"w\":2}", 13, NULL));
  CHECK_OK(gdb_link(db, "a", "b"));
  CHECK_OK(gdb_put_json(db, "a", "{\"v\":3}", 7, NULL));
  char *v = value_json(db, "a");
  CHECK_STR(v, "{\"v\":3}");
  free(v);
  CHECK_INT(edge_count(db, "a"), 1);
  gdb_close(db);
}

TEST(link_rules) {
  gdb_t *db = mem_db();
  CHECK(gdb_link(db, "ghost", "x") == GDB_ENOTFOUND);
  CHECK(strstr(gdb_errmsg(), "ghost"));
  CHECK_OK(gdb_put_json(db, "a", "{}", 2, NULL));
  CHECK_OK(gdb_link(db, "a", "not-yet"));
  gdb_stats s1, s2;
  gdb_get_stats(db, &s1);
  CHECK_OK(gdb_link(db, "a", "not-yet")); /* idempotent: no second edge, no operation */
  gdb_get_stats(db, &s2);
  CHECK_INT(edge_count(db, "a"), 1);
  CHECK_INT(s2.oplog_len, s1.oplog_len);
  CHECK_OK(gdb_link(db, "a", "b"));
  gdb_node *n;
  CHECK_OK(gdb_get(db, "a", &n));
  CHECK_STR(gdb_node_edge(n, 0), "not-yet");
  CHECK_STR(gdb_node_edge(n, 1), "b");
  CHECK(gdb_node_edge(n, 2) == NULL);
  /* a snapshot does not change under later writes */
  CHECK_OK(gdb_link(db, "a", "c"));
  CHECK_INT(gdb_node_edge_count(n), 2);
  gdb_node_release(n);
  CHECK_INT(edge_count(db, "a"), 3);
  gdb_close(db);
}

TEST(remove_drops_node_and_every_edge_to_it) {
  gdb_t *db = mem_db();
  const char *ids[] = {"a", "b", "x", "c"};
  for (int i = 0; i < 4; i++) CHECK_OK(gdb_put_json(db, ids[i], "{}", 2, NULL));
  CHECK_OK(gdb_link(db, "a", "x"));
  CHECK_OK(gdb_link(db, "a", "c"));
  CHECK_OK(gdb_link(db, "b", "x"));
  CHECK_OK(gdb_link(db, "x", "c"));
  CHECK_OK(gdb_link(db, "x", "x"));
  CHECK_OK(gdb_remove(db, "x"));
  gdb_node *n;
  CHECK(gdb_get(db, "x", &n) == GDB_ENOTFOUND);
  CHECK_INT(edge_count(db, "a"), 1);
  CHECK_INT(edge_count(db, "b"), 0);
  CHECK(gdb_remove(db, "x") == GDB_ENOTFOUND);
  CHECK_OK(gdb_put_json(db, "x", "{\"again\":true}", 14, NULL));
  CHECK_INT(edge_count(db, "x"), 0); /* its old edges stayed removed */
  gdb_stats s;
  gdb_get_stats(db, &s);
  CHECK_INT(s.nodes, 4);
  CHECK_INT(s.edges, 1);
  gdb_close(db);
}

TEST(clear_leaves_tombstones) {
  gdb_t *db = mem_db();
  for (int i = 0; i < 50; i++) {
    char id[16], v[32];
    snprintf(id, sizeof id, "n%d", i);
    snprintf(v, sizeof v, "{\"i\":%d}", i);
    CHECK_OK(gdb_put_json(db, id, v, strlen(v), NULL));
    if (i) CHECK_OK(gdb_link(db, id, "n0"));
  }
  CHECK_OK(gdb_clear(db));
  gdb_stats s;
  gdb_get_stats(db, &s);
  CHECK_INT(s.nodes, 0);
  CHECK_INT(s.tombstones, 50);
  CHECK_INT(s.edges, 0);
  gdb_result *r;
  CHECK_OK(gdb_map(db, NULL, &r));
  CHECK_INT(gdb_result_len(r), 0);
  gdb_result_free(r);
  gdb_close(db);
}

TEST(bad_input_changes_nothing) {
  gdb_t *db = mem_db();
  CHECK_OK(gdb_put_json(db, "a", "{\"x\":1}", 7, NULL));
  char before[65], after[65];
  CHECK_OK(gdb_state_hash(db, before));
  CHECK(gdb_put_json(db, NULL, "{\"x\":", 5, NULL) == GDB_EINVAL);
  CHECK(gdb_put_json(db, NULL, "[1,2]", 5, NULL) == GDB_EINVAL);
  CHECK(strstr(gdb_errmsg(), "object"));
  CHECK(gdb_put_json(db, NULL, "\"s\"", 3, NULL) == GDB_EINVAL);
  CHECK(gdb_put_json(db, "", "{}", 2, NULL) == GDB_EINVAL);
  char longid[GDB_ID_MAX + 2];
  memset(longid, 'i', sizeof longid - 1);
  longid[sizeof longid - 1] = 0;
  CHECK(gdb_put_json(db, longid, "{}", 2, NULL) == GDB_ETOOBIG);
  CHECK(gdb_put_json(db, "bad\xff", "{}", 2, NULL) == GDB_EINVAL);
  /* a value over the limit */
  size_t big = GDB_VALUE_MAX_DEFAULT + 100;
  char *s = malloc(big + 16);
  memcpy(s, "{\"s\":\"", 6);
  memset(s + 6, 'x', big);
  memcpy(s + 6 + big, "\"}", 3);
  CHECK(gdb_put_json(db, "big", s, strlen(s), NULL) == GDB_ETOOBIG);
  CHECK(strstr(gdb_errmsg(), "limit"));
  free(s);
  CHECK_OK(gdb_state_hash(db, after));
  CHECK_STR(after, before);
  gdb_close(db);
}

/* gdb_put_check answers as gdb_put would, storing nothing; gdb_id_check as every id taker. */
TEST(put_check_and_id_check) {
  gdb_options o = {0};
  o.max_value_size = 64;
  gdb_t *db;
  CHECK_OK(gdb_open(NULL, &o, &db));
  char before[65], after[65];
  CHECK_OK(gdb_state_hash(db, before));
  uint8_t *mp;
  size_t len;
  CHECK_OK(gdb_json_to_value("{\"b\":1,\"a\":[1,2]}", 17, &mp, &len));
  CHECK_OK(gdb_put_check(db, NULL, mp, len));
  CHECK_OK(gdb_put_check(db, "n1", mp, len));
  CHECK(gdb_put_check(db, "", mp, len) == GDB_EINVAL);
  CHECK(strstr(gdb_errmsg(), "put: an id must be"));
  gdb_free(mp);
  CHECK_OK(gdb_json_to_value("[1]", 3, &mp, &len));
  CHECK(gdb_put_check(db, NULL, mp, len) == GDB_EINVAL);
  CHECK(gdb_put(db, NULL, mp, len, NULL) == GDB_EINVAL);
  gdb_free(mp);
  const char *big = "{\"s\":\"0123456789012345678901234567890123456789012345678901234567890123\"}";
  CHECK_OK(gdb_json_to_value(big, strlen(big), &mp, &len));
  CHECK(gdb_put_check(db, "n2", mp, len) == GDB_ETOOBIG);
  CHECK(strstr(gdb_errmsg(), "max_value_size"));
  CHECK(gdb_put(db, "n2", mp, len, NULL) == GDB_ETOOBIG);
  gdb_free(mp);
  CHECK_OK(gdb_state_hash(db, after));
  CHECK_STR(after, before);

  char longid[GDB_ID_MAX + 2];
  memset(longid, 'i', sizeof longid - 1);
  longid[sizeof longid - 1] = 0;
  CHECK(gdb_id_check(longid) == GDB_ETOOBIG);
  CHECK(!strncmp(gdb_errmsg(), "an id must be 1 to 512 bytes", 28));
  longid[GDB_ID_MAX] = 0;
  CHECK_OK(gdb_id_check(longid));
  CHECK(gdb_id_check("bad\xff") == GDB_EINVAL);
  CHECK(gdb_id_check("") == GDB_EINVAL);
  CHECK(gdb_id_check(NULL) == GDB_EINVAL);
  gdb_close(db);
}

TEST(msgpack_put_is_canonicalized) {
  gdb_t *db = mem_db();
  /* {"b":1,"a":2} with keys out of order */
  const uint8_t mp[] = {0x82, 0xa1, 'b', 0x01, 0xa1, 'a', 0x02};
  char id[GDB_ID_BUFSZ], id2[GDB_ID_BUFSZ];
  CHECK_OK(gdb_put(db, NULL, mp, sizeof mp, id));
  CHECK_OK(gdb_put_json(db, NULL, "{\"a\":2,\"b\":1}", 13, id2));
  CHECK_STR(id, id2);
  char *v = value_json(db, id);
  CHECK_STR(v, "{\"a\":2,\"b\":1}");
  free(v);
  gdb_close(db);
}

/* ── remote operations ── */

static gdb_op upsert(const char *id, const char *json, int64_t p, int64_t l, const char *origin, uint8_t **buf) {
  size_t len;
  gdb_json_to_value(json, strlen(json), buf, &len);
  return (gdb_op){.type = GDB_OP_UPSERT, .id = id, .value = *buf, .value_len = len, .timestamp = {p, l}, .origin = origin};
}

TEST(tombstone_beats_older_upsert) {
  gdb_t *db = mem_db();
  uint8_t *b1, *b2;
  gdb_op ops[] = {
      {.type = GDB_OP_REMOVE, .id = "n", .timestamp = {2000, 0}, .origin = "p1"},
      upsert("n", "{\"v\":1}", 1999, 5, "p2", &b1), /* older: must not resurrect */
  };
  gdb_apply_result r;
  CHECK_OK(gdb_apply_remote(db, ops, 2, &r));
  CHECK_INT(r.applied, 1);
  CHECK_INT(r.ignored, 1);
  gdb_node *n;
  CHECK(gdb_get(db, "n", &n) == GDB_ENOTFOUND);
  gdb_op same_time = upsert("n", "{\"v\":2}", 2000, 0, "zzz", &b2); /* a tie goes to the removal */
  CHECK_OK(gdb_apply_remote(db, &same_time, 1, &r));
  CHECK_INT(r.ignored, 1);
  free(b2);
  gdb_op newer = upsert("n", "{\"v\":3}", 2000, 1, "p2", &b2);
  CHECK_OK(gdb_apply_remote(db, &newer, 1, &r));
  CHECK_INT(r.applied, 1);
  char *v = value_json(db, "n");
  CHECK_STR(v, "{\"v\":3}");
  free(v);
  free(b1);
  free(b2);
  gdb_close(db);
}

TEST(ties_break_by_origin_then_value) {
  gdb_t *a = mem_db(), *b = mem_db();
  uint8_t *x, *y, *z;
  gdb_op ops[] = {upsert("n", "{\"v\":\"from-a\"}", 5000, 1, "aaa", &x), upsert("n", "{\"v\":\"from-b\"}", 5000, 1, "bbb", &y),
                  upsert("n", "{\"v\":\"also-b\"}", 5000, 1, "bbb", &z)};
  gdb_op rev[] = {ops[2], ops[1], ops[0]};
  CHECK_OK(gdb_apply_remote(a, ops, 3, NULL));
  CHECK_OK(gdb_apply_remote(b, rev, 3, NULL));
  char *va = value_json(a, "n"), *vb = value_json(b, "n");
  CHECK_STR(va, "{\"v\":\"from-b\"}"); /* origin bbb > aaa; then "from-b" > "also-b" by bytes */
  CHECK_STR(vb, va);
  free(va);
  free(vb);
  free(x);
  free(y);
  free(z);
  gdb_close(a);
  gdb_close(b);
}

TEST(remote_ops_from_the_future_are_refused) {
  gdb_t *db = mem_db();
  uint8_t *b;
  gdb_op op = upsert("f", "{}", 9000000000000, 0, "p", &b);
  gdb_apply_result r;
  CHECK_OK(gdb_apply_remote(db, &op, 1, &r));
  CHECK_INT(r.rejected, 1);
  CHECK(strstr(gdb_errmsg(), "future"));
  gdb_op bad = {.type = GDB_OP_UPSERT, .id = "x", .value = (const uint8_t *)"\x91\x01", .value_len = 2, .timestamp = {1, 1}};
  CHECK_OK(gdb_apply_remote(db, &bad, 1, &r)); /* an array value */
  CHECK_INT(r.rejected, 1);
  gdb_stats s;
  gdb_get_stats(db, &s);
  CHECK_INT(s.nodes, 0);
  CHECK_INT(s.remote_rejected, 2);
  free(b);
  gdb_close(db);
}

typedef struct mw_state {
  int calls;
  const char *drop_id;
  bool reject;
} mw_state;

static int mw_filter(gdb_t *db, gdb_batch *b, void *data) {
  (void)db;
  mw_state *st = data;
  st->calls++;
  if (st->reject) return 1;
  for (size_t i = 0; i < gdb_batch_len(b); i++) {
    gdb_op *op = gdb_batch_op(b, i);
    if (st->drop_id && !strcmp(op->id, st->drop_id)) gdb_batch_drop(b, i);
    if (!strcmp(op->id, "rewrite")) {
      uint8_t *v = gdb_batch_alloc(b, 8);
      memcpy(v, "\x81\xa1r\xc3", 4); /* {"r":true} */
      op->value = v;
      op->value_len = 4;
    }
  }
  return 0;
}

TEST(middleware_drops_rewrites_and_rejects) {
  gdb_t *db = mem_db();
  mw_state st = {0, "evil", false};
  CHECK_OK(gdb_use(db, mw_filter, &st));
  uint8_t *b1, *b2, *b3;
  gdb_op ops[] = {upsert("evil", "{}", 1000, 1, "p", &b1), upsert("rewrite", "{\"x\":1}", 1000, 2, "p", &b2),
                  upsert("fine", "{}", 1000, 3, "p", &b3)};
  gdb_apply_result r;
  CHECK_OK(gdb_apply_remote_json(db, "[]", 2, &r));
  CHECK_OK(gdb_apply_remote(db, ops, 3, &r));
  CHECK_INT(r.applied, 2);
  CHECK_INT(r.rejected, 1);
  char *v = value_json(db, "rewrite");
  CHECK_STR(v, "{\"r\":true}");
  free(v);
  gdb_node *n;
  CHECK(gdb_get(db, "evil", &n) == GDB_ENOTFOUND);
  /* dropping everything drops the batch */
  st.drop_id = "fine";
  CHECK_OK(gdb_apply_remote(db, &ops[2], 1, &r));
  CHECK_INT(r.rejected, 1);
  /* a middleware error drops the batch */
  st.reject = true;
  uint8_t *b4;
  gdb_op again = upsert("other", "{}", 1000, 4, "p", &b4);
  CHECK_OK(gdb_apply_remote(db, &again, 1, &r));
  CHECK_INT(r.applied, 0);
  CHECK(gdb_get(db, "other", &n) == GDB_ENOTFOUND);
  free(b4);
  free(b1);
  free(b2);
  free(b3);
  gdb_close(db);
}

typedef struct collected {
  int n;
  char ids[64][32];
} collected;

static int collect(const gdb_op *op, void *data) {
  collected *c = data;
  if (c->n < 64) snprintf(c->ids[c->n++], 32, "%s", op->id);
  return 0;
}

TEST(oplog_cap_since_and_covers) {
  gdb_t *db = NULL;
  gdb_options o;
  gdb_options_init(&o);
  o.oplog_size = 5;
  CHECK_OK(gdb_open(NULL, &o, &db));
  gdb_hlc marks[9];
  for (int i = 0; i < 8; i++) {
    char id[8];
    snprintf(id, sizeof id, "n%d", i);
    CHECK_OK(gdb_put_json(db, id, "{}", 2, NULL));
    marks[i] = gdb_last_seen(db);
  }
  collected c = {0};
  CHECK_OK(gdb_oplog_since(db, (gdb_hlc){0, 0}, collect, &c));
  CHECK_INT(c.n, 5);
  CHECK_STR(c.ids[0], "n3");
  CHECK(!gdb_oplog_covers(db, (gdb_hlc){0, 0}));
  CHECK(!gdb_oplog_covers(db, marks[1]));
  CHECK(gdb_oplog_covers(db, marks[2])); /* n0..n2 evicted; everything after n2 is held */
  c.n = 0;
  CHECK_OK(gdb_oplog_since(db, marks[5], collect, &c));
  CHECK_INT(c.n, 2);
  CHECK_STR(c.ids[0], "n6");
  /* an old operation that arrives late is still "after" a later mark */
  gdb_hlc mark = gdb_last_seen(db);
  const char *late = "{\"type\":\"upsert\",\"id\":\"late\",\"value\":{},\"timestamp\":{\"physical\":5,\"logical\":0},\"origin\":\"old\"}";
  CHECK_OK(gdb_apply_remote_json(db, late, strlen(late), NULL));
  c.n = 0;
  CHECK_OK(gdb_oplog_since(db, mark, collect, &c));
  CHECK_INT(c.n, 1);
  CHECK_STR(c.ids[0], "late");
  gdb_close(db);
}

TEST(op_json_round_trip_keeps_extra_fields) {
  gdb_t *db = mem_db();
  const char *op = "{\"type\":\"upsert\",\"id\":\"doc:1\",\"value\":{\"b\":2,\"a\":1},\"timestamp\":{\"physical\":7,\"logical\":3},"
                   "\"origin\":\"0xabc\",\"signature\":\"0x11\",\"originUser\":\"0xabc\"}";
  gdb_apply_result r;
  CHECK_OK(gdb_apply_remote_json(db, op, strlen(op), &r));
  CHECK_INT(r.applied, 1);
  collected c = {0};
  CHECK_OK(gdb_oplog_since(db, (gdb_hlc){0, 0}, collect, &c));
  CHECK_INT(c.n, 1);
  gdb_close(db);
  /* malformed operations are refused one by one with a reason */
  db = mem_db();
  const char *bad = "[{\"type\":\"upsert\",\"id\":\"x\"},{\"type\":\"jump\"},{\"type\":\"link\",\"sourceId\":\"a\",\"targetId\":\"b\",\"timestamp\":{\"physical\":1,\"logical\":1}}]";
  CHECK_OK(gdb_apply_remote_json(db, bad, strlen(bad), &r));
  CHECK_INT(r.rejected, 2);
  CHECK_INT(r.applied, 1);
  CHECK(strstr(gdb_errmsg(), "operation 1"));
  CHECK(gdb_apply_remote_json(db, "{nope", 5, &r) == GDB_EINVAL);
  gdb_close(db);
}
