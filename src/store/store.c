/*
 * store.c — SQLite persistence written by one background thread with group commit.
 * See store.h for the contract and docs/storage.md for the file format.
 */
#include "store/store.h"

#include "core/error.h"
#include "core/graph.h"
#include "core/value.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Queue length at which producers wait for the store thread (back-pressure). */
#define QUEUE_HIGH_WATER (1u << 18)

typedef enum mut_kind { M_NODE, M_EDGE_SET, M_EDGE_DEL, M_OP, M_INDEX_PUT, M_INDEX_DEL } mut_kind;

typedef struct store_mut {
  uint8_t kind;
  gdb_hlc ts;
  gdb_node *node;  /* M_NODE: the record; M_EDGE_*: the source (for its id) */
  gdb_rstr *dst;   /* M_EDGE_* */
  gdb_oprec *op;   /* M_OP */
  char *text;      /* M_INDEX_*: "field\0kind" (owned) */
} store_mut;

typedef struct mut_queue {
  store_mut *m;
  size_t len, cap;
} mut_queue;

enum { ST_PUT_NODE, ST_PUT_EDGE, ST_DEL_EDGE, ST_PUT_OP, ST_TRIM_OPS, ST_PUT_META, ST_BEGIN, ST_COMMIT,
       ST_PUT_INDEX, ST_DEL_INDEX, ST_COUNT };

static const char *const SQL[ST_COUNT] = {
    [ST_PUT_NODE] = "INSERT OR REPLACE INTO nodes(id, ord, value, ts_p, ts_l, rm_p, rm_l, origin, extra) VALUES(?,?,?,?,?,?,?,?,?)",

    [ST_PUT_EDGE] = "INSERT OR REPLACE INTO edges(src, dst, ts_p, ts_l) VALUES(?,?,?,?)",
    [ST_DEL_EDGE] = "DELETE FROM edges WHERE src = ? AND dst = ?",
    [ST_PUT_OP] = "INSERT OR REPLACE INTO oplog(seq, op) VALUES(?,?)",
    [ST_TRIM_OPS] = "DELETE FROM oplog WHERE seq <= ?",
    [ST_PUT_META] = "INSERT OR REPLACE INTO meta(key, value) VALUES(?,?)",
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_PUT_INDEX] = "INSERT OR REPLACE INTO indexes(field, kind) VALUES(?,?)",
    [ST_DEL_INDEX] = "DELETE FROM indexes WHERE field = ? AND kind = ?",
};

struct gdb_store {
  char *path;
  sqlite3 *db;
  sqlite3_stmt *st[ST_COUNT];
  int lock_fd;
  uint32_t oplog_cap;
  int save_delay_ms;

  pthread_t thread;
  bool started;
  pthread_mutex_t mu;
  pthread_cond_t work; /* store thread: changes queued, waiters arrived, stop requested */
  pthread_cond_t done; /* waiters: a batch committed (or failed) */
  pthread_cond_t room; /* producers: the queue drained below the high-water mark */
  mut_queue q;
  struct timespec first_queued; /* when the oldest queued change arrived */
  uint64_t queued_seq, committed_seq, commits;
  int waiters;
  bool stopping;
  gdb_store_meta meta;
  int error;
  char errmsg[512];
  size_t unwritten; /* changes left unwritten when the thread stopped */
  char **index_decls; /* (field, kind) pairs read at load */
  size_t nindex_decls;
};

/* ── helpers ── */

static int sql_fail(gdb_store *s, int code, const char *what) {
  int rc = sqlite3_errcode(s->db);
  int gerr = code;
  if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB) gerr = GDB_ECORRUPT;
  else if (rc == SQLITE_FULL) gerr = GDB_EIO;
  const char *hint = gerr == GDB_ECORRUPT ? " (the file is damaged or is not a genosdb database: restore it from a backup)"
                     : rc == SQLITE_FULL  ? " (the disk is full)" : "";
  return gdb_fail(gerr, "%s: %s: %s%s", s->path, what, sqlite3_errmsg(s->db), hint);
}

static int exec(gdb_store *s, const char *sql) {
  char *err = NULL;
  if (sqlite3_exec(s->db, sql, NULL, NULL, &err) != SQLITE_OK) {
    sqlite3_free(err);
    return sql_fail(s, GDB_EIO, sql);
  }
  return GDB_OK;
}

