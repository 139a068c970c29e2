/*
 * db.c — the database handle: the public graph API over the in-memory graph (graph.c), the
 * clock (hlc.c), the operation log (oplog.c) and the store (store/store.c).
 *
 * Threads: every call takes the handle's mutex for the in-memory work only; waiting for
 * durability happens after it is released, so concurrent writers share commits (group commit).
 * Middleware runs without the mutex, so it may read the database.
 */
#include "core/db.h"

#include "core/error.h"
#include "core/graph.h"
#include "core/hlc.h"
#include "core/oplog.h"
#include "core/qstate.h"
#include "core/value.h"
#include "store/store.h"

#include <openssl/rand.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct middleware {
  gdb_middleware_fn fn;
  void *data;
} middleware;

struct gdb {
  pthread_mutex_t mu;
  gdb_options opts;
  char peer_id[65];
  gdb_clock clock;
  gdb_graph graph;
  gdb_oplog oplog;
  uint64_t op_seq;
  gdb_store *store; /* NULL for a memory-only database */
  uint64_t last_store_seq;
  middleware *mw;
  size_t nmw;
  gdb_observer *observers;
  size_t nobservers;
  uint64_t remote_applied, remote_ignored, remote_rejected;
  gdb_qstate *qs; /* indexes and subscriptions (query engine) */
};

void gdb_options_init(gdb_options *o) {
  memset(o, 0, sizeof *o);
  o->durability = GDB_DURABILITY_ASYNC;
  o->save_delay_ms = 200;
  o->oplog_size = 10000;
  o->max_drift_ms = 60000;
  o->max_value_size = GDB_VALUE_MAX_DEFAULT;
}

const char *gdb_peer_id(const gdb_t *db) { return db->peer_id; }

/* ── graph sink: persist and notify ── */

static void on_node(void *ctx, gdb_node *before, gdb_node *after, gdb_change what) {
  gdb_t *db = ctx;
  if (db->store && what == GDB_CHANGE_RECORD) db->last_store_seq = gdb_store_node(db->store, after);
  for (size_t i = 0; i < db->nobservers; i++)
    db->observers[i].fn(db->observers[i].data, before, after);
}

static void on_edge_set(void *ctx, const gdb_node *src, const gdb_rstr *dst, gdb_hlc ts) {
  gdb_t *db = ctx;
  if (db->store) db->last_store_seq = gdb_store_edge_set(db->store, (gdb_node *)src, (gdb_rstr *)dst, ts);
}

static void on_edge_del(void *ctx, const gdb_node *src, const gdb_rstr *dst) {
  gdb_t *db = ctx;
  if (db->store) db->last_store_seq = gdb_store_edge_del(db->store, (gdb_node *)src, (gdb_rstr *)dst);
}

/* ── loading ── */

static int load_node(void *ctx, gdb_node *n) {
  gdb_t *db = ctx;
  gdb_clock_observe(&db->clock, n->ts);
  gdb_clock_observe(&db->clock, n->removed);
  return gdb_graph_load_node(&db->graph, n);
}

static int load_expect(void *ctx, uint64_t records) {
  gdb_t *db = ctx;
  return gdb_graph_reserve(&db->graph, records);
}

static int load_edge(void *ctx, const char *src, size_t slen, const char *dst, size_t dlen, gdb_hlc ts) {
  gdb_t *db = ctx;
  gdb_clock_observe(&db->clock, ts);
  return gdb_graph_load_edge(&db->graph, src, slen, dst, dlen, ts);
}

static int load_op(void *ctx, gdb_oprec *r) {
  gdb_t *db = ctx;
  gdb_clock_observe(&db->clock, r->pos);
  gdb_oprec *out = gdb_oplog_append(&db->oplog, r);
  gdb_oprec_unref(out);
  return GDB_OK;
}

static void store_meta(gdb_t *db) {
  if (!db->store) return;
  gdb_store_meta m = {.clock = db->clock.last, .evicted = db->oplog.evicted, .op_seq = db->op_seq};
  memcpy(m.peer_id, db->peer_id, sizeof m.peer_id);
  gdb_store_set_meta(db->store, &m);
}

static bool valid_id(const char *id, size_t len) {
  return len > 0 && len <= GDB_ID_MAX && gdb_utf8_valid(id, len) && !memchr(id, 0, len);
}

