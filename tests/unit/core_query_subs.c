/*
 * core_query_subs.c — live subscriptions: the events of plain filters, $limit windows,
 * one-node watches and $edge subscriptions, from local writes and gdb_apply_remote;
 * cancellation (also from inside a callback and from another thread); callbacks that write;
 * polled delivery; and randomized runs (100,000 writes, 1,000 subscriptions; two writer
 * threads) after which every subscriber's view must equal a fresh map.
 */
#include "core_query_util.h"

#include <glib.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

/* ── an event log: "action:id" words ── */

typedef struct evlog {
  char s[16384];
  size_t n;
} evlog;

static void log_event(gdb_watch *w, gdb_event ev, gdb_node *node, void *data) {
  (void)w;
  evlog *l = data;
  l->n += (size_t)snprintf(l->s + l->n, sizeof l->s - l->n, "%s%s:%s", l->n ? " " : "",
                           gdb_event_name(ev), gdb_node_id(node));
}

#define CHECK_LOG(l, want)                                                                         \
  do {                                                                                             \
    if (strcmp((l)->s, (want))) {                                                                  \
      gdb_test_failed(__FILE__, __LINE__, "events [%s]\n      wanted [%s]", (l)->s, (want));       \
      return;                                                                                      \
    }                                                                                              \
    (l)->n = 0;                                                                                    \
    (l)->s[0] = 0;                                                                                 \
  } while (0)

TEST(subs_plain_filter_events) {
  gdb_t *db;
  CHECK_OK(gdb_open(NULL, NULL, &db));
  CHECK_OK(q_put(db, "a", "{\"type\":\"x\",\"v\":2}"));
  CHECK_OK(q_put(db, "b", "{\"type\":\"y\",\"v\":1}"));
  CHECK_OK(q_put(db, "e", "{\"type\":\"x\",\"v\":1}"));
  evlog l = {.n = 0};
  gdb_watch *w;
  CHECK_OK(gdb_map_watch(db, "{\"query\":{\"type\":\"x\"},\"field\":\"v\"}", log_event, &l, &w));
  CHECK_LOG(&l, "initial:e initial:a"); /* in result order, before the call returns */
  CHECK_OK(q_put(db, "c", "{\"type\":\"x\"}"));
  CHECK_LOG(&l, "added:c");
  CHECK_OK(q_put(db, "a", "{\"type\":\"x\",\"v\":3}"));
  CHECK_LOG(&l, "updated:a");
  CHECK_OK(q_put(db, "a", "{\"type\":\"y\"}"));
  CHECK_LOG(&l, "removed:a");
  CHECK_OK(gdb_remove(db, "c"));
  CHECK_LOG(&l, "removed:c");
  CHECK_OK(gdb_link(db, "b", "e"));
  CHECK_LOG(&l, ""); /* b does not match */
  CHECK_OK(q_put(db, "b", "{\"type\":\"x\"}"));
  CHECK_LOG(&l, "added:b");
  CHECK_OK(gdb_link(db, "b", "a"));
  CHECK_LOG(&l, "updated:b");    /* edges are part of a result */
  CHECK_OK(gdb_remove(db, "e")); /* first drops the edge b -> e, then removes e */
  CHECK_LOG(&l, "updated:b removed:e");
  CHECK_OK(gdb_clear(db)); /* removing a first drops the edge b -> a */
  CHECK_LOG(&l, "updated:b removed:b");
  gdb_watch_cancel(w);
  CHECK_OK(q_put(db, "d", "{\"type\":\"x\"}"));
  CHECK_LOG(&l, "");
  gdb_close(db);
}

