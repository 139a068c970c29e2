/*
 * index_prefix.c — the prefix index kind: a radix tree (compressed trie) of the field's string
 * values for $startsWith. Each tree node holds the nodes whose string ends there (a posting
 * list) and how many postings lie below it, so a prefix lookup walks the prefix's bytes once
 * and the answer is the subtree under where it stops. Empty leaves are pruned on removal;
 * chains of single children are not re-merged (the tree stays correct, only a little longer).
 */
#include "core/error.h"
#include "core/index.h"

#include <stdlib.h>
#include <string.h>

typedef struct rnode {
  char *label;
  uint32_t llen, nkids, capkids;
  struct rnode **kids; /* sorted by first label byte */
  gdb_posting *post;   /* NULL when no string ends here */
  size_t total;        /* postings in this subtree */
} rnode;

static void rnode_free(rnode *r) {
  if (!r) return;
  for (uint32_t i = 0; i < r->nkids; i++) rnode_free(r->kids[i]);
  free(r->kids);
  free(r->label);
  if (r->post) {
    gdb_oset_free(&r->post->set);
    free(r->post);
  }
  free(r);
}

static rnode *rnode_new(const char *label, size_t len) {
  rnode *r = calloc(1, sizeof *r);
  if (!r) return NULL;
  r->label = malloc(len ? len : 1);
  if (!r->label) {
    free(r);
    return NULL;
  }
  memcpy(r->label, label, len);
  r->llen = (uint32_t)len;
  return r;
}

/* Index in r->kids of the child starting with byte b, or where it would go (*found false). */
static uint32_t kid_at(const rnode *r, unsigned char b, bool *found) {
  uint32_t lo = 0, hi = r->nkids;
  while (lo < hi) {
    uint32_t mid = (lo + hi) / 2;
    unsigned char m = (unsigned char)r->kids[mid]->label[0];
    if (m < b)
      lo = mid + 1;
    else if (m > b)
      hi = mid;
    else
      return *found = true, mid;
  }
  *found = false;
  return lo;
}

static bool kid_insert(rnode *r, uint32_t at, rnode *k) {
  if (r->nkids == r->capkids) {
    uint32_t cap = r->capkids ? r->capkids * 2 : 2;
    rnode **p = realloc(r->kids, cap * sizeof *p);
    if (!p) return false;
    r->kids = p;
    r->capkids = cap;
  }
  memmove(r->kids + at + 1, r->kids + at, (r->nkids - at) * sizeof *r->kids);
  r->kids[at] = k;
  r->nkids++;
  return true;
}

static size_t common(const char *a, size_t al, const char *b, size_t bl) {
  size_t i = 0;
  while (i < al && i < bl && a[i] == b[i]) i++;
  return i;
}

#define MAX_PATH 4096 /* tree depth bound: one level per byte at worst */

/* The tree node for s, created if create; *path receives the nodes from the root (for the
 * totals). NULL on allocation failure or (not create) absence. */
static rnode *locate(rnode *root, const char *s, size_t len, bool create, rnode **path,
                     size_t *depth) {
  rnode *r = root;
  size_t i = 0;
  *depth = 0;
  for (;;) {
    if (*depth < MAX_PATH)
      path[(*depth)++] = r;
    else
      return NULL;
    if (i == len) return r;
    bool found;
    uint32_t at = kid_at(r, (unsigned char)s[i], &found);
    if (!found) {
      if (!create) return NULL;
      rnode *leaf = rnode_new(s + i, len - i);
      if (!leaf || !kid_insert(r, at, leaf)) {
        rnode_free(leaf);
        return NULL;
      }
      if (*depth < MAX_PATH) path[(*depth)++] = leaf;
      return leaf;
    }
    rnode *k = r->kids[at];
    size_t c = common(k->label, k->llen, s + i, len - i);
    if (c == k->llen) {
      r = k;
      i += c;
      continue;
    }
    if (!create) return NULL;
    /* split k at c: mid holds the shared part, k keeps the rest */
    rnode *mid = rnode_new(k->label, c);
    char *rest = mid ? malloc(k->llen - c) : NULL;
    if (!rest || !kid_insert(mid, 0, k)) {
      free(rest);
      rnode_free(mid);
      return NULL;
    }
    memcpy(rest, k->label + c, k->llen - c);
    free(k->label);
    k->label = rest;
    k->llen -= (uint32_t)c;
    mid->total = k->total;
    r->kids[at] = mid;
    r = mid;
    i += c;
  }
}

typedef struct pimpl {
  rnode *root;
  rnode *path[MAX_PATH];
} pimpl;

typedef struct pctx_ {
  gdb_index *ix;
  gdb_node *n;
  int mode; /* 1 add, 0 remove, 2 repoint */
  bool ok;
  uint32_t strings;
} pctx_;

static void prune(rnode **path, size_t depth) {
  for (size_t d = depth; d-- > 1;) {
    rnode *r = path[d], *parent = path[d - 1];
    if (r->total || r->nkids) return;
    bool found;
    uint32_t at = kid_at(parent, (unsigned char)r->label[0], &found);
    if (!found || parent->kids[at] != r) return;
    memmove(parent->kids + at, parent->kids + at + 1,
            (parent->nkids - at - 1) * sizeof *parent->kids);
    parent->nkids--;
    rnode_free(r);
  }
}

