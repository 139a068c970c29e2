/*
 * subscribe_window.c — keeping a subscription's $limit window and $edge results current.
 *
 * Window: the ordered set holds every matching node between the cursors, in output order.
 * The window is the first k entries (the last k when only $before is given); `bound` is its
 * farthest entry. Inserting a node nearer than the bound pushes the bound out (its neighbour
 * toward the window becomes the bound); removing a node inside the window pulls in the entry
 * just beyond the bound. So one change moves at most one node in and one out: O(log n) per
 * change, never a re-run. Events of one change are coalesced per node (removed + added of
 * the changed node is "updated"; a neighbour pulled in and pushed out again is nothing).
 *
 * $edge: results are re-computed with the query engine when the change touches the region
 * the last traversal reached (or a node the first stage selects), and diffed with the
 * previous results (node snapshots differ exactly when the node changed).
 */
#include "core/subscribe.h"

#include <stdlib.h>
#include <string.h>

static int bytes_cmp(const void *a, size_t al, const void *b, size_t bl) {
  size_t m = al < bl ? al : bl;
  int r = m ? memcmp(a, b, m) : 0;
  if (r) return r < 0 ? -1 : 1;
  return al < bl ? -1 : al > bl;
}

static int went_cmp(const void *x, const void *y, const void *ctx) {
  const gdb_query *q = ctx;
  const wentry *a = x, *b = y;
  int r;
  if (q->sort) {
    r = gdb_skey_cmp(&a->key, &b->key);
    if (!r) r = bytes_cmp(a->id, a->idlen, b->id, b->idlen);
  } else {
    r = a->ord < b->ord ? -1 : a->ord > b->ord;
  }
  return q->desc ? -r : r;
}

void gdb_wentry_of(const gdb_query *q, gdb_node *n, wentry *e) {
  qhit h = {.node = n};
  gdb_qhit_key(q, &h);
  e->key = h.key;
  e->id = gdb_node_idp(n);
  e->idlen = n->id_len;
  e->ord = n->ord;
  e->node = n;
}

int gdb_watch_window_init(gdb_watch *w, const qhit *all, size_t n) {
  gdb_oset_init(&w->set, sizeof(wentry), went_cmp, w->q);
  wentry *v = malloc((n ? n : 1) * sizeof *v);
  if (!v) return GDB_ENOMEM;
  for (size_t i = 0; i < n; i++) gdb_wentry_of(w->q, all[i].node, &v[i]);
  bool ok = gdb_oset_build(&w->set, v, n);
  if (ok) {
    size_t k = (size_t)w->k;
    w->wcount = n < k ? n : k;
    size_t first = w->back ? n - w->wcount : 0;
    if (w->wcount) w->bound = v[w->back ? first : w->wcount - 1];
    for (size_t i = first; i < first + w->wcount; i++)
      gdb_subs_emit(w->subs, w, GDB_EVENT_INITIAL, v[i].node);
  }
  free(v);
  return ok ? GDB_OK : GDB_ENOMEM;
}

void gdb_watch_window_free(gdb_watch *w) { gdb_oset_free(&w->set); }

/* ── the window's moves ── */

typedef struct wev {
  gdb_event ev;
  gdb_node *node;
  const char *id;
  uint32_t idlen;
  bool dead;
} wev;

typedef struct wchange {
  gdb_watch *w;
  wev ev[4];
  int n;
} wchange;

static void add_ev(wchange *c, gdb_event ev, gdb_node *node, const wentry *e) {
  if (c->n < 4) c->ev[c->n++] = (wev){ev, node, e->id, e->idlen, false};
}

static int cmp(const gdb_watch *w, const wentry *a, const wentry *b) {
  return went_cmp(a, b, w->q);
}
/* a lies farther from the window's anchored end than b */
static bool farther(const gdb_watch *w, const wentry *a, const wentry *b) {
  int r = cmp(w, a, b);
  return w->back ? r < 0 : r > 0;
}

/* The entry next to e away from (away true) or toward the anchored end. */
static bool step(const gdb_watch *w, const wentry *e, bool away, wentry *out) {
  bool found;
  gdb_oset_it it = gdb_oset_lower(&w->set, e, &found);
  if (!found) return false;
  bool forward = away != w->back;
  if (forward) {
    it = gdb_oset_next(&w->set, it);
    if (!gdb_oset_valid(&w->set, it)) return false;
  } else if (!gdb_oset_prev(&w->set, &it)) {
    return false;
  }
  *out = *(const wentry *)gdb_oset_at(&w->set, it);
  return true;
}

static void window_insert(wchange *c, const wentry *x) {
  gdb_watch *w = c->w;
  if (gdb_oset_insert(&w->set, x) <= 0) return;
  if (w->k == 0) return;
  if ((int64_t)w->wcount < w->k) {
    if (w->wcount++ == 0 || farther(w, x, &w->bound)) w->bound = *x;
    add_ev(c, GDB_EVENT_ADDED, x->node, x);
  } else if (farther(w, &w->bound, x)) {
    wentry nb;
    add_ev(c, GDB_EVENT_ADDED, x->node, x);
    add_ev(c, GDB_EVENT_REMOVED, w->bound.node, &w->bound);
    if (step(w, &w->bound, false, &nb)) w->bound = nb;
  }
}

