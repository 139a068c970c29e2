/*
 * index.c — what every index kind shares: creation from a field name, dispatch to the kind
 * (index_ordered.c, index_text.c, index_prefix.c, index_geo.c), the change rule applied on
 * every write, posting lists, and the values a node contributes. See index.h.
 */
#include "core/index.h"

#include "core/error.h"
#include "core/mp.h"
#include "core/value.h"

#include <stdlib.h>
#include <string.h>

static const gdb_index_ops *ops_of(gdb_index_kind k) {
  switch (k) {
  case GDB_INDEX_EQ:
  case GDB_INDEX_RANGE: return &gdb_index_ordered_ops;
  case GDB_INDEX_TEXT: return &gdb_index_text_ops;
  case GDB_INDEX_PREFIX: return &gdb_index_prefix_ops;
  case GDB_INDEX_GEO: return &gdb_index_geo_ops;
  default: return NULL;
  }
}

static const char *const KIND_NAMES[] = {"eq", "range", "text", "prefix", "geo", NULL};

const char *gdb_index_kind_name(gdb_index_kind kind) {
  return kind >= GDB_INDEX_EQ && kind <= GDB_INDEX_GEO ? KIND_NAMES[kind - 1] : NULL;
}

int gdb_index_kind_parse(const char *name, gdb_index_kind *kind) {
  for (int i = 0; KIND_NAMES[i]; i++) {
    if (name && !strcmp(name, KIND_NAMES[i])) {
      *kind = (gdb_index_kind)(i + 1);
      return GDB_OK;
    }
  }
  const char *s = name ? gdb_query_suggest(name, KIND_NAMES) : NULL;
  if (s) return gdb_fail(GDB_EQUERY, "index: unknown kind \"%s\" (did you mean \"%s\"?)", name, s);
  return gdb_fail(GDB_EQUERY, "index: unknown kind \"%s\" (kinds: eq, range, text, prefix, geo)",
                  name ? name : "");
}

int gdb_index_new(const char *field, gdb_index_kind kind, gdb_index **out) {
  *out = NULL;
  const gdb_index_ops *ops = ops_of(kind);
  if (!ops) return gdb_fail(GDB_EQUERY, "index: unknown kind %d", (int)kind);
  if (!field) return gdb_fail(GDB_EQUERY, "index: a field name is required");
  gdb_index *ix = calloc(1, sizeof *ix);
  if (!ix || !(ix->arena = gdb_qarena_new())) {
    free(ix);
    return gdb_fail(GDB_ENOMEM, "out of memory");
  }
  ix->kind = kind;
  if (field[0] == '$') {
    gdb_qarena_free(ix->arena);
    free(ix);
    return gdb_fail(GDB_EQUERY, "index: \"%.100s\" is an operator, not a field name", field);
  }
  int err;
  if (!(ix->path = gdb_qpath_compile(ix->arena, field, "index", &err))) {
    gdb_qarena_free(ix->arena);
    free(ix);
    return err;
  }
  ix->field = ix->path->text;
  if (!ops->init(ix)) {
    gdb_qarena_free(ix->arena);
    free(ix);
    return gdb_fail(GDB_ENOMEM, "out of memory");
  }
  *out = ix;
  return GDB_OK;
}

void gdb_index_free(gdb_index *ix) {
  if (!ix) return;
  ops_of(ix->kind)->free(ix);
  gdb_qarena_free(ix->arena);
  free(ix);
}

int gdb_index_add_all(gdb_index *ix, gdb_graph *g) {
  bool (*apply)(gdb_index *, gdb_node *, bool) = ops_of(ix->kind)->apply;
  ix->entries = ix->multi = 0;
  for (uint32_t i = 0; i < g->nodes.nentries; i++) {
    gdb_node *n = g->nodes.entries[i].item;
    if (n && gdb_node_live(n) && !apply(ix, n, true)) return gdb_fail(GDB_ENOMEM, "out of memory");
  }
  return GDB_OK;
}

int gdb_index_build(gdb_index *ix, gdb_graph *g) {
  int rc = ops_of(ix->kind)->build(ix, g);
  ix->broken = rc != GDB_OK;
  ix->built = true;
  return rc;
}

bool gdb_index_ready(gdb_index *ix, gdb_graph *g) {
  if (!ix->built) gdb_index_build(ix, g);
  return !ix->broken;
}

void gdb_index_update(gdb_index *ix, gdb_node *before, gdb_node *after) {
  if (ix->broken || !ix->built) return; /* an unbuilt index reads the graph when built */
  const gdb_index_ops *ops = ops_of(ix->kind);
  bool bl = before && gdb_node_live(before), al = after && gdb_node_live(after);
  if (bl && al && gdb_node_valuep(before) == gdb_node_valuep(after)) {
    ops->repoint(ix, before, after); /* same value (an edge or removal-time change) */
    return;
  }
  if (bl) ops->apply(ix, before, false);
  if (al && !ops->apply(ix, after, true)) ix->broken = true;
}

