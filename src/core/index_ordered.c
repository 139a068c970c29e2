/*
 * index_ordered.c — the eq and range index kinds: one ordered set of entries per index.
 *
 *  range: entries ordered by (sort key, node id), the order of a sorted query, so equality
 *         and ranges are runs of the set and sort + $limit is a walk that stops early. Each
 *         live node has exactly one "sort" entry (the value its path names, or null when the
 *         field is missing); values inside arrays, and values reached through arrays of
 *         objects, add "element" entries that comparisons find but walks skip.
 *  eq:    entries ordered by (two independent 64-bit SipHashes of the canonical value bytes,
 *         creation order): each value's nodes form one run, in creation order; a node whose
 *         field is missing has one "missing" entry (null equality matches it). Values are
 *         told apart by their 128-bit hash (keyed per process), never by reading them, so
 *         lookups and builds do not touch node memory.
 *
 * Entries carry the key (pointing into the node's stored value, which the node keeps alive),
 * an 8-byte prefix of the node's id, the id and the creation order, so comparisons never
 * read the node header (the observer may hand us a snapshot the index has not seen, see
 * index.h) and rarely read the value or id.
 *
 * Builds (at open and at creation) sort on integer keys only: an LSD radix sort over
 * (class, prefix, tie) keeps creation order among equal keys, then the few runs whose order
 * needs the full value (long strings, dates, objects) or the full id are sorted exactly.
 */
#include "core/error.h"
#include "core/hash.h"
#include "core/index.h"

#include <openssl/rand.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum { OE_ELEM = 1, OE_DATE = 2, OE_MIN = 4, OE_MAX = 8, OE_INSTANT = 16 };

typedef struct oent {
  uint64_t prefix;  /* range: sort-key prefix; eq: first hash of the value bytes */
  uint64_t tie;     /* range: the id's first 8 bytes (big-endian); eq: second hash */
  const uint8_t *p; /* range: gdb_skey.p; eq: value bytes (NULL when missing) */
  const char *id;
  gdb_node *node;
  uint32_t len;
  uint32_t ord;
  uint16_t idlen;
  uint8_t cls;   /* range: QCLS_*; eq: 0 a value, 1 missing */
  uint8_t flags; /* OE_*: OE_MIN / OE_MAX make a probe sort before / after its key's run */
} oent;

typedef struct oimpl {
  gdb_oset set;
  bool eq;
} oimpl;

static int bytes_cmp(const void *a, size_t al, const void *b, size_t bl) {
  size_t m = al < bl ? al : bl;
  int r = m ? memcmp(a, b, m) : 0;
  if (r) return r < 0 ? -1 : 1;
  return al < bl ? -1 : al > bl;
}

/* 2 when neither is a probe. */
static inline int probe_tie(const oent *a, const oent *b) {
  if (a->flags & OE_MIN) return b->flags & OE_MIN ? 0 : -1;
  if (a->flags & OE_MAX) return b->flags & OE_MAX ? 0 : 1;
  if (b->flags & OE_MIN) return 1;
  if (b->flags & OE_MAX) return -1;
  return 2;
}

static inline gdb_skey key_of(const oent *e) {
  return (gdb_skey){.cls = e->cls,
                    .date = e->flags & OE_DATE,
                    .instant = e->flags & OE_INSTANT,
                    .len = e->len,
                    .prefix = e->prefix,
                    .p = e->p};
}

/* True when two entries with equal class and prefix may still differ in key. */
static inline bool needs_full(uint8_t cls) {
  return cls != QCLS_NULL && cls != QCLS_NUM && cls != QCLS_BOOL;
}