TEST(subs_remote_operations_notify) {
  gdb_t *db;
  CHECK_OK(gdb_open(NULL, NULL, &db));
  evlog l = {.n = 0};
  gdb_watch *w, *g;
  CHECK_OK(gdb_map_watch(db, "{\"query\":{\"v\":{\"$gt\":1}}}", log_event, &l, &w));
  CHECK_OK(gdb_get_watch(db, "r1", log_event, &l, &g));
  CHECK_LOG(&l, "");
  int64_t now = (int64_t)time(NULL) * 1000;
  char ops[512];
  snprintf(ops, sizeof ops,
           "[{\"type\":\"upsert\",\"id\":\"r1\",\"value\":{\"v\":5},\"timestamp\":{\"physical\":%"
           "lld,\"logical\":0},\"origin\":\"p\"},"
           "{\"type\":\"upsert\",\"id\":\"r2\",\"value\":{\"v\":0},\"timestamp\":{\"physical\":%"
           "lld,\"logical\":0},\"origin\":\"p\"}]",
           (long long)now, (long long)now);
  CHECK_OK(gdb_apply_remote_json(db, ops, strlen(ops), NULL));
  CHECK_LOG(&l, "added:r1 added:r1");
  snprintf(ops, sizeof ops,
           "{\"type\":\"remove\",\"id\":\"r1\",\"timestamp\":{\"physical\":%lld,\"logical\":1},"
           "\"origin\":\"p\"}",
           (long long)now);
  CHECK_OK(gdb_apply_remote_json(db, ops, strlen(ops), NULL));
  CHECK_LOG(&l, "removed:r1 removed:r1");
  /* an older upsert loses to the removal: nothing happens */
  snprintf(ops, sizeof ops,
           "{\"type\":\"upsert\",\"id\":\"r1\",\"value\":{\"v\":9},\"timestamp\":{\"physical\":%"
           "lld,\"logical\":0},\"origin\":\"q\"}",
           (long long)now - 5);
  CHECK_OK(gdb_apply_remote_json(db, ops, strlen(ops), NULL));
  CHECK_LOG(&l, "");
  gdb_watch_cancel(w);
  gdb_watch_cancel(g);
  gdb_close(db);
}

TEST(subs_limit_window_events) {
  gdb_t *db;
  CHECK_OK(gdb_open(NULL, NULL, &db));
  CHECK_OK(q_put(db, "a1", "{\"t\":\"x\",\"v\":1}"));
  CHECK_OK(q_put(db, "a2", "{\"t\":\"x\",\"v\":2}"));
  CHECK_OK(q_put(db, "a3", "{\"t\":\"x\",\"v\":3}"));
  evlog l = {.n = 0};
  gdb_watch *w;
  CHECK_OK(gdb_map_watch(db, "{\"query\":{\"t\":\"x\"},\"field\":\"v\",\"$limit\":2}", log_event,
                         &l, &w));
  CHECK_LOG(&l, "initial:a1 initial:a2");
  CHECK_OK(q_put(db, "a0", "{\"t\":\"x\",\"v\":0}")); /* enters, pushes a2 out */
  CHECK_LOG(&l, "added:a0 removed:a2");
  CHECK_OK(q_put(db, "a9", "{\"t\":\"x\",\"v\":9}")); /* beyond the window */
  CHECK_LOG(&l, "");
  CHECK_OK(gdb_remove(db, "a1")); /* leaves, pulls a2 in */
  CHECK_LOG(&l, "removed:a1 added:a2");
  CHECK_OK(q_put(db, "a0", "{\"t\":\"x\",\"v\":10}")); /* moves out: a3 comes in */
  CHECK_LOG(&l, "removed:a0 added:a3");
  CHECK_OK(q_put(db, "a2", "{\"t\":\"x\",\"v\":2.5}")); /* moves inside the window */
  CHECK_LOG(&l, "updated:a2");
  CHECK_OK(q_put(db, "a3", "{\"t\":\"x\",\"v\":2}")); /* reorders inside */
  CHECK_LOG(&l, "updated:a3");
  CHECK_OK(q_put(db, "a9", "{\"t\":\"x\",\"v\":-1}")); /* from outside to first */
  CHECK_LOG(&l, "added:a9 removed:a2");
  CHECK_OK(q_put(db, "a9", "{\"t\":\"y\"}")); /* stops matching: a2 returns */
  CHECK_LOG(&l, "removed:a9 added:a2");
  CHECK_OK(q_put(db, "a3", "{\"t\":\"x\",\"v\":100}")); /* the bound leaves: a0 (v 10) is next */
  CHECK_LOG(&l, "removed:a3 added:a0");
  gdb_watch_cancel(w);
  /* $limit 0 never has anything */
  CHECK_OK(gdb_map_watch(db, "{\"query\":{\"t\":\"x\"},\"$limit\":0}", log_event, &l, &w));
  CHECK_OK(q_put(db, "b", "{\"t\":\"x\"}"));
  CHECK_LOG(&l, "");
  gdb_watch_cancel(w);
  gdb_close(db);
}

