/*
 * hash.c — keyed SipHash and the insertion-ordered hash table. See hash.h.
 */
#include "core/hash.h"

#include <openssl/rand.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                                   \
  do {                                                                                             \
    v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);                                      \
    v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                                                         \
    v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                                                         \
    v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);                                      \
  } while (0)

static inline uint64_t le64(const uint8_t *p) {
  uint64_t v;
  memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap64(v);
#endif
  return v;
}

/* SipHash with compression rounds C and finalization rounds D fixed at compile time, so the
 * round loops unroll (the table hashes an id on every lookup). */
static inline __attribute__((always_inline)) uint64_t siphash_cd(const uint8_t key[16], const void *data,
                                                                  size_t len, const int C, const int D) {
  uint64_t k0 = le64(key), k1 = le64(key + 8);
  uint64_t v0 = 0x736f6d6570736575ULL ^ k0, v1 = 0x646f72616e646f6dULL ^ k1;
  uint64_t v2 = 0x6c7967656e657261ULL ^ k0, v3 = 0x7465646279746573ULL ^ k1;
  const uint8_t *p = data, *end = p + (len & ~(size_t)7);
  for (; p < end; p += 8) {
    uint64_t m = le64(p);
    v3 ^= m;
    for (int i = 0; i < C; i++) SIPROUND;
    v0 ^= m;
  }
  uint64_t b = (uint64_t)len << 56;
  switch (len & 7) {
  case 7: b |= (uint64_t)p[6] << 48; /* fall through */
  case 6: b |= (uint64_t)p[5] << 40; /* fall through */
  case 5: b |= (uint64_t)p[4] << 32; /* fall through */
  case 4: b |= (uint64_t)p[3] << 24; /* fall through */
  case 3: b |= (uint64_t)p[2] << 16; /* fall through */
  case 2: b |= (uint64_t)p[1] << 8;  /* fall through */
  case 1: b |= (uint64_t)p[0]; break;
  case 0: break;
  }
  v3 ^= b;
  for (int i = 0; i < C; i++) SIPROUND;
  v0 ^= b;
  v2 ^= 0xff;
  for (int i = 0; i < D; i++) SIPROUND;
  return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t gdb_siphash(const uint8_t key[16], const void *data, size_t len, int c, int d) {
  (void)d; /* SipHash-1-3 or SipHash-2-4: the two variants in use */
  return c == 1 ? siphash_cd(key, data, len, 1, 3) : siphash_cd(key, data, len, 2, 4);
}

static uint8_t process_key[16];
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void init_key(void) {
  if (RAND_bytes(process_key, sizeof process_key) != 1) abort();
}

uint64_t gdb_hash(const void *data, size_t len) {
  pthread_once(&key_once, init_key);
  return siphash_cd(process_key, data, len, 1, 3);
}

/* ── table ── */

void gdb_dict_init(gdb_dict *d, gdb_dict_key_fn key) {
  memset(d, 0, sizeof *d);
  d->key = key;
}

void gdb_dict_free(gdb_dict *d) {
  free(d->index);
  free(d->entries);
  gdb_dict_key_fn key = d->key;
  gdb_dict_init(d, key);
}

static bool key_equal(const gdb_dict *d, const void *item, const char *key, size_t len) {
  size_t l;
  const char *k = d->key(item, &l);
  return l == len && memcmp(k, key, len) == 0;
}

static inline uint32_t tag_of(uint64_t hash) { return (uint32_t)(hash >> 32); }

/* The slot holding key, or NULL. */
static gdb_dict_slot *find_slot(const gdb_dict *d, const char *key, size_t len, uint64_t hash) {
  if (!d->index) return NULL;
  uint32_t tag = tag_of(hash);
  for (uint32_t i = (uint32_t)hash & d->mask;; i = (i + 1) & d->mask) {
    gdb_dict_slot *s = &d->index[i];
    if (!s->item) {
      if (s->pos == 0) return NULL;
      continue; /* deleted */
    }
    if (s->tag == tag && key_equal(d, s->item, key, len)) return s;
  }
}

gdb_dict_entry *gdb_dict_find(const gdb_dict *d, const char *key, size_t len, uint64_t hash) {
  gdb_dict_slot *s = find_slot(d, key, len, hash);
  return s ? &d->entries[s->pos] : NULL;
}

void *gdb_dict_lookup(const gdb_dict *d, const char *key, size_t len, uint64_t hash) {
  gdb_dict_slot *s = find_slot(d, key, len, hash);
  return s ? s->item : NULL;
}

/* The slot pointing at entry position k. */
static gdb_dict_slot *slot_of(const gdb_dict *d, uint32_t k) {
  for (uint32_t i = (uint32_t)d->entries[k].hash & d->mask;; i = (i + 1) & d->mask)
    if (d->index[i].item && d->index[i].pos == k) return &d->index[i];
}

void gdb_dict_set(gdb_dict *d, gdb_dict_entry *e, void *item) {
  slot_of(d, (uint32_t)(e - d->entries))->item = item;
  e->item = item;
}

/* Rebuilds the index at `slots` (a power of two), squeezing holes out of the entries. */
static bool rebuild(gdb_dict *d, uint32_t slots) {
  gdb_dict_slot *index = calloc(slots, sizeof *index);
  if (!index) return false;
  uint32_t w = 0;
  for (uint32_t r = 0; r < d->nentries; r++)
    if (d->entries[r].item) d->entries[w++] = d->entries[r];
  d->nentries = w;
  for (uint32_t k = 0; k < w; k++) {
    uint32_t i = (uint32_t)d->entries[k].hash & (slots - 1);
    while (index[i].item) i = (i + 1) & (slots - 1);
    index[i] = (gdb_dict_slot){d->entries[k].item, k, tag_of(d->entries[k].hash)};
  }
  free(d->index);
  d->index = index;
  d->mask = slots - 1;
  d->used = w;
  return true;
}

bool gdb_dict_reserve(gdb_dict *d, uint32_t n) {
  uint64_t want = (uint64_t)d->count + n;
  if (want > UINT32_MAX / 4) return false;
  if (d->nentries + n > d->cap) {
    /* grow by half: entries are 16 bytes per node, doubling would waste up to half of them */
    uint64_t cap = d->cap ? d->cap : 16;
    while (cap < (uint64_t)d->nentries + n) cap += cap / 2;
    gdb_dict_entry *e = realloc(d->entries, cap * sizeof *e);
    if (!e) return false;
    d->entries = e;
    d->cap = (uint32_t)cap;
  }
  /* Keep the index at most 2/3 full, counting deleted markers. */
  uint64_t slots = d->index ? (uint64_t)d->mask + 1 : 0;
  if ((uint64_t)(d->used + n) * 3 >= slots * 2) {
    uint64_t s = 16;
    while (want * 3 >= s * 2) s *= 2;
    return rebuild(d, (uint32_t)s);
  }
  return true;
}

gdb_dict_entry *gdb_dict_insert_unique(gdb_dict *d, uint64_t hash, void *item, bool *inserted) {
  *inserted = false;
  if (!gdb_dict_reserve(d, 1)) return NULL;
  size_t klen;
  const char *key = d->key(item, &klen);
  uint32_t tag = tag_of(hash), i = (uint32_t)hash & d->mask, free_slot = UINT32_MAX;
  for (;; i = (i + 1) & d->mask) {
    gdb_dict_slot *s = &d->index[i];
    if (!s->item) {
      if (s->pos == 0) break;
      if (free_slot == UINT32_MAX) free_slot = i;
      continue;
    }
    if (s->tag == tag && key_equal(d, s->item, key, klen)) return &d->entries[s->pos];
  }
  if (free_slot == UINT32_MAX) {
    free_slot = i;
    d->used++;
  }
  uint32_t k = d->nentries++;
  d->entries[k] = (gdb_dict_entry){hash, item};
  d->index[free_slot] = (gdb_dict_slot){item, k, tag};
  d->count++;
  *inserted = true;
  return &d->entries[k];
}

bool gdb_dict_insert(gdb_dict *d, uint64_t hash, void *item) {
  bool inserted;
  return gdb_dict_insert_unique(d, hash, item, &inserted) && inserted;
}

void gdb_dict_delete(gdb_dict *d, gdb_dict_entry *e) {
  gdb_dict_slot *s = slot_of(d, (uint32_t)(e - d->entries));
  *s = (gdb_dict_slot){NULL, 1, 0};
  e->item = NULL;
  d->count--;
  /* Squeeze holes once they are half the entries, so scans stay dense. */
  if (d->nentries > 64 && d->count < d->nentries / 2) rebuild(d, d->mask + 1);
}
