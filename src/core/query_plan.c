/*
 * query_plan.c — choosing how to run a query and running it, under the database lock.
 *
 * Stage 0 (the nodes the filter selects) is read one of three ways:
 *  - scan: every live node in creation order (or reverse), evaluated in place; the node list
 *    is walked with software prefetch a few entries ahead, since the cost is memory latency;
 *  - index: the conjunct of the root filter with the fewest index candidates (eq, range, text,
 *    prefix or geo, see index.h); candidates are checked against the rest of the filter;
 *  - index walk: for a sorted query with a range index on the sort field, the index is walked
 *    in output order from the cursor and stops once $limit nodes matched.
 * Then each $edge stage traverses from the previous stage's nodes (query_edge.c), and the
 * result goes through the sink, which applies the cursors and $limit: in-order sources stop
 * early, others keep the best $limit in a bounded heap, and the survivors are sorted.
 *
 * Choice: with no usable index, scan (or walk, for sorted queries). With index candidates c
 * out of n live nodes and a sorted, limited query whose sort field has a range index, walking
 * costs about limit * n / c evaluations against c for the index: the cheaper wins. strictMode
 * always scans, so that every node lacking a referenced field is reported.
 */
#include "core/error.h"
#include "core/qstate.h"
#include "core/value.h"

#include <stdlib.h>
#include <string.h>

/* ── output order ── */

static int id_cmp(const gdb_node *a, const gdb_node *b) {
  size_t al = a->id_len, bl = b->id_len;
  int r = memcmp(gdb_node_idp(a), gdb_node_idp(b), al < bl ? al : bl);
  if (r) return r < 0 ? -1 : 1;
  return al < bl ? -1 : al > bl;
}

int gdb_qhit_cmp(const gdb_query *q, const qhit *a, const qhit *b) {
  int r;
  if (q->sort) {
    r = gdb_skey_cmp(&a->key, &b->key);
    if (!r) r = id_cmp(a->node, b->node);
  } else { /* creation order: the key holds it (gdb_qhit_key) */
    r = a->key.prefix < b->key.prefix ? -1 : a->key.prefix > b->key.prefix;
  }
  return q->desc ? -r : r;
}

void gdb_qhit_key(const gdb_query *q, qhit *h) {
  memset(&h->key, 0, sizeof h->key);
  if (!q->sort) {
    h->key.prefix = h->node->ord;
    return;
  }
  if (!gdb_node_live(h->node)) return;
  const uint8_t *v = gdb_node_valuep(h->node), *end = v + h->node->value_len;
  const qpath *s = q->sort;
  const uint8_t *p =
      s->nseg == 1 ? gdb_qmp_find(v, end, s->seg[0].s, s->seg[0].len) : gdb_qpath_single(s, v, end);
  if (!gdb_skey_of(p, end, &h->key)) memset(&h->key, 0, sizeof h->key);
}

int gdb_query_window(gdb_graph *g, const gdb_query *q, qwindow *w) {
  memset(w, 0, sizeof *w);
  for (int i = 0; i < 2; i++) {
    const char *id = i ? q->before : q->after;
    if (!id) continue;
    gdb_node *n = gdb_graph_find(g, id, strlen(id));
    const char *name = i ? "$before" : "$after";
    if (!n)
      return gdb_fail(GDB_ENOTFOUND, "map: the %s cursor \"%.100s\" is not a node of this database",
                      name, id);
    if (q->sort && !gdb_node_live(n))
      return gdb_fail(GDB_ENOTFOUND,
                      "map: the %s cursor \"%.100s\" was removed; a query sorted by \"%s\" needs "
                      "the cursor's value (use the last node received that still exists)",
                      name, id, q->sort->text);
    qhit *h = i ? &w->before : &w->after;
    h->node = n;
    gdb_qhit_key(q, h);
    if (i) {
      w->has_before = true;
      w->before_id = id;
      w->before_ord = n->ord;
    } else {
      w->has_after = true;
      w->after_id = id;
      w->after_ord = n->ord;
    }
  }
  return GDB_OK;
}

