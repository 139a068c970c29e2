/*
 * subscribe.c — live subscriptions: creating and cancelling them, routing each change to the
 * subscriptions it may affect, and delivering their events in commit order, never under the
 * database lock (see subscribe.h for the kinds and genosdb.h for the threading contract).
 *
 * Routing: a subscription whose filter requires field == value ("anchored") is listed under
 * the hash of (field, value); a change looks up the values its record had before and after at
 * each anchored field, so unrelated writes never evaluate it. Others ($edge, filters without
 * an equality) see every change; one-node subscriptions are listed by id. Per change, the
 * work is one evaluation of each candidate's compiled filter on the old and new record.
 *
 * Delivery: the observer (under the database lock) appends events to one FIFO; after the
 * writer releases the lock, gdb_subs_deliver() drains it on that thread unless another thread
 * is draining (then that one delivers them), or on gdb_watch_dispatch() in polled mode.
 */
#include "core/subscribe.h"

#include "core/db.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/mp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

typedef struct apath {
  qarena *arena;
  const qpath *path;
  uint64_t hash;
  uint32_t refs;
} apath;

typedef struct sevent {
  gdb_watch *w;
  gdb_node *node;
  gdb_event ev;
} sevent;

struct gdb_subs {
  gdb_qstate *qs;
  /* routing: under the database lock */
  GPtrArray *all, *unanchored, *cand;
  GHashTable *by_id;    /* id -> GPtrArray */
  GHashTable *anchored; /* uint64 hash -> GPtrArray */
  apath *paths;
  size_t npaths, nregistered;
  uint64_t stamp;
  /* events: under emu */
  pthread_mutex_t emu;
  pthread_cond_t ecv;
  sevent *q;
  size_t head, tail, cap;
  bool delivering;
  pthread_t deliverer;
  bool poll;
  int efd;
};

static void ptr_array_free(gpointer p) { g_ptr_array_free(p, TRUE); }

int gdb_subs_new(gdb_qstate *qs, gdb_subs **out) {
  gdb_subs *s = calloc(1, sizeof *s);
  if (!s) return gdb_fail(GDB_ENOMEM, "out of memory");
  s->qs = qs;
  s->all = g_ptr_array_new();
  s->unanchored = g_ptr_array_new();
  s->cand = g_ptr_array_new();
  s->by_id = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, ptr_array_free);
  s->anchored = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, ptr_array_free);
  s->efd = -1;
  pthread_mutex_init(&s->emu, NULL);
  pthread_cond_init(&s->ecv, NULL);
  *out = s;
  return GDB_OK;
}

gdb_graph *gdb_subs_graph(gdb_subs *s) { return gdb_db_graph(s->qs->db); }
gdb_qstate *gdb_subs_qstate(gdb_subs *s) { return s->qs; }
bool gdb_subs_active(const gdb_subs *s) { return s && s->nregistered > 0; }

static void watch_unref(gdb_watch *w) {
  if (atomic_fetch_sub(&w->refs, 1) != 1) return;
  if (w->kind == W_WINDOW) gdb_watch_window_free(w);
  if (w->kind == W_EDGE) gdb_watch_edge_free(w);
  if (w->win.has_after) gdb_node_release(w->win.after.node);
  if (w->win.has_before) gdb_node_release(w->win.before.node);
  gdb_qeval_free(&w->c);
  free(w->anchor.hashes);
  gdb_query_free(w->q);
  free(w->id);
  free(w);
}

/* ── events ── */

void gdb_subs_emit(gdb_subs *s, gdb_watch *w, gdb_event ev, gdb_node *n) {
  pthread_mutex_lock(&s->emu);
  if (s->tail == s->cap) {
    if (s->head) { /* reuse the delivered front */
      memmove(s->q, s->q + s->head, (s->tail - s->head) * sizeof *s->q);
      s->tail -= s->head;
      s->head = 0;
    }
    if (s->tail == s->cap) {
      size_t cap = s->cap ? s->cap * 2 : 256;
      sevent *q = realloc(s->q, cap * sizeof *q);
      if (!q) { /* the event is lost; nothing else can be done under the lock */
        pthread_mutex_unlock(&s->emu);
        return;
      }
      s->q = q;
      s->cap = cap;
    }
  }
  bool was_empty = s->head == s->tail;
  gdb_node_retain(n);
  atomic_fetch_add(&w->refs, 1);
  s->q[s->tail++] = (sevent){w, n, ev};
  if (s->poll && was_empty) {
    uint64_t one = 1;
    ssize_t r = write(s->efd, &one, sizeof one);
    (void)r;
  }
  pthread_mutex_unlock(&s->emu);
}