int gdb_open(const char *path, const gdb_options *opts, gdb_t **out) {
  *out = NULL;
  gdb_t *db = calloc(1, sizeof *db);
  if (!db) return gdb_fail(GDB_ENOMEM, "out of memory");
  if (opts) db->opts = *opts;
  else gdb_options_init(&db->opts);
  gdb_options *o = &db->opts;
  if (o->save_delay_ms < 0) o->save_delay_ms = 200;
  if (!o->oplog_size) o->oplog_size = 10000;
  if (!o->max_value_size) o->max_value_size = GDB_VALUE_MAX_DEFAULT;
  if (o->max_drift_ms <= 0) o->max_drift_ms = 60000;
  pthread_mutex_init(&db->mu, NULL);
  gdb_clock_init(&db->clock, o->max_drift_ms, NULL, NULL);
  gdb_graph_init(&db->graph, (gdb_graph_sink){db, on_node, on_edge_set, on_edge_del});
  int rc = gdb_oplog_init(&db->oplog, o->oplog_size);
  if (rc) goto err;

  gdb_store_meta meta = {0};
  if (path && strcmp(path, ":memory:")) {
    if ((rc = gdb_store_open(path, o, &db->store, &meta))) goto err;
    db->op_seq = meta.op_seq;
    db->oplog.evicted = meta.evicted;
    gdb_clock_observe(&db->clock, meta.clock);
    gdb_store_loader loader = {db, load_expect, load_node, load_edge, load_op};
    if ((rc = gdb_store_load(db->store, o->oplog_size, &loader))) goto err;
  }
  if (o->peer_id && *o->peer_id) {
    if (strlen(o->peer_id) >= sizeof db->peer_id || !valid_id(o->peer_id, strlen(o->peer_id))) {
      rc = gdb_fail(GDB_EINVAL, "peer_id must be 1 to 64 bytes of UTF-8");
      goto err;
    }
    snprintf(db->peer_id, sizeof db->peer_id, "%s", o->peer_id);
  } else if (meta.peer_id[0]) {
    memcpy(db->peer_id, meta.peer_id, sizeof db->peer_id);
  } else {
    uint8_t r[8];
    if (RAND_bytes(r, sizeof r) != 1) {
      rc = gdb_fail(GDB_ECRYPTO, "the random number generator failed");
      goto err;
    }
    gdb_hex(r, sizeof r, db->peer_id);
  }
  o->peer_id = NULL; /* not the caller's pointer any more: db->peer_id holds it */
  if ((rc = gdb_qstate_open(db, db->store, &db->qs))) goto err;
  store_meta(db);
  *out = db;
  return GDB_OK;
err:;
  char msg[1024];
  snprintf(msg, sizeof msg, "%s", gdb_errmsg());
  gdb_qstate_close(db->qs);
  if (db->store) gdb_store_close(db->store);
  gdb_graph_free(&db->graph);
  gdb_oplog_free(&db->oplog);
  pthread_mutex_destroy(&db->mu);
  free(db);
  return gdb_fail(rc, "%s", msg);
}

int gdb_close(gdb_t *db) {
  if (!db) return GDB_OK;
  int rc = GDB_OK;
  if (db->store) {
    pthread_mutex_lock(&db->mu);
    store_meta(db);
    pthread_mutex_unlock(&db->mu);
    rc = gdb_store_close(db->store);
  }
  gdb_qstate_close(db->qs);
  gdb_graph_free(&db->graph);
  gdb_oplog_free(&db->oplog);
  free(db->mw);
  free(db->observers);
  pthread_mutex_destroy(&db->mu);
  free(db);
  return rc;
}

int gdb_flush(gdb_t *db) {
  if (!db->store) return GDB_OK;
  pthread_mutex_lock(&db->mu);
  store_meta(db);
  uint64_t seq = gdb_store_last_seq(db->store);
  pthread_mutex_unlock(&db->mu);
  return gdb_store_wait(db->store, seq);
}

int gdb_backup(gdb_t *db, const char *dest) {
  if (!db->store)
    return gdb_fail(GDB_EINVAL, "backup: a memory-only database has no file to copy (export it instead)");
  int rc = gdb_flush(db); /* everything acknowledged so far is in the copy */
  return rc ? rc : gdb_store_backup(db->store, dest);
}

