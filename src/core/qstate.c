/*
 * qstate.c — the query engine's state in one database (see qstate.h): index declarations
 * read back and rebuilt at open, the change observer that keeps indexes and subscriptions
 * current, and the public index functions.
 */
#include "core/qstate.h"

#include "core/db.h"
#include "core/error.h"
#include "core/value.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

/* Every record change, database lock held: indexes first (an $edge subscription may re-run
 * its query through them), then subscriptions. */
static void on_change(void *data, gdb_node *before, gdb_node *after) {
  gdb_qstate *qs = data;
  for (size_t i = 0; i < qs->nidx; i++) gdb_index_update(qs->idx[i], before, after);
  if (gdb_subs_active(qs->subs)) gdb_subs_on_change(qs->subs, before, after);
}

static bool add_index(gdb_qstate *qs, gdb_index *ix) {
  gdb_index **p = realloc(qs->idx, (qs->nidx + 1) * sizeof *p);
  if (!p) return false;
  qs->idx = p;
  qs->idx[qs->nidx++] = ix;
  return true;
}

gdb_index *gdb_qstate_index(gdb_qstate *qs, const char *field, gdb_index_kind kind) {
  for (size_t i = 0; i < qs->nidx; i++)
    if (qs->idx[i]->kind == kind && !strcmp(qs->idx[i]->field, field)) return qs->idx[i];
  return NULL;
}

int gdb_qstate_open(gdb_t *db, struct gdb_store *store, gdb_qstate **out) {
  *out = NULL;
  gdb_qstate *qs = calloc(1, sizeof *qs);
  if (!qs) return gdb_fail(GDB_ENOMEM, "out of memory");
  qs->db = db;
  qs->store = store;
  int rc = gdb_subs_new(qs, &qs->subs);
  const char *const *decl = NULL;
  size_t n = store && !rc ? gdb_store_indexes(store, &decl) : 0;
  for (size_t i = 0; !rc && i < n; i++) {
    gdb_index_kind kind;
    gdb_index *ix;
    /* a declaration this build cannot read is skipped (it can still be dropped); contents
     * are built when a query first needs them, so opening costs nothing per index */
    if (gdb_index_kind_parse(decl[2 * i + 1], &kind) || gdb_index_new(decl[2 * i], kind, &ix))
      continue;
    if (!add_index(qs, ix)) {
      gdb_index_free(ix);
      rc = gdb_fail(GDB_ENOMEM, "out of memory");
    }
  }
  gdb_clear_error();
  if (!rc) rc = gdb_db_observe(db, (gdb_observer){on_change, qs});
  if (rc) {
    gdb_qstate_close(qs);
    return rc;
  }
  *out = qs;
  return GDB_OK;
}

void gdb_qstate_close(gdb_qstate *qs) {
  if (!qs) return;
  gdb_subs_free(qs->subs);
  for (size_t i = 0; i < qs->nidx; i++) gdb_index_free(qs->idx[i]);
  free(qs->idx);
  free(qs);
}

void gdb_qstate_deliver(gdb_qstate *qs) {
  if (qs) gdb_subs_deliver(qs->subs);
}

/* ── public index API ── */

int gdb_index_create(gdb_t *db, const char *field, gdb_index_kind kind) {
  gdb_index *ix;
  int rc = gdb_index_new(field, kind, &ix);
  if (rc) return rc;
  gdb_qstate *qs = gdb_db_qstate(db);
  gdb_db_lock(db);
  if (gdb_qstate_index(qs, ix->field, kind)) {
    gdb_db_unlock(db);
    gdb_index_free(ix);
    return GDB_OK;
  }
  rc = gdb_index_build(ix, gdb_db_graph(db));
  if (!rc && !add_index(qs, ix)) rc = gdb_fail(GDB_ENOMEM, "out of memory");
  if (!rc && qs->store && !gdb_store_index(qs->store, ix->field, gdb_index_kind_name(kind), true))
    rc = GDB_ENOMEM;
  if (rc == GDB_ENOMEM && qs->nidx && qs->idx[qs->nidx - 1] == ix) qs->nidx--;
  gdb_db_unlock(db);
  if (rc) {
    gdb_index_free(ix);
    return gdb_fail_prefix(rc, "index");
  }
  return GDB_OK;
}

int gdb_index_drop(gdb_t *db, const char *field, gdb_index_kind kind) {
  if (!field) return gdb_fail(GDB_EQUERY, "index: a field name is required");
  gdb_qstate *qs = gdb_db_qstate(db);
  gdb_db_lock(db);
  gdb_index *ix = gdb_qstate_index(qs, field, kind);
  if (ix) {
    size_t i = 0;
    while (qs->idx[i] != ix) i++;
    memmove(qs->idx + i, qs->idx + i + 1, (qs->nidx - i - 1) * sizeof *qs->idx);
    qs->nidx--;
    if (qs->store) gdb_store_index(qs->store, field, gdb_index_kind_name(kind), false);
  }
  gdb_db_unlock(db);
  if (!ix)
    return gdb_fail(GDB_ENOTFOUND, "index: no %s index on \"%.200s\"",
                    gdb_index_kind_name(kind) ? gdb_index_kind_name(kind) : "such", field);
  gdb_index_free(ix);
  return GDB_OK;
}

int gdb_index_list(gdb_t *db, char **out) {
  gdb_buf b = {0};
  gdb_qstate *qs = gdb_db_qstate(db);
  gdb_buf_putc(&b, '[');
  gdb_db_lock(db);
  for (size_t i = 0; i < qs->nidx; i++) {
    if (i) gdb_buf_putc(&b, ',');
    gdb_index_describe(qs->idx[i], &b);
  }
  gdb_db_unlock(db);
  gdb_buf_putc(&b, ']');
  int rc = gdb_buf_finish(&b);
  if (rc) {
    gdb_buf_free(&b);
    return gdb_fail(rc, "out of memory");
  }
  *out = (char *)b.data;
  return GDB_OK;
}