/* Delivers queued events on this thread (see the file comment). Returns how many. */
static int drain(gdb_subs *s, bool dispatch) {
  int count = 0;
  pthread_mutex_lock(&s->emu);
  if ((s->poll && !dispatch) || s->delivering) {
    pthread_mutex_unlock(&s->emu);
    return 0;
  }
  s->delivering = true;
  s->deliverer = pthread_self();
  while (s->head < s->tail) {
    sevent e = s->q[s->head++];
    if (!e.w->cancelled) {
      e.w->running = true;
      pthread_mutex_unlock(&s->emu);
      e.w->fn(e.w, e.ev, e.node, e.w->data);
      count++;
      pthread_mutex_lock(&s->emu);
      e.w->running = false;
      pthread_cond_broadcast(&s->ecv);
    }
    gdb_node_release(e.node);
    watch_unref(e.w);
  }
  s->head = s->tail = 0;
  s->delivering = false;
  pthread_mutex_unlock(&s->emu);
  return count;
}

void gdb_subs_deliver(gdb_subs *s) {
  if (s) drain(s, false);
}

/* ── routing ── */

static uint64_t anchor_hash(uint64_t path_hash, const uint8_t *p, size_t len) {
  return gdb_hash(p, len) ^ (path_hash * 0x9e3779b97f4a7c15ull);
}

static GPtrArray *list_for(GHashTable *t, gpointer key, bool create, gpointer owned_key) {
  GPtrArray *a = g_hash_table_lookup(t, key);
  if (!a && create) {
    a = g_ptr_array_new();
    g_hash_table_insert(t, owned_key, a);
  } else if (owned_key) {
    g_free(owned_key);
  }
  return a;
}

static void list_drop(GHashTable *t, gpointer key, gdb_watch *w) {
  GPtrArray *a = g_hash_table_lookup(t, key);
  if (!a) return;
  g_ptr_array_remove_fast(a, w);
  if (!a->len) g_hash_table_remove(t, key);
}

/* Picks an anchor: a root conjunct field == value (or $in of a few values). */
static bool find_anchor(gdb_watch *w) {
  const qexpr *root = w->q->stages[0].filter;
  const qexpr *const *conj =
      root->op == QOP_AND ? (const qexpr *const *)root->kids : (const qexpr *const *)&root;
  uint32_t nconj = root->op == QOP_AND ? root->nkids : 1;
  for (uint32_t i = 0; i < nconj; i++) {
    const qexpr *f = conj[i];
    if (f->op != QOP_FIELD) continue;
    for (uint32_t k = 0; k < f->nkids; k++) {
      const qexpr *e = f->kids[k];
      bool eq = e->op == QOP_EQ && !e->set.has_null;
      bool in = e->op == QOP_IN && !e->set.has_null && e->set.n > 0 && e->set.n <= 32;
      if (!eq && !in) continue;
      uint32_t n = eq ? 1 : e->set.n;
      if (!(w->anchor.hashes = malloc(n * sizeof *w->anchor.hashes))) return false;
      uint64_t ph = gdb_hash(f->path->text, strlen(f->path->text));
      for (uint32_t j = 0; j < n; j++)
        w->anchor.hashes[j] =
            eq ? anchor_hash(ph, e->mp, e->mplen) : anchor_hash(ph, e->set.v[j], e->set.len[j]);
      w->anchor.n = n;
      w->anchor.path = f->path->text;
      return true;
    }
  }
  return false;
}

static bool path_ref(gdb_subs *s, const char *text) {
  for (size_t i = 0; i < s->npaths; i++) {
    if (!strcmp(s->paths[i].path->text, text)) {
      s->paths[i].refs++;
      return true;
    }
  }
  apath *p = realloc(s->paths, (s->npaths + 1) * sizeof *p);
  if (!p) return false;
  s->paths = p;
  apath *a = &p[s->npaths];
  int err;
  if (!(a->arena = gdb_qarena_new()) ||
      !(a->path = gdb_qpath_compile(a->arena, text, "watch", &err))) {
    gdb_qarena_free(a->arena);
    return false;
  }
  a->hash = gdb_hash(text, strlen(text));
  a->refs = 1;
  s->npaths++;
  return true;
}

