/*
 * index_text.c — the text index kind: an inverted index from each word (as $text splits and
 * folds it, see gdb_text_words) to the nodes whose field holds it, in creation order.
 *
 * $text "a b" looks up the rarest word's nodes and keeps those every other word's posting
 * holds; when no node has more than one string in the field, that is exactly the $text
 * answer (otherwise the words could sit in different array entries, so the filter checks).
 */
#include "core/error.h"
#include "core/index.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

typedef struct timpl {
  GHashTable *words; /* char * (owned) -> gdb_posting * */
} timpl;

static void posting_free(gpointer p) {
  gdb_posting *x = p;
  gdb_oset_free(&x->set);
  free(x);
}

static bool ti_init(gdb_index *ix) {
  timpl *im = calloc(1, sizeof *im);
  if (!im) return false;
  im->words = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, posting_free);
  ix->impl = im;
  return true;
}

static void ti_free(gdb_index *ix) {
  timpl *im = ix->impl;
  if (!im) return;
  g_hash_table_destroy(im->words);
  free(im);
}

typedef struct tctx {
  gdb_index *ix;
  timpl *im;
  gdb_node *n;
  int mode; /* 1 add, 0 remove, 2 repoint */
  bool ok;
  uint32_t strings;
} tctx;

static bool on_word(const char *w, size_t len, void *data) {
  tctx *x = data;
  char key[GDB_TEXT_WORD_MAX + 1];
  memcpy(key, w, len);
  key[len] = 0;
  gdb_posting *p = g_hash_table_lookup(x->im->words, key);
  if (x->mode == 1) {
    if (!p) {
      if (!(p = malloc(sizeof *p))) {
        x->ok = false;
        return true;
      }
      gdb_posting_init(p);
      g_hash_table_insert(x->im->words, g_strdup(key), p);
    }
    int r = gdb_posting_add(p, x->n);
    if (r < 0) x->ok = false;
    x->ix->entries += r > 0;
  } else if (p && x->mode == 0) {
    if (gdb_posting_del(p, x->n)) x->ix->entries--;
    if (!p->set.count) g_hash_table_remove(x->im->words, key);
  } else if (p) {
    gdb_posting_repoint(p, x->n);
  }
  return !x->ok;
}

static bool on_value(const uint8_t *p, const uint8_t *end, bool element, void *data) {
  (void)element;
  tctx *x = data;
  const char *s;
  uint32_t len;
  if (!gdb_qmp_str(p, end, &s, &len)) return false;
  x->strings++;
  return gdb_text_words(s, len, on_word, x);
}

static void node_words(tctx *x) {
  x->strings = 0;
  gdb_index_values(x->ix, x->n, on_value, x);
  if (x->strings > 1 && x->mode != 2) {
    if (x->mode == 1)
      x->ix->multi++;
    else if (x->ix->multi)
      x->ix->multi--;
  }
}

static bool ti_apply(gdb_index *ix, gdb_node *n, bool add) {
  tctx x = {ix, ix->impl, n, add ? 1 : 0, true, 0};
  node_words(&x);
  return x.ok;
}

static void ti_repoint(gdb_index *ix, gdb_node *before, gdb_node *after) {
  (void)before;
  tctx x = {ix, ix->impl, after, 2, true, 0};
  node_words(&x);
}

static int ti_build(gdb_index *ix, gdb_graph *g) {
  timpl *im = ix->impl;
  g_hash_table_remove_all(im->words);
  return gdb_index_add_all(ix, g);
}

static bool ti_supports(const gdb_index *ix, const qexpr *pred) {
  (void)ix;
  return pred->op == QOP_TEXT;
}

/* The postings of pred's words, rarest first; false if a word has none. */
static bool postings(const timpl *im, const qexpr *pred, gdb_posting **out) {
  for (uint32_t i = 0; i < pred->nwords; i++) {
    if (!(out[i] = g_hash_table_lookup(im->words, pred->words[i]))) return false;
    for (uint32_t j = i; j > 0 && out[j]->set.count < out[j - 1]->set.count; j--) {
      gdb_posting *t = out[j];
      out[j] = out[j - 1];
      out[j - 1] = t;
    }
  }
  return true;
}

static size_t ti_estimate(const gdb_index *ix, const qexpr *pred) {
  gdb_posting *p[64];
  return postings(ix->impl, pred, p) ? p[0]->set.count : 0;
}

static void ti_scan(const gdb_index *ix, const qexpr *pred, gdb_index_fn fn, void *data) {
  gdb_posting *p[64];
  if (!postings(ix->impl, pred, p)) return;
  const gdb_oset *s = &p[0]->set;
  for (gdb_oset_it it = gdb_oset_begin(s); gdb_oset_valid(s, it); it = gdb_oset_next(s, it)) {
    const posting_entry *e = gdb_oset_at(s, it);
    bool all = true;
    for (uint32_t i = 1; i < pred->nwords && all; i++) all = gdb_posting_has(p[i], e->ord);
    if (all && fn(e->node, e->ord, data)) return;
  }
}

const gdb_index_ops gdb_index_text_ops = {
    .init = ti_init,
    .free = ti_free,
    .build = ti_build,
    .apply = ti_apply,
    .repoint = ti_repoint,
    .supports = ti_supports,
    .estimate = ti_estimate,
    .scan = ti_scan,
    .exact = true,
};