TEST(subs_window_with_cursors) {
  gdb_t *db;
  CHECK_OK(gdb_open(NULL, NULL, &db));
  for (int i = 0; i < 6; i++) {
    char id[8], v[32];
    snprintf(id, sizeof id, "k%d", i);
    snprintf(v, sizeof v, "{\"v\":%d}", i * 10);
    CHECK_OK(q_put(db, id, v));
  }
  evlog l = {.n = 0}, m = {.n = 0};
  gdb_watch *back, *after;
  /* the two just before k4 (v 40) in v order: k2, k3 */
  CHECK_OK(
      gdb_map_watch(db, "{\"field\":\"v\",\"$before\":\"k4\",\"$limit\":2}", log_event, &l, &back));
  CHECK_LOG(&l, "initial:k2 initial:k3");
  CHECK_OK(
      gdb_map_watch(db, "{\"field\":\"v\",\"$after\":\"k1\",\"$limit\":2}", log_event, &m, &after));
  CHECK_LOG(&m, "initial:k2 initial:k3");
  CHECK_OK(
      q_put(db, "n", "{\"v\":35}")); /* right before the cursor: pushes k2 out of the back window */
  CHECK_LOG(&l, "added:n removed:k2");
  CHECK_LOG(&m, "");
  CHECK_OK(q_put(db, "k4", "{\"v\":0}")); /* the cursor node moves: the window does not */
  CHECK_LOG(&l, "");
  CHECK_LOG(&m, "");
  CHECK_OK(q_put(db, "p", "{\"v\":15}")); /* just after k1 (10) */
  CHECK_LOG(&m, "added:p removed:k3");
  CHECK_LOG(&l, "");
  CHECK_OK(gdb_remove(db, "n"));
  CHECK_LOG(&l, "removed:n added:k2");
  gdb_watch_cancel(back);
  gdb_watch_cancel(after);
  gdb_close(db);
}

TEST(subs_get_watch_follows_one_node) {
  gdb_t *db;
  CHECK_OK(gdb_open(NULL, NULL, &db));
  CHECK_OK(q_put(db, "a", "{\"v\":1}"));
  evlog l = {.n = 0};
  gdb_watch *w;
  CHECK_OK(gdb_get_watch(db, "a", log_event, &l, &w));
  CHECK_LOG(&l, "initial:a");
  CHECK_OK(q_put(db, "b", "{\"v\":1}"));
  CHECK_LOG(&l, "");
  CHECK_OK(q_put(db, "a", "{\"v\":2}"));
  CHECK_LOG(&l, "updated:a");
  CHECK_OK(gdb_remove(db, "a"));
  CHECK_LOG(&l, "removed:a");
  CHECK_OK(q_put(db, "a", "{\"v\":3}"));
  CHECK_LOG(&l, "added:a");
  gdb_watch_cancel(w);
  CHECK_INT(gdb_get_watch(db, "", log_event, &l, &w), GDB_EINVAL);
  CHECK_INT(gdb_map_watch(db, "{\"query\":{\"v\":{\"$gtt\":1}}}", log_event, &l, &w), GDB_EQUERY);
  CHECK(w == NULL);
  CHECK_INT(gdb_map_watch(db, "{\"field\":\"v\",\"$after\":\"nobody\"}", log_event, &l, &w),
            GDB_ENOTFOUND);
  gdb_close(db);
}