static void path_unref(gdb_subs *s, const char *text) {
  for (size_t i = 0; i < s->npaths; i++) {
    if (strcmp(s->paths[i].path->text, text)) continue;
    if (--s->paths[i].refs == 0) {
      gdb_qarena_free(s->paths[i].arena);
      s->paths[i] = s->paths[--s->npaths];
    }
    return;
  }
}

static bool watch_register(gdb_subs *s, gdb_watch *w) {
  if (w->kind == W_GET) {
    list_for(s->by_id, w->id, true, g_strdup(w->id));
    g_ptr_array_add(g_hash_table_lookup(s->by_id, w->id), w);
  } else if ((w->kind == W_MAP || w->kind == W_WINDOW) && find_anchor(w) &&
             path_ref(s, w->anchor.path)) {
    for (uint32_t i = 0; i < w->anchor.n; i++) {
      uint64_t *k = g_new(uint64_t, 1);
      *k = w->anchor.hashes[i];
      GPtrArray *a = list_for(s->anchored, k, true, k);
      if (!g_ptr_array_find(a, w, NULL)) g_ptr_array_add(a, w);
    }
  } else {
    w->anchor.n = 0;
    g_ptr_array_add(s->unanchored, w);
  }
  g_ptr_array_add(s->all, w);
  w->registered = true;
  s->nregistered++;
  return true;
}

static void watch_unregister(gdb_subs *s, gdb_watch *w) {
  if (!w->registered) return;
  w->registered = false;
  s->nregistered--;
  g_ptr_array_remove_fast(s->all, w);
  if (w->kind == W_GET) {
    list_drop(s->by_id, w->id, w);
  } else if (w->anchor.n) {
    for (uint32_t i = 0; i < w->anchor.n; i++) list_drop(s->anchored, &w->anchor.hashes[i], w);
    path_unref(s, w->anchor.path);
  } else {
    g_ptr_array_remove_fast(s->unanchored, w);
  }
}

static void candidate(gdb_subs *s, gdb_watch *w) {
  if (w->stamp == s->stamp) return;
  w->stamp = s->stamp;
  g_ptr_array_add(s->cand, w);
}

typedef struct anchor_ctx {
  gdb_subs *s;
  uint64_t path_hash;
} anchor_ctx;

static void anchor_lookup(anchor_ctx *x, const uint8_t *p, const uint8_t *end) {
  const uint8_t *q = gdb_qmp_skip(p, end);
  if (!q) return;
  uint64_t h = anchor_hash(x->path_hash, p, (size_t)(q - p));
  GPtrArray *a = g_hash_table_lookup(x->s->anchored, &h);
  for (guint i = 0; a && i < a->len; i++) candidate(x->s, a->pdata[i]);
}

static bool on_anchor_value(const uint8_t *p, const uint8_t *end, void *data) {
  anchor_ctx *x = data;
  anchor_lookup(x, p, end);
  uint32_t n;
  const uint8_t *q = gdb_qmp_container(p, end, MP_ARRAY, &n);
  for (uint32_t i = 0; q && i < n; i++, q = gdb_qmp_skip(q, end)) anchor_lookup(x, q, end);
  return false;
}

/* ── judging one change ── */

static bool in_range(gdb_watch *w, gdb_node *n) {
  if (!w->win.has_after && !w->win.has_before) return true;
  qhit h = {.node = n};
  gdb_qhit_key(w->q, &h);
  return gdb_qwindow_contains(w->q, &w->win, &h);
}

static bool matches(gdb_watch *w, gdb_node *n) {
  if (!n || !gdb_node_live(n)) return false;
  bool m = gdb_qeval_node(&w->c, w->q->stages[0].filter, n) && in_range(w, n);
  w->c.err = 0; /* strictMode: a live change lacking a field is simply not a match */
  return m;
}

static void judge(gdb_subs *s, gdb_watch *w, gdb_node *before, gdb_node *after) {
  if (w->kind == W_EDGE) {
    gdb_watch_edge_change(w, before, after);
    return;
  }
  bool bm, am;
  if (w->kind == W_GET) {
    bm = before && gdb_node_live(before);
    am = after && gdb_node_live(after);
  } else {
    bm = matches(w, before);
    am = matches(w, after);
  }
  if (w->kind == W_WINDOW) {
    if (bm || am) gdb_watch_window_change(w, before, after, bm, am);
    return;
  }
  if (am)
    gdb_subs_emit(s, w, bm ? GDB_EVENT_UPDATED : GDB_EVENT_ADDED, after);
  else if (bm)
    gdb_subs_emit(s, w, GDB_EVENT_REMOVED, after && gdb_node_live(after) ? after : before);
}