static int range_cmp(const void *x, const void *y, const void *ctx) {
  (void)ctx;
  const oent *a = x, *b = y;
  if (a->cls != b->cls) return a->cls < b->cls ? -1 : 1;
  if (a->prefix != b->prefix) return a->prefix < b->prefix ? -1 : 1;
  if (needs_full(a->cls)) {
    gdb_skey ka = key_of(a), kb = key_of(b);
    int r = gdb_skey_cmp(&ka, &kb);
    if (r) return r;
  }
  int t = probe_tie(a, b);
  if (t != 2) return t;
  if (a->tie != b->tie) return a->tie < b->tie ? -1 : 1;
  return bytes_cmp(a->id, a->idlen, b->id, b->idlen);
}

static int eq_cmp(const void *x, const void *y, const void *ctx) {
  (void)ctx;
  const oent *a = x, *b = y;
  if (a->prefix != b->prefix) return a->prefix < b->prefix ? -1 : 1;
  if (a->tie != b->tie) return a->tie < b->tie ? -1 : 1;
  if (a->cls != b->cls) return a->cls < b->cls ? -1 : 1;
  int t = probe_tie(a, b);
  if (t != 2) return t;
  return a->ord < b->ord ? -1 : a->ord > b->ord;
}

static uint8_t second_key[16];
static pthread_once_t second_once = PTHREAD_ONCE_INIT;
static void second_init(void) {
  if (RAND_bytes(second_key, sizeof second_key) != 1) abort();
}

static uint64_t id_prefix(const char *id, size_t len) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; i++) v = v << 8 | (i < len ? (uint8_t)id[i] : 0);
  return v;
}

/* ── entries of a node ── */

static bool value_entry(bool eq, const uint8_t *p, const uint8_t *end, oent *e) {
  if (eq) {
    if (!p) {
      e->cls = 1;
      e->prefix = 0;
      e->tie = 0;
      e->p = (const uint8_t *)"";
      e->len = 0;
      return true;
    }
    const uint8_t *q = gdb_qmp_skip(p, end);
    if (!q) return false;
    e->cls = 0;
    e->p = p;
    e->len = (uint32_t)(q - p);
    e->prefix = gdb_hash(p, e->len);
    pthread_once(&second_once, second_init);
    e->tie = gdb_siphash(second_key, p, e->len, 1, 3);
    return true;
  }
  gdb_skey k;
  if (!gdb_skey_of(p, end, &k)) return false;
  e->cls = k.cls;
  e->prefix = k.prefix;
  e->p = k.p;
  e->len = k.len;
  if (k.date) e->flags |= OE_DATE;
  return true;
}

typedef struct apply_ctx {
  gdb_index *ix;
  oimpl *im;
  gdb_node *n;
  bool add, ok;
  uint32_t values;
  /* collect mode (builds, repoint): entries are appended here instead */
  oent *out;
  size_t nout, cap;
  bool out_stack;       /* out is caller storage: copy to the heap to grow */
  const uint8_t *sortp; /* range: the value of the sort entry (not repeated as an element) */
} apply_ctx;

static void base_entry(const gdb_node *n, oent *e) {
  memset(e, 0, sizeof *e);
  e->id = gdb_node_idp(n);
  e->idlen = n->id_len;
  e->tie = id_prefix(e->id, e->idlen); /* eq entries replace it with the second hash */
  e->node = (gdb_node *)n;
  e->ord = n->ord;
}

static void put_entry(apply_ctx *x, const oent *e) {
  if (x->out) {
    if (x->nout == x->cap) {
      size_t cap = x->cap ? x->cap * 2 : 1024;
      oent *p = x->out_stack ? malloc(cap * sizeof *p) : realloc(x->out, cap * sizeof *p);
      if (!p) {
        x->ok = false;
        return;
      }
      if (x->out_stack) memcpy(p, x->out, x->nout * sizeof *p);
      x->out_stack = false;
      x->out = p;
      x->cap = cap;
    }
    x->out[x->nout++] = *e;
    return;
  }
  if (x->add) {
    int r = gdb_oset_insert(&x->im->set, e);
    if (r < 0) x->ok = false;
    if (r > 0) {
      x->ix->entries++;
      if (e->flags & OE_ELEM) x->ix->multi++;
    }
  } else {
    oent old;
    if (gdb_oset_erase(&x->im->set, e, &old)) {
      x->ix->entries--;
      if (old.flags & OE_ELEM) x->ix->multi--;
    }
  }
}