TEST(subs_realtime_false_gives_initial_only) {
  gdb_t *db;
  CHECK_OK(gdb_open(NULL, NULL, &db));
  CHECK_OK(q_put(db, "a", "{\"v\":1}"));
  evlog l = {.n = 0};
  gdb_watch *w;
  CHECK_OK(gdb_map_watch(db, "{\"realtime\":false}", log_event, &l, &w));
  CHECK_LOG(&l, "initial:a");
  CHECK_OK(q_put(db, "b", "{\"v\":1}"));
  CHECK_LOG(&l, "");
  gdb_watch_cancel(w);
  gdb_close(db);
}

/* ── callbacks that act ── */

typedef struct actor {
  gdb_t *db;
  gdb_watch *self;
  evlog log;
  int mode; /* 1: cancel self at the first event; 2: write a log node per added */
} actor;

static void act(gdb_watch *w, gdb_event ev, gdb_node *node, void *data) {
  actor *a = data;
  log_event(w, ev, node, &a->log);
  if (a->mode == 1) {
    gdb_watch_cancel(w);
    a->self = NULL;
  } else if (a->mode == 2 && ev == GDB_EVENT_ADDED) {
    char id[64];
    snprintf(id, sizeof id, "log-%s", gdb_node_id(node));
    q_put(a->db, id, "{\"type\":\"log\"}");
  }
}

TEST(subs_cancel_inside_callback) {
  gdb_t *db;
  CHECK_OK(gdb_open(NULL, NULL, &db));
  actor a = {.db = db, .mode = 1};
  CHECK_OK(gdb_map_watch(db, "{\"query\":{\"v\":1}}", act, &a, &a.self));
  CHECK_OK(q_put(db, "x", "{\"v\":1}"));
  CHECK_OK(q_put(db, "y", "{\"v\":1}"));
  CHECK_LOG(&a.log, "added:x");
  CHECK(a.self == NULL);
  gdb_close(db);
}

TEST(subs_callbacks_may_write) {
  gdb_t *db;
  CHECK_OK(gdb_open(NULL, NULL, &db));
  actor a = {.db = db, .mode = 2};
  evlog l = {.n = 0};
  gdb_watch *w1, *w2;
  CHECK_OK(gdb_map_watch(db, "{\"query\":{\"type\":\"item\"}}", act, &a, &w1));
  CHECK_OK(
      gdb_map_watch(db, "{\"query\":{\"type\":{\"$in\":[\"item\",\"log\"]}}}", log_event, &l, &w2));
  CHECK_OK(q_put(db, "i1", "{\"type\":\"item\"}"));
  /* the write made inside the first callback is delivered after the events before it */
  CHECK_LOG(&a.log, "added:i1");
  CHECK_LOG(&l, "added:i1 added:log-i1");
  gdb_watch_cancel(w1);
  gdb_watch_cancel(w2);
  gdb_close(db);
}

TEST(subs_polled_delivery) {
  gdb_t *db;
  CHECK_OK(gdb_open(NULL, NULL, &db));
  int fd = gdb_watch_fd(db);
  CHECK(fd >= 0);
  CHECK_INT(gdb_watch_fd(db), fd);
  evlog l = {.n = 0};
  gdb_watch *w;
  CHECK_OK(q_put(db, "a", "{\"v\":1}"));
  CHECK_OK(gdb_map_watch(db, "{}", log_event, &l, &w));
  CHECK_LOG(&l, ""); /* nothing runs outside dispatch */
  struct pollfd p = {.fd = fd, .events = POLLIN};
  CHECK_INT(poll(&p, 1, 1000), 1);
  CHECK_INT(gdb_watch_dispatch(db), 1);
  CHECK_LOG(&l, "initial:a");
  CHECK_INT(poll(&p, 1, 0), 0);
  CHECK_OK(q_put(db, "b", "{\"v\":1}"));
  CHECK_OK(q_put(db, "a", "{\"v\":2}"));
  CHECK_LOG(&l, "");
  CHECK_INT(poll(&p, 1, 1000), 1);
  CHECK_INT(gdb_watch_dispatch(db), 2);
  CHECK_LOG(&l, "added:b updated:a");
  CHECK_INT(gdb_watch_dispatch(db), 0);
  gdb_watch_cancel(w);
  gdb_close(db);
}