static void window_remove(wchange *c, const wentry *x, gdb_node *gone) {
  gdb_watch *w = c->w;
  if (!gdb_oset_get(&w->set, x)) return;
  bool in = w->wcount > 0 && !farther(w, x, &w->bound);
  if (!in) {
    gdb_oset_erase(&w->set, x, NULL);
    return;
  }
  add_ev(c, GDB_EVENT_REMOVED, gone, x);
  wentry s, nb;
  bool is_bound = cmp(w, x, &w->bound) == 0;
  if (step(w, &w->bound, true, &s)) {
    gdb_oset_erase(&w->set, x, NULL);
    w->bound = s;
    add_ev(c, GDB_EVENT_ADDED, s.node, &s);
    return;
  }
  bool has_nb = is_bound && step(w, &w->bound, false, &nb);
  gdb_oset_erase(&w->set, x, NULL);
  w->wcount--;
  if (is_bound && has_nb) w->bound = nb;
}

static void flush(wchange *c) {
  for (int i = 0; i < c->n; i++) {
    wev *a = &c->ev[i];
    for (int j = i + 1; j < c->n && !a->dead; j++) {
      wev *b = &c->ev[j];
      if (b->dead || a->idlen != b->idlen || memcmp(a->id, b->id, a->idlen)) continue;
      if (a->ev == GDB_EVENT_REMOVED && b->ev == GDB_EVENT_ADDED) {
        a->ev = GDB_EVENT_UPDATED;
        a->node = b->node;
        b->dead = true;
      } else if (a->ev == GDB_EVENT_ADDED && b->ev == GDB_EVENT_REMOVED) {
        a->dead = b->dead = true;
      }
    }
  }
  for (int i = 0; i < c->n; i++)
    if (!c->ev[i].dead) gdb_subs_emit(c->w->subs, c->w, c->ev[i].ev, c->ev[i].node);
}

void gdb_watch_window_change(gdb_watch *w, gdb_node *before, gdb_node *after, bool bm, bool am) {
  wchange c = {.w = w};
  if (bm) {
    wentry x;
    gdb_wentry_of(w->q, before, &x);
    window_remove(&c, &x, after && gdb_node_live(after) ? after : before);
  }
  if (am) {
    wentry y;
    gdb_wentry_of(w->q, after, &y);
    window_insert(&c, &y);
  }
  flush(&c);
}

/* ── $edge ── */

static void release_node(gpointer p) { gdb_node_release(p); }

static gint by_creation(gconstpointer a, gconstpointer b) {
  const gdb_node *x = *(gdb_node *const *)a, *y = *(gdb_node *const *)b;
  return x->ord < y->ord ? -1 : x->ord > y->ord;
}

static GHashTable *members_new(void) {
  return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, release_node);
}

int gdb_watch_edge_init(gdb_watch *w, const qhit *hits, size_t n) {
  w->members = members_new();
  for (size_t i = 0; i < n; i++) {
    gdb_node *x = hits[i].node;
    gdb_node_retain(x);
    g_hash_table_replace(w->members, g_strndup(gdb_node_idp(x), x->id_len), x);
    gdb_subs_emit(w->subs, w, GDB_EVENT_INITIAL, x);
  }
  return GDB_OK;
}

void gdb_watch_edge_free(gdb_watch *w) {
  if (w->members) g_hash_table_destroy(w->members);
  w->members = NULL;
  gdb_qvisit_free(w->visited);
  w->visited = NULL;
}

static bool starts(gdb_watch *w, gdb_node *n) {
  if (!n || !gdb_node_live(n)) return false;
  bool m = gdb_qeval_node(&w->c, w->q->stages[0].filter, n);
  w->c.err = 0;
  return m;
}

void gdb_watch_edge_change(gdb_watch *w, gdb_node *before, gdb_node *after) {
  gdb_node *any = after ? after : before;
  if (!gdb_qvisit_has(w->visited, gdb_node_idp(any), any->id_len) && !starts(w, before) &&
      !starts(w, after))
    return;
  gdb_subs *s = w->subs;
  gdb_graph *g = gdb_subs_graph(s);
  gdb_qvisit_clear(w->visited);
  qhit *hits;
  size_t n;
  if (gdb_query_exec(gdb_subs_qstate(s), g, w->q, &w->win, &hits, &n, w->visited, NULL)) return;
  GHashTable *next = members_new();
  for (size_t i = 0; i < n; i++) {
    gdb_node *x = hits[i].node;
    gdb_node_retain(x);
    g_hash_table_replace(next, g_strndup(gdb_node_idp(x), x->id_len), x);
  }
  /* those that left, in creation order */
  GHashTableIter it;
  gpointer key, val;
  GPtrArray *gone = g_ptr_array_new();
  g_hash_table_iter_init(&it, w->members);
  while (g_hash_table_iter_next(&it, &key, &val)) {
    if (g_hash_table_contains(next, key)) continue;
    gdb_node *cur = gdb_graph_live(g, key, strlen(key));
    g_ptr_array_add(gone, cur ? cur : val);
  }
  g_ptr_array_sort(gone, by_creation);
  for (guint i = 0; i < gone->len; i++) gdb_subs_emit(s, w, GDB_EVENT_REMOVED, gone->pdata[i]);
  g_ptr_array_free(gone, TRUE);
  for (size_t i = 0; i < n; i++) {
    gdb_node *x = hits[i].node;
    char idbuf[GDB_ID_BUFSZ];
    memcpy(idbuf, gdb_node_idp(x), x->id_len);
    idbuf[x->id_len] = 0;
    gdb_node *old = g_hash_table_lookup(w->members, idbuf);
    if (!old)
      gdb_subs_emit(s, w, GDB_EVENT_ADDED, x);
    else if (old != x)
      gdb_subs_emit(s, w, GDB_EVENT_UPDATED, x);
  }
  free(hits);
  g_hash_table_destroy(w->members);
  w->members = next;
}