void gdb_subs_on_change(gdb_subs *s, gdb_node *before, gdb_node *after) {
  if (!s->nregistered) return;
  s->stamp++;
  g_ptr_array_set_size(s->cand, 0);
  gdb_node *any = after ? after : before;
  if (g_hash_table_size(s->by_id)) {
    char id[GDB_ID_BUFSZ];
    memcpy(id, gdb_node_idp(any), any->id_len);
    id[any->id_len] = 0;
    GPtrArray *a = g_hash_table_lookup(s->by_id, id);
    for (guint i = 0; a && i < a->len; i++) candidate(s, a->pdata[i]);
  }
  for (size_t i = 0; i < s->npaths; i++) {
    anchor_ctx x = {s, s->paths[i].hash};
    for (int k = 0; k < 2; k++) {
      gdb_node *n = k ? after : before;
      if (!n || !gdb_node_live(n)) continue;
      const uint8_t *v = gdb_node_valuep(n);
      gdb_qpath_each(s->paths[i].path, v, v + n->value_len, on_anchor_value, &x);
    }
  }
  for (guint i = 0; i < s->unanchored->len; i++) candidate(s, s->unanchored->pdata[i]);
  for (guint i = 0; i < s->cand->len; i++) judge(s, s->cand->pdata[i], before, after);
}

void gdb_subs_free(gdb_subs *s) {
  if (!s) return;
  while (s->all->len) {
    gdb_watch *w = s->all->pdata[s->all->len - 1];
    watch_unregister(s, w);
    w->cancelled = true;
    watch_unref(w);
  }
  for (size_t i = s->head; i < s->tail; i++) {
    gdb_node_release(s->q[i].node);
    watch_unref(s->q[i].w);
  }
  free(s->q);
  for (size_t i = 0; i < s->npaths; i++) gdb_qarena_free(s->paths[i].arena);
  free(s->paths);
  g_ptr_array_free(s->all, TRUE);
  g_ptr_array_free(s->unanchored, TRUE);
  g_ptr_array_free(s->cand, TRUE);
  g_hash_table_destroy(s->by_id);
  g_hash_table_destroy(s->anchored);
  if (s->efd >= 0) close(s->efd);
  pthread_mutex_destroy(&s->emu);
  pthread_cond_destroy(&s->ecv);
  free(s);
}

/* ── public API ── */

const char *gdb_event_name(gdb_event ev) {
  switch (ev) {
  case GDB_EVENT_INITIAL: return "initial";
  case GDB_EVENT_ADDED: return "added";
  case GDB_EVENT_UPDATED: return "updated";
  case GDB_EVENT_REMOVED: return "removed";
  default: return "unknown";
  }
}

static gdb_watch *watch_new(gdb_subs *s, gdb_watch_fn fn, void *data) {
  gdb_watch *w = calloc(1, sizeof *w);
  if (!w) return NULL;
  atomic_init(&w->refs, 1);
  w->subs = s;
  w->fn = fn;
  w->data = data;
  return w;
}

/* Computes the initial results and state of w and registers it (database lock held). */
static int watch_start(gdb_subs *s, gdb_watch *w) {
  gdb_graph *g = gdb_db_graph(s->qs->db);
  gdb_query *q = w->q;
  int rc = gdb_query_window(g, q, &w->win);
  if (rc) {
    memset(&w->win, 0, sizeof w->win);
    return rc;
  }
  if (w->win.has_after) gdb_node_retain(w->win.after.node);
  if (w->win.has_before) gdb_node_retain(w->win.before.node);
  gdb_qeval_init(&w->c, q);
  w->kind = q->nstages > 1 ? W_EDGE : q->limit >= 0 ? W_WINDOW : W_MAP;
  qhit *hits = NULL;
  size_t n = 0;
  if (w->kind == W_EDGE) {
    if (!(w->visited = gdb_qvisit_new())) return gdb_fail(GDB_ENOMEM, "out of memory");
    rc = gdb_query_exec(s->qs, g, q, &w->win, &hits, &n, w->visited, NULL);
    if (!rc) rc = gdb_watch_edge_init(w, hits, n);
  } else if (w->kind == W_WINDOW) {
    int64_t k = q->limit;
    w->k = k;
    w->back = w->win.has_before && !w->win.has_after;
    q->limit = -1; /* the window's set holds every match in range */
    rc = gdb_query_exec(s->qs, g, q, &w->win, &hits, &n, NULL, NULL);
    q->limit = k;
    if (!rc) rc = gdb_watch_window_init(w, hits, n);
  } else {
    rc = gdb_query_exec(s->qs, g, q, &w->win, &hits, &n, NULL, NULL);
    for (size_t i = 0; !rc && i < n; i++) gdb_subs_emit(s, w, GDB_EVENT_INITIAL, hits[i].node);
  }
  free(hits);
  if (rc == GDB_ENOMEM) gdb_fail(GDB_ENOMEM, "out of memory");
  if (!rc && q->realtime) watch_register(s, w);
  return rc;
}