/* ── cancel from another thread while the callback runs ── */

typedef struct slow {
  volatile int started, finished;
} slow;

static void slow_cb(gdb_watch *w, gdb_event ev, gdb_node *node, void *data) {
  (void)w, (void)node;
  slow *s = data;
  if (ev != GDB_EVENT_ADDED) return;
  s->started = 1;
  usleep(100 * 1000);
  s->finished = 1;
}

static void *writer(void *db) {
  q_put(db, "z", "{\"v\":1}");
  return NULL;
}

TEST(subs_cancel_waits_for_a_running_callback) {
  gdb_t *db;
  CHECK_OK(gdb_open(NULL, NULL, &db));
  slow s = {0, 0};
  gdb_watch *w;
  CHECK_OK(gdb_map_watch(db, "{}", slow_cb, &s, &w));
  pthread_t t;
  pthread_create(&t, NULL, writer, db);
  for (int i = 0; i < 2000 && !s.started; i++) usleep(1000);
  CHECK(s.started);
  gdb_watch_cancel(w);
  CHECK(s.finished); /* cancel returned only after the callback did */
  pthread_join(t, NULL);
  gdb_close(db);
}

TEST(subs_edge_subscription) {
  gdb_t *db;
  CHECK_OK(gdb_open(NULL, NULL, &db));
  CHECK_OK(q_put(db, "root", "{\"name\":\"root\"}"));
  CHECK_OK(q_put(db, "dir", "{\"kind\":\"dir\"}"));
  CHECK_OK(q_put(db, "f1", "{\"kind\":\"file\",\"size\":1}"));
  CHECK_OK(q_put(db, "f2", "{\"kind\":\"file\",\"size\":2}"));
  CHECK_OK(q_put(db, "far", "{\"kind\":\"file\",\"size\":3}"));
  CHECK_OK(gdb_link(db, "root", "dir"));
  CHECK_OK(gdb_link(db, "dir", "f1"));
  evlog l = {.n = 0};
  gdb_watch *w;
  CHECK_OK(gdb_map_watch(db, "{\"query\":{\"name\":\"root\",\"$edge\":{\"kind\":\"file\"}}}",
                         log_event, &l, &w));
  CHECK_LOG(&l, "initial:f1");
  CHECK_OK(gdb_link(db, "dir", "f2"));
  CHECK_LOG(&l, "added:f2");
  CHECK_OK(q_put(db, "far", "{\"kind\":\"file\",\"size\":4}")); /* not reachable */
  CHECK_LOG(&l, "");
  CHECK_OK(q_put(db, "f1", "{\"kind\":\"file\",\"size\":5}"));
  CHECK_LOG(&l, "updated:f1");
  CHECK_OK(gdb_link(db, "f2", "later"));
  CHECK_LOG(&l, "updated:f2");                         /* f2's edges changed */
  CHECK_OK(q_put(db, "later", "{\"kind\":\"file\"}")); /* arrives below f2 */
  CHECK_LOG(&l, "added:later");
  CHECK_OK(gdb_remove(db, "dir"));
  CHECK_LOG(&l, "removed:f1 removed:f2 removed:later");
  CHECK_OK(q_put(db, "root2", "{\"name\":\"root\"}"));
  CHECK_OK(gdb_link(db, "root2", "far"));
  CHECK_LOG(&l, "added:far");
  gdb_watch_cancel(w);
  gdb_close(db);
}

/* ── randomized: views against fresh maps ── */

typedef struct view {
  GHashTable *ids; /* id -> gdb_node * (retained) */
  char opts[256];
  bool get;
  uint64_t bad, events;
} view;