bool gdb_qwindow_contains(const gdb_query *q, const qwindow *w, const qhit *h) {
  if (w->has_after && gdb_qhit_cmp(q, h, &w->after) <= 0) return false;
  if (w->has_before && gdb_qhit_cmp(q, h, &w->before) >= 0) return false;
  return true;
}

bool gdb_qhits_push(qhits *h, gdb_node *n) {
  if (h->n == h->cap) {
    size_t cap = h->cap ? h->cap * 2 : 64;
    qhit *v = realloc(h->v, cap * sizeof *v);
    if (!v) return false;
    h->v = v;
    h->cap = cap;
  }
  h->v[h->n].node = n;
  memset(&h->v[h->n].key, 0, sizeof h->v[h->n].key);
  h->n++;
  return true;
}

/* ── the sink: cursors, $limit, order ── */

typedef struct sink {
  const gdb_query *q;
  const qwindow *w;
  qhits h;
  int64_t k;    /* -1: no limit */
  bool back;    /* only $before: the window is the last k before the cursor */
  bool inorder; /* pushes arrive in output order (reverse output order when back) */
  bool final;   /* false: collect stage-0 nodes for $edge (no window) */
  bool stop, oom;
} sink;

/* Heap helpers: the root is the hit that leaves first (the worst kept). */
static bool worse(const sink *s, const qhit *a, const qhit *b) {
  int r = gdb_qhit_cmp(s->q, a, b);
  return s->back ? r < 0 : r > 0;
}

static void sift_down(sink *s, size_t i) {
  qhit *v = s->h.v;
  size_t n = s->h.n;
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < n && worse(s, &v[l], &v[m])) m = l;
    if (r < n && worse(s, &v[r], &v[m])) m = r;
    if (m == i) return;
    qhit t = v[i];
    v[i] = v[m];
    v[m] = t;
    i = m;
  }
}

static void sift_up(sink *s, size_t i) {
  qhit *v = s->h.v;
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (!worse(s, &v[i], &v[p])) return;
    qhit t = v[i];
    v[i] = v[p];
    v[p] = t;
    i = p;
  }
}

/* n's creation order is given so that creation-order sinks need not read the node. */
static void sink_push(sink *s, gdb_node *n, uint32_t ord) {
  if (!s->final) {
    if (!gdb_qhits_push(&s->h, n)) s->oom = s->stop = true;
    return;
  }
  qhit h = {.node = n};
  if (s->q->sort)
    gdb_qhit_key(s->q, &h);
  else
    h.key.prefix = ord;
  const qwindow *w = s->w;
  int ca = w->has_after ? gdb_qhit_cmp(s->q, &h, &w->after) : 1;
  int cb = w->has_before ? gdb_qhit_cmp(s->q, &h, &w->before) : -1;
  if (ca <= 0 || cb >= 0) {
    if (s->inorder && ((!s->back && cb >= 0) || (s->back && ca <= 0))) s->stop = true;
    return;
  }
  if (s->k == 0) {
    s->stop = true;
    return;
  }
  if (s->k < 0 || s->inorder) {
    if (!gdb_qhits_push(&s->h, n)) {
      s->oom = s->stop = true;
      return;
    }
    s->h.v[s->h.n - 1] = h;
    if (s->k >= 0 && (int64_t)s->h.n >= s->k) s->stop = true;
    return;
  }
  if ((int64_t)s->h.n < s->k) {
    if (!gdb_qhits_push(&s->h, n)) {
      s->oom = s->stop = true;
      return;
    }
    s->h.v[s->h.n - 1] = h;
    sift_up(s, s->h.n - 1);
  } else if (worse(s, &s->h.v[0], &h)) {
    s->h.v[0] = h;
    sift_down(s, 0);
  }
}

