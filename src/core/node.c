/*
 * node.c — node snapshots, edge buffers, shared strings, and the public gdb_node accessors.
 */
#include "core/node.h"

#include "core/buf.h"
#include "core/value.h"

#include <stdlib.h>
#include <string.h>

gdb_rstr *gdb_rstr_new(const char *s, size_t len) {
  gdb_rstr *r = malloc(sizeof *r + len + 1);
  if (!r) return NULL;
  atomic_init(&r->refs, 1);
  r->len = (uint32_t)len;
  memcpy(r->s, s, len);
  r->s[len] = 0;
  return r;
}

void gdb_rstr_unref(gdb_rstr *r) {
  if (r && atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) == 1) free(r);
}

static gdb_edgebuf *edgebuf_new(uint32_t cap) {
  gdb_edgebuf *b = malloc(sizeof *b + cap * sizeof(gdb_edge_item));
  if (!b) return NULL;
  atomic_init(&b->refs, 1);
  b->len = 0;
  b->cap = cap;
  return b;
}

void gdb_edgebuf_unref(gdb_edgebuf *b) {
  if (!b || atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) != 1) return;
  for (uint32_t i = 0; i < b->len; i++) gdb_rstr_unref(b->e[i].target);
  free(b);
}

static gdb_edgebuf *edgebuf_ref(gdb_edgebuf *b) {
  if (b) atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
  return b;
}

gdb_node *gdb_node_new(const char *id, size_t id_len, const char *origin, const uint8_t *value,
                       size_t value_len, const uint8_t *extra, size_t extra_len, gdb_hlc ts,
                       gdb_hlc removed, gdb_edgebuf *edges, uint32_t nedges, uint32_t ord) {
  size_t olen = origin ? strlen(origin) : 0;
  if (olen > UINT16_MAX) olen = UINT16_MAX;
  gdb_node *n = malloc(sizeof *n + value_len + extra_len + id_len + 1 + olen + 1);
  if (!n) return NULL;
  atomic_init(&n->refs, 1);
  n->nedges = nedges;
  n->value_len = (uint32_t)value_len;
  n->extra_len = (uint32_t)extra_len;
  n->id_len = (uint16_t)id_len;
  n->origin_len = (uint16_t)olen;
  n->ord = ord;
  n->ts = ts;
  n->removed = removed;
  n->edges = edges;
  n->value = (const uint8_t *)n->data;
  char *p = n->data;
  if (value_len) memcpy(p, value, value_len);
  p += value_len;
  if (extra_len) memcpy(p, extra, extra_len);
  p += extra_len;
  memcpy(p, id, id_len);
  p[id_len] = 0;
  p += id_len + 1;
  if (olen) memcpy(p, origin, olen);
  p[olen] = 0;
  return n;
}

gdb_node *gdb_node_derive(const gdb_node *base, gdb_hlc removed, gdb_edgebuf *edges,
                          uint32_t nedges) {
  gdb_node *n = malloc(sizeof *n);
  if (!n) return NULL;
  memcpy(n, base, sizeof *n);
  atomic_init(&n->refs, 1);
  n->removed = removed;
  n->edges = edges;
  n->nedges = nedges;
  gdb_node_retain(gdb_node_owner(base));
  return n;
}

void gdb_node_retain(gdb_node *n) { atomic_fetch_add_explicit(&n->refs, 1, memory_order_relaxed); }

void gdb_node_release(gdb_node *n) {
  while (n && atomic_fetch_sub_explicit(&n->refs, 1, memory_order_acq_rel) == 1) {
    gdb_edgebuf_unref(n->edges);
    gdb_node *owner = gdb_node_owner(n);
    gdb_node *next = owner == n ? NULL : owner; /* a derived header holds its payload */
    free(n);
    n = next;
  }
}

/* ── edges ── */

static int edge_order(gdb_hlc ats, const gdb_rstr *a, gdb_hlc bts, const gdb_rstr *b) {
  int c = gdb_hlc_compare(ats, bts);
  if (c) return c;
  size_t n = a->len < b->len ? a->len : b->len;
  c = memcmp(a->s, b->s, n);
  return c ? c : (a->len > b->len) - (a->len < b->len);
}

long gdb_edges_find(const gdb_node *n, const char *target, size_t len) {
  for (uint32_t i = 0; i < n->nedges; i++) {
    const gdb_rstr *t = n->edges->e[i].target;
    if (t->len == len && memcmp(t->s, target, len) == 0) return i;
  }
  return -1;
}