static bool on_value(const uint8_t *p, const uint8_t *end, bool element, void *data) {
  apply_ctx *x = data;
  oent e;
  base_entry(x->n, &e);
  /* range: every value is an element entry (the sort entry was made first); eq: all but the
   * first value of the node */
  bool elem = x->im->eq ? x->values > 0 : true;
  x->values++;
  if (!x->im->eq && !element && p == x->sortp) return false; /* the sort entry already */
  if (!value_entry(x->im->eq, p, end, &e)) return false;
  if (elem) e.flags |= OE_ELEM;
  put_entry(x, &e);
  return !x->ok;
}

static void node_entries(apply_ctx *x) {
  const gdb_node *n = x->n;
  const uint8_t *v = gdb_node_valuep(n), *end = v + n->value_len;
  x->values = 0;
  x->sortp = NULL;
  if (!x->im->eq) {
    oent e;
    base_entry(n, &e);
    x->sortp = gdb_qpath_single(x->ix->path, v, end);
    if (value_entry(false, x->sortp, end, &e)) put_entry(x, &e);
  }
  gdb_index_values(x->ix, n, on_value, x);
  if (x->im->eq && x->values == 0) {
    oent e;
    base_entry(n, &e);
    value_entry(true, NULL, end, &e);
    put_entry(x, &e);
  }
}

static bool oi_apply(gdb_index *ix, gdb_node *n, bool add) {
  apply_ctx x = {.ix = ix, .im = ix->impl, .n = n, .add = add, .ok = true};
  node_entries(&x);
  return x.ok;
}

static void oi_repoint(gdb_index *ix, gdb_node *before, gdb_node *after) {
  (void)before; /* same stored value: the keys of after are those of before */
  oent stack[8];
  apply_ctx x = {
      .ix = ix, .im = ix->impl, .n = after, .ok = true, .out = stack, .cap = 8, .out_stack = true};
  node_entries(&x);
  for (size_t i = 0; x.ok && i < x.nout; i++) {
    oent *e = gdb_oset_get(&x.im->set, &x.out[i]);
    if (e) e->node = after;
  }
  if (!x.ok) ix->broken = true;
  if (!x.out_stack) free(x.out);
}

static bool oi_init(gdb_index *ix) {
  oimpl *im = calloc(1, sizeof *im);
  if (!im) return false;
  im->eq = ix->kind == GDB_INDEX_EQ;
  gdb_oset_init(&im->set, sizeof(oent), im->eq ? eq_cmp : range_cmp, NULL);
  ix->impl = im;
  return true;
}

static void oi_free(gdb_index *ix) {
  oimpl *im = ix->impl;
  if (!im) return;
  gdb_oset_free(&im->set);
  free(im);
}

/* ── builds ── */

typedef struct rkey {
  uint64_t k;
  uint32_t idx, pad;
} rkey;

/* Stable LSD radix sort of a by 64-bit k, 16 bits a pass; passes where every key has the
 * same digit are skipped. Returns the sorted array (a or b). */
static rkey *radix_sort(rkey *a, rkey *b, size_t n, size_t *count) {
  for (int shift = 0; shift < 64; shift += 16) {
    memset(count, 0, 65536 * sizeof *count);
    for (size_t i = 0; i < n; i++) count[(a[i].k >> shift) & 0xffff]++;
    if (count[(a[0].k >> shift) & 0xffff] == n) continue;
    size_t sum = 0;
    for (size_t d = 0; d < 65536; d++) {
      size_t c = count[d];
      count[d] = sum;
      sum += c;
    }
    for (size_t i = 0; i < n; i++) b[count[(a[i].k >> shift) & 0xffff]++] = a[i];
    rkey *t = a;
    a = b;
    b = t;
  }
  return a;
}