static int64_t pragma_int(gdb_store *s, const char *sql, int *rc) {
  sqlite3_stmt *st;
  int64_t v = 0;
  *rc = GDB_OK;
  if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
    *rc = sql_fail(s, GDB_EIO, sql);
    return 0;
  }
  int r = sqlite3_step(st);
  if (r == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
  else if (r != SQLITE_DONE) *rc = sql_fail(s, GDB_EIO, sql);
  sqlite3_finalize(st);
  return v;
}

static const char SCHEMA[] =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;"
    /* Keyed by creation order, not id: the store never looks a row up by id (it loads every
     * row and writes by ord), and new records then append to the B-tree instead of landing at
     * random pages. Ids are unique in memory; a file with a duplicate is refused at load. */
    "CREATE TABLE nodes(ord INTEGER PRIMARY KEY, id TEXT NOT NULL, value BLOB,"
    " ts_p INTEGER NOT NULL, ts_l INTEGER NOT NULL, rm_p INTEGER NOT NULL, rm_l INTEGER NOT NULL,"
    " origin TEXT NOT NULL, extra BLOB);"
    "CREATE TABLE edges(src TEXT NOT NULL, dst TEXT NOT NULL, ts_p INTEGER NOT NULL,"
    " ts_l INTEGER NOT NULL, PRIMARY KEY(src, dst)) WITHOUT ROWID;"
    "CREATE TABLE oplog(seq INTEGER PRIMARY KEY, op BLOB NOT NULL);"
    /* Declared secondary indexes (docs/query.md); their contents are rebuilt in memory on first use. */
    "CREATE TABLE indexes(field TEXT NOT NULL, kind TEXT NOT NULL, PRIMARY KEY(field, kind)) WITHOUT ROWID;";

static int create_or_check_schema(gdb_store *s) {
  int rc;
  int64_t app = pragma_int(s, "PRAGMA application_id", &rc);
  if (rc) return rc;
  int64_t ver = pragma_int(s, "PRAGMA user_version", &rc);
  if (rc) return rc;
  int64_t tables = pragma_int(s, "SELECT count(*) FROM sqlite_master", &rc);
  if (rc) return rc;
  if (app == 0 && ver == 0 && tables == 0) {
    char sql[sizeof SCHEMA + 200];
    snprintf(sql, sizeof sql, "BEGIN;%sPRAGMA application_id=%d;PRAGMA user_version=%d;COMMIT;",
             SCHEMA, GDB_STORE_APP_ID, GDB_STORE_SCHEMA);
    return exec(s, sql);
  }
  if (app != GDB_STORE_APP_ID)
    return gdb_fail(GDB_EINVAL, "%s is an SQLite database but not a genosdb one (application_id %lld); choose another path", s->path, (long long)app);
  if (ver > GDB_STORE_SCHEMA)
    return gdb_fail(GDB_EVERSION, "%s has schema version %lld; this build reads up to %d (upgrade genosdb)", s->path, (long long)ver, GDB_STORE_SCHEMA);
  if (ver < 1)
    return gdb_fail(GDB_ECORRUPT, "%s has no schema version; it is damaged", s->path);
  return GDB_OK;
}

static int prepare_all(gdb_store *s) {
  for (int i = 0; i < ST_COUNT; i++)
    if (sqlite3_prepare_v3(s->db, SQL[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL) != SQLITE_OK)
      return sql_fail(s, GDB_EIO, "prepare");
  return GDB_OK;
}

/* ── meta ── */

static void read_meta(gdb_store *s, gdb_store_meta *m) {
  memset(m, 0, sizeof *m);
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(s->db, "SELECT key, value FROM meta", -1, &st, NULL) != SQLITE_OK) return;
  while (sqlite3_step(st) == SQLITE_ROW) {
    const char *k = (const char *)sqlite3_column_text(st, 0);
    if (!k) continue;
    if (!strcmp(k, "peer_id")) {
      const char *v = (const char *)sqlite3_column_text(st, 1);
      if (v) snprintf(m->peer_id, sizeof m->peer_id, "%s", v);
    } else if (!strcmp(k, "clock_p")) m->clock.physical = sqlite3_column_int64(st, 1);
    else if (!strcmp(k, "clock_l")) m->clock.logical = sqlite3_column_int64(st, 1);
    else if (!strcmp(k, "evicted_p")) m->evicted.physical = sqlite3_column_int64(st, 1);
    else if (!strcmp(k, "evicted_l")) m->evicted.logical = sqlite3_column_int64(st, 1);
    else if (!strcmp(k, "op_seq")) m->op_seq = (uint64_t)sqlite3_column_int64(st, 1);
  }
  sqlite3_finalize(st);
}

