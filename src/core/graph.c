/*
 * graph.c — the in-memory graph: records, edges, the reverse edge index, and the merge rules
 * of graph.h. Callers serialize access (the database holds its lock around every call).
 */
#include "core/graph.h"

#include "core/error.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

/* Sources holding an edge to one target, so removing the target finds them without a scan. */
typedef struct revlist {
  gdb_rstr *target;
  uint32_t n, cap;
  gdb_rstr **src;
} revlist;

static const char *node_key(const void *item, size_t *len) {
  const gdb_node *n = item;
  *len = n->id_len;
  return gdb_node_idp(n);
}

static const char *rev_key(const void *item, size_t *len) {
  const revlist *r = item;
  *len = r->target->len;
  return r->target->s;
}

void gdb_graph_init(gdb_graph *g, gdb_graph_sink sink) {
  memset(g, 0, sizeof *g);
  gdb_dict_init(&g->nodes, node_key);
  gdb_dict_init(&g->rev, rev_key);
  g->sink = sink;
  g->next_ord = 1;
}

static void revlist_free(revlist *r) {
  for (uint32_t i = 0; i < r->n; i++) gdb_rstr_unref(r->src[i]);
  gdb_rstr_unref(r->target);
  free(r->src);
  free(r);
}

void gdb_graph_free(gdb_graph *g) {
  for (uint32_t i = 0; i < g->nodes.nentries; i++)
    if (g->nodes.entries[i].item) gdb_node_release(g->nodes.entries[i].item);
  for (uint32_t i = 0; i < g->rev.nentries; i++)
    if (g->rev.entries[i].item) revlist_free(g->rev.entries[i].item);
  gdb_dict_free(&g->nodes);
  gdb_dict_free(&g->rev);
}

gdb_node *gdb_graph_find(const gdb_graph *g, const char *id, size_t len) {
  return gdb_dict_lookup(&g->nodes, id, len, gdb_hash(id, len));
}

static bool is_tombstone(const gdb_node *n) {
  return n && !gdb_node_live(n) && (n->removed.physical || n->removed.logical);
}

/* Installs `after` as the record of its id (replacing e's item, or appending at hash h) and
 * reports it. Takes ownership of after; releases the replaced snapshot. */
static int install(gdb_graph *g, gdb_dict_entry *e, uint64_t h, gdb_node *after, gdb_change what,
                   bool report) {
  gdb_node *before = e ? e->item : NULL;
  if (!e && !gdb_dict_insert(&g->nodes, h, after)) {
    gdb_node_release(after);
    return gdb_fail(GDB_ENOMEM, "out of memory");
  }
  if (e) gdb_dict_set(&g->nodes, e, after);
  g->last = after;
  g->live += gdb_node_live(after) - (before ? gdb_node_live(before) : 0);
  g->tombstones += is_tombstone(after) - is_tombstone(before);
  g->edges += (uint64_t)after->nedges - (before ? before->nedges : 0u); /* wraps back when it shrinks */
  if (report && g->sink.node_changed) g->sink.node_changed(g->sink.ctx, before, after, what);
  if (before) gdb_node_release(before);
  return 1;
}

static gdb_edgebuf *edges_ref(const gdb_node *n) {
  if (n && n->edges) atomic_fetch_add_explicit(&n->edges->refs, 1, memory_order_relaxed);
  return n ? n->edges : NULL;
}

/* ── reverse index ── */

static bool rev_add(gdb_graph *g, const gdb_rstr *target, const char *src, size_t slen) {
  uint64_t h = gdb_hash(target->s, target->len);
  gdb_dict_entry *e = gdb_dict_find(&g->rev, target->s, target->len, h);
  revlist *r = e ? e->item : NULL;
  if (!r) {
    r = calloc(1, sizeof *r);
    if (!r) return false;
    r->target = gdb_rstr_ref((gdb_rstr *)target); /* the table reads the key on insert */
    if (!gdb_dict_insert(&g->rev, h, r)) {
      gdb_rstr_unref(r->target);
      free(r);
      return false;
    }
  }
  if (r->n == r->cap) {
    uint32_t cap = r->cap ? r->cap * 2 : 2;
    gdb_rstr **s = realloc(r->src, cap * sizeof *s);
    if (!s) return false;
    r->src = s;
    r->cap = cap;
  }
  gdb_rstr *s = gdb_rstr_new(src, slen);
  if (!s) return false;
  r->src[r->n++] = s;
  return true;
}