static bool on_value(const uint8_t *p, const uint8_t *end, bool element, void *data) {
  (void)element;
  pctx_ *x = data;
  pimpl *im = x->ix->impl;
  const char *s;
  uint32_t len;
  if (!gdb_qmp_str(p, end, &s, &len)) return false;
  x->strings++;
  size_t depth;
  rnode *r = locate(im->root, s, len, x->mode == 1, im->path, &depth);
  if (!r) {
    if (x->mode == 1) x->ok = false;
    return !x->ok;
  }
  if (x->mode == 1) {
    if (!r->post) {
      if (!(r->post = malloc(sizeof *r->post))) return !(x->ok = false);
      gdb_posting_init(r->post);
    }
    int a = gdb_posting_add(r->post, x->n);
    if (a < 0) return !(x->ok = false);
    if (a > 0) {
      for (size_t d = 0; d < depth; d++) im->path[d]->total++;
      x->ix->entries++;
    }
  } else if (r->post && x->mode == 0) {
    if (gdb_posting_del(r->post, x->n)) {
      for (size_t d = 0; d < depth; d++) im->path[d]->total--;
      x->ix->entries--;
    }
    if (!r->post->set.count) {
      gdb_oset_free(&r->post->set);
      free(r->post);
      r->post = NULL;
      prune(im->path, depth);
    }
  } else if (r->post) {
    gdb_posting_repoint(r->post, x->n);
  }
  return !x->ok;
}

static void node_strings(pctx_ *x) {
  gdb_index_values(x->ix, x->n, on_value, x);
  if (x->strings > 1 && x->mode != 2) {
    if (x->mode == 1)
      x->ix->multi++;
    else if (x->ix->multi)
      x->ix->multi--;
  }
}

static bool pi_apply(gdb_index *ix, gdb_node *n, bool add) {
  pctx_ x = {ix, n, add ? 1 : 0, true, 0};
  node_strings(&x);
  return x.ok;
}

static void pi_repoint(gdb_index *ix, gdb_node *before, gdb_node *after) {
  (void)before;
  pctx_ x = {ix, after, 2, true, 0};
  node_strings(&x);
}

static bool pi_init(gdb_index *ix) {
  pimpl *im = calloc(1, sizeof *im);
  if (!im || !(im->root = rnode_new("", 0))) {
    free(im);
    return false;
  }
  ix->impl = im;
  return true;
}

static void pi_free(gdb_index *ix) {
  pimpl *im = ix->impl;
  if (!im) return;
  rnode_free(im->root);
  free(im);
}

static int pi_build(gdb_index *ix, gdb_graph *g) {
  pimpl *im = ix->impl;
  rnode_free(im->root);
  if (!(im->root = rnode_new("", 0))) return gdb_fail(GDB_ENOMEM, "out of memory");
  return gdb_index_add_all(ix, g);
}

static bool pi_supports(const gdb_index *ix, const qexpr *pred) {
  (void)ix;
  return pred->op == QOP_STARTS;
}

/* The subtree holding every string that starts with s (NULL if none). */
static const rnode *subtree(const rnode *r, const char *s, size_t len) {
  size_t i = 0;
  while (i < len) {
    bool found;
    uint32_t at = kid_at(r, (unsigned char)s[i], &found);
    if (!found) return NULL;
    const rnode *k = r->kids[at];
    size_t c = common(k->label, k->llen, s + i, len - i);
    if (i + c == len) return k; /* the prefix ends inside (or at the end of) k's label */
    if (c < k->llen) return NULL;
    r = k;
    i += c;
  }
  return r;
}

static size_t pi_estimate(const gdb_index *ix, const qexpr *pred) {
  const pimpl *im = ix->impl;
  const rnode *r = subtree(im->root, pred->s, pred->slen);
  return r ? r->total : 0;
}

static bool visit(const rnode *r, gdb_index_fn fn, void *data) {
  if (r->post) {
    const gdb_oset *s = &r->post->set;
    for (gdb_oset_it it = gdb_oset_begin(s); gdb_oset_valid(s, it); it = gdb_oset_next(s, it)) {
      const posting_entry *e = gdb_oset_at(s, it);
      if (fn(e->node, e->ord, data)) return true;
    }
  }
  for (uint32_t i = 0; i < r->nkids; i++)
    if (visit(r->kids[i], fn, data)) return true;
  return false;
}

static void pi_scan(const gdb_index *ix, const qexpr *pred, gdb_index_fn fn, void *data) {
  const pimpl *im = ix->impl;
  const rnode *r = subtree(im->root, pred->s, pred->slen);
  if (r) visit(r, fn, data);
}

const gdb_index_ops gdb_index_prefix_ops = {
    .init = pi_init,
    .free = pi_free,
    .build = pi_build,
    .apply = pi_apply,
    .repoint = pi_repoint,
    .supports = pi_supports,
    .estimate = pi_estimate,
    .scan = pi_scan,
    .exact = true,
};