/* ── writing ── */

/* Fails when the store cannot write, so no write is acknowledged that cannot be kept. */
static int check_store(gdb_t *db) {
  const char *msg;
  int e = db->store ? gdb_store_error(db->store, &msg) : GDB_OK;
  return e ? gdb_fail(e, "the database cannot be written: %s", msg) : GDB_OK;
}

/* Logs an operation that changed the state. */
static void log_op(gdb_t *db, const gdb_op *op, gdb_hlc pos) {
  gdb_node *n = op->type == GDB_OP_UPSERT ? db->graph.last : NULL; /* the record the op made */
  gdb_oprec *r = gdb_oprec_new(op, n, pos, db->op_seq + 1);
  if (!r) return; /* out of memory: the change stands, the log misses it (a full sync repairs) */
  db->op_seq++;
  if (db->store) db->last_store_seq = gdb_store_op(db->store, r);
  gdb_oprec_unref(gdb_oplog_append(&db->oplog, r));
  store_meta(db);
}

/* After a write: in sync mode, wait (without the lock) until it is committed. */
static int finish_write(gdb_t *db, int rc) {
  uint64_t seq = db->last_store_seq;
  pthread_mutex_unlock(&db->mu);
  gdb_qstate_deliver(db->qs); /* subscription events, outside the lock */
  if (rc >= 0 && db->store && db->opts.durability == GDB_DURABILITY_SYNC) {
    int w = gdb_store_wait(db->store, seq);
    if (w) return w;
  }
  return rc < 0 ? rc : GDB_OK;
}

static bool is_map(const uint8_t *v) { return (v[0] & 0xf0) == 0x80 || v[0] == 0xde || v[0] == 0xdf; }

/* Brings a value to canonical form in *scratch when it is not already; checks it is a map
 * within the size limit. *out and *out_len receive the canonical bytes. */
static int prepare_value(gdb_t *db, const uint8_t *value, size_t len, gdb_buf *scratch,
                         const uint8_t **out, size_t *out_len) {
  if (!value || !len) return gdb_fail(GDB_EINVAL, "a value is required");
  if (len > (size_t)db->opts.max_value_size * 2)
    return gdb_fail(GDB_ETOOBIG, "value is %zu bytes, over the %u-byte limit (max_value_size)", len, db->opts.max_value_size);
  if (!gdb_value_is_canonical(value, len)) {
    int rc = gdb_value_canonicalize_into(value, len, scratch);
    if (rc) return rc;
    value = scratch->data;
    len = scratch->len;
  }
  if (!is_map(value)) return gdb_fail(GDB_EINVAL, "a value must be a JSON object at the top level");
  if (len > db->opts.max_value_size)
    return gdb_fail(GDB_ETOOBIG, "value is %zu bytes, over the %u-byte limit (max_value_size)", len, db->opts.max_value_size);
  *out = value;
  *out_len = len;
  return GDB_OK;
}

/* what: the verb the message starts with, or NULL for none. */
static int check_id(const char *what, const char *id) {
  const char *sep = what ? ": " : "";
  what = what ? what : "";
  if (!id) return gdb_fail(GDB_EINVAL, "%s%san id is required", what, sep);
  size_t len = strlen(id);
  if (!valid_id(id, len))
    return gdb_fail(len > GDB_ID_MAX ? GDB_ETOOBIG : GDB_EINVAL,
                    "%s%san id must be 1 to %d bytes of UTF-8 (got %zu bytes)", what, sep, GDB_ID_MAX, len);
  return GDB_OK;
}

/* The content id of a value: one pass checks that it is canonical and prints its canonical
 * JSON, which is hashed. False when the value is not canonical (the caller canonicalizes). */
static bool fast_content_id(const uint8_t *value, size_t len, char id[65]) {
  uint8_t stack[1024];
  gdb_buf j = GDB_BUF_ON_STACK(stack);
  bool ok = gdb_value_canonical_json(value, len, &j);
  if (ok) {
    uint8_t d[32];
    gdb_sha256(j.data, j.len, d);
    gdb_hex(d, 32, id);
  }
  gdb_buf_free(&j);
  return ok;
}