static void rev_del(gdb_graph *g, const gdb_rstr *target, const char *src, size_t slen) {
  uint64_t h = gdb_hash(target->s, target->len);
  gdb_dict_entry *e = gdb_dict_find(&g->rev, target->s, target->len, h);
  if (!e) return;
  revlist *r = e->item;
  for (uint32_t i = 0; i < r->n; i++) {
    if (r->src[i]->len == slen && !memcmp(r->src[i]->s, src, slen)) {
      gdb_rstr_unref(r->src[i]);
      r->src[i] = r->src[--r->n];
      break;
    }
  }
  if (r->n == 0) {
    gdb_dict_delete(&g->rev, e);
    revlist_free(r);
  }
}

/* ── operations ── */

/* Orders the origin and extra fields of two operations with equal timestamps. */
static int meta_order(const char *origin, const uint8_t *extra, size_t elen, const gdb_node *b) {
  int c = strcmp(origin, gdb_node_origin(b));
  if (c) return c < 0 ? -1 : 1;
  size_t n = elen < b->extra_len ? elen : b->extra_len;
  c = n ? memcmp(extra, gdb_node_extra(b), n) : 0;
  if (c) return c < 0 ? -1 : 1;
  return (elen > b->extra_len) - (elen < b->extra_len);
}

/* Orders two upserts of one node: timestamp, then origin, then value bytes, then extra. */
static int upsert_order(gdb_hlc ats, const char *aorigin, const uint8_t *av, size_t alen,
                        const uint8_t *aextra, size_t aelen, const gdb_node *b) {
  int c = gdb_hlc_compare(ats, b->ts);
  if (c) return c;
  c = strcmp(aorigin, gdb_node_origin(b));
  if (c) return c < 0 ? -1 : 1;
  size_t n = alen < b->value_len ? alen : b->value_len;
  c = memcmp(av, gdb_node_valuep(b), n);
  if (c) return c < 0 ? -1 : 1;
  if (alen != b->value_len) return alen > b->value_len ? 1 : -1;
  return meta_order(aorigin, aextra, aelen, b);
}

static int full(const gdb_graph *g) {
  return gdb_fail(GDB_ETOOBIG, "the database holds %llu records, its limit", (unsigned long long)g->next_ord - 1);
}

int gdb_graph_upsert(gdb_graph *g, const char *id, size_t len, const uint8_t *value,
                     size_t vlen, gdb_hlc ts, const char *origin, const uint8_t *extra,
                     size_t elen) {
  uint64_t h = gdb_hash(id, len);
  gdb_dict_entry *e = gdb_dict_find(&g->nodes, id, len, h);
  gdb_node *cur = e ? e->item : NULL;
  if (!origin) origin = "";
  if (!cur && g->next_ord > GDB_MAX_RECORDS) return full(g);
  if (cur) {
    if (gdb_hlc_compare(ts, cur->removed) <= 0) return 0; /* removed at or after it */
    if (gdb_node_live(cur) && upsert_order(ts, origin, value, vlen, extra, elen, cur) <= 0) return 0;
  }
  gdb_node *n = gdb_node_new(id, len, origin, value, vlen, extra, elen, ts,
                             cur ? cur->removed : (gdb_hlc){0, 0}, edges_ref(cur),
                             cur ? cur->nedges : 0, cur ? cur->ord : (uint32_t)g->next_ord);
  if (!n) {
    if (cur) gdb_edgebuf_unref(cur->edges);
    return gdb_fail(GDB_ENOMEM, "out of memory");
  }
  if (!cur) g->next_ord++;
  return install(g, e, h, n, GDB_CHANGE_RECORD, true);
}

typedef struct drop_ctx {
  gdb_hlc upto;
  const char *target; /* when set, only the edge to this target */
  size_t tlen;
} drop_ctx;

