/*
 * subscribe.h — live subscriptions, shared between subscribe.c (lifecycle, routing of
 * changes to the subscriptions they may affect, the event queue and its delivery) and
 * subscribe_window.c (keeping $limit windows and $edge results current).
 *
 * Kinds:
 *  - W_MAP     a filter (and cursors) without $limit: a change is judged by evaluating the
 *              subscription's compiled filter on the record before and after it; no state;
 *  - W_WINDOW  with $limit: an ordered set of every matching node within the cursors; the
 *              window is its first $limit entries (its last, with only $before) and moves
 *              by at most one entry per insert or removal;
 *  - W_EDGE    with $edge: the current results (retained) and the ids the traversal reached;
 *              a change to a reached node, or to a node the first stage matches, re-runs the
 *              query and the difference becomes events;
 *  - W_GET     one node by id.
 * Watch state is read and changed under the database lock; `cancelled` and `running` under
 * the event mutex.
 */
#ifndef GDB_CORE_SUBSCRIBE_H
#define GDB_CORE_SUBSCRIBE_H

#include "core/qstate.h"

#include <glib.h>
#include <pthread.h>
#include <stdatomic.h>

enum { W_MAP, W_WINDOW, W_EDGE, W_GET };

/* An entry of a window's ordered set: the node's sort position without reading its header
 * (see index.h on snapshots the observer may hand over). */
typedef struct wentry {
  gdb_skey key;
  const char *id;
  uint32_t idlen, ord;
  gdb_node *node;
} wentry;

/* An anchor: the subscription can only match nodes whose `path` holds one of these values
 * (hashes of path and canonical bytes), so other changes skip it. */
typedef struct wanchor {
  const char *path; /* owned by the query */
  uint64_t *hashes;
  uint32_t n;
} wanchor;

struct gdb_watch {
  atomic_uint refs; /* the registration, plus one per queued event */
  gdb_subs *subs;
  gdb_watch_fn fn;
  void *data;
  int kind;
  gdb_query *q; /* NULL for W_GET */
  char *id;     /* W_GET */
  size_t idlen;
  qeval c;
  qwindow win; /* cursors (their nodes retained) */
  bool registered;
  uint64_t stamp;
  wanchor anchor;
  /* under the event mutex */
  bool cancelled, running;
  /* W_WINDOW */
  gdb_oset set;
  int64_t k;
  bool back;
  size_t wcount;
  wentry bound; /* the window's farthest entry when wcount > 0 */
  /* W_EDGE */
  GHashTable *members; /* id (owned) -> gdb_node * (retained) */
  qvisit *visited;
};

/* Queues one event (database lock held); retains node and w. */
void gdb_subs_emit(gdb_subs *s, gdb_watch *w, gdb_event ev, gdb_node *n);
gdb_graph *gdb_subs_graph(gdb_subs *s);
gdb_qstate *gdb_subs_qstate(gdb_subs *s);

/* subscribe_window.c */
void gdb_wentry_of(const gdb_query *q, gdb_node *n, wentry *e);
/* Builds the window state from every match in range (sorted), emitting INITIAL events. */
int gdb_watch_window_init(gdb_watch *w, const qhit *all, size_t n);
void gdb_watch_window_change(gdb_watch *w, gdb_node *before, gdb_node *after, bool bm, bool am);
void gdb_watch_window_free(gdb_watch *w);
/* Re-runs an $edge subscription when the change touches its region. */
void gdb_watch_edge_change(gdb_watch *w, gdb_node *before, gdb_node *after);
int gdb_watch_edge_init(gdb_watch *w, const qhit *hits, size_t n);
void gdb_watch_edge_free(gdb_watch *w);

#endif