static void view_event(gdb_watch *w, gdb_event ev, gdb_node *node, void *data) {
  (void)w;
  view *v = data;
  const char *id = gdb_node_id(node);
  bool has = g_hash_table_contains(v->ids, id);
  v->events++;
  if (ev == GDB_EVENT_REMOVED) {
    if (!has) v->bad++;
    g_hash_table_remove(v->ids, id);
    return;
  }
  if ((ev == GDB_EVENT_UPDATED) != has) v->bad++;
  gdb_node_retain(node);
  g_hash_table_replace(v->ids, g_strdup(id), node);
}

static void release(gpointer p) { gdb_node_release(p); }

/* 0 when v holds exactly what a fresh map (or get) gives, the same snapshots. */
static int view_check(gdb_t *db, view *v) {
  if (v->bad) return 1;
  if (v->get) {
    gdb_node *n = NULL;
    const char *id = v->opts;
    gdb_get(db, id, &n);
    int ok = n ? g_hash_table_size(v->ids) == 1 && g_hash_table_lookup(v->ids, id) == n
               : g_hash_table_size(v->ids) == 0;
    if (n) gdb_node_release(n);
    return !ok;
  }
  gdb_result *r;
  if (gdb_map(db, v->opts, &r)) return 2;
  int bad = gdb_result_len(r) != g_hash_table_size(v->ids) ? 3 : 0;
  for (size_t i = 0; !bad && i < gdb_result_len(r); i++) {
    gdb_node *n = gdb_result_at(r, i);
    if (g_hash_table_lookup(v->ids, gdb_node_id(n)) != n) bad = 4;
  }
  gdb_result_free(r);
  return bad;
}

static uint64_t srng = 0x2545f4914f6cdd1dull;
static uint32_t srnd(uint32_t n) {
  srng ^= srng << 13;
  srng ^= srng >> 7;
  srng ^= srng << 17;
  return (uint32_t)(srng % n);
}

static void sub_options(int i, view *v) {
  uint32_t t = srnd(30), x = srnd(1000);
  switch (i % 20) {
  case 0:
  case 1:
  case 2:
  case 3:
  case 4:
  case 5:
  case 6:
  case 7:
  case 8:
  case 9:
    snprintf(v->opts, sizeof v->opts, "{\"query\":{\"type\":\"t%u\",\"v\":{\"$gte\":%u}}}", t, x);
    break;
  case 10:
  case 11:
  case 12:
  case 13:
  case 14:
  case 15:
    snprintf(v->opts, sizeof v->opts,
             "{\"query\":{\"type\":\"t%u\"},\"field\":\"v\",\"order\":\"%s\",\"$limit\":%u}", t,
             srnd(2) ? "asc" : "desc", 1 + srnd(20));
    break;
  case 16:
  case 17:
    snprintf(v->opts, sizeof v->opts,
             "{\"query\":{\"type\":{\"$in\":[\"t%u\",\"t%u\"]},\"v\":{\"$lt\":%u}},\"field\":\"v\","
             "\"$limit\":%u}",
             t, srnd(30), x, 1 + srnd(10));
    break;
  case 18:
    if (i % 40 == 18)
      snprintf(v->opts, sizeof v->opts, "{\"query\":{\"v\":{\"$gte\":%u,\"$lt\":%u}}}", x, x + 30);
    else
      snprintf(
          v->opts, sizeof v->opts,
          "{\"query\":{\"w\":{\"$exists\":true}},\"field\":\"w\",\"order\":\"desc\",\"$limit\":5}");
    break;
  default:
    v->get = true;
    snprintf(v->opts, sizeof v->opts, "n%u", srnd(3000));
    break;
  }
}