static bool put_meta_int(gdb_store *s, const char *k, int64_t v) {
  sqlite3_stmt *st = s->st[ST_PUT_META];
  sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, v);
  bool ok = sqlite3_step(st) == SQLITE_DONE;
  sqlite3_reset(st);
  return ok;
}

static bool write_meta(gdb_store *s, const gdb_store_meta *m) {
  sqlite3_stmt *st = s->st[ST_PUT_META];
  sqlite3_bind_text(st, 1, "peer_id", -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, m->peer_id, -1, SQLITE_STATIC);
  bool ok = sqlite3_step(st) == SQLITE_DONE;
  sqlite3_reset(st);
  return ok && put_meta_int(s, "clock_p", m->clock.physical) &&
         put_meta_int(s, "clock_l", m->clock.logical) &&
         put_meta_int(s, "evicted_p", m->evicted.physical) &&
         put_meta_int(s, "evicted_l", m->evicted.logical) &&
         put_meta_int(s, "op_seq", (int64_t)m->op_seq);
}

/* ── open ── */

int gdb_store_open(const char *path, const gdb_options *opts, gdb_store **out,
                   gdb_store_meta *meta) {
  gdb_store *s = calloc(1, sizeof *s);
  if (!s) return gdb_fail(GDB_ENOMEM, "out of memory");
  s->lock_fd = -1;
  s->path = strdup(path);
  s->save_delay_ms = opts->save_delay_ms;
  pthread_mutex_init(&s->mu, NULL);
  pthread_condattr_t mono;
  pthread_condattr_init(&mono);
  pthread_condattr_setclock(&mono, CLOCK_MONOTONIC);
  pthread_cond_init(&s->work, &mono);
  pthread_condattr_destroy(&mono);
  pthread_cond_init(&s->done, NULL);
  pthread_cond_init(&s->room, NULL);
  int rc = s->path ? gdb_lockfile_acquire(path, &s->lock_fd) : gdb_fail(GDB_ENOMEM, "out of memory");
  if (rc) goto err;
  if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
    rc = s->db ? sql_fail(s, GDB_EIO, "cannot open") : gdb_fail(GDB_ENOMEM, "out of memory");
    if (rc == GDB_EIO) gdb_fail_prefix(rc, "(does the directory exist and is it writable?)");
    goto err;
  }
  sqlite3_extended_result_codes(s->db, 0);
  /* The first read of the file: a non-database or damaged header fails here. */
  char *err_text = NULL;
  if (sqlite3_exec(s->db, "PRAGMA journal_mode=WAL", NULL, NULL, &err_text) != SQLITE_OK) {
    sqlite3_free(err_text);
    rc = sql_fail(s, GDB_EIO, "reading the file header");
    goto err;
  }
  if ((rc = create_or_check_schema(s))) goto err;
  /* files written before index declarations existed (schema 1 had not shipped) */
  if ((rc = exec(s, "CREATE TABLE IF NOT EXISTS indexes(field TEXT NOT NULL, kind TEXT NOT NULL, PRIMARY KEY(field, kind)) WITHOUT ROWID"))) goto err;
  char pragmas[256];
  /* FULL: every commit reaches the disk before it counts. Commits are batched, so this costs
   * one fsync per batch in either durability mode. */
  snprintf(pragmas, sizeof pragmas,
           "PRAGMA synchronous=FULL; PRAGMA cache_size=-131072; PRAGMA journal_size_limit=67108864;"
           "PRAGMA temp_store=MEMORY;");
  if ((rc = exec(s, pragmas))) goto err;
  if ((rc = prepare_all(s))) goto err;
  read_meta(s, meta);
  s->meta = *meta;
  *out = s;
  return GDB_OK;
err:
  for (int i = 0; i < ST_COUNT; i++) sqlite3_finalize(s->st[i]);
  if (s->db) sqlite3_close(s->db);
  gdb_lockfile_release(s->lock_fd, path);
  free(s->path);
  free(s);
  return rc;
}

/* ── load ── */

