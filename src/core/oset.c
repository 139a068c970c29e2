/*
 * oset.c — the chunked ordered set (see oset.h for the shape and its costs).
 */
#include "core/oset.h"

#include <stdlib.h>
#include <string.h>

void gdb_oset_init(gdb_oset *s, uint32_t esize, gdb_oset_cmp cmp, const void *ctx) {
  memset(s, 0, sizeof *s);
  s->esize = esize;
  s->cmp = cmp;
  s->ctx = ctx;
}

void gdb_oset_free(gdb_oset *s) {
  for (uint32_t i = 0; i < s->nchunks; i++) free(s->chunks[i]);
  free(s->chunks);
  s->chunks = NULL;
  s->nchunks = s->cap = 0;
  s->count = 0;
}

static void *entry(const gdb_oset *s, const oset_chunk *c, uint32_t i) {
  return (void *)(c->e + (size_t)i * s->esize);
}

/* The chunk that would hold key: the last chunk whose first entry is <= key (0 if none). */
static uint32_t chunk_for(const gdb_oset *s, const void *key) {
  uint32_t lo = 0, hi = s->nchunks; /* answer in [lo, hi) */
  while (hi - lo > 1) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (s->cmp(entry(s, s->chunks[mid], 0), key, s->ctx) <= 0)
      lo = mid;
    else
      hi = mid;
  }
  return lo;
}