gdb_edgebuf *gdb_edges_with(const gdb_node *n, gdb_rstr *target, gdb_hlc ts, uint32_t *count) {
  gdb_edgebuf *b = n->edges;
  uint32_t k = n->nedges;
  /* Position of the new item: after every item ordered before it. */
  uint32_t at = k;
  while (at > 0 && edge_order(b->e[at - 1].ts, b->e[at - 1].target, ts, target) > 0) at--;
  if (b && at == k && b->len == k && k < b->cap) {
    /* The newest snapshot covers the whole buffer: append in place. Older snapshots see only
     * their own first nedges items, which do not change. */
    b->e[k] = (gdb_edge_item){gdb_rstr_ref(target), ts};
    b->len = k + 1;
    *count = k + 1;
    return edgebuf_ref(b);
  }
  uint32_t cap = k < 4 ? 4 : k * 2;
  gdb_edgebuf *nb = edgebuf_new(cap);
  if (!nb) return NULL;
  for (uint32_t i = 0, w = 0; i <= k; i++) {
    if (i == at) nb->e[w++] = (gdb_edge_item){gdb_rstr_ref(target), ts};
    if (i < k) nb->e[w++] = (gdb_edge_item){gdb_rstr_ref(b->e[i].target), b->e[i].ts};
  }
  nb->len = k + 1;
  *count = k + 1;
  return nb;
}

gdb_edgebuf *gdb_edges_without(const gdb_node *n, bool (*drop)(const gdb_edge_item *, void *),
                               void *data, uint32_t *count) {
  uint32_t keep = 0;
  for (uint32_t i = 0; i < n->nedges; i++) keep += !drop(&n->edges->e[i], data);
  *count = keep;
  if (keep == 0) return NULL;
  if (keep == n->nedges) return edgebuf_ref(n->edges);
  gdb_edgebuf *nb = edgebuf_new(keep);
  if (!nb) return NULL;
  for (uint32_t i = 0; i < n->nedges; i++)
    if (!drop(&n->edges->e[i], data))
      nb->e[nb->len++] = (gdb_edge_item){gdb_rstr_ref(n->edges->e[i].target), n->edges->e[i].ts};
  return nb;
}

size_t gdb_node_overhead(const gdb_node *n) {
  size_t s = sizeof *n + 16; /* malloc's own header, roughly */
  if (gdb_node_owner(n) == n) s += n->id_len + 1u + n->origin_len + 1u + n->extra_len;
  return s;
}

/* ── public accessors ── */

const char *gdb_node_id(const gdb_node *n) { return gdb_node_idp(n); }

const uint8_t *gdb_node_value(const gdb_node *n, size_t *len) {
  if (len) *len = n->value_len;
  return gdb_node_valuep(n);
}

gdb_hlc gdb_node_timestamp(const gdb_node *n) { return n->ts; }

size_t gdb_node_edge_count(const gdb_node *n) { return n->nedges; }

const char *gdb_node_edge(const gdb_node *n, size_t i) {
  return i < n->nedges ? n->edges->e[i].target->s : NULL;
}

char *gdb_node_json(const gdb_node *n) {
  gdb_buf b = {0};
  gdb_buf_puts(&b, "{\"id\":");
  gdb_json_escape(&b, gdb_node_idp(n), n->id_len);
  gdb_buf_puts(&b, ",\"value\":");
  if (gdb_node_live(n)) {
    if (gdb_value_write_json(&b, gdb_node_valuep(n), n->value_len)) {
      gdb_buf_free(&b);
      return NULL;
    }
  } else {
    gdb_buf_puts(&b, "null");
  }
  gdb_buf_puts(&b, ",\"edges\":[");
  for (uint32_t i = 0; i < n->nedges; i++) {
    if (i) gdb_buf_putc(&b, ',');
    gdb_json_escape(&b, n->edges->e[i].target->s, n->edges->e[i].target->len);
  }
  gdb_buf_printf(&b, "],\"timestamp\":{\"physical\":%lld,\"logical\":%lld}}",
                 (long long)n->ts.physical, (long long)n->ts.logical);
  if (gdb_buf_finish(&b)) {
    gdb_buf_free(&b);
    return NULL;
  }
  return (char *)b.data;
}
