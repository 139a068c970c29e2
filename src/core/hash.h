/*
 * hash.h — SipHash-1-3 with a per-process random key, and an insertion-ordered hash table.
 *
 * Node ids come from remote peers, so the table must not degrade under chosen keys: the hash
 * is keyed SipHash (as in Rust and Python), not a fixed-seed mixer. The table keeps entries in
 * insertion order (a dense array plus an open-addressed index, as CPython's dict does): scans
 * walk memory sequentially and iteration order is stable.
 */
#ifndef GDB_CORE_HASH_H
#define GDB_CORE_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* SipHash-c-d of data under a 16-byte key, for c-d = 1-3 or 2-4 (exposed for tests against
 * the reference vectors, which are for 2-4). */
uint64_t gdb_siphash(const uint8_t key[16], const void *data, size_t len, int c, int d);
/* SipHash-1-3 under this process's random key. */
uint64_t gdb_hash(const void *data, size_t len);

typedef struct gdb_dict_entry {
  uint64_t hash;
  void *item; /* NULL marks a hole left by a deletion */
} gdb_dict_entry;

/* An index slot caches its entry's item and the top of its hash, so a lookup that hits reads
 * the slot and the item only (two cache misses on a large table instead of three). */
typedef struct gdb_dict_slot {
  void *item;   /* NULL: empty (pos 0) or deleted (pos 1) */
  uint32_t pos; /* entry position */
  uint32_t tag; /* hash >> 32 */
} gdb_dict_slot;

/* Returns the key of an item (its id). */
typedef const char *(*gdb_dict_key_fn)(const void *item, size_t *len);

typedef struct gdb_dict {
  gdb_dict_slot *index;
  uint32_t mask;
  uint32_t used;   /* index slots not empty (live + deleted) */
  gdb_dict_entry *entries;
  uint32_t nentries, cap; /* entries written (holes included), capacity */
  uint32_t count;         /* live items */
  gdb_dict_key_fn key;
} gdb_dict;

void gdb_dict_init(gdb_dict *d, gdb_dict_key_fn key);
void gdb_dict_free(gdb_dict *d);
/* The entry holding key, or NULL. The pointer is valid until the next insert or delete.
 * Replace its item with gdb_dict_set() only. */
gdb_dict_entry *gdb_dict_find(const gdb_dict *d, const char *key, size_t len, uint64_t hash);
/* The item under key, or NULL (the fast path: no entry is read). */
void *gdb_dict_lookup(const gdb_dict *d, const char *key, size_t len, uint64_t hash);
/* Replaces the item of an entry (with the same key). */
void gdb_dict_set(gdb_dict *d, gdb_dict_entry *e, void *item);
/* Appends item under hash (the key must not be present). False on allocation failure. */
bool gdb_dict_insert(gdb_dict *d, uint64_t hash, void *item);
/* Inserts item under hash unless an item with the same key is present; either way returns
 * the entry holding the key (*inserted tells which). One probe. NULL on allocation failure. */
gdb_dict_entry *gdb_dict_insert_unique(gdb_dict *d, uint64_t hash, void *item, bool *inserted);
/* Removes the entry (from gdb_dict_find); its item is not freed. */
void gdb_dict_delete(gdb_dict *d, gdb_dict_entry *e);
/* Reserves room for n more items without rehashing on the way. */
bool gdb_dict_reserve(gdb_dict *d, uint32_t n);

#endif