static int load_nodes(gdb_store *s, const gdb_store_loader *l) {
  sqlite3_stmt *st;
  int rc;
  int64_t most = pragma_int(s, "SELECT coalesce(max(ord), 0) FROM nodes", &rc); /* O(log n) */
  if (!rc && most > 0) rc = l->expect(l->ctx, (uint64_t)most);
  if (rc) return rc;
  /* rowid order is creation order */
  if (sqlite3_prepare_v2(s->db, "SELECT id, ord, value, ts_p, ts_l, rm_p, rm_l, origin, extra FROM nodes", -1, &st, NULL) != SQLITE_OK)
    return sql_fail(s, GDB_EIO, "reading nodes");
  int r;
  while (!rc && (r = sqlite3_step(st)) == SQLITE_ROW) {
    const char *id = (const char *)sqlite3_column_text(st, 0);
    size_t idlen = (size_t)sqlite3_column_bytes(st, 0);
    const uint8_t *value = sqlite3_column_blob(st, 2);
    size_t vlen = (size_t)sqlite3_column_bytes(st, 2);
    const char *origin = (const char *)sqlite3_column_text(st, 7);
    const uint8_t *extra = sqlite3_column_blob(st, 8);
    size_t elen = (size_t)sqlite3_column_bytes(st, 8);
    gdb_hlc ts = {sqlite3_column_int64(st, 3), sqlite3_column_int64(st, 4)};
    gdb_hlc rm = {sqlite3_column_int64(st, 5), sqlite3_column_int64(st, 6)};
    int64_t ord = sqlite3_column_int64(st, 1);
    if (!id || idlen == 0 || idlen > GDB_ID_MAX || !origin || ord < 1 || ord > GDB_MAX_RECORDS ||
        (value && !gdb_value_is_canonical(value, vlen)) ||
        (extra && !gdb_value_is_canonical(extra, elen))) {
      rc = gdb_fail(GDB_ECORRUPT, "%s: node \"%.64s\" is malformed; the file is damaged (restore it from a backup)", s->path, id ? id : "");
      break;
    }
    gdb_node *node = gdb_node_new(id, idlen, origin, value, value ? vlen : 0, extra, extra ? elen : 0, ts, rm, NULL, 0,
                                  (uint32_t)ord);
    rc = node ? l->node(l->ctx, node) : gdb_fail(GDB_ENOMEM, "out of memory");
  }
  if (!rc && r != SQLITE_DONE) rc = sql_fail(s, GDB_EIO, "reading nodes");
  sqlite3_finalize(st);
  return rc;
}

static int load_edges(gdb_store *s, const gdb_store_loader *l) {
  sqlite3_stmt *st;
  /* Per source in timestamp order, so each edge list is built by appends. */
  if (sqlite3_prepare_v2(s->db, "SELECT src, dst, ts_p, ts_l FROM edges ORDER BY src, ts_p, ts_l, dst", -1, &st, NULL) != SQLITE_OK)
    return sql_fail(s, GDB_EIO, "reading edges");
  int rc = GDB_OK, r;
  while (!rc && (r = sqlite3_step(st)) == SQLITE_ROW) {
    const char *src = (const char *)sqlite3_column_text(st, 0);
    size_t slen = (size_t)sqlite3_column_bytes(st, 0);
    const char *dst = (const char *)sqlite3_column_text(st, 1);
    size_t dlen = (size_t)sqlite3_column_bytes(st, 1);
    if (!src || !dst || !slen || !dlen || slen > GDB_ID_MAX || dlen > GDB_ID_MAX) {
      rc = gdb_fail(GDB_ECORRUPT, "%s: an edge is malformed; the file is damaged", s->path);
      break;
    }
    rc = l->edge(l->ctx, src, slen, dst, dlen, (gdb_hlc){sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3)});
  }
  if (!rc && r != SQLITE_DONE) rc = sql_fail(s, GDB_EIO, "reading edges");
  sqlite3_finalize(st);
  return rc;
}

static int load_ops(gdb_store *s, uint32_t cap, const gdb_store_loader *l) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(s->db, "SELECT seq, op FROM (SELECT seq, op FROM oplog ORDER BY seq DESC LIMIT ?) ORDER BY seq", -1, &st, NULL) != SQLITE_OK)
    return sql_fail(s, GDB_EIO, "reading the operation log");
  sqlite3_bind_int64(st, 1, cap);
  int rc = GDB_OK, r;
  while (!rc && (r = sqlite3_step(st)) == SQLITE_ROW) {
    gdb_oprec *op = gdb_oprec_decode(sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1),
                                     (uint64_t)sqlite3_column_int64(st, 0));
    rc = op ? l->op(l->ctx, op) : gdb_fail_prefix(GDB_ECORRUPT, s->path);
  }
  if (!rc && r != SQLITE_DONE) rc = sql_fail(s, GDB_EIO, "reading the operation log");
  sqlite3_finalize(st);
  return rc;
}