int gdb_put(gdb_t *db, const char *id, const uint8_t *value, size_t len, char *out_id) {
  uint8_t stack[512];
  gdb_buf scratch = GDB_BUF_ON_STACK(stack);
  char content_id[65];
  int rc = GDB_OK;
  if (!id && value && len && len <= db->opts.max_value_size && is_map(value) &&
      fast_content_id(value, len, content_id)) {
    id = content_id; /* canonical, a map, within the limit: nothing more to check */
  } else {
    rc = prepare_value(db, value, len, &scratch, &value, &len);
    if (!rc && !id) {
      rc = gdb_value_content_id(value, len, content_id);
      id = content_id;
    } else if (!rc) {
      rc = check_id(NULL, id); /* prefixed with "put" below, with the value's errors */
    }
  }
  if (rc) {
    gdb_buf_free(&scratch);
    return gdb_fail_prefix(rc, "put");
  }
  pthread_mutex_lock(&db->mu);
  rc = check_store(db);
  if (!rc) {
    gdb_op op = {.type = GDB_OP_UPSERT, .id = id, .value = value, .value_len = len,
                 .timestamp = gdb_clock_now(&db->clock), .origin = db->peer_id};
    rc = gdb_graph_upsert(&db->graph, id, strlen(id), value, len, op.timestamp, op.origin, NULL, 0);
    if (rc > 0) log_op(db, &op, op.timestamp);
  }
  if (rc >= 0 && out_id) memcpy(out_id, id, strlen(id) + 1);
  gdb_buf_free(&scratch);
  return finish_write(db, rc);
}

int gdb_put_check(gdb_t *db, const char *id, const uint8_t *value, size_t len) {
  uint8_t stack[512];
  gdb_buf scratch = GDB_BUF_ON_STACK(stack);
  const uint8_t *v;
  size_t l;
  int rc = prepare_value(db, value, len, &scratch, &v, &l);
  gdb_buf_free(&scratch);
  if (!rc && id) rc = check_id(NULL, id);
  return rc ? gdb_fail_prefix(rc, "put") : GDB_OK;
}

int gdb_id_check(const char *id) { return check_id(NULL, id); }

int gdb_put_json(gdb_t *db, const char *id, const char *json, size_t len, char *out_id) {
  if (len > (size_t)db->opts.max_value_size * 8)
    return gdb_fail(GDB_ETOOBIG, "put: JSON text is %zu bytes, over the limit for a %u-byte value", len, db->opts.max_value_size);
  json_t *j = gdb_json_parse(json, len, "value");
  if (!j) return gdb_fail_prefix(GDB_EINVAL, "put");
  if (!json_is_object(j)) {
    json_decref(j);
    return gdb_fail(GDB_EINVAL, "put: a value must be a JSON object at the top level");
  }
  gdb_buf b = {0};
  int rc = gdb_value_from_jansson(j, &b);
  json_decref(j);
  if (!rc) rc = gdb_put(db, id, b.data, b.len, out_id);
  else gdb_fail_prefix(rc, "put");
  gdb_buf_free(&b);
  return rc;
}

int gdb_get(gdb_t *db, const char *id, gdb_node **out) {
  *out = NULL;
  if (!id) return gdb_fail(GDB_EINVAL, "get: an id is required");
  pthread_mutex_lock(&db->mu);
  gdb_node *n = gdb_graph_live(&db->graph, id, strlen(id));
  if (n) gdb_node_retain(n);
  pthread_mutex_unlock(&db->mu);
  if (!n) return gdb_fail(GDB_ENOTFOUND, "get: no node \"%.*s\"", 200, id);
  *out = n;
  return GDB_OK;
}

int gdb_link(gdb_t *db, const char *source, const char *target) {
  int rc = check_id("link", source);
  if (!rc) rc = check_id("link", target);
  if (rc) return rc;
  pthread_mutex_lock(&db->mu);
  rc = check_store(db);
  gdb_node *s = rc ? NULL : gdb_graph_live(&db->graph, source, strlen(source));
  if (!rc && !s) rc = gdb_fail(GDB_ENOTFOUND, "link: the source \"%.*s\" does not exist", 200, source);
  if (!rc && gdb_edges_find(s, target, strlen(target)) < 0) {
    gdb_op op = {.type = GDB_OP_LINK, .id = source, .target = target,
                 .timestamp = gdb_clock_now(&db->clock), .origin = db->peer_id};
    rc = gdb_graph_link(&db->graph, source, strlen(source), target, strlen(target), op.timestamp);
    if (rc > 0) log_op(db, &op, op.timestamp);
  }
  return finish_write(db, rc);
}