static int full_cmp(const void *a, const void *b, void *ctx) {
  const oimpl *im = ctx;
  int r = im->set.cmp(a, b, NULL);
  if (r) return r;
  /* equal entries come from one node (a sort entry and its duplicate element): sort first */
  return (((const oent *)a)->flags & OE_ELEM) - (((const oent *)b)->flags & OE_ELEM);
}

/* Sorts v (collected in creation order) into the set's order; returns the sorted array (v
 * is freed) or NULL (v kept) when out of memory.
 *  eq:    by the first hash (stable, so creation order within a value), then the rare runs of
 *         equal first hashes but different second hashes are sorted exactly;
 *  range: by the id prefix, then (stable) by the key prefix, then by class; runs that need
 *         the full key or the full id are sorted exactly. */
static oent *sort_entries(oimpl *im, oent *v, size_t n) {
  rkey *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
  size_t *count = malloc(65536 * sizeof *count);
  oent *out = malloc(n * sizeof *out);
  if (!a || !b || !count || !out) {
    free(a), free(b), free(count), free(out);
    return NULL;
  }
  rkey *r;
  for (size_t i = 0; i < n; i++) a[i] = (rkey){im->eq ? v[i].prefix : v[i].tie, (uint32_t)i, 0};
  r = radix_sort(a, b, n, count);
  if (!im->eq) {
    rkey *o = r == a ? b : a;
    for (size_t i = 0; i < n; i++) o[i] = (rkey){v[r[i].idx].prefix, r[i].idx, 0};
    r = radix_sort(o, r, n, count);
    bool one_class = true;
    for (size_t i = 1; i < n && one_class; i++) one_class = v[r[i].idx].cls == v[r[0].idx].cls;
    if (!one_class) {
      o = r == a ? b : a;
      for (size_t i = 0; i < n; i++) o[i] = (rkey){v[r[i].idx].cls, r[i].idx, 0};
      r = radix_sort(o, r, n, count);
    }
  }
  for (size_t i = 0; i < n; i++) out[i] = v[r[i].idx];
  free(a), free(b), free(count), free(v);
  v = out;
  /* runs the integer keys could not order */
  for (size_t i = 0; i < n;) {
    size_t j = i + 1;
    while (j < n && v[j].cls == v[i].cls && v[j].prefix == v[i].prefix) j++;
    bool exact = true;
    if (j - i > 1) {
      if (im->eq) { /* one value (equal second hashes) keeps creation order */
        for (size_t k = i + 1; exact && k < j; k++) exact = v[k].tie == v[i].tie;
      } else { /* equal ties from two nodes need their full ids (one node's duplicates merge) */
        exact = !needs_full(v[i].cls);
        for (size_t k = i + 1; exact && k < j; k++)
          exact = v[k].tie != v[k - 1].tie || v[k].ord == v[k - 1].ord;
      }
    }
    if (!exact) qsort_r(v + i, j - i, sizeof *v, full_cmp, im);
    i = j;
  }
  return v;
}