static int load_indexes(gdb_store *s) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(s->db, "SELECT field, kind FROM indexes", -1, &st, NULL) != SQLITE_OK)
    return sql_fail(s, GDB_EIO, "reading index declarations");
  int rc = GDB_OK, r;
  while (!rc && (r = sqlite3_step(st)) == SQLITE_ROW) {
    const char *f = (const char *)sqlite3_column_text(st, 0), *k = (const char *)sqlite3_column_text(st, 1);
    if (!f || !k) continue;
    char **p = realloc(s->index_decls, (s->nindex_decls + 1) * 2 * sizeof *p);
    if (!p) {
      rc = gdb_fail(GDB_ENOMEM, "out of memory");
      break;
    }
    s->index_decls = p;
    p[2 * s->nindex_decls] = strdup(f);
    p[2 * s->nindex_decls + 1] = strdup(k);
    s->nindex_decls++;
    if (!p[2 * s->nindex_decls - 2] || !p[2 * s->nindex_decls - 1]) rc = gdb_fail(GDB_ENOMEM, "out of memory");
  }
  if (!rc && r != SQLITE_DONE) rc = sql_fail(s, GDB_EIO, "reading index declarations");
  sqlite3_finalize(st);
  return rc;
}

size_t gdb_store_indexes(const gdb_store *s, const char *const **pairs) {
  *pairs = (const char *const *)s->index_decls;
  return s->nindex_decls;
}

static void *store_main(void *arg);

int gdb_store_load(gdb_store *s, uint32_t oplog_cap, const gdb_store_loader *l) {
  s->oplog_cap = oplog_cap;
  /* One read transaction, so the three tables are read at one instant. */
  int rc = exec(s, "BEGIN");
  if (!rc) rc = load_nodes(s, l);
  if (!rc) rc = load_edges(s, l);
  if (!rc) rc = load_ops(s, oplog_cap, l);
  if (!rc) rc = load_indexes(s);
  exec(s, "COMMIT");
  if (rc) return rc;
  if (pthread_create(&s->thread, NULL, store_main, s) != 0)
    return gdb_fail(GDB_ENOMEM, "cannot start the store thread: %s", strerror(errno));
  s->started = true;
  return GDB_OK;
}

/* ── queueing ── */

static uint64_t push(gdb_store *s, store_mut m) {
  pthread_mutex_lock(&s->mu);
  while (s->q.len >= QUEUE_HIGH_WATER && !s->stopping) pthread_cond_wait(&s->room, &s->mu);
  if (s->q.len == s->q.cap) {
    size_t cap = s->q.cap ? s->q.cap * 2 : 1024;
    store_mut *p = realloc(s->q.m, cap * sizeof *p);
    if (!p) {
      pthread_mutex_unlock(&s->mu);
      gdb_fail(GDB_ENOMEM, "out of memory");
      return 0;
    }
    s->q.m = p;
    s->q.cap = cap;
  }
  if (s->q.len == 0) {
    clock_gettime(CLOCK_MONOTONIC, &s->first_queued);
    pthread_cond_signal(&s->work);
  }
  s->q.m[s->q.len++] = m;
  uint64_t seq = ++s->queued_seq;
  pthread_mutex_unlock(&s->mu);
  return seq;
}

uint64_t gdb_store_node(gdb_store *s, gdb_node *n) {
  gdb_node_retain(n);
  return push(s, (store_mut){.kind = M_NODE, .node = n});
}

uint64_t gdb_store_edge_set(gdb_store *s, gdb_node *src, gdb_rstr *dst, gdb_hlc ts) {
  gdb_node_retain(src);
  return push(s, (store_mut){.kind = M_EDGE_SET, .node = src, .dst = gdb_rstr_ref(dst), .ts = ts});
}

uint64_t gdb_store_edge_del(gdb_store *s, gdb_node *src, gdb_rstr *dst) {
  gdb_node_retain(src);
  return push(s, (store_mut){.kind = M_EDGE_DEL, .node = src, .dst = gdb_rstr_ref(dst)});
}

uint64_t gdb_store_op(gdb_store *s, gdb_oprec *r) {
  return push(s, (store_mut){.kind = M_OP, .op = gdb_oprec_ref(r)});
}

uint64_t gdb_store_index(gdb_store *s, const char *field, const char *kind, bool declared) {
  size_t fl = strlen(field), kl = strlen(kind);
  char *text = malloc(fl + kl + 2);
  if (!text) {
    gdb_fail(GDB_ENOMEM, "out of memory");
    return 0;
  }
  memcpy(text, field, fl + 1);
  memcpy(text + fl + 1, kind, kl + 1);
  return push(s, (store_mut){.kind = declared ? M_INDEX_PUT : M_INDEX_DEL, .text = text});
}

