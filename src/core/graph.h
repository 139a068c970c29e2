/*
 * graph.h — the in-memory graph and its merge rules (no clock, no I/O, no locking).
 *
 * State is a function of the set of operations applied, whatever their order:
 *  - a node's value is the upsert that orders last by (timestamp, origin, value bytes), unless
 *    a removal at or after its timestamp exists (removal wins ties);
 *  - removed = the newest removal timestamp seen; it drops every edge from or to the node
 *    stamped at or before it, and every later-arriving upsert or link stamped at or before it;
 *  - an edge carries the newest timestamp any link of it had.
 * Everything dropped is freed at once, so two graphs holding the same operations hold the same
 * records (gdb_graph_hash compares them).
 *
 * Every change is reported to the sink: the store persists it, the database notifies observers.
 */
#ifndef GDB_CORE_GRAPH_H
#define GDB_CORE_GRAPH_H

#include "core/hash.h"
#include "core/node.h"

typedef enum gdb_change {
  GDB_CHANGE_RECORD = 1, /* value, origin, extra or removal time changed */
  GDB_CHANGE_EDGES = 2,  /* only the edge list changed */
} gdb_change;

/* Records (live, removed or pending) one graph holds at most. */
#define GDB_MAX_RECORDS 4000000000u

typedef struct gdb_graph_sink {
  void *ctx;
  /* A record was created or replaced; before is NULL for a new record. Both borrowed. */
  void (*node_changed)(void *ctx, gdb_node *before, gdb_node *after, gdb_change what);
  /* The edge src -> dst now carries ts (added or re-stamped). */
  void (*edge_set)(void *ctx, const gdb_node *src, const gdb_rstr *dst, gdb_hlc ts);
  /* The edge src -> dst is gone. */
  void (*edge_del)(void *ctx, const gdb_node *src, const gdb_rstr *dst);
} gdb_graph_sink;

typedef struct gdb_graph {
  gdb_dict nodes; /* id -> current gdb_node snapshot (live, tombstone or stub) */
  gdb_dict rev;   /* target id -> sources with an edge to it */
  uint64_t live, tombstones, edges;
  uint64_t next_ord; /* records are numbered from 1; at most GDB_MAX_RECORDS */
  gdb_graph_sink sink;
  gdb_node *last; /* the record installed by the last call that changed the state (borrowed) */
} gdb_graph;

void gdb_graph_init(gdb_graph *g, gdb_graph_sink sink);
void gdb_graph_free(gdb_graph *g);

/* The current record of id (any kind), borrowed; NULL if none. */
gdb_node *gdb_graph_find(const gdb_graph *g, const char *id, size_t len);
static inline gdb_node *gdb_graph_live(const gdb_graph *g, const char *id, size_t len) {
  gdb_node *n = gdb_graph_find(g, id, len);
  return n && gdb_node_live(n) ? n : NULL;
}

/* Apply one operation. Return 1 when the state changed, 0 when the operation lost to what is
 * held, GDB_ENOMEM on allocation failure (state unchanged). */
int gdb_graph_upsert(gdb_graph *g, const char *id, size_t len, const uint8_t *value,
                     size_t vlen, gdb_hlc ts, const char *origin, const uint8_t *extra,
                     size_t elen);
int gdb_graph_remove(gdb_graph *g, const char *id, size_t len, gdb_hlc ts, const char *origin,
                     const uint8_t *extra, size_t elen);
int gdb_graph_link(gdb_graph *g, const char *src, size_t slen, const char *dst, size_t dlen,
                   gdb_hlc ts);

/* Loading from the store: room for `records` first, then records in creation order, then
 * edges. No sink calls. */
int gdb_graph_reserve(gdb_graph *g, uint64_t records);
int gdb_graph_load_node(gdb_graph *g, gdb_node *n);
int gdb_graph_load_edge(gdb_graph *g, const char *src, size_t slen, const char *dst,
                        size_t dlen, gdb_hlc ts);

/* SHA-256 over every record and edge in id order (see genosdb.h gdb_state_hash). */
int gdb_graph_hash(const gdb_graph *g, uint8_t out[32]);

#endif
