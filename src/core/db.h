/*
 * db.h — internal hooks into a database handle for the layers above the core (queries,
 * subscriptions, sync) and for tests. Applications use genosdb.h only.
 */
#ifndef GDB_CORE_DB_H
#define GDB_CORE_DB_H

#include "core/graph.h"
#include "core/hlc.h"
#include "genosdb.h"

/* Called (with the database lock held) for every record change: before is NULL for a new
 * record; either may be a non-live record. Observers must not call back into the database. */
typedef struct gdb_observer {
  void (*fn)(void *data, gdb_node *before, gdb_node *after);
  void *data;
} gdb_observer;

int gdb_db_observe(gdb_t *db, gdb_observer obs);
/* Replaces the wall clock (tests). */
void gdb_db_set_wall(gdb_t *db, gdb_wall_fn wall, void *data);
/* Direct access to the graph under the database lock (the query engine reads it in place). */
void gdb_db_lock(gdb_t *db);
void gdb_db_unlock(gdb_t *db);
gdb_graph *gdb_db_graph(gdb_t *db);
/* The query engine's indexes and subscriptions (core/qstate.h). */
typedef struct gdb_qstate gdb_qstate;
gdb_qstate *gdb_db_qstate(gdb_t *db);

#endif