void gdb_store_set_meta(gdb_store *s, const gdb_store_meta *meta) {
  pthread_mutex_lock(&s->mu);
  s->meta = *meta;
  pthread_mutex_unlock(&s->mu);
}

uint64_t gdb_store_last_seq(gdb_store *s) {
  pthread_mutex_lock(&s->mu);
  uint64_t v = s->queued_seq;
  pthread_mutex_unlock(&s->mu);
  return v;
}

int gdb_store_wait(gdb_store *s, uint64_t seq) {
  pthread_mutex_lock(&s->mu);
  s->waiters++;
  pthread_cond_signal(&s->work);
  uint64_t failures = 0;
  while (s->committed_seq < seq) {
    /* A failing store retries; a waiter gives up after the retry that follows its arrival. */
    if (s->error && failures++ > 0) break;
    pthread_cond_wait(&s->done, &s->mu);
  }
  s->waiters--;
  int rc = s->committed_seq >= seq ? GDB_OK : gdb_fail(s->error, "%s", s->errmsg);
  pthread_mutex_unlock(&s->mu);
  return rc;
}

int gdb_store_error(gdb_store *s, const char **msg) {
  pthread_mutex_lock(&s->mu);
  int e = s->error;
  if (msg) *msg = s->errmsg;
  pthread_mutex_unlock(&s->mu);
  return e;
}

void gdb_store_counters(gdb_store *s, uint64_t *pending, uint64_t *commits) {
  pthread_mutex_lock(&s->mu);
  *pending = s->q.len;
  *commits = s->commits;
  pthread_mutex_unlock(&s->mu);
}

/* ── the writer thread ── */

static void mut_release(store_mut *m) {
  if (m->node) gdb_node_release(m->node);
  gdb_rstr_unref(m->dst);
  gdb_oprec_unref(m->op);
  free(m->text);
}

static bool step_done(sqlite3_stmt *st) {
  bool ok = sqlite3_step(st) == SQLITE_DONE;
  sqlite3_reset(st);
  return ok;
}

static bool write_node(gdb_store *s, const gdb_node *n) {
  sqlite3_stmt *st = s->st[ST_PUT_NODE];
  sqlite3_bind_text(st, 1, gdb_node_idp(n), n->id_len, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, (int64_t)n->ord);
  if (n->value_len) sqlite3_bind_blob(st, 3, gdb_node_valuep(n), (int)n->value_len, SQLITE_STATIC);
  else sqlite3_bind_null(st, 3);
  sqlite3_bind_int64(st, 4, n->ts.physical);
  sqlite3_bind_int64(st, 5, n->ts.logical);
  sqlite3_bind_int64(st, 6, n->removed.physical);
  sqlite3_bind_int64(st, 7, n->removed.logical);
  sqlite3_bind_text(st, 8, gdb_node_origin(n), n->origin_len, SQLITE_STATIC);
  if (n->extra_len) sqlite3_bind_blob(st, 9, gdb_node_extra(n), (int)n->extra_len, SQLITE_STATIC);
  else sqlite3_bind_null(st, 9);
  return step_done(st);
}

static bool write_edge(gdb_store *s, const store_mut *m) {
  sqlite3_stmt *st = s->st[m->kind == M_EDGE_SET ? ST_PUT_EDGE : ST_DEL_EDGE];
  sqlite3_bind_text(st, 1, gdb_node_idp(m->node), m->node->id_len, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, m->dst->s, (int)m->dst->len, SQLITE_STATIC);
  if (m->kind == M_EDGE_SET) {
    sqlite3_bind_int64(st, 3, m->ts.physical);
    sqlite3_bind_int64(st, 4, m->ts.logical);
  }
  return step_done(st);
}

static bool write_op(gdb_store *s, const gdb_oprec *r, gdb_buf *scratch) {
  scratch->len = 0;
  if (gdb_oprec_encode(r, scratch)) return false;
  sqlite3_stmt *st = s->st[ST_PUT_OP];
  sqlite3_bind_int64(st, 1, (int64_t)r->seq);
  sqlite3_bind_blob(st, 2, scratch->data, (int)scratch->len, SQLITE_STATIC);
  return step_done(st);
}

/* Writes one batch in one transaction. Only the operations the log will still hold after the
 * batch are written: older ones would be trimmed in the same transaction. */
