/*
 * oset.h — an ordered set of fixed-size entries kept in sorted chunks (a two-level B-tree).
 *
 * The query engine keeps several ordered collections that change one entry at a time and are
 * read in order: range indexes (value, id), index postings (creation order), the matching
 * nodes of a subscription's $limit window. A balanced tree costs a node allocation and
 * pointer chase per entry; a single sorted array costs O(n) memmove per insert. Chunks of at
 * most OSET_CHUNK entries, found by binary search over the chunk list, give O(log n) search,
 * inserts that move at most a chunk's worth of bytes, cache-friendly ordered walks and a
 * bulk build from a sorted array (used when an index is built at open).
 *
 * Costs: find/insert/erase O(log n + OSET_CHUNK); an insert that splits a chunk also moves
 * the chunk list (n / OSET_CHUNK pointers); rank() is O(n / OSET_CHUNK).
 */
#ifndef GDB_CORE_OSET_H
#define GDB_CORE_OSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OSET_CHUNK 128

/* Three-way comparison of two entries; ctx is the set's. */
typedef int (*gdb_oset_cmp)(const void *a, const void *b, const void *ctx);

typedef struct oset_chunk {
  uint32_t n, cap;
  _Alignas(16) unsigned char e[];
} oset_chunk;

typedef struct gdb_oset {
  oset_chunk **chunks;
  uint32_t nchunks, cap;
  uint32_t esize;
  size_t count;
  gdb_oset_cmp cmp;
  const void *ctx;
} gdb_oset;

/* A position: chunk c, entry i. The end position is {nchunks, 0}. Positions are invalidated
 * by any insert or erase. */
typedef struct gdb_oset_it {
  uint32_t c, i;
} gdb_oset_it;

void gdb_oset_init(gdb_oset *s, uint32_t esize, gdb_oset_cmp cmp, const void *ctx);
void gdb_oset_free(gdb_oset *s);

/* The first position whose entry is >= key; *found tells whether it compares equal. */
gdb_oset_it gdb_oset_lower(const gdb_oset *s, const void *key, bool *found);
/* The first position whose entry is > key. */
gdb_oset_it gdb_oset_upper(const gdb_oset *s, const void *key);
/* Inserts a copy of e: 1 inserted, 0 an equal entry exists (left as is), -1 out of memory. */
int gdb_oset_insert(gdb_oset *s, const void *e);
/* Removes the entry equal to key (copied into *out when out is not NULL). False if none. */
bool gdb_oset_erase(gdb_oset *s, const void *key, void *out);
/* The entry equal to key (a pointer into the set, valid until the next change), or NULL. */
void *gdb_oset_get(const gdb_oset *s, const void *key);
/* Replaces the set's contents with n entries sorted ascending without duplicates. */
bool gdb_oset_build(gdb_oset *s, const void *sorted, size_t n);

static inline bool gdb_oset_valid(const gdb_oset *s, gdb_oset_it it) { return it.c < s->nchunks; }
static inline void *gdb_oset_at(const gdb_oset *s, gdb_oset_it it) {
  return s->chunks[it.c]->e + (size_t)it.i * s->esize;
}
static inline gdb_oset_it gdb_oset_begin(const gdb_oset *s) {
  (void)s;
  return (gdb_oset_it){0, 0};
}
static inline gdb_oset_it gdb_oset_end(const gdb_oset *s) { return (gdb_oset_it){s->nchunks, 0}; }
/* Steps forward; stepping from the last entry gives end. */
static inline gdb_oset_it gdb_oset_next(const gdb_oset *s, gdb_oset_it it) {
  if (++it.i >= s->chunks[it.c]->n) {
    it.c++;
    it.i = 0;
  }
  return it;
}
/* Steps back; false (it unchanged) at the first entry. Works from end too. */
static inline bool gdb_oset_prev(const gdb_oset *s, gdb_oset_it *it) {
  if (it->i > 0) {
    it->i--;
    return true;
  }
  if (it->c == 0) return false;
  it->c--;
  it->i = s->chunks[it->c]->n - 1;
  return true;
}
/* The position of the last entry (end when empty). */
static inline gdb_oset_it gdb_oset_last(const gdb_oset *s) {
  gdb_oset_it it = gdb_oset_end(s);
  if (!gdb_oset_prev(s, &it)) return gdb_oset_end(s);
  return it;
}
/* Number of entries before position it. */
size_t gdb_oset_rank(const gdb_oset *s, gdb_oset_it it);

#endif