int gdb_map_watch(gdb_t *db, const char *options, gdb_watch_fn fn, void *data, gdb_watch **out) {
  *out = NULL;
  if (!fn) return gdb_fail(GDB_EINVAL, "watch: a callback is required");
  gdb_qstate *qs = gdb_db_qstate(db);
  gdb_watch *w = watch_new(qs->subs, fn, data);
  if (!w) return gdb_fail(GDB_ENOMEM, "out of memory");
  int rc = gdb_query_compile(options, "watch", &w->q);
  if (rc) {
    free(w);
    return rc;
  }
  gdb_db_lock(db);
  rc = watch_start(qs->subs, w);
  gdb_db_unlock(db);
  if (rc) {
    pthread_mutex_lock(&qs->subs->emu);
    w->cancelled = true; /* initial events already queued are dropped */
    pthread_mutex_unlock(&qs->subs->emu);
    watch_unref(w);
    gdb_subs_deliver(qs->subs);
    return rc;
  }
  *out = w;
  gdb_subs_deliver(qs->subs);
  return GDB_OK;
}

int gdb_get_watch(gdb_t *db, const char *id, gdb_watch_fn fn, void *data, gdb_watch **out) {
  *out = NULL;
  if (!fn) return gdb_fail(GDB_EINVAL, "watch: a callback is required");
  if (!id || !*id || strlen(id) > GDB_ID_MAX)
    return gdb_fail(GDB_EINVAL, "watch: an id of 1 to %d bytes is required", GDB_ID_MAX);
  gdb_qstate *qs = gdb_db_qstate(db);
  gdb_watch *w = watch_new(qs->subs, fn, data);
  if (!w || !(w->id = strdup(id))) {
    free(w);
    return gdb_fail(GDB_ENOMEM, "out of memory");
  }
  w->idlen = strlen(id);
  w->kind = W_GET;
  gdb_db_lock(db);
  gdb_node *n = gdb_graph_live(gdb_db_graph(db), id, w->idlen);
  if (n) gdb_subs_emit(qs->subs, w, GDB_EVENT_INITIAL, n);
  watch_register(qs->subs, w);
  gdb_db_unlock(db);
  *out = w;
  gdb_subs_deliver(qs->subs);
  return GDB_OK;
}

void gdb_watch_cancel(gdb_watch *w) {
  if (!w) return;
  gdb_subs *s = w->subs;
  gdb_t *db = s->qs->db;
  gdb_db_lock(db);
  watch_unregister(s, w);
  gdb_db_unlock(db);
  pthread_mutex_lock(&s->emu);
  w->cancelled = true;
  while (w->running && !(s->delivering && pthread_equal(s->deliverer, pthread_self())))
    pthread_cond_wait(&s->ecv, &s->emu);
  pthread_mutex_unlock(&s->emu);
  watch_unref(w);
}

int gdb_watch_fd(gdb_t *db) {
  gdb_subs *s = gdb_db_qstate(db)->subs;
  pthread_mutex_lock(&s->emu);
  if (s->efd < 0) {
    s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (s->efd < 0) {
      int e = errno;
      pthread_mutex_unlock(&s->emu);
      return gdb_fail(GDB_EIO, "watch: eventfd: %s", strerror(e));
    }
    s->poll = true;
    if (s->head < s->tail) {
      uint64_t one = 1;
      ssize_t r = write(s->efd, &one, sizeof one);
      (void)r;
    }
  }
  int fd = s->efd;
  pthread_mutex_unlock(&s->emu);
  return fd;
}

int gdb_watch_dispatch(gdb_t *db) {
  gdb_subs *s = gdb_db_qstate(db)->subs;
  if (s->efd >= 0) {
    uint64_t v;
    ssize_t r = read(s->efd, &v, sizeof v);
    (void)r;
  }
  return drain(s, true);
}