static bool drop_upto(const gdb_edge_item *it, void *data) {
  const drop_ctx *d = data;
  if (gdb_hlc_compare(it->ts, d->upto) > 0) return false;
  return !d->target || (it->target->len == d->tlen && !memcmp(it->target->s, d->target, d->tlen));
}

/* Replaces src's record with one whose edges omit those `d` selects, reporting each. */
static int drop_edges(gdb_graph *g, gdb_dict_entry *e, drop_ctx *d, bool report) {
  gdb_node *cur = e->item;
  uint32_t count;
  gdb_edgebuf *nb = gdb_edges_without(cur, drop_upto, d, &count);
  if (count == cur->nedges) {
    gdb_edgebuf_unref(nb);
    return 0;
  }
  if (count && !nb) return gdb_fail(GDB_ENOMEM, "out of memory");
  gdb_node *n = gdb_node_derive(cur, cur->removed, nb, count);
  if (!n) {
    gdb_edgebuf_unref(nb);
    return gdb_fail(GDB_ENOMEM, "out of memory");
  }
  const char *src = gdb_node_idp(cur);
  for (uint32_t i = 0; i < cur->nedges; i++) {
    const gdb_edge_item *it = &cur->edges->e[i];
    if (!drop_upto(it, d)) continue;
    rev_del(g, it->target, src, cur->id_len);
    if (report && g->sink.edge_del) g->sink.edge_del(g->sink.ctx, cur, it->target);
  }
  return install(g, e, e->hash, n, GDB_CHANGE_EDGES, report);
}

int gdb_graph_remove(gdb_graph *g, const char *id, size_t len, gdb_hlc ts, const char *origin,
                     const uint8_t *extra, size_t elen) {
  uint64_t h = gdb_hash(id, len);
  gdb_dict_entry *e = gdb_dict_find(&g->nodes, id, len, h);
  if (!origin) origin = "";
  if (!e && g->next_ord > GDB_MAX_RECORDS) return full(g);
  if (e) {
    gdb_node *cur = e->item;
    int c = gdb_hlc_compare(ts, cur->removed);
    if (c < 0) return 0;
    if (c == 0) {
      /* The same removal time from elsewhere: the effects are identical; only a tombstone's
       * origin and extra can differ, and the greater pair keeps them, whatever the order. */
      if (gdb_node_live(cur) || meta_order(origin, extra, elen, cur) <= 0) return 0;
      gdb_node *n = gdb_node_new(id, len, origin, NULL, 0, extra, elen, (gdb_hlc){0, 0}, ts,
                                 edges_ref(cur), cur->nedges, cur->ord);
      if (!n) {
        gdb_edgebuf_unref(cur->edges);
        return gdb_fail(GDB_ENOMEM, "out of memory");
      }
      return install(g, e, h, n, GDB_CHANGE_RECORD, true);
    }
  }

  /* Edges into the node stamped at or before the removal. Copy the source list first: each
   * drop edits it. */
  gdb_dict_entry *re = gdb_dict_find(&g->rev, id, len, h);
  if (re) {
    revlist *r = re->item;
    uint32_t n = r->n;
    gdb_rstr **srcs = malloc(n * sizeof *srcs);
    if (!srcs) return gdb_fail(GDB_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < n; i++) srcs[i] = gdb_rstr_ref(r->src[i]);
    drop_ctx d = {ts, id, len};
    int rc = 0;
    for (uint32_t i = 0; i < n; i++) {
      gdb_dict_entry *se = rc < 0 ? NULL : gdb_dict_find(&g->nodes, srcs[i]->s, srcs[i]->len, gdb_hash(srcs[i]->s, srcs[i]->len));
      if (se) rc = drop_edges(g, se, &d, true);
      gdb_rstr_unref(srcs[i]);
    }
    free(srcs);
    if (rc < 0) return rc;
    e = gdb_dict_find(&g->nodes, id, len, h); /* a self-edge replaced the record */
  }

  /* Edges out of the node stamped at or before the removal. */
  if (e) {
    drop_ctx d = {ts, NULL, 0};
    int rc = drop_edges(g, e, &d, true);
    if (rc < 0) return rc;
  }

  gdb_node *cur = e ? e->item : NULL;
  gdb_node *n;
  if (cur && gdb_node_live(cur) && gdb_hlc_compare(cur->ts, ts) > 0) {
    /* The value is newer than the removal and stays; the removal time is still recorded. */
    n = gdb_node_derive(cur, ts, edges_ref(cur), cur->nedges);
  } else {
    n = gdb_node_new(id, len, origin, NULL, 0, extra, elen, (gdb_hlc){0, 0}, ts, edges_ref(cur),
                     cur ? cur->nedges : 0, cur ? cur->ord : (uint32_t)g->next_ord);
    if (n && !cur) g->next_ord++;
  }
  if (!n) {
    if (cur) gdb_edgebuf_unref(cur->edges);
    return gdb_fail(GDB_ENOMEM, "out of memory");
  }
  return install(g, e, h, n, GDB_CHANGE_RECORD, true);
}