/* Removes a live node as a local operation (the lock is held). */
static int remove_locked(gdb_t *db, const char *id) {
  gdb_op op = {.type = GDB_OP_REMOVE, .id = id, .timestamp = gdb_clock_now(&db->clock), .origin = db->peer_id};
  int rc = gdb_graph_remove(&db->graph, id, strlen(id), op.timestamp, op.origin, NULL, 0);
  if (rc > 0) log_op(db, &op, op.timestamp);
  return rc;
}

int gdb_remove(gdb_t *db, const char *id) {
  int rc = check_id("remove", id);
  if (rc) return rc;
  pthread_mutex_lock(&db->mu);
  rc = check_store(db);
  if (!rc && !gdb_graph_live(&db->graph, id, strlen(id)))
    rc = gdb_fail(GDB_ENOTFOUND, "remove: no node \"%.*s\"", 200, id);
  if (!rc) rc = remove_locked(db, id);
  return finish_write(db, rc);
}

int gdb_clear(gdb_t *db) {
  pthread_mutex_lock(&db->mu);
  int rc = check_store(db);
  /* Collect first: each removal replaces records in the table being walked. */
  size_t n = 0;
  gdb_rstr **ids = rc ? NULL : malloc((db->graph.live + 1) * sizeof *ids);
  if (!rc && !ids) rc = gdb_fail(GDB_ENOMEM, "out of memory");
  for (uint32_t i = 0; !rc && i < db->graph.nodes.nentries; i++) {
    gdb_node *x = db->graph.nodes.entries[i].item;
    if (x && gdb_node_live(x)) ids[n++] = gdb_rstr_new(gdb_node_idp(x), x->id_len);
  }
  for (size_t i = 0; i < n; i++) {
    if (rc >= 0 && ids[i]) rc = remove_locked(db, ids[i]->s);
    gdb_rstr_unref(ids[i]);
  }
  free(ids);
  return finish_write(db, rc);
}

/* ── reading ── */

int gdb_foreach(gdb_t *db, gdb_node_fn fn, void *data) {
  /* Take references under the lock, call fn without it. */
  pthread_mutex_lock(&db->mu);
  size_t n = 0;
  gdb_node **all = malloc((db->graph.live + 1) * sizeof *all);
  if (all) {
    for (uint32_t i = 0; i < db->graph.nodes.nentries; i++) {
      gdb_node *x = db->graph.nodes.entries[i].item;
      if (x && gdb_node_live(x)) {
        gdb_node_retain(x);
        all[n++] = x;
      }
    }
  }
  pthread_mutex_unlock(&db->mu);
  if (!all) return gdb_fail(GDB_ENOMEM, "out of memory");
  int rc = 0;
  size_t i = 0;
  for (; i < n && !rc; i++) {
    rc = fn(all[i], data);
    gdb_node_release(all[i]);
  }
  for (; i < n; i++) gdb_node_release(all[i]);
  free(all);
  return rc;
}

int gdb_state_hash(gdb_t *db, char hex[65]) {
  uint8_t h[32];
  pthread_mutex_lock(&db->mu);
  int rc = gdb_graph_hash(&db->graph, h);
  pthread_mutex_unlock(&db->mu);
  if (!rc) gdb_hex(h, 32, hex);
  return rc;
}

int gdb_get_stats(gdb_t *db, gdb_stats *s) {
  memset(s, 0, sizeof *s);
  pthread_mutex_lock(&db->mu);
  s->nodes = db->graph.live;
  s->tombstones = db->graph.tombstones;
  s->edges = db->graph.edges;
  s->oplog_len = db->oplog.len;
  s->remote_applied = db->remote_applied;
  s->remote_ignored = db->remote_ignored;
  s->remote_rejected = db->remote_rejected;
  pthread_mutex_unlock(&db->mu);
  if (db->store) gdb_store_counters(db->store, &s->store_pending, &s->store_commits);
  return GDB_OK;
}