static int oi_build(gdb_index *ix, gdb_graph *g) {
  oimpl *im = ix->impl;
  apply_ctx x = {.ix = ix, .im = im, .ok = true, .out = NULL};
  x.cap = 0;
  const gdb_dict_entry *ent = g->nodes.entries;
  uint32_t ne = g->nodes.nentries;
  for (uint32_t i = 0; i < ne && x.ok; i++) {
    /* nodes are read once each: prefetch ahead as scans do */
    if (i + 32 < ne) __builtin_prefetch(ent[i + 32].item);
    if (i + 12 < ne) {
      const gdb_node *a = ent[i + 12].item;
      if (a && a->value_len) __builtin_prefetch(gdb_node_valuep(a));
    }
    gdb_node *n = ent[i].item;
    if (!n || !gdb_node_live(n)) continue;
    x.n = n;
    if (!x.out) { /* first entry: reserve for all (one entry per node is typical) */
      x.cap = g->live + 16;
      if (!(x.out = malloc(x.cap * sizeof *x.out))) return gdb_fail(GDB_ENOMEM, "out of memory");
    }
    node_entries(&x);
  }
  oent *sorted = x.ok && x.nout ? sort_entries(im, x.out, x.nout) : x.out;
  if (!x.ok || (x.nout && !sorted)) {
    free(x.out);
    return gdb_fail(GDB_ENOMEM, "out of memory");
  }
  x.out = sorted;
  size_t w = 0, multi = 0;
  for (size_t r = 0; r < x.nout; r++) {
    /* duplicates come from one node: same creation order, equal keys; keep the sort entry */
    if (w && x.out[w - 1].ord == x.out[r].ord && im->set.cmp(&x.out[w - 1], &x.out[r], NULL) == 0) {
      if (!(x.out[r].flags & OE_ELEM)) x.out[w - 1] = x.out[r];
      continue;
    }
    x.out[w++] = x.out[r];
  }
  for (size_t r = 0; r < w; r++) multi += (x.out[r].flags & OE_ELEM) != 0;
  bool ok = gdb_oset_build(&im->set, x.out, w);
  free(x.out);
  if (!ok) return gdb_fail(GDB_ENOMEM, "out of memory");
  ix->entries = w;
  ix->multi = multi;
  return GDB_OK;
}

/* ── lookups ── */

/* Calls fn(entry) for each entry of [lo, hi) (hi a probe bound), skipping non-dates when
 * dates_only; returns the number visited when fn is NULL (count only). */
typedef bool (*oent_fn)(const oent *e, void *data);

static size_t run(const oimpl *im, const oent *lo, const oent *hi, bool dates_only, oent_fn fn,
                  void *data) {
  const gdb_oset *s = &im->set;
  gdb_oset_it it = gdb_oset_lower(s, lo, NULL), end = gdb_oset_lower(s, hi, NULL);
  if (!fn) return gdb_oset_rank(s, end) - gdb_oset_rank(s, it);
  /* walk positions up to the end found once: comparing each entry would read its value */
  size_t n = 0;
  for (; gdb_oset_valid(s, it) && (it.c != end.c || it.i != end.i); it = gdb_oset_next(s, it)) {
    const oent *e = gdb_oset_at(s, it);
    if (dates_only && !(e->flags & OE_DATE)) continue;
    n++;
    if (fn(e, data)) break;
  }
  return n;
}

static bool probe_of(const oimpl *im, const uint8_t *mp, uint32_t len, uint8_t flag, oent *e) {
  memset(e, 0, sizeof *e);
  if (!value_entry(im->eq, mp, mp + len, e)) return false;
  e->flags |= flag;
  return true;
}

static size_t for_value(const oimpl *im, const uint8_t *mp, uint32_t len, oent_fn fn, void *data) {
  oent lo, hi;
  if (!probe_of(im, mp, len, OE_MIN, &lo) || !probe_of(im, mp, len, OE_MAX, &hi)) return 0;
  return run(im, &lo, &hi, false, fn, data);
}

static size_t for_missing(const oimpl *im, oent_fn fn, void *data) {
  oent lo = {.cls = im->eq ? 1 : QCLS_NULL, .p = (const uint8_t *)"", .flags = OE_MIN}, hi = lo;
  hi.flags = OE_MAX;
  return run(im, &lo, &hi, false, fn, data);
}

static void skey_probe(const gdb_skey *k, uint8_t flags, oent *e) {
  memset(e, 0, sizeof *e);
  e->cls = k->cls;
  e->prefix = k->prefix;
  e->p = k->p;
  e->len = k->len;
  e->flags = flags | (k->date ? OE_DATE : 0) | (k->instant ? OE_INSTANT : 0);
}