/* First index in chunk c with entry >= key (strict: > key). */
static uint32_t bound_in(const gdb_oset *s, const oset_chunk *c, const void *key, bool strict) {
  uint32_t lo = 0, hi = c->n;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    int r = s->cmp(entry(s, c, mid), key, s->ctx);
    if (r < 0 || (strict && r == 0))
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

static gdb_oset_it normalize(const gdb_oset *s, gdb_oset_it it) {
  if (it.c < s->nchunks && it.i >= s->chunks[it.c]->n) {
    it.c++;
    it.i = 0;
  }
  return it;
}

gdb_oset_it gdb_oset_lower(const gdb_oset *s, const void *key, bool *found) {
  if (found) *found = false;
  if (!s->nchunks) return gdb_oset_end(s);
  uint32_t c = chunk_for(s, key);
  /* Equal entries may straddle chunks: the first equal one can sit at the end of c - 1. */
  gdb_oset_it it = {c, bound_in(s, s->chunks[c], key, false)};
  if (it.i == 0 && c > 0) {
    oset_chunk *p = s->chunks[c - 1];
    uint32_t j = bound_in(s, p, key, false);
    if (j < p->n) it = (gdb_oset_it){c - 1, j};
  }
  it = normalize(s, it);
  if (found && gdb_oset_valid(s, it)) *found = s->cmp(gdb_oset_at(s, it), key, s->ctx) == 0;
  return it;
}

gdb_oset_it gdb_oset_upper(const gdb_oset *s, const void *key) {
  if (!s->nchunks) return gdb_oset_end(s);
  uint32_t c = chunk_for(s, key);
  return normalize(s, (gdb_oset_it){c, bound_in(s, s->chunks[c], key, true)});
}

size_t gdb_oset_rank(const gdb_oset *s, gdb_oset_it it) {
  size_t r = 0;
  for (uint32_t c = 0; c < it.c && c < s->nchunks; c++) r += s->chunks[c]->n;
  return r + (it.c < s->nchunks ? it.i : 0);
}

static oset_chunk *chunk_new(const gdb_oset *s, uint32_t cap) {
  oset_chunk *c = malloc(sizeof *c + (size_t)cap * s->esize);
  if (!c) return NULL;
  c->n = 0;
  c->cap = cap;
  return c;
}

static bool list_insert(gdb_oset *s, uint32_t at, oset_chunk *c) {
  if (s->nchunks == s->cap) {
    uint32_t cap = s->cap ? s->cap * 2 : 4;
    oset_chunk **p = realloc(s->chunks, cap * sizeof *p);
    if (!p) return false;
    s->chunks = p;
    s->cap = cap;
  }
  memmove(s->chunks + at + 1, s->chunks + at, (s->nchunks - at) * sizeof *s->chunks);
  s->chunks[at] = c;
  s->nchunks++;
  return true;
}

int gdb_oset_insert(gdb_oset *s, const void *e) {
  if (!s->nchunks) {
    oset_chunk *c = chunk_new(s, 4);
    if (!c || !list_insert(s, 0, c)) {
      free(c);
      return -1;
    }
  }
  uint32_t ci = chunk_for(s, e);
  oset_chunk *c = s->chunks[ci];
  uint32_t i = bound_in(s, c, e, false);
  if (i < c->n && s->cmp(entry(s, c, i), e, s->ctx) == 0) return 0;
  if (i == 0 && ci > 0) { /* an equal entry may end the previous chunk */
    oset_chunk *p = s->chunks[ci - 1];
    if (p->n && s->cmp(entry(s, p, p->n - 1), e, s->ctx) == 0) return 0;
  }
  if (c->n == c->cap) {
    if (c->cap < OSET_CHUNK) { /* grow small chunks geometrically (many sets hold few entries) */
      uint32_t cap = c->cap * 2 > OSET_CHUNK ? OSET_CHUNK : c->cap * 2;
      oset_chunk *g = realloc(c, sizeof *c + (size_t)cap * s->esize);
      if (!g) return -1;
      g->cap = cap;
      s->chunks[ci] = c = g;
    } else { /* split in halves, then insert into the half that holds position i */
      oset_chunk *r = chunk_new(s, OSET_CHUNK);
      if (!r) return -1;
      uint32_t half = c->n / 2;
      memcpy(r->e, entry(s, c, half), (size_t)(c->n - half) * s->esize);
      r->n = c->n - half;
      c->n = half;
      if (!list_insert(s, ci + 1, r)) {
        memcpy(entry(s, c, half), r->e, (size_t)r->n * s->esize);
        c->n += r->n;
        free(r);
        return -1;
      }
      if (i > half) {
        c = r;
        i -= half;
      }
    }
  }
  memmove(entry(s, c, i + 1), entry(s, c, i), (size_t)(c->n - i) * s->esize);
  memcpy(entry(s, c, i), e, s->esize);
  c->n++;
  s->count++;
  return 1;
}

bool gdb_oset_erase(gdb_oset *s, const void *key, void *out) {
  bool found;
  gdb_oset_it it = gdb_oset_lower(s, key, &found);
  if (!found) return false;
  oset_chunk *c = s->chunks[it.c];
  if (out) memcpy(out, entry(s, c, it.i), s->esize);
  memmove(entry(s, c, it.i), entry(s, c, it.i + 1), (size_t)(c->n - it.i - 1) * s->esize);
  c->n--;
  s->count--;
  if (c->n == 0) {
    free(c);
    memmove(s->chunks + it.c, s->chunks + it.c + 1, (s->nchunks - it.c - 1) * sizeof *s->chunks);
    s->nchunks--;
  } else if (it.c + 1 < s->nchunks && c->n + s->chunks[it.c + 1]->n <= OSET_CHUNK / 2 &&
             c->cap >= OSET_CHUNK) {
    /* merge two thin neighbours so walks stay dense */
    oset_chunk *r = s->chunks[it.c + 1];
    memcpy(entry(s, c, c->n), r->e, (size_t)r->n * s->esize);
    c->n += r->n;
    free(r);
    memmove(s->chunks + it.c + 1, s->chunks + it.c + 2,
            (s->nchunks - it.c - 2) * sizeof *s->chunks);
    s->nchunks--;
  }
  return true;
}

void *gdb_oset_get(const gdb_oset *s, const void *key) {
  bool found;
  gdb_oset_it it = gdb_oset_lower(s, key, &found);
  return found ? gdb_oset_at(s, it) : NULL;
}

bool gdb_oset_build(gdb_oset *s, const void *sorted, size_t n) {
  gdb_oset_free(s);
  size_t per = OSET_CHUNK * 3 / 4; /* leave room so the first inserts do not split at once */
  size_t nchunks = (n + per - 1) / per;
  if (nchunks > UINT32_MAX / 2) return false;
  s->chunks = nchunks ? calloc(nchunks, sizeof *s->chunks) : NULL;
  if (nchunks && !s->chunks) return false;
  s->cap = (uint32_t)nchunks;
  const unsigned char *p = sorted;
  for (size_t i = 0; i < nchunks; i++) {
    size_t take = n - i * per < per ? n - i * per : per;
    oset_chunk *c = chunk_new(s, OSET_CHUNK);
    if (!c) {
      gdb_oset_free(s);
      return false;
    }
    memcpy(c->e, p + i * per * s->esize, take * s->esize);
    c->n = (uint32_t)take;
    s->chunks[s->nchunks++] = c;
  }
  s->count = n;
  return true;
}