bool gdb_index_supports(const gdb_index *ix, const qexpr *pred) {
  return !ix->broken && ops_of(ix->kind)->supports(ix, pred);
}
size_t gdb_index_estimate(const gdb_index *ix, const qexpr *pred) {
  return ops_of(ix->kind)->estimate(ix, pred);
}
void gdb_index_scan(const gdb_index *ix, const qexpr *pred, gdb_index_fn fn, void *data) {
  ops_of(ix->kind)->scan(ix, pred, fn, data);
}
bool gdb_index_exact(const gdb_index *ix, const qexpr *pred) {
  (void)pred;
  return ops_of(ix->kind)->exact && (ix->kind != GDB_INDEX_TEXT || ix->multi == 0);
}
bool gdb_index_dups(const gdb_index *ix, const qexpr *pred) {
  /* geo: two longitude ranges (across 180°) can share the cells at their ends */
  return ix->multi > 0 || pred->op == QOP_IN || ix->kind == GDB_INDEX_GEO;
}
bool gdb_index_creation_ordered(const gdb_index *ix, const qexpr *pred) {
  /* one eq run, or the rarest word's posting */
  return (ix->kind == GDB_INDEX_EQ && pred->op == QOP_EQ && !pred->set.has_null) ||
         ix->kind == GDB_INDEX_TEXT;
}

void gdb_index_walk(const gdb_index *ix, bool desc, const qhit *from, gdb_index_fn fn, void *data) {
  if (ix->kind == GDB_INDEX_RANGE) gdb_index_ordered_walk(ix, desc, from, fn, data);
}

void gdb_index_describe(const gdb_index *ix, gdb_buf *out) {
  gdb_buf_puts(out, "{\"field\":");
  gdb_json_escape(out, ix->field, strlen(ix->field));
  gdb_buf_printf(out, ",\"kind\":\"%s\",\"entries\":%zu%s%s}", gdb_index_kind_name(ix->kind),
                 ix->entries, ix->broken ? ",\"broken\":true" : "",
                 ix->built ? "" : ",\"built\":false");
}

/* ── postings ── */

static int posting_cmp(const void *a, const void *b, const void *ctx) {
  (void)ctx;
  uint32_t x = ((const posting_entry *)a)->ord, y = ((const posting_entry *)b)->ord;
  return x < y ? -1 : x > y;
}

void gdb_posting_init(gdb_posting *p) {
  gdb_oset_init(&p->set, sizeof(posting_entry), posting_cmp, NULL);
}

int gdb_posting_add(gdb_posting *p, gdb_node *n) {
  posting_entry e = {n->ord, n};
  gdb_oset *s = &p->set;
  /* appends in creation order are the common case (builds, new nodes): skip the search */
  if (s->nchunks) {
    oset_chunk *c = s->chunks[s->nchunks - 1];
    posting_entry *last = (posting_entry *)(c->e + (size_t)(c->n - 1) * sizeof e);
    if (last->ord < e.ord && c->n < c->cap) {
      *(posting_entry *)(c->e + (size_t)c->n * sizeof e) = e;
      c->n++;
      s->count++;
      return 1;
    }
  }
  return gdb_oset_insert(s, &e);
}

bool gdb_posting_del(gdb_posting *p, const gdb_node *n) {
  posting_entry e = {n->ord, NULL};
  return gdb_oset_erase(&p->set, &e, NULL);
}

void gdb_posting_repoint(gdb_posting *p, gdb_node *after) {
  posting_entry e = {after->ord, NULL}, *x = gdb_oset_get(&p->set, &e);
  if (x) x->node = after;
}

bool gdb_posting_has(const gdb_posting *p, uint32_t ord) {
  posting_entry e = {ord, NULL};
  return gdb_oset_get(&p->set, &e) != NULL;
}

/* ── values of a node ── */

typedef struct values_ctx {
  gdb_index_value_fn fn;
  void *data;
} values_ctx;

static bool each_value(const uint8_t *p, const uint8_t *end, void *data) {
  values_ctx *x = data;
  if (x->fn(p, end, false, x->data)) return true;
  uint32_t n;
  const uint8_t *q = gdb_qmp_container(p, end, MP_ARRAY, &n);
  for (uint32_t i = 0; q && i < n; i++, q = gdb_qmp_skip(q, end))
    if (x->fn(q, end, true, x->data)) return true;
  return false;
}

void gdb_index_values(const gdb_index *ix, const gdb_node *n, gdb_index_value_fn fn, void *data) {
  values_ctx x = {fn, data};
  const uint8_t *v = gdb_node_valuep(n);
  gdb_qpath_each(ix->path, v, v + n->value_len, each_value, &x);
}