static int sort_cmp(const void *a, const void *b, void *q) { return gdb_qhit_cmp(q, a, b); }

/* Creation order (keys are creation numbers below 2^32): an LSD radix sort, 16 bits a pass. */
static bool radix_sort(qhit *v, size_t n, bool desc) {
  qhit *tmp = malloc(n * sizeof *tmp);
  if (!tmp) return false;
  size_t count[65536];
  for (int pass = 0; pass < 2; pass++) {
    int shift = pass * 16;
    memset(count, 0, sizeof count);
    for (size_t i = 0; i < n; i++) count[(v[i].key.prefix >> shift) & 0xffff]++;
    size_t sum = 0;
    for (size_t b = 0; b < 65536; b++) {
      size_t c = count[b];
      count[b] = sum;
      sum += c;
    }
    for (size_t i = 0; i < n; i++) tmp[count[(v[i].key.prefix >> shift) & 0xffff]++] = v[i];
    memcpy(v, tmp, n * sizeof *v);
  }
  free(tmp);
  if (desc)
    for (size_t i = 0, j = n; i + 1 < j; i++, j--) {
      qhit t = v[i];
      v[i] = v[j - 1];
      v[j - 1] = t;
    }
  return true;
}

/* ── plan ── */

enum { ACCESS_SCAN, ACCESS_INDEX, ACCESS_WALK };

typedef struct access {
  const gdb_index *ix;
  const qexpr *conj; /* the root conjunct (a FIELD) the index serves */
  const qexpr *pred; /* the predicate of conj */
  size_t est;        /* candidates */
  bool exact;        /* every candidate satisfies conj: it need not be evaluated */
} access;

typedef struct plan {
  int access;
  const gdb_index *walk; /* WALK: the range index on the sort field */
  access main;           /* INDEX: where candidates come from */
  access filt[3];        /* INDEX: further exact conjuncts, applied as bitmaps of creation order */
  int nfilt;
  uint32_t nconj; /* conjuncts of the root */
} plan;

static void choose(gdb_qstate *qs, gdb_graph *g, const gdb_query *q, plan *p) {
  memset(p, 0, sizeof *p);
  p->access = ACCESS_SCAN;
  const qexpr *root = q->stages[0].filter;
  const qexpr *const *conj =
      root->op == QOP_AND ? (const qexpr *const *)root->kids : (const qexpr *const *)&root;
  p->nconj = root->op == QOP_AND ? root->nkids : root->op == QOP_TRUE ? 0 : 1;
  if (!qs || !qs->nidx || q->strict) return;
  access opt[32];
  int nopt = 0;
  for (uint32_t i = 0; i < p->nconj; i++) {
    const qexpr *f = conj[i];
    if (f->op != QOP_FIELD) continue;
    for (size_t x = 0; x < qs->nidx; x++) {
      gdb_index *ix = qs->idx[x];
      if (strcmp(ix->field, f->path->text) || !gdb_index_ready(ix, g)) continue;
      for (uint32_t k = 0; k < f->nkids && nopt < 32; k++) {
        if (!gdb_index_supports(ix, f->kids[k])) continue;
        opt[nopt++] = (access){ix, f, f->kids[k], gdb_index_estimate(ix, f->kids[k]),
                               gdb_index_exact(ix, f->kids[k]) && f->nkids == 1};
      }
    }
  }
  /* the main source: fewest candidates, counting the sort that unordered candidates need
   * when the output is in creation order */
  double best = -1;
  for (int i = 0; i < nopt; i++) {
    bool ordered = !q->sort && gdb_index_creation_ordered(opt[i].ix, opt[i].pred);
    double cost = (double)opt[i].est * (ordered || q->sort ? 1.0 : 1.5);
    if (best < 0 || cost < best) {
      best = cost;
      p->main = opt[i];
      p->access = ACCESS_INDEX;
    }
  }
  if (p->access == ACCESS_INDEX) {
    /* other exact conjuncts whose candidates are few enough become bitmap filters */
    for (int i = 0; i < nopt && p->nfilt < 3; i++) {
      const access *a = &opt[i];
      bool dup = a->conj == p->main.conj;
      for (int j = 0; j < p->nfilt; j++) dup |= p->filt[j].conj == a->conj;
      if (!dup && a->exact && a->est <= 4 * p->main.est + 64) p->filt[p->nfilt++] = *a;
    }
  }
  gdb_index *walk =
      q->sort && q->nstages == 1 ? gdb_qstate_index(qs, q->sort->text, GDB_INDEX_RANGE) : NULL;
  if (walk && gdb_index_ready(walk, g)) {
    size_t n = g->live ? g->live : 1;
    if (p->access == ACCESS_SCAN) {
      p->access = ACCESS_WALK;
    } else if (q->limit >= 0) {
      double walk_cost =
          ((double)q->limit + 1) * (double)n / (double)(p->main.est ? p->main.est : 1);
      if (walk_cost < (double)p->main.est) p->access = ACCESS_WALK;
    }
    if (p->access == ACCESS_WALK) {
      p->walk = walk;
      p->nfilt = 0;
    }
  }
  if (p->access == ACCESS_INDEX && p->main.est > g->live) p->access = ACCESS_SCAN;
}