/* ── remote operations ── */

typedef struct arena_block {
  struct arena_block *next;
  size_t used, cap;
  _Alignas(16) uint8_t data[];
} arena_block;

struct gdb_batch {
  gdb_op *ops;
  bool *dropped;
  size_t n;
  arena_block *arena;
};

size_t gdb_batch_len(const gdb_batch *b) { return b->n; }
gdb_op *gdb_batch_op(gdb_batch *b, size_t i) { return i < b->n ? &b->ops[i] : NULL; }
void gdb_batch_drop(gdb_batch *b, size_t i) {
  if (i < b->n) b->dropped[i] = true;
}
bool gdb_batch_dropped(const gdb_batch *b, size_t i) { return i >= b->n || b->dropped[i]; }

void *gdb_batch_alloc(gdb_batch *b, size_t size) {
  size = (size + 15) & ~(size_t)15;
  arena_block *a = b->arena;
  if (!a || a->cap - a->used < size) {
    size_t cap = size > 16384 ? size : 16384;
    a = malloc(sizeof *a + cap);
    if (!a) return NULL;
    a->next = b->arena;
    a->used = 0;
    a->cap = cap;
    b->arena = a;
  }
  void *p = a->data + a->used;
  a->used += size;
  memset(p, 0, size);
  return p;
}

static void *batch_alloc_cb(void *ctx, size_t n) { return gdb_batch_alloc(ctx, n); }

static void batch_free(gdb_batch *b) {
  while (b->arena) {
    arena_block *next = b->arena->next;
    free(b->arena);
    b->arena = next;
  }
  free(b->ops);
  free(b->dropped);
}

static bool batch_init(gdb_batch *b, size_t n) {
  memset(b, 0, sizeof *b);
  b->n = n;
  b->ops = calloc(n ? n : 1, sizeof *b->ops);
  b->dropped = calloc(n ? n : 1, sizeof *b->dropped);
  return b->ops && b->dropped;
}

/* Checks one remote operation, canonicalizing its value into the batch if needed. */
static int validate_op(gdb_t *db, gdb_batch *b, gdb_op *op) {
  if (op->type != GDB_OP_UPSERT && op->type != GDB_OP_REMOVE && op->type != GDB_OP_LINK)
    return gdb_fail(GDB_EINVAL, "unknown operation type %d", (int)op->type);
  int rc = check_id("operation", op->id);
  if (!rc && op->type == GDB_OP_LINK) rc = check_id("link operation target", op->target);
  if (rc) return rc;
  if (!gdb_hlc_valid(op->timestamp))
    return gdb_fail(GDB_EINVAL, "operation on \"%.64s\" has an invalid timestamp", op->id);
  int64_t limit = db->clock.wall(db->clock.wall_data) + db->opts.max_drift_ms;
  if (op->timestamp.physical > limit)
    return gdb_fail(GDB_EINVAL, "operation on \"%.64s\" is stamped %lld ms in the future, beyond the allowed drift of %lld ms",
                    op->id, (long long)(op->timestamp.physical - limit + db->opts.max_drift_ms), (long long)db->opts.max_drift_ms);
  if (op->origin && strlen(op->origin) > 255) return gdb_fail(GDB_EINVAL, "operation origin is longer than 255 bytes");
  if (op->extra && !gdb_value_is_canonical(op->extra, op->extra_len)) {
    gdb_buf tmp = {0};
    rc = gdb_value_canonicalize_into(op->extra, op->extra_len, &tmp);
    uint8_t *p = rc ? NULL : gdb_batch_alloc(b, tmp.len);
    if (p) memcpy(p, tmp.data, tmp.len);
    if (!rc && !p) rc = gdb_fail(GDB_ENOMEM, "out of memory");
    op->extra = p;
    op->extra_len = tmp.len;
    gdb_buf_free(&tmp);
    if (rc) return rc;
  }
  if (op->type != GDB_OP_UPSERT) {
    op->value = NULL;
    op->value_len = 0;
    return GDB_OK;
  }
  gdb_buf tmp = {0};
  const uint8_t *v;
  size_t vlen;
  rc = prepare_value(db, op->value, op->value_len, &tmp, &v, &vlen);
  if (!rc && v == tmp.data) {
    uint8_t *p = gdb_batch_alloc(b, vlen);
    if (!p) rc = gdb_fail(GDB_ENOMEM, "out of memory");
    else memcpy(p, v, vlen), v = p;
  }
  if (!rc) {
    op->value = v;
    op->value_len = vlen;
  }
  gdb_buf_free(&tmp);
  return rc;
}