static void random_write(gdb_t *db, uint32_t pool, int64_t *remote_ts) {
  char id[32], id2[32], doc[128];
  uint32_t r = srnd(100);
  snprintf(id, sizeof id, "n%u", srnd(pool));
  if (r < 70) {
    if (srnd(4))
      snprintf(doc, sizeof doc, "{\"type\":\"t%u\",\"v\":%u}", srnd(30), srnd(1000));
    else
      snprintf(doc, sizeof doc, "{\"type\":\"t%u\",\"v\":%u,\"w\":%u}", srnd(30), srnd(1000),
               srnd(100));
    q_put(db, id, doc);
  } else if (r < 85) {
    gdb_remove(db, id);
  } else if (r < 95) {
    snprintf(id2, sizeof id2, "n%u", srnd(pool));
    gdb_link(db, id, id2);
  } else {
    char ops[256];
    snprintf(ops, sizeof ops,
             "{\"type\":\"upsert\",\"id\":\"r%u\",\"value\":{\"type\":\"t%u\",\"v\":%u},"
             "\"timestamp\":{\"physical\":%lld,\"logical\":0},\"origin\":\"p\"}",
             srnd(200), srnd(30), srnd(1000), (long long)++*remote_ts);
    gdb_apply_remote_json(db, ops, strlen(ops), NULL);
  }
}

/* Subscriptions of the kinds that cost more per write: $edge, cursors, $or, $nor, $text. */
static void hard_options(int i, view *v) {
  uint32_t t = srnd(30), x = srnd(1000);
  switch (i % 8) {
  case 0:
    snprintf(v->opts, sizeof v->opts,
             "{\"query\":{\"type\":\"t%u\",\"$edge\":{\"v\":{\"$lt\":%u}}}}", t, x);
    break;
  case 1:
    snprintf(v->opts, sizeof v->opts,
             "{\"query\":{\"type\":\"t%u\",\"$edge\":{\"$depth\":2,\"type\":\"t%u\"}},\"field\":"
             "\"v\",\"$limit\":4}",
             t, srnd(30));
    break;
  /* cursors on nodes the writes never touch: a live subscription keeps the cursor position it
   * started with, while a fresh map reads the cursor node as it is now */
  case 2:
    snprintf(v->opts, sizeof v->opts, "{\"field\":\"v\",\"$after\":\"c%u\",\"$limit\":6}",
             srnd(50));
    break;
  case 3:
    snprintf(v->opts, sizeof v->opts,
             "{\"field\":\"v\",\"order\":\"desc\",\"$before\":\"c%u\",\"$limit\":5}", srnd(50));
    break;
  case 4:
    snprintf(v->opts, sizeof v->opts, "{\"$after\":\"c%u\",\"$before\":\"c%u\"}", srnd(50),
             srnd(50));
    break;
  case 5:
    snprintf(v->opts, sizeof v->opts,
             "{\"query\":{\"$or\":[{\"type\":\"t%u\"},{\"w\":{\"$lt\":10}}]},\"order\":\"desc\",\"$"
             "limit\":8}",
             t);
    break;
  case 6:
    snprintf(v->opts, sizeof v->opts,
             "{\"query\":{\"$nor\":[{\"type\":\"t%u\"}],\"v\":{\"$between\":[%u,%u]}}}", t, x,
             x + 100);
    break;
  default:
    snprintf(v->opts, sizeof v->opts,
             "{\"query\":{\"type\":{\"$startsWith\":\"t1\"}},\"field\":\"w\",\"$limit\":3}");
    break;
  }
}