static int link_edge(gdb_graph *g, const char *src, size_t slen, const char *dst, size_t dlen,
                     gdb_hlc ts, bool report) {
  uint64_t h = gdb_hash(src, slen);
  gdb_dict_entry *e = gdb_dict_find(&g->nodes, src, slen, h);
  gdb_node *s = e ? e->item : NULL;
  if (s && gdb_hlc_compare(ts, s->removed) <= 0) return 0;
  gdb_node *d = gdb_graph_find(g, dst, dlen);
  if (d && gdb_hlc_compare(ts, d->removed) <= 0) return 0;

  if (!s && g->next_ord > GDB_MAX_RECORDS) return full(g);
  gdb_rstr *target = NULL;
  long at = s ? gdb_edges_find(s, dst, dlen) : -1;
  if (at >= 0) {
    if (gdb_hlc_compare(s->edges->e[at].ts, ts) >= 0) return 0;
    /* Re-stamp: take the edge out, then put it back at its new position. */
    target = gdb_rstr_ref(s->edges->e[at].target);
    drop_ctx dc = {s->edges->e[at].ts, dst, dlen};
    int rc = drop_edges(g, e, &dc, false);
    if (rc < 0) {
      gdb_rstr_unref(target);
      return rc;
    }
    s = e->item;
  } else {
    target = gdb_rstr_new(dst, dlen);
    if (!target) return gdb_fail(GDB_ENOMEM, "out of memory");
  }

  int rc;
  uint32_t count = 0;
  gdb_node *n = NULL;
  gdb_edgebuf *nb = NULL;
  if (s) {
    nb = gdb_edges_with(s, target, ts, &count);
    n = nb ? gdb_node_derive(s, s->removed, nb, count) : NULL;
  } else {
    /* The source has not arrived: a stub record holds the edge until it does. */
    gdb_node stub = {.nedges = 0}; /* only its (empty) edge list is read */
    nb = gdb_edges_with(&stub, target, ts, &count);
    n = nb ? gdb_node_new(src, slen, "", NULL, 0, NULL, 0, (gdb_hlc){0, 0}, (gdb_hlc){0, 0}, nb,
                          count, (uint32_t)g->next_ord)
           : NULL;
    if (n) g->next_ord++;
  }
  if (!n) {
    gdb_edgebuf_unref(nb);
    gdb_rstr_unref(target);
    return gdb_fail(GDB_ENOMEM, "out of memory");
  }
  if (!rev_add(g, target, src, slen)) {
    gdb_node_release(n);
    gdb_rstr_unref(target);
    return gdb_fail(GDB_ENOMEM, "out of memory");
  }
  rc = install(g, e, h, n, GDB_CHANGE_EDGES, report);
  if (rc > 0 && report && g->sink.edge_set) g->sink.edge_set(g->sink.ctx, n, target, ts);
  gdb_rstr_unref(target);
  return rc;
}

int gdb_graph_link(gdb_graph *g, const char *src, size_t slen, const char *dst, size_t dlen,
                   gdb_hlc ts) {
  return link_edge(g, src, slen, dst, dlen, ts, true);
}

