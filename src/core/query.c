/*
 * query.c — `map` and `explain`: the public entry points of the query engine.
 *
 * The options are compiled (query_parse.c), then run under the database lock
 * (query_plan.c); the result holds a reference to each matching node, so it stays valid
 * whatever writes follow. See docs/query.md for the language and genosdb.h for the API.
 */
#include "core/db.h"
#include "core/error.h"
#include "core/qstate.h"
#include "core/value.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

struct gdb_result {
  gdb_node **nodes;
  size_t len;
};

int gdb_map(gdb_t *db, const char *options, gdb_result **out) {
  *out = NULL;
  gdb_query *q;
  int rc = gdb_query_compile(options, "map", &q);
  if (rc) return rc;
  gdb_result *r = calloc(1, sizeof *r);
  if (!r) {
    gdb_query_free(q);
    return gdb_fail(GDB_ENOMEM, "out of memory");
  }
  qhit *hits = NULL;
  size_t n = 0;
  gdb_db_lock(db);
  rc = gdb_query_exec(gdb_db_qstate(db), gdb_db_graph(db), q, NULL, &hits, &n, NULL, NULL);
  if (!rc && !(r->nodes = malloc((n ? n : 1) * sizeof *r->nodes)))
    rc = gdb_fail(GDB_ENOMEM, "out of memory");
  for (size_t i = 0; !rc && i < n; i++) {
    if (i + 8 < n) __builtin_prefetch(hits[i + 8].node);
    gdb_node_retain(hits[i].node);
    r->nodes[i] = hits[i].node;
  }
  gdb_db_unlock(db);
  free(hits);
  gdb_query_free(q);
  if (rc) {
    free(r);
    return rc;
  }
  r->len = n;
  *out = r;
  return GDB_OK;
}

size_t gdb_result_len(const gdb_result *r) { return r->len; }
gdb_node *gdb_result_at(const gdb_result *r, size_t i) { return i < r->len ? r->nodes[i] : NULL; }

void gdb_result_free(gdb_result *r) {
  if (!r) return;
  for (size_t i = 0; i < r->len; i++) gdb_node_release(r->nodes[i]);
  free(r->nodes);
  free(r);
}

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

int gdb_explain(gdb_t *db, const char *options, char **out) {
  *out = NULL;
  gdb_query *q;
  int rc = gdb_query_compile(options, "explain", &q);
  if (rc) return rc;
  gdb_buf b = {0};
  qexplain ex = {.out = &b};
  gdb_buf_puts(&b, "{\"plan\":{");
  qhit *hits = NULL;
  size_t n = 0;
  gdb_db_lock(db);
  uint64_t live = gdb_db_graph(db)->live;
  double t0 = now_us();
  rc = gdb_query_exec(gdb_db_qstate(db), gdb_db_graph(db), q, NULL, &hits, &n, NULL, &ex);
  double t1 = now_us();
  gdb_db_unlock(db);
  free(hits);
  if (!rc) {
    gdb_buf_printf(&b, "},\"nodes\":%llu,\"examined\":%llu,\"returned\":%zu",
                   (unsigned long long)live, (unsigned long long)ex.examined, n);
    if (q->limit >= 0) gdb_buf_printf(&b, ",\"limit\":%lld", (long long)q->limit);
    gdb_buf_printf(&b, ",\"time_us\":%.1f}", t1 - t0);
    rc = gdb_buf_finish(&b);
    if (rc) gdb_fail(rc, "out of memory");
  }
  gdb_query_free(q);
  if (rc) {
    gdb_buf_free(&b);
    return rc;
  }
  *out = (char *)b.data;
  return GDB_OK;
}
