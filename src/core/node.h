/*
 * node.h — node snapshots, edge buffers and shared strings.
 *
 * A gdb_node is an immutable, reference-counted record of one node at one instant: id, value
 * (canonical MessagePack), the timestamp and origin of the operation that set the value, the
 * signature fields that came with it (extra), the time it was last removed, and its outgoing
 * edges. The graph replaces a node's snapshot on every change; readers on any thread keep
 * theirs as long as they hold a reference.
 *
 * Payload sharing: a put allocates one block holding header and payload (value, extra, id,
 * origin). A change that keeps the payload (a link, a removal older than the value) allocates
 * only a header whose `value` points into the previous block (its owner), so linking a large
 * value is O(1).
 *
 * Edges: one append-only buffer is shared by a node's successive snapshots, each seeing its
 * first `nedges` items; a link appends in place when the newest snapshot covers the whole
 * buffer, anything else copies (copy-on-write). Items are ordered by (timestamp, target).
 *
 * Records without a value are tombstones (removed > 0) or stubs (edges whose source has not
 * arrived yet); only records with a value are live.
 */
#ifndef GDB_CORE_NODE_H
#define GDB_CORE_NODE_H

#include "genosdb.h"

#include <stdatomic.h>
#include <stddef.h>

/* A reference-counted immutable string (edge targets, reverse-index sources). */
typedef struct gdb_rstr {
  atomic_uint refs;
  uint32_t len;
  char s[]; /* NUL-terminated */
} gdb_rstr;

gdb_rstr *gdb_rstr_new(const char *s, size_t len);
static inline gdb_rstr *gdb_rstr_ref(gdb_rstr *r) {
  atomic_fetch_add_explicit(&r->refs, 1, memory_order_relaxed);
  return r;
}
void gdb_rstr_unref(gdb_rstr *r);

typedef struct gdb_edge_item {
  gdb_rstr *target;
  gdb_hlc ts;
} gdb_edge_item;

typedef struct gdb_edgebuf {
  atomic_uint refs;
  uint32_t len, cap;
  gdb_edge_item e[];
} gdb_edgebuf;

void gdb_edgebuf_unref(gdb_edgebuf *b);

struct gdb_node {
  /* First cache line: what a scan reads. value points at the start of the payload, in this
   * block or the owner's, so filters reach the value without going through owner. */
  const uint8_t *value;
  uint32_t value_len; /* 0: no value (tombstone or stub) */
  atomic_uint refs;
  uint32_t nedges;
  uint32_t extra_len;
  uint16_t id_len, origin_len;
  uint32_t ord;       /* creation order of the record, kept across restarts (its row key) */
  gdb_hlc ts;         /* of the operation that set the value ({0,0} without value) */
  gdb_hlc removed;    /* of the newest removal seen ({0,0} if none) */
  gdb_edgebuf *edges; /* NULL when nedges == 0 */
  char data[];        /* the payload when this block owns it: value extra id \0 origin \0 */
};

/* The block holding n's payload: n itself, or the earlier snapshot a derived header shares. */
static inline struct gdb_node *gdb_node_owner(const gdb_node *n) {
  return (struct gdb_node *)(void *)((char *)(uintptr_t)n->value - offsetof(struct gdb_node, data));
}

/* Payload accessors (valid for the snapshot's lifetime). */
static inline const uint8_t *gdb_node_valuep(const gdb_node *n) { return n->value; }
static inline const uint8_t *gdb_node_extra(const gdb_node *n) {
  return n->extra_len ? n->value + n->value_len : NULL;
}
static inline const char *gdb_node_idp(const gdb_node *n) {
  return (const char *)n->value + n->value_len + n->extra_len;
}
static inline const char *gdb_node_origin(const gdb_node *n) {
  return gdb_node_idp(n) + n->id_len + 1;
}
static inline bool gdb_node_live(const gdb_node *n) { return n->value_len != 0; }

/* A new snapshot with its own payload. edges (may be NULL) is adopted: the caller's reference
 * passes to the node. */
gdb_node *gdb_node_new(const char *id, size_t id_len, const char *origin, const uint8_t *value,
                       size_t value_len, const uint8_t *extra, size_t extra_len, gdb_hlc ts,
                       gdb_hlc removed, gdb_edgebuf *edges, uint32_t nedges, uint32_t ord);
/* A snapshot sharing base's payload with other removal time and edges (edges adopted). */
gdb_node *gdb_node_derive(const gdb_node *base, gdb_hlc removed, gdb_edgebuf *edges,
                          uint32_t nedges);

/* Edge list of n plus (target, ts) at its sorted position: appends in place when possible.
 * Returns the buffer (a new reference) and the new count. NULL on allocation failure. */
gdb_edgebuf *gdb_edges_with(const gdb_node *n, gdb_rstr *target, gdb_hlc ts, uint32_t *count);
/* Edge list of n without the items for which drop(item, data) is true (a new reference, or
 * NULL when nothing remains). *count receives the count. */
gdb_edgebuf *gdb_edges_without(const gdb_node *n, bool (*drop)(const gdb_edge_item *, void *),
                               void *data, uint32_t *count);
/* Index of target in n's edges, or -1. */
long gdb_edges_find(const gdb_node *n, const char *target, size_t len);

/* Bytes a snapshot holds beyond its value (for memory accounting and benchmarks). */
size_t gdb_node_overhead(const gdb_node *n);

#endif