static size_t lookup(const gdb_index *ix, const qexpr *pred, oent_fn fn, void *data) {
  const oimpl *im = ix->impl;
  size_t n = 0;
  switch (pred->op) {
  case QOP_EQ:
    n = for_value(im, pred->mp, pred->mplen, fn, data);
    if (pred->set.has_null && im->eq) n += for_missing(im, fn, data);
    return n;
  case QOP_IN:
    for (uint32_t i = 0; i < pred->set.n; i++)
      n += for_value(im, pred->set.v[i], pred->set.len[i], fn, data);
    if (pred->set.has_null && im->eq) n += for_missing(im, fn, data);
    return n;
  case QOP_CMP: {
    oent lo, hi;
    const gdb_skey *b = pred->flags & QF_HAS_LO ? &pred->lo : &pred->hi;
    if (pred->flags & QF_HAS_LO)
      skey_probe(&pred->lo, pred->flags & QF_LO_OPEN ? OE_MAX : OE_MIN, &lo);
    else
      lo = (oent){.cls = b->cls, .p = (const uint8_t *)"", .flags = OE_MIN};
    if (pred->flags & QF_HAS_HI)
      skey_probe(&pred->hi, pred->flags & QF_HI_OPEN ? OE_MIN : OE_MAX, &hi);
    else
      hi = (oent){.cls = (uint8_t)(b->cls + 1), .p = (const uint8_t *)"", .flags = OE_MIN};
    return run(im, &lo, &hi, b->date, fn, data);
  }
  default: return 0;
  }
}

static bool oi_supports(const gdb_index *ix, const qexpr *pred) {
  const oimpl *im = ix->impl;
  if (pred->op == QOP_EQ || pred->op == QOP_IN) return true;
  return pred->op == QOP_CMP && !im->eq;
}

static size_t oi_estimate(const gdb_index *ix, const qexpr *pred) {
  return lookup(ix, pred, NULL, NULL);
}

typedef struct scan_ctx {
  gdb_index_fn fn;
  void *data;
} scan_ctx;

static bool scan_one(const oent *e, void *data) {
  scan_ctx *x = data;
  return x->fn(e->node, e->ord, x->data);
}

static void oi_scan(const gdb_index *ix, const qexpr *pred, gdb_index_fn fn, void *data) {
  scan_ctx x = {fn, data};
  lookup(ix, pred, scan_one, &x);
}

void gdb_index_ordered_walk(const gdb_index *ix, bool desc, const qhit *from, gdb_index_fn fn,
                            void *data) {
  const oimpl *im = ix->impl;
  const gdb_oset *s = &im->set;
  gdb_oset_it it;
  if (from) {
    oent probe;
    skey_probe(&from->key, 0, &probe);
    probe.id = gdb_node_idp(from->node);
    probe.idlen = from->node->id_len;
    probe.tie = id_prefix(probe.id, probe.idlen);
    if (desc) {
      it = gdb_oset_lower(s, &probe, NULL);
      if (!gdb_oset_prev(s, &it)) return;
    } else {
      it = gdb_oset_upper(s, &probe);
    }
  } else {
    it = desc ? gdb_oset_last(s) : gdb_oset_begin(s);
  }
  while (gdb_oset_valid(s, it)) {
    const oent *e = gdb_oset_at(s, it);
    if (!(e->flags & OE_ELEM) && fn(e->node, e->ord, data)) return;
    if (desc) {
      if (!gdb_oset_prev(s, &it)) return;
    } else {
      it = gdb_oset_next(s, it);
    }
  }
}

const gdb_index_ops gdb_index_ordered_ops = {
    .init = oi_init,
    .free = oi_free,
    .build = oi_build,
    .apply = oi_apply,
    .repoint = oi_repoint,
    .supports = oi_supports,
    .estimate = oi_estimate,
    .scan = oi_scan,
    .exact = true,
};
