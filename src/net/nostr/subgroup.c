/*
 * subgroup.c — subscription groups (see subgroup.h). A group is keyed by the canonical bytes
 * of its filter list (gdb_nostr_filter_key, in the list's order: two lists with the same
 * filters in another order make two groups, which costs sharing, never correctness). It owns
 * no filters: whoever asks for the match passes its own, equal by key. Measured: matching was
 * ~20 % of the network thread at full speed with 100 subscribers on one filter.
 */
#include "net/nostr/subgroup.h"

#include "core/buf.h"
#include "net/nostr/filter.h"

#include <glib.h>
#include <stdlib.h>

struct gdb_nostr_subgroup {
  GBytes *key;
  unsigned refs;
  uint64_t gen;
  bool match;
};

struct gdb_nostr_subgroups {
  GHashTable *by_key; /* GBytes key (owned by the group) -> group */
};

gdb_nostr_subgroups *gdb_nostr_subgroups_new(void) {
  gdb_nostr_subgroups *t = calloc(1, sizeof *t);
  if (t) t->by_key = g_hash_table_new(g_bytes_hash, g_bytes_equal);
  return t;
}

static void group_free(gpointer p) {
  gdb_nostr_subgroup *g = p;
  g_bytes_unref(g->key);
  free(g);
}

void gdb_nostr_subgroups_free(gdb_nostr_subgroups *t) {
  if (!t) return;
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, t->by_key);
  while (g_hash_table_iter_next(&it, &k, &v)) group_free(v);
  g_hash_table_destroy(t->by_key);
  free(t);
}

gdb_nostr_subgroup *gdb_nostr_subgroup_join(gdb_nostr_subgroups *t, gdb_nostr_filter *const *f,
                                            size_t n) {
  if (!t) return NULL;
  gdb_buf b = {0};
  for (size_t i = 0; i < n; i++) {
    gdb_nostr_filter_key(f[i], &b);
    gdb_buf_putc(&b, '|');
  }
  if (b.oom) {
    gdb_buf_free(&b);
    return NULL;
  }
  GBytes *key = g_bytes_new(b.data, b.len);
  gdb_buf_free(&b);
  gdb_nostr_subgroup *g = g_hash_table_lookup(t->by_key, key);
  if (g) {
    g_bytes_unref(key);
    g->refs++;
    return g;
  }
  if (!(g = calloc(1, sizeof *g))) {
    g_bytes_unref(key);
    return NULL;
  }
  g->key = key;
  g->refs = 1;
  g_hash_table_insert(t->by_key, key, g);
  return g;
}

void gdb_nostr_subgroup_leave(gdb_nostr_subgroups *t, gdb_nostr_subgroup *g) {
  if (!t || !g || --g->refs) return;
  g_hash_table_remove(t->by_key, g->key);
  group_free(g);
}

bool gdb_nostr_subgroup_match(gdb_nostr_subgroup *g, uint64_t gen, gdb_nostr_filter *const *f,
                              size_t n, const gdb_nostr_event *ev) {
  if (g->gen == gen) return g->match;
  g->gen = gen;
  g->match = false;
  for (size_t i = 0; i < n && !g->match; i++) g->match = gdb_nostr_filter_match(f[i], ev);
  return g->match;
}