int gdb_graph_load_node(gdb_graph *g, gdb_node *n) {
  bool inserted;
  gdb_dict_entry *e = gdb_dict_insert_unique(&g->nodes, gdb_hash(gdb_node_idp(n), n->id_len), n, &inserted);
  if (!inserted) {
    int rc = e ? gdb_fail(GDB_ECORRUPT, "node \"%.64s\" is stored twice", gdb_node_idp(n)) : gdb_fail(GDB_ENOMEM, "out of memory");
    gdb_node_release(n);
    return rc;
  }
  if (n->ord >= g->next_ord) g->next_ord = (uint64_t)n->ord + 1;
  g->live += gdb_node_live(n);
  g->tombstones += is_tombstone(n);
  g->edges += n->nedges;
  return GDB_OK;
}

int gdb_graph_reserve(gdb_graph *g, uint64_t records) {
  if (records > GDB_MAX_RECORDS) records = GDB_MAX_RECORDS;
  return gdb_dict_reserve(&g->nodes, (uint32_t)records) ? GDB_OK : gdb_fail(GDB_ENOMEM, "out of memory");
}

int gdb_graph_load_edge(gdb_graph *g, const char *src, size_t slen, const char *dst,
                        size_t dlen, gdb_hlc ts) {
  int rc = link_edge(g, src, slen, dst, dlen, ts, false);
  return rc < 0 ? rc : GDB_OK;
}

/* ── state hash ── */

static int by_id(const void *a, const void *b) {
  const gdb_node *x = *(gdb_node *const *)a, *y = *(gdb_node *const *)b;
  size_t n = x->id_len < y->id_len ? x->id_len : y->id_len;
  int c = memcmp(gdb_node_idp(x), gdb_node_idp(y), n);
  return c ? c : (x->id_len > y->id_len) - (x->id_len < y->id_len);
}

static void put_u64(EVP_MD_CTX *ctx, uint64_t v) {
  uint8_t b[8];
  for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (56 - 8 * i));
  EVP_DigestUpdate(ctx, b, 8);
}

static void put_bytes(EVP_MD_CTX *ctx, const void *p, size_t n) {
  put_u64(ctx, n);
  EVP_DigestUpdate(ctx, p, n);
}

int gdb_graph_hash(const gdb_graph *g, uint8_t out[32]) {
  size_t n = 0;
  gdb_node **all = malloc((g->nodes.count + 1) * sizeof *all);
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  if (!all || !ctx) {
    free(all);
    EVP_MD_CTX_free(ctx);
    return gdb_fail(GDB_ENOMEM, "out of memory");
  }
  for (uint32_t i = 0; i < g->nodes.nentries; i++)
    if (g->nodes.entries[i].item) all[n++] = g->nodes.entries[i].item;
  qsort(all, n, sizeof *all, by_id);
  EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
  for (size_t i = 0; i < n; i++) {
    const gdb_node *x = all[i];
    put_bytes(ctx, gdb_node_idp(x), x->id_len);
    put_u64(ctx, (uint64_t)x->ts.physical);
    put_u64(ctx, (uint64_t)x->ts.logical);
    put_u64(ctx, (uint64_t)x->removed.physical);
    put_u64(ctx, (uint64_t)x->removed.logical);
    put_bytes(ctx, gdb_node_origin(x), x->origin_len);
    put_bytes(ctx, gdb_node_valuep(x), x->value_len);
    put_bytes(ctx, gdb_node_valuep(x) + x->value_len, x->extra_len);
    put_u64(ctx, x->nedges);
    for (uint32_t k = 0; k < x->nedges; k++) {
      put_bytes(ctx, x->edges->e[k].target->s, x->edges->e[k].target->len);
      put_u64(ctx, (uint64_t)x->edges->e[k].ts.physical);
      put_u64(ctx, (uint64_t)x->edges->e[k].ts.logical);
    }
  }
  unsigned int len = 32;
  EVP_DigestFinal_ex(ctx, out, &len);
  EVP_MD_CTX_free(ctx);
  free(all);
  return GDB_OK;
}
