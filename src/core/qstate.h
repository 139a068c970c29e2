/*
 * qstate.h — the query engine's state in one database: declared indexes and live
 * subscriptions, attached when the database opens and fed by its change observer.
 *
 * The database calls gdb_qstate_open() after loading (indexes are rebuilt then),
 * gdb_qstate_deliver() after each write once its lock is released (subscription events go
 * out then, never under the lock), and gdb_qstate_close() before freeing the graph.
 */
#ifndef GDB_CORE_QSTATE_H
#define GDB_CORE_QSTATE_H

#include "core/index.h"

struct gdb_store;
typedef struct gdb_subs gdb_subs;

struct gdb_qstate {
  gdb_t *db;
  struct gdb_store *store; /* NULL for a memory-only database */
  gdb_index **idx;         /* under the database lock */
  size_t nidx;
  gdb_subs *subs;
};

/* Reads the index declarations the store loaded, builds them, and registers the observer. */
int gdb_qstate_open(gdb_t *db, struct gdb_store *store, gdb_qstate **out);
void gdb_qstate_close(gdb_qstate *qs);
/* Delivers queued subscription events (the database lock must not be held). */
void gdb_qstate_deliver(gdb_qstate *qs);
/* The index on field of kind, or NULL (database lock held). */
gdb_index *gdb_qstate_index(gdb_qstate *qs, const char *field, gdb_index_kind kind);

/* Subscriptions (subscribe.c). */
int gdb_subs_new(gdb_qstate *qs, gdb_subs **out);
void gdb_subs_free(gdb_subs *s);
/* The observer's part for subscriptions (database lock held, indexes already updated). */
void gdb_subs_on_change(gdb_subs *s, gdb_node *before, gdb_node *after);
bool gdb_subs_active(const gdb_subs *s);
void gdb_subs_deliver(gdb_subs *s);

#endif
