/*
 * index.h — secondary indexes on node fields, kept current by every write.
 *
 * Kinds (docs/query.md, "Indexes"):
 *  - eq      equality: (canonical value bytes, creation order) in an ordered set, so one value's
 *            nodes come out in creation order; serves $eq, shorthand equality and $in;
 *  - range   (sort key, id) in an ordered set: $eq, $in, $gt/$gte/$lt/$lte/$between, and
 *            sort + $limit by walking it in order (every live node has one entry there, a
 *            missing field as null);
 *  - text    an inverted index word -> nodes for $text;
 *  - prefix  a radix tree of string values for $startsWith;
 *  - geo     a grid of cells at four sizes for $near and $bbox.
 * Values inside arrays (and values reached through arrays of objects) are indexed one by one,
 * so an index finds every node the condition can match; the planner still evaluates the full
 * filter on what an index returns unless the index is exact for the condition.
 *
 * Indexes hold borrowed pointers to the graph's current snapshots and are read and changed
 * only under the database lock. The graph replaces a snapshot on every change and tells the
 * observer, which calls gdb_index_update() before the old snapshot is released.
 */
#ifndef GDB_CORE_INDEX_H
#define GDB_CORE_INDEX_H

#include "core/query.h"

typedef struct gdb_index gdb_index;

struct gdb_index {
  gdb_index_kind kind;
  qarena *arena;
  const qpath *path;
  const char *field;
  void *impl;
  size_t entries; /* index entries held */
  size_t multi;   /* entries from array elements or paths through arrays */
  bool broken;    /* an update failed (out of memory): not used until rebuilt */
  bool built;     /* contents are current; declarations read at open are built on first use */
};

/* Creates an empty index (GDB_EQUERY when field is not a valid dot path). *out: free with
 * gdb_index_free(). */
int gdb_index_new(const char *field, gdb_index_kind kind, gdb_index **out);
void gdb_index_free(gdb_index *ix);
/* Fills the index from every live node of g (replacing what it held). */
int gdb_index_build(gdb_index *ix, gdb_graph *g);
/* Builds the index if it is not built yet (database lock held). False when that failed. */
bool gdb_index_ready(gdb_index *ix, gdb_graph *g);
/* Applies one record change (either may be NULL or not live). */
void gdb_index_update(gdb_index *ix, gdb_node *before, gdb_node *after);

/* ── for the planner ── */

/* True when the index can produce candidates for value predicate pred (of a FIELD on its
 * path). */
bool gdb_index_supports(const gdb_index *ix, const qexpr *pred);
/* How many candidates gdb_index_scan would produce (exact for eq, range, text; an upper
 * bound for the others). */
size_t gdb_index_estimate(const gdb_index *ix, const qexpr *pred);
/* Calls fn for candidate nodes until it returns true. Every node that satisfies pred is among
 * them; when gdb_index_exact() they all satisfy it; when gdb_index_dups() one may come more
 * than once. */
/* n: the node (not yet read: its header may be cold); ord: its creation order. */
typedef bool (*gdb_index_fn)(gdb_node *n, uint32_t ord, void *data);
void gdb_index_scan(const gdb_index *ix, const qexpr *pred, gdb_index_fn fn, void *data);
bool gdb_index_exact(const gdb_index *ix, const qexpr *pred);
bool gdb_index_dups(const gdb_index *ix, const qexpr *pred);
/* True when gdb_index_scan produces candidates in creation order. */
bool gdb_index_creation_ordered(const gdb_index *ix, const qexpr *pred);
/* Range indexes: every live node once, in (sort key, id) order (desc: reversed), starting
 * strictly after `from` (NULL: at the start), until fn returns true. */
void gdb_index_walk(const gdb_index *ix, bool desc, const qhit *from, gdb_index_fn fn, void *data);
/* Describes the index for explain: {"field":…,"kind":…,"entries":…}. */
void gdb_index_describe(const gdb_index *ix, gdb_buf *out);

/* ── kinds (index_ordered.c, index_text.c, index_prefix.c, index_geo.c) ──
 * Each implements the functions above for its kind; index.c dispatches. */
typedef struct gdb_index_ops {
  bool (*init)(gdb_index *ix);
  void (*free)(gdb_index *ix);
  int (*build)(gdb_index *ix, gdb_graph *g);
  /* Adds (add true) or removes the entries of n; false on allocation failure. */
  bool (*apply)(gdb_index *ix, gdb_node *n, bool add);
  /* Points the entries of before at after (same value, new snapshot). */
  void (*repoint)(gdb_index *ix, gdb_node *before, gdb_node *after);
  bool (*supports)(const gdb_index *ix, const qexpr *pred);
  size_t (*estimate)(const gdb_index *ix, const qexpr *pred);
  void (*scan)(const gdb_index *ix, const qexpr *pred, gdb_index_fn fn, void *data);
  bool exact; /* candidates all satisfy the predicate (text: only without multi) */
} gdb_index_ops;

/* For a kind's build, once its structure is empty: counts reset, then every live node applied. */
int gdb_index_add_all(gdb_index *ix, gdb_graph *g);

extern const gdb_index_ops gdb_index_ordered_ops; /* eq and range */
extern const gdb_index_ops gdb_index_text_ops;
extern const gdb_index_ops gdb_index_prefix_ops;
extern const gdb_index_ops gdb_index_geo_ops;
void gdb_index_ordered_walk(const gdb_index *ix, bool desc, const qhit *from, gdb_index_fn fn,
                            void *data);

/* A posting list: the nodes holding one word, cell or string, in creation order. */
typedef struct gdb_posting {
  gdb_oset set; /* of posting_entry */
} gdb_posting;
typedef struct posting_entry {
  uint32_t ord;
  gdb_node *node;
} posting_entry;
void gdb_posting_init(gdb_posting *p);
/* 1 added, 0 already there, -1 out of memory. */
int gdb_posting_add(gdb_posting *p, gdb_node *n);
bool gdb_posting_del(gdb_posting *p, const gdb_node *n);
void gdb_posting_repoint(gdb_posting *p, gdb_node *after);
bool gdb_posting_has(const gdb_posting *p, uint32_t ord);

/* The values an index takes from a node: every value its path reaches and, for arrays, each
 * element. fn(value, is_element, data); stops when fn returns true. */
typedef bool (*gdb_index_value_fn)(const uint8_t *p, const uint8_t *end, bool element, void *data);
void gdb_index_values(const gdb_index *ix, const gdb_node *n, gdb_index_value_fn fn, void *data);

#endif