static int write_batch(gdb_store *s, const mut_queue *q, const gdb_store_meta *meta) {
  size_t nops = 0;
  for (size_t i = 0; i < q->len; i++) nops += q->m[i].kind == M_OP;
  size_t skip_ops = nops > s->oplog_cap ? nops - s->oplog_cap : 0;
  gdb_buf scratch = {0};
  bool ok = step_done(s->st[ST_BEGIN]);
  for (size_t i = 0; ok && i < q->len; i++) {
    const store_mut *m = &q->m[i];
    switch (m->kind) {
    case M_NODE:
      /* A record with neither value nor removal is a stub: its edges alone are stored. */
      if (m->node->value_len || m->node->removed.physical || m->node->removed.logical) ok = write_node(s, m->node);
      break;
    case M_EDGE_SET:
    case M_EDGE_DEL: ok = write_edge(s, m); break;
    case M_OP:
      if (skip_ops) skip_ops--;
      else ok = write_op(s, m->op, &scratch);
      break;
    case M_INDEX_PUT:
    case M_INDEX_DEL: {
      sqlite3_stmt *st = s->st[m->kind == M_INDEX_PUT ? ST_PUT_INDEX : ST_DEL_INDEX];
      sqlite3_bind_text(st, 1, m->text, -1, SQLITE_STATIC);
      sqlite3_bind_text(st, 2, m->text + strlen(m->text) + 1, -1, SQLITE_STATIC);
      ok = step_done(st);
      break;
    }
    }
  }
  if (ok && meta->op_seq > s->oplog_cap) {
    sqlite3_bind_int64(s->st[ST_TRIM_OPS], 1, (int64_t)(meta->op_seq - s->oplog_cap));
    ok = step_done(s->st[ST_TRIM_OPS]);
  }
  ok = ok && write_meta(s, meta) && step_done(s->st[ST_COMMIT]);
  gdb_buf_free(&scratch);
  if (ok) return GDB_OK;
  int rc = sql_fail(s, GDB_EIO, "writing a batch");
  if (!sqlite3_get_autocommit(s->db)) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
  return rc;
}

/* The monotonic time delay_ms after start. */
static struct timespec after_ms(struct timespec start, int delay_ms) {
  start.tv_sec += delay_ms / 1000;
  start.tv_nsec += (long)(delay_ms % 1000) * 1000000L;
  if (start.tv_nsec >= 1000000000L) {
    start.tv_sec++;
    start.tv_nsec -= 1000000000L;
  }
  return start;
}