int gdb_use(gdb_t *db, gdb_middleware_fn fn, void *data) {
  pthread_mutex_lock(&db->mu);
  middleware *m = realloc(db->mw, (db->nmw + 1) * sizeof *m);
  if (m) {
    db->mw = m;
    db->mw[db->nmw++] = (middleware){fn, data};
  }
  pthread_mutex_unlock(&db->mu);
  return m ? GDB_OK : gdb_fail(GDB_ENOMEM, "out of memory");
}

/* Validates, runs middleware, merges. The batch's ops are already in b. */
static int apply_batch(gdb_t *db, gdb_batch *b, gdb_apply_result *res) {
  gdb_apply_result r = {0};
  char first_error[512] = "";
  for (size_t i = 0; i < b->n; i++) {
    if (b->dropped[i]) continue;
    if (validate_op(db, b, &b->ops[i])) {
      if (!first_error[0]) snprintf(first_error, sizeof first_error, "%s", gdb_errmsg());
      b->dropped[i] = true;
    }
  }
  pthread_mutex_lock(&db->mu);
  size_t nmw = db->nmw;
  middleware *mw = nmw ? malloc(nmw * sizeof *mw) : NULL;
  if (mw) memcpy(mw, db->mw, nmw * sizeof *mw);
  pthread_mutex_unlock(&db->mu);
  if (nmw && !mw) return gdb_fail(GDB_ENOMEM, "out of memory");
  bool drop_all = false;
  for (size_t k = 0; k < nmw && !drop_all; k++) {
    if (mw[k].fn(db, b, mw[k].data) != 0) drop_all = true;
    size_t left = 0;
    for (size_t i = 0; i < b->n; i++) left += !b->dropped[i];
    if (!left) drop_all = true;
  }
  free(mw);
  if (drop_all)
    for (size_t i = 0; i < b->n; i++) b->dropped[i] = true;

  pthread_mutex_lock(&db->mu);
  int rc = check_store(db);
  for (size_t i = 0; !rc && i < b->n; i++) {
    gdb_op *op = &b->ops[i];
    if (b->dropped[i] || (nmw && validate_op(db, b, op))) { /* middleware may have rewritten it */
      r.rejected++;
      continue;
    }
    if (!op->origin) op->origin = "";
    gdb_hlc pos = gdb_clock_update(&db->clock, op->timestamp);
    int a;
    size_t idlen = strlen(op->id);
    switch (op->type) {
    case GDB_OP_UPSERT:
      a = gdb_graph_upsert(&db->graph, op->id, idlen, op->value, op->value_len, op->timestamp, op->origin, op->extra, op->extra_len);
      break;
    case GDB_OP_REMOVE:
      a = gdb_graph_remove(&db->graph, op->id, idlen, op->timestamp, op->origin, op->extra, op->extra_len);
      break;
    default:
      a = gdb_graph_link(&db->graph, op->id, idlen, op->target, strlen(op->target), op->timestamp);
      break;
    }
    if (a < 0) {
      rc = a;
      break;
    }
    if (a > 0) {
      r.applied++;
      log_op(db, op, pos);
    } else {
      r.ignored++;
    }
  }
  db->remote_applied += r.applied;
  db->remote_ignored += r.ignored;
  db->remote_rejected += r.rejected;
  if (res) *res = r;
  rc = finish_write(db, rc);
  if (!rc && first_error[0]) gdb_fail(GDB_OK, "%s", first_error); /* why the first op was refused */
  return rc;
}

int gdb_apply_remote(gdb_t *db, const gdb_op *ops, size_t n, gdb_apply_result *res) {
  gdb_batch b;
  if (!batch_init(&b, n)) {
    batch_free(&b);
    return gdb_fail(GDB_ENOMEM, "out of memory");
  }
  memcpy(b.ops, ops, n * sizeof *ops);
  int rc = apply_batch(db, &b, res);
  batch_free(&b);
  return rc;
}