static int run_random(int nsubs, int writes, int hard) {
  gdb_t *db;
  if (gdb_open(NULL, NULL, &db)) return -1;
  int64_t ts = (int64_t)time(NULL) * 1000 - 3600 * 1000;
  for (int i = 0; i < 2000; i++) random_write(db, 3000, &ts);
  for (int i = 0; i < 50; i++) {
    char id[16], doc[64];
    snprintf(id, sizeof id, "c%d", i);
    snprintf(doc, sizeof doc, "{\"type\":\"t%u\",\"v\":%u}", srnd(30), srnd(1000));
    q_put(db, id, doc);
  }
  for (int i = 0; i < 1000; i++) random_write(db, 3000, &ts); /* nodes created after the cursors */
  view *v = calloc((size_t)nsubs, sizeof *v);
  gdb_watch **w = calloc((size_t)nsubs, sizeof *w);
  for (int i = 0; i < nsubs; i++) {
    v[i].ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, release);
    int rc = GDB_ENOTFOUND;
    for (int tries = 0; rc == GDB_ENOTFOUND && tries < 20; tries++) { /* cursors must name nodes */
      if (hard)
        hard_options(i, &v[i]);
      else
        sub_options(i, &v[i]);
      rc = v[i].get ? gdb_get_watch(db, v[i].opts, view_event, &v[i], &w[i])
                    : gdb_map_watch(db, v[i].opts, view_event, &v[i], &w[i]);
    }
    if (rc) {
      fprintf(stderr, "  %s: %s\n", v[i].opts, gdb_errmsg());
      return -2;
    }
  }
  for (int k = 0; k < writes; k++) random_write(db, 3000, &ts);
  int failures = 0;
  uint64_t events = 0;
  for (int i = 0; i < nsubs; i++) {
    int b = view_check(db, &v[i]);
    events += v[i].events;
    if (b && failures++ < 5)
      fprintf(stderr, "  view %d (%s) differs (%d, %llu bad events)\n", i, v[i].opts, b,
              (unsigned long long)v[i].bad);
  }
  fprintf(stderr, "  %d subscriptions, %d writes, %llu events\n", nsubs, writes,
          (unsigned long long)events);
  for (int i = 0; i < nsubs; i++) {
    gdb_watch_cancel(w[i]);
    g_hash_table_destroy(v[i].ids);
  }
  free(v);
  free(w);
  gdb_close(db);
  return failures;
}

TEST(subs_random_100k_writes_1000_subscriptions) { CHECK_INT(run_random(1000, 100000, 0), 0); }
TEST(subs_random_edge_cursor_logic_subscriptions) { CHECK_INT(run_random(48, 20000, 1), 0); }

/* ── two writer threads ── */

typedef struct thr {
  gdb_t *db;
  int writes;
  uint64_t seed;
  int64_t ts;
} thr;

static void *thread_writes(void *p) {
  thr *t = p;
  char id[32], doc[96];
  uint64_t s = t->seed;
  for (int k = 0; k < t->writes; k++) {
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    snprintf(id, sizeof id, "n%u", (unsigned)(s % 500));
    if (s % 7 == 0) {
      gdb_remove(t->db, id);
    } else {
      snprintf(doc, sizeof doc, "{\"type\":\"t%u\",\"v\":%u}", (unsigned)(s >> 20) % 5,
               (unsigned)(s >> 32) % 100);
      q_put(t->db, id, doc);
    }
  }
  return NULL;
}

TEST(subs_two_writer_threads) {
  gdb_t *db;
  CHECK_OK(gdb_open(NULL, NULL, &db));
  view v[6] = {{0}};
  gdb_watch *w[6];
  const char *opts[6] = {"{\"query\":{\"type\":\"t1\"}}",
                         "{\"query\":{\"v\":{\"$lt\":50}}}",
                         "{\"query\":{\"type\":\"t2\"},\"field\":\"v\",\"$limit\":7}",
                         "{\"field\":\"v\",\"order\":\"desc\",\"$limit\":3}",
                         "{}",
                         "{\"query\":{\"type\":\"t4\",\"v\":{\"$gt\":90}}}"};
  for (int i = 0; i < 6; i++) {
    v[i].ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, release);
    snprintf(v[i].opts, sizeof v[i].opts, "%s", opts[i]);
    CHECK_OK(gdb_map_watch(db, opts[i], view_event, &v[i], &w[i]));
  }
  thr a = {db, 20000, 0x1234567ull, 0}, b = {db, 20000, 0x7654321ull, 0};
  pthread_t ta, tb;
  pthread_create(&ta, NULL, thread_writes, &a);
  pthread_create(&tb, NULL, thread_writes, &b);
  pthread_join(ta, NULL);
  pthread_join(tb, NULL);
  for (int i = 0; i < 6; i++) {
    CHECK_MSG(view_check(db, &v[i]) == 0, "view %s differs (%llu bad events)", opts[i],
              (unsigned long long)v[i].bad);
    gdb_watch_cancel(w[i]);
    g_hash_table_destroy(v[i].ids);
  }
  gdb_close(db);
}