static bool passed(const struct timespec *deadline) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return now.tv_sec > deadline->tv_sec ||
         (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

static void *store_main(void *arg) {
  gdb_store *s = arg;
  mut_queue batch = {0}; /* being written; kept across failed attempts */
  uint64_t batch_upto = 0;
  gdb_store_meta meta;
  pthread_mutex_lock(&s->mu);
  for (;;) {
    if (batch.len == 0) {
      while (s->q.len == 0 && !s->stopping) pthread_cond_wait(&s->work, &s->mu);
      if (s->q.len == 0) break; /* stopping, nothing left */
      /* Gather for save_delay unless someone needs durability now. */
      struct timespec deadline = after_ms(s->first_queued, s->save_delay_ms);
      while (!s->waiters && !s->stopping && s->q.len < QUEUE_HIGH_WATER && !passed(&deadline))
        pthread_cond_timedwait(&s->work, &s->mu, &deadline);
      mut_queue t = batch;
      batch = s->q;
      s->q = t;
      batch_upto = s->queued_seq;
      pthread_cond_broadcast(&s->room);
    }
    meta = s->meta;
    pthread_mutex_unlock(&s->mu);

    int rc = write_batch(s, &batch, &meta);

    pthread_mutex_lock(&s->mu);
    if (rc) {
      /* Keep the batch and retry after a pause; waiters learn why meanwhile. */
      s->error = rc;
      snprintf(s->errmsg, sizeof s->errmsg, "%s", gdb_errmsg());
      pthread_cond_broadcast(&s->done);
      if (s->stopping) break;
      struct timespec now;
      clock_gettime(CLOCK_MONOTONIC, &now);
      struct timespec retry = after_ms(now, 1000);
      while (!s->stopping && !passed(&retry)) pthread_cond_timedwait(&s->work, &s->mu, &retry);
      continue;
    }
    s->error = 0;
    s->errmsg[0] = 0;
    s->committed_seq = batch_upto;
    s->commits++;
    pthread_cond_broadcast(&s->done);
    pthread_mutex_unlock(&s->mu);
    for (size_t i = 0; i < batch.len; i++) mut_release(&batch.m[i]);
    batch.len = 0;
    pthread_mutex_lock(&s->mu);
  }
  s->unwritten = batch.len + s->q.len;
  pthread_mutex_unlock(&s->mu);
  for (size_t i = 0; i < batch.len; i++) mut_release(&batch.m[i]);
  free(batch.m);
  return NULL;
}

int gdb_store_backup(gdb_store *s, const char *dest) {
  struct stat st;
  if (!dest || !dest[0]) return gdb_fail(GDB_EINVAL, "backup: a destination path is required");
  if (stat(dest, &st) == 0) return gdb_fail(GDB_EINVAL, "backup: %s exists (choose a new path)", dest);
  char *tmp = malloc(strlen(dest) + 5);
  if (!tmp) return gdb_fail(GDB_ENOMEM, "out of memory");
  sprintf(tmp, "%s.tmp", dest);
  unlink(tmp);
  sqlite3 *src = NULL, *dst = NULL;
  int rc = GDB_OK;
  if (sqlite3_open_v2(s->path, &src, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
    rc = gdb_fail(GDB_EIO, "backup: cannot read %s: %s", s->path, src ? sqlite3_errmsg(src) : "out of memory");
  } else if (sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
    rc = gdb_fail(GDB_EIO, "backup: cannot create %s: %s", tmp, dst ? sqlite3_errmsg(dst) : "out of memory");
  } else {
    sqlite3_busy_timeout(src, 5000);
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    if (!b) {
      rc = gdb_fail(GDB_EIO, "backup: %s", sqlite3_errmsg(dst));
    } else {
      int step = sqlite3_backup_step(b, -1); /* one step: one read transaction, one snapshot */
      sqlite3_backup_finish(b);
      if (step != SQLITE_DONE)
        rc = gdb_fail(GDB_EIO, "backup: copying %s: %s%s", s->path, sqlite3_errstr(step),
                      step == SQLITE_FULL ? " (the disk is full)" : "");
    }
    /* the copy in WAL mode like its original, and on disk before it takes dest's name */
    if (!rc && sqlite3_exec(dst, "PRAGMA journal_mode=WAL; PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL) != SQLITE_OK)
      rc = gdb_fail(GDB_EIO, "backup: finishing %s: %s", tmp, sqlite3_errmsg(dst));
  }
  if (dst && sqlite3_close(dst) != SQLITE_OK && !rc) rc = gdb_fail(GDB_EIO, "backup: closing %s", tmp);
  if (src) sqlite3_close(src);
  if (!rc) {
    int fd = open(tmp, O_RDONLY);
    if (fd < 0 || fsync(fd) != 0) rc = gdb_fail(GDB_EIO, "backup: syncing %s: %s", tmp, strerror(errno));
    if (fd >= 0) close(fd);
  }
  if (!rc && rename(tmp, dest) != 0) rc = gdb_fail(GDB_EIO, "backup: naming %s: %s", dest, strerror(errno));
  if (rc) {
    unlink(tmp);
  } else { /* the new name on disk too */
    char *dir = strdup(dest), *slash = dir ? strrchr(dir, '/') : NULL;
    int dfd = dir ? open(slash ? (slash == dir ? "/" : (*slash = 0, dir)) : ".", O_RDONLY | O_DIRECTORY) : -1;
    if (dfd >= 0) {
      fsync(dfd);
      close(dfd);
    }
    free(dir);
  }
  char wal[PATH_MAX];
  snprintf(wal, sizeof wal, "%s-wal", tmp);
  unlink(wal);
  snprintf(wal, sizeof wal, "%s-shm", tmp);
  unlink(wal);
  free(tmp);
  return rc;
}

int gdb_store_close(gdb_store *s) {
  if (!s) return GDB_OK;
  int rc = GDB_OK;
  if (s->started) {
    pthread_mutex_lock(&s->mu);
    s->stopping = true;
    pthread_cond_broadcast(&s->work);
    pthread_cond_broadcast(&s->room);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    if (s->unwritten)
      rc = gdb_fail(s->error ? s->error : GDB_EIO, "%zu acknowledged changes could not be written to %s: %s",
                    s->unwritten, s->path, s->errmsg);
  }
  for (size_t i = 0; i < s->q.len; i++) mut_release(&s->q.m[i]);
  free(s->q.m);
  for (int i = 0; i < ST_COUNT; i++) sqlite3_finalize(s->st[i]);
  if (s->db) {
    sqlite3_exec(s->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    sqlite3_close(s->db);
  }
  gdb_lockfile_release(s->lock_fd, s->path);
  for (size_t i = 0; i < 2 * s->nindex_decls; i++) free(s->index_decls[i]);
  free(s->index_decls);
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->work);
  pthread_cond_destroy(&s->done);
  pthread_cond_destroy(&s->room);
  free(s->path);
  free(s);
  return rc;
}