int gdb_apply_remote_json(gdb_t *db, const char *json, size_t len, gdb_apply_result *res) {
  json_t *j = gdb_json_parse(json, len, "operations");
  if (!j) return gdb_fail_prefix(GDB_EINVAL, "apply");
  if (json_is_object(j)) { /* one operation */
    json_t *a = json_array();
    json_array_append_new(a, j);
    j = a;
  }
  if (!json_is_array(j)) {
    json_decref(j);
    return gdb_fail(GDB_EINVAL, "apply: expected an operation or an array of operations");
  }
  gdb_batch b;
  size_t n = json_array_size(j);
  int rc = batch_init(&b, n) ? GDB_OK : gdb_fail(GDB_ENOMEM, "out of memory");
  char first_error[512] = "";
  for (size_t i = 0; !rc && i < n; i++) {
    int e = gdb_op_from_jansson(json_array_get(j, i), &b.ops[i], batch_alloc_cb, &b);
    if (e == GDB_ENOMEM) rc = e;
    else if (e) {
      if (!first_error[0]) snprintf(first_error, sizeof first_error, "operation %zu: %s", i + 1, gdb_errmsg());
      b.dropped[i] = true;
    }
  }
  json_decref(j);
  if (!rc) rc = apply_batch(db, &b, res);
  if (!rc && first_error[0]) gdb_fail(GDB_OK, "%s", first_error);
  batch_free(&b);
  return rc;
}

/* ── log ── */

int gdb_oplog_since(gdb_t *db, gdb_hlc after, gdb_op_fn fn, void *data) {
  pthread_mutex_lock(&db->mu);
  uint32_t first = gdb_oplog_first_after(&db->oplog, after), n = db->oplog.len - first;
  gdb_oprec **recs = malloc((n + 1) * sizeof *recs);
  if (recs)
    for (uint32_t i = 0; i < n; i++) recs[i] = gdb_oprec_ref(gdb_oplog_at(&db->oplog, first + i));
  pthread_mutex_unlock(&db->mu);
  if (!recs) return gdb_fail(GDB_ENOMEM, "out of memory");
  int rc = 0;
  uint32_t i = 0;
  for (; i < n && !rc; i++) {
    gdb_op op;
    gdb_oprec_view(recs[i], &op);
    rc = fn(&op, data);
    gdb_oprec_unref(recs[i]);
  }
  for (; i < n; i++) gdb_oprec_unref(recs[i]);
  free(recs);
  return rc;
}

bool gdb_oplog_covers(gdb_t *db, gdb_hlc after) {
  pthread_mutex_lock(&db->mu);
  bool ok = gdb_hlc_compare(db->oplog.evicted, after) <= 0;
  pthread_mutex_unlock(&db->mu);
  return ok;
}

gdb_hlc gdb_last_seen(gdb_t *db) {
  pthread_mutex_lock(&db->mu);
  gdb_hlc t = db->clock.last;
  pthread_mutex_unlock(&db->mu);
  return t;
}

/* ── internal hooks ── */

int gdb_db_observe(gdb_t *db, gdb_observer obs) {
  pthread_mutex_lock(&db->mu);
  gdb_observer *o = realloc(db->observers, (db->nobservers + 1) * sizeof *o);
  if (o) {
    db->observers = o;
    db->observers[db->nobservers++] = obs;
  }
  pthread_mutex_unlock(&db->mu);
  return o ? GDB_OK : gdb_fail(GDB_ENOMEM, "out of memory");
}

void gdb_db_set_wall(gdb_t *db, gdb_wall_fn wall, void *data) {
  pthread_mutex_lock(&db->mu);
  db->clock.wall = wall ? wall : gdb_wall_ms;
  db->clock.wall_data = data;
  pthread_mutex_unlock(&db->mu);
}

void gdb_db_lock(gdb_t *db) { pthread_mutex_lock(&db->mu); }
void gdb_db_unlock(gdb_t *db) { pthread_mutex_unlock(&db->mu); }
gdb_graph *gdb_db_graph(gdb_t *db) { return &db->graph; }
gdb_qstate *gdb_db_qstate(gdb_t *db) { return db->qs; }