/* ── running stage 0 ── */

typedef struct run_ctx {
  const gdb_query *q;
  qeval *c;
  const qexpr *filter;
  sink *s;
  uint64_t *seen;    /* dedupe bitmap by creation order (index candidates that may repeat) */
  uint64_t *filt[3]; /* bitmaps of the filter indexes' candidates */
  int nfilt;
  bool covered; /* every conjunct is guaranteed by the indexes: no evaluation */
  uint64_t examined;
} run_ctx;

static inline bool bit_test(const uint64_t *b, uint32_t ord) {
  return b[ord >> 6] >> (ord & 63) & 1;
}

static bool on_candidate(gdb_node *n, uint32_t ord, void *data) {
  run_ctx *x = data;
  if (x->seen) {
    if (bit_test(x->seen, ord)) return false;
    x->seen[ord >> 6] |= 1ull << (ord & 63);
  }
  for (int i = 0; i < x->nfilt; i++)
    if (!bit_test(x->filt[i], ord)) return false;
  x->examined++;
  if (x->covered || gdb_qeval_node(x->c, x->filter, n)) sink_push(x->s, n, ord);
  return x->s->stop || x->c->err;
}

static bool on_mark(gdb_node *n, uint32_t ord, void *data) {
  (void)n;
  uint64_t *b = data;
  b[ord >> 6] |= 1ull << (ord & 63);
  return false;
}

static void scan(gdb_graph *g, run_ctx *x, bool reverse) {
  const gdb_dict_entry *ent = g->nodes.entries;
  uint32_t ne = g->nodes.nentries;
  /* Two-stage prefetch: node headers 32 entries ahead, then (header now cached) the first
   * bytes of the value 12 entries ahead: a scan is bound by memory latency, not by the
   * evaluation (measured in docs/performance.md). */
  for (uint32_t k = 0; k < ne; k++) {
    uint32_t i = reverse ? ne - 1 - k : k;
    if (k + 32 < ne) __builtin_prefetch(ent[reverse ? i - 32 : i + 32].item);
    if (k + 12 < ne) {
      const gdb_node *a = ent[reverse ? i - 12 : i + 12].item;
      if (a && a->value_len) {
        const char *v = (const char *)gdb_node_valuep(a);
        __builtin_prefetch(v);
        __builtin_prefetch(v + 63);
      }
    }
    gdb_node *n = ent[i].item;
    if (!n || !n->value_len) continue;
    x->examined++;
    if (gdb_qeval_node(x->c, x->filter, n)) {
      sink_push(x->s, n, n->ord);
      if (x->s->stop) return;
    }
    if (x->c->err) return;
  }
}

static void describe_access(gdb_buf *o, const access *a) {
  gdb_buf_puts(o, "{\"index\":");
  gdb_index_describe(a->ix, o);
  gdb_buf_puts(o, ",\"condition\":{");
  gdb_json_escape(o, a->conj->path->text, strlen(a->conj->path->text));
  gdb_buf_printf(o, ":\"%s\"},\"candidates\":%zu,\"exact\":%s}", a->pred->name, a->est,
                 a->exact ? "true" : "false");
}

static void explain_stage0(qexplain *ex, const plan *p, const run_ctx *x, uint64_t matched) {
  if (!ex) return;
  gdb_buf *o = ex->out;
  static const char *const names[] = {"scan", "index", "index walk"};
  gdb_buf_printf(o, "{\"stage\":0,\"access\":\"%s\"", names[p->access]);
  if (p->access == ACCESS_WALK) {
    gdb_buf_puts(o, ",\"index\":");
    gdb_index_describe(p->walk, o);
  }
  if (p->access == ACCESS_INDEX) {
    gdb_buf_puts(o, ",\"source\":");
    describe_access(o, &p->main);
    gdb_buf_puts(o, ",\"filters\":[");
    for (int i = 0; i < p->nfilt; i++) {
      if (i) gdb_buf_putc(o, ',');
      describe_access(o, &p->filt[i]);
    }
    gdb_buf_printf(o, "],\"evaluated\":%s", x->covered ? "false" : "true");
  }
  gdb_buf_printf(o, ",\"examined\":%llu,\"matched\":%llu}", (unsigned long long)x->examined,
                 (unsigned long long)matched);
  ex->examined += x->examined;
}

static int strict_error(const qeval *c) {
  if (c->err == GDB_ENOMEM) return gdb_fail(GDB_ENOMEM, "out of memory");
  return gdb_fail(GDB_EQUERY,
                  "map: node \"%.100s\" has no field \"%s\" (strictMode: every node must have the "
                  "fields a query names)",
                  c->node ? gdb_node_idp(c->node) : "", c->err_path ? c->err_path : "");
}

/* Stage 0 through indexes: bitmaps for the filters, then the main source's candidates. */
static int run_index(gdb_graph *g, const plan *p, run_ctx *x, sink *fin, bool one) {
  const gdb_query *q = x->q;
  size_t words = (g->next_ord >> 6) + 2;
  int rc = GDB_OK;
  if (gdb_index_dups(p->main.ix, p->main.pred) && !(x->seen = calloc(words, sizeof *x->seen)))
    rc = gdb_fail(GDB_ENOMEM, "out of memory");
  for (int i = 0; !rc && i < p->nfilt; i++) {
    if (!(x->filt[i] = calloc(words, sizeof *x->filt[i]))) {
      rc = gdb_fail(GDB_ENOMEM, "out of memory");
      break;
    }
    x->nfilt++;
    gdb_index_scan(p->filt[i].ix, p->filt[i].pred, on_mark, x->filt[i]);
    x->c->skip[x->c->nskip++] = p->filt[i].conj;
  }
  if (p->main.exact) x->c->skip[x->c->nskip++] = p->main.conj;
  x->covered = x->c->nskip == p->nconj;
  fin->inorder = one && !q->sort && !q->desc && !fin->back &&
                 gdb_index_creation_ordered(p->main.ix, p->main.pred);
  if (!rc) gdb_index_scan(p->main.ix, p->main.pred, on_candidate, x);
  free(x->seen);
  for (int i = 0; i < x->nfilt; i++) free(x->filt[i]);
  x->c->nskip = 0;
  return rc;
}

int gdb_query_exec(gdb_qstate *qs, gdb_graph *g, const gdb_query *q, const qwindow *win,
                   qhit **hits, size_t *n, qvisit *visited, qexplain *ex) {
  *hits = NULL;
  *n = 0;
  qwindow w;
  int rc = win ? (w = *win, GDB_OK) : gdb_query_window(g, q, &w);
  if (rc) return rc;
  qeval c;
  gdb_qeval_init(&c, q);
  plan p;
  choose(qs, g, q, &p);
  bool one = q->nstages == 1;
  sink fin = {.q = q, .w = &w, .k = q->limit, .final = true};
  fin.back = w.has_before && !w.has_after && q->limit >= 0;
  sink start = {.q = q, .w = &w, .k = -1, .final = false};
  run_ctx x = {.q = q, .c = &c, .filter = q->stages[0].filter, .s = one ? &fin : &start};
  if (ex) gdb_buf_puts(ex->out, "\"stages\":[");

  if (p.access == ACCESS_SCAN) {
    /* creation order comes out of a scan in order (reversed for desc or a back window) */
    fin.inorder = one && !q->sort;
    scan(g, &x, fin.inorder ? q->desc != fin.back : false);
  } else if (p.access == ACCESS_WALK) {
    fin.inorder = true;
    bool desc = q->desc != fin.back;
    const qhit *from = fin.back ? &w.before : w.has_after ? &w.after : NULL;
    gdb_index_walk(p.walk, desc, from, on_candidate, &x);
  } else {
    rc = run_index(g, &p, &x, &fin, one);
  }
  explain_stage0(ex, &p, &x, one ? fin.h.n : start.h.n);
  if (!rc && c.err) rc = strict_error(&c);
  if (!rc && (fin.oom || start.oom)) rc = gdb_fail(GDB_ENOMEM, "out of memory");

  /* $edge stages */
  for (uint32_t s = 1; !rc && s < q->nstages; s++) {
    qhits next = {0};
    rc = gdb_query_traverse(g, &q->stages[s], &c, &start.h, &next, visited, ex);
    if (!rc && c.err) rc = strict_error(&c);
    free(start.h.v);
    start.h = next;
  }
  if (!rc && !one) {
    for (size_t i = 0; i < start.h.n && !fin.stop; i++)
      sink_push(&fin, start.h.v[i].node, start.h.v[i].node->ord);
    if (fin.oom) rc = gdb_fail(GDB_ENOMEM, "out of memory");
  }
  free(start.h.v);
  gdb_qeval_free(&c);
  if (!rc) {
    if (fin.inorder && fin.back) { /* collected backwards from the cursor */
      for (size_t i = 0, j = fin.h.n; i + 1 < j; i++, j--) {
        qhit t = fin.h.v[i];
        fin.h.v[i] = fin.h.v[j - 1];
        fin.h.v[j - 1] = t;
      }
    } else if (!fin.inorder && fin.h.n > 1) {
      if (q->sort || fin.h.n < 4096)
        qsort_r(fin.h.v, fin.h.n, sizeof *fin.h.v, sort_cmp, (void *)q);
      else if (!radix_sort(fin.h.v, fin.h.n, q->desc))
        rc = gdb_fail(GDB_ENOMEM, "out of memory");
    }
  }
  if (rc) {
    free(fin.h.v);
    return rc;
  }
  if (ex) {
    static const char *const methods[] = {"creation order", "index order", "top-k heap", "sort"};
    int m = p.access == ACCESS_WALK ? 1 : fin.inorder ? 0 : q->limit >= 0 ? 2 : 3;
    gdb_buf_puts(ex->out, "],\"order\":{\"field\":");
    if (q->sort)
      gdb_json_escape(ex->out, q->sort->text, strlen(q->sort->text));
    else
      gdb_buf_puts(ex->out, "null");
    gdb_buf_printf(ex->out, ",\"dir\":\"%s\",\"method\":\"%s\"}", q->desc ? "desc" : "asc",
                   methods[m]);
    ex->matched = fin.h.n;
  }
  *hits = fin.h.v;
  *n = fin.h.n;
  return GDB_OK;
}
