/*
 * room.c — the room signaling protocol (docs/protocol/signaling.md, version 1) on top of the
 * relay pool: peers of (appId, roomId) publish ephemeral events tagged with the room topic,
 * announce themselves every announce_ms ("hello"), say "bye" when they leave, and send
 * "signal" messages (offers, answers, candidates: opaque strings) addressed to one peer. With
 * a password every message is sealed (seal.c), so a process without it reads nothing.
 * This layer knows nothing of WebRTC or of the database: a peer connection plugs in through
 * gdb_signal_callbacks and gdb_signal_room_send().
 */
#include "core/error.h"
#include "net/loop.h"
#include "net/nostr/event.h"
#include "net/nostr/lws_glue.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SIGNAL_KIND 25050 /* ephemeral: relays forward and forget */
#define SIGNAL_VERSION 1
#define FRESH_SECS 120 /* events further than this from our clock are replays or junk */

struct gdb_signal_room {
  gdb_net_loop *loop;
  gdb_nostr_pool *pool;
  gdb_signal_callbacks cbs;
  char *app, *room, *password;
  uint8_t key[32];
  char self[65];
  char topic[65];
  uint32_t announce_ms, timeout_ms;
  guint announce_timer, expire_timer;
  GHashTable *peers; /* hex (owned) -> int64_t last seen, µs (owned) */
  gdb_signal_stats st;
  pthread_mutex_t bye_mu;
  pthread_cond_t bye_cond;
  int bye_acks;
};

static void topic_of(const char *app, const char *room, char out[65]) {
  /* "genosdb-signal/1" NUL app NUL room: the NULs keep ("a:b","c") and ("a","b:c") apart */
  size_t na = strlen(app), nr = strlen(room), n = 17 + na + 1 + nr;
  uint8_t h[32], *buf = malloc(n);
  if (!buf) {
    memset(out, '0', 64);
    out[64] = 0;
    return;
  }
  memcpy(buf, "genosdb-signal/1", 17);
  memcpy(buf + 17, app, na + 1);
  memcpy(buf + 18 + na, room, nr);
  SHA256(buf, n, h);
  free(buf);
  static const char *hex = "0123456789abcdef";
  for (int i = 0; i < 32; i++) {
    out[2 * i] = hex[h[i] >> 4];
    out[2 * i + 1] = hex[h[i] & 15];
  }
  out[64] = 0;
}

/* Builds, seals when needed, signs and publishes one message. */
static int room_publish(gdb_signal_room *r, json_t *msg, gdb_nostr_ok_fn ok) {
  json_object_set_new(msg, "v", json_integer(SIGNAL_VERSION));
  char *plain = json_dumps(msg, JSON_COMPACT);
  json_decref(msg);
  if (!plain) return gdb_fail(GDB_ENOMEM, "signal: out of memory");
  char *content = plain;
  int rc;
  if (r->password) {
    rc = gdb_signal_seal(r->password, r->app, r->room, plain, strlen(plain), &content);
    free(plain);
    if (rc) return rc;
  }
  char tags[96];
  snprintf(tags, sizeof tags, "[[\"x\",\"%s\"]]", r->topic);
  gdb_nostr_event *ev;
  rc = gdb_nostr_event_sign(r->key, 0, SIGNAL_KIND, tags, content, &ev);
  free(content);
  if (rc) return rc;
  rc = gdb_nostr_pool_publish(r->pool, ev, ok, r);
  gdb_nostr_event_release(ev);
  if (!rc) __atomic_add_fetch(&r->st.sent, 1, __ATOMIC_RELAXED);
  return rc;
}

static void send_hello(gdb_signal_room *r) {
  json_t *m = json_pack("{s:s}", "t", "hello");
  if (m) room_publish(r, m, NULL);
}

static void peer_touch(gdb_signal_room *r, const char *peer, bool *is_new) {
  int64_t *seen = g_hash_table_lookup(r->peers, peer);
  *is_new = !seen;
  if (!seen) {
    seen = malloc(sizeof *seen);
    char *k = strdup(peer);
    if (!seen || !k) {
      free(seen);
      free(k);
      return;
    }
    g_hash_table_insert(r->peers, k, seen);
    r->st.peers = g_hash_table_size(r->peers);
  }
  *seen = gdb_nostr_now_us();
  if (*is_new && r->cbs.peer_seen) r->cbs.peer_seen(r, peer, r->cbs.data);
}

static void peer_forget(gdb_signal_room *r, const char *peer) {
  if (!g_hash_table_remove(r->peers, peer)) return;
  r->st.peers = g_hash_table_size(r->peers);
  if (r->cbs.peer_lost) r->cbs.peer_lost(r, peer, r->cbs.data);
}

static void on_event(const gdb_nostr_event *ev, const char *relay, void *data) {
  gdb_signal_room *r = data;
  (void)relay;
  const char *from = gdb_nostr_event_pubkey(ev);
  if (!strcmp(from, r->self)) return;
  int64_t age = (int64_t)time(NULL) - gdb_nostr_event_created_at(ev);
  if (age > FRESH_SECS || age < -FRESH_SECS) return;
  r->st.received++;
  const char *content = gdb_nostr_event_content(ev);
  char *plain = NULL;
  if (r->password && gdb_signal_unseal(r->password, r->app, r->room, content, &plain, NULL)) {
    r->st.unreadable++;
    return;
  }
  json_t *m = json_loads(plain ? plain : content, JSON_REJECT_DUPLICATES, NULL);
  free(plain);
  const char *t = json_string_value(json_object_get(m, "t"));
  if (!t || json_integer_value(json_object_get(m, "v")) != SIGNAL_VERSION) {
    r->st.unreadable++;
    json_decref(m);
    return;
  }
  bool is_new;
  if (!strcmp(t, "hello")) {
    peer_touch(r, from, &is_new);
    if (is_new) send_hello(r); /* so the newcomer learns of us now, not in announce_ms */
  } else if (!strcmp(t, "bye")) {
    peer_forget(r, from);
  } else if (!strcmp(t, "signal")) {
    const char *to = json_string_value(json_object_get(m, "to"));
    const char *type = json_string_value(json_object_get(m, "type"));
    const char *payload = json_string_value(json_object_get(m, "data"));
    if (!to || !type || !payload) {
      r->st.unreadable++;
    } else if (!strcmp(to, r->self)) {
      peer_touch(r, from, &is_new);
      if (r->cbs.signal) r->cbs.signal(r, from, type, payload, r->cbs.data);
    }
  } else {
    /* a message type of a later version: ignore */
  }
  json_decref(m);
}

static gboolean announce_fired(gpointer p) {
  send_hello(p);
  return G_SOURCE_CONTINUE;
}

static gboolean expire_fired(gpointer p) {
  gdb_signal_room *r = p;
  int64_t now = gdb_nostr_now_us();
  GHashTableIter it;
  gpointer k, v;
  GPtrArray *gone = g_ptr_array_new_with_free_func(free);
  g_hash_table_iter_init(&it, r->peers);
  while (g_hash_table_iter_next(&it, &k, &v))
    if (now - *(int64_t *)v > (int64_t)r->timeout_ms * 1000) g_ptr_array_add(gone, strdup(k));
  for (guint i = 0; i < gone->len; i++) peer_forget(r, g_ptr_array_index(gone, i));
  g_ptr_array_free(gone, TRUE);
  return G_SOURCE_CONTINUE;
}

static void room_free(gdb_signal_room *r) {
  if (!r) return;
  gdb_nostr_pool_free(r->pool);
  if (r->peers) g_hash_table_destroy(r->peers);
  if (r->loop) gdb_net_loop_release(r->loop);
  OPENSSL_cleanse(r->key, sizeof r->key);
  free(r->app);
  free(r->room);
  if (r->password) OPENSSL_cleanse(r->password, strlen(r->password));
  free(r->password);
  pthread_mutex_destroy(&r->bye_mu);
  pthread_cond_destroy(&r->bye_cond);
  free(r);
}

int gdb_signal_room_join(const gdb_signal_options *o, const gdb_signal_callbacks *cbs,
                         gdb_signal_room **out) {
  *out = NULL;
  if (!o || !o->app_id || !o->room_id || !o->app_id[0] || !o->room_id[0])
    return gdb_fail(GDB_EINVAL, "signal: an app id and a room id are needed");
  gdb_signal_room *r = calloc(1, sizeof *r);
  if (!r) return gdb_fail(GDB_ENOMEM, "signal: out of memory");
  pthread_mutex_init(&r->bye_mu, NULL);
  pthread_cond_init(&r->bye_cond, NULL);
  if (cbs) r->cbs = *cbs;
  r->app = strdup(o->app_id);
  r->room = strdup(o->room_id);
  r->password = o->password && o->password[0] ? strdup(o->password) : NULL;
  r->peers = g_hash_table_new_full(g_str_hash, g_str_equal, free, free);
  r->announce_ms = o->announce_ms ? o->announce_ms : 30000;
  r->timeout_ms = o->peer_timeout_ms ? o->peer_timeout_ms : 3 * r->announce_ms;
  int rc;
  if (!r->app || !r->room || (o->password && o->password[0] && !r->password)) {
    rc = gdb_fail(GDB_ENOMEM, "signal: out of memory");
    goto fail;
  }
  topic_of(r->app, r->room, r->topic);
  if ((rc = gdb_nostr_key_generate(r->key)) || (rc = gdb_nostr_key_pubkey(r->key, r->self)))
    goto fail;
  if ((rc = gdb_nostr_pool_new(o->relays, o->n_relays, o->pool, &r->pool))) goto fail;
  r->loop = gdb_net_loop_acquire();
  char filters[200];
  snprintf(filters, sizeof filters, "[{\"kinds\":[%d],\"#x\":[\"%s\"],\"since\":%lld}]",
           SIGNAL_KIND, r->topic, (long long)time(NULL) - 10);
  if ((rc = gdb_nostr_pool_subscribe(r->pool, filters, on_event, NULL, r, NULL))) goto fail;
  send_hello(r);
  r->announce_timer = gdb_net_loop_timeout(r->loop, r->announce_ms, announce_fired, r);
  guint every = r->timeout_ms / 4 > 250 ? r->timeout_ms / 4 : 250;
  r->expire_timer = gdb_net_loop_timeout(r->loop, every, expire_fired, r);
  *out = r;
  return GDB_OK;
fail:
  room_free(r);
  return rc;
}

const char *gdb_signal_room_self(const gdb_signal_room *r) { return r->self; }

int gdb_signal_room_send(gdb_signal_room *r, const char *peer, const char *type,
                         const char *payload) {
  if (!peer || strlen(peer) != 64 || !type || !type[0] || !payload)
    return gdb_fail(GDB_EINVAL, "signal: send needs a 64-hex peer id, a type and a payload");
  json_t *m =
      json_pack("{s:s, s:s, s:s, s:s}", "t", "signal", "to", peer, "type", type, "data", payload);
  if (!m) return gdb_fail(GDB_EINVAL, "signal: type and payload must be UTF-8 text");
  return room_publish(r, m, NULL);
}

typedef struct stats_call {
  gdb_signal_room *r;
  gdb_signal_stats st;
} stats_call;

static void stats_on_loop(void *p) {
  stats_call *c = p;
  c->st = c->r->st;
}

int gdb_signal_room_get_stats(gdb_signal_room *r, gdb_signal_stats *out) {
  stats_call c = {.r = r};
  gdb_net_loop_invoke_sync(r->loop, stats_on_loop, &c);
  *out = c.st;
  return GDB_OK;
}

static void bye_ok(const char *id, bool ok, const char *msg, const char *relay, void *data) {
  gdb_signal_room *r = data;
  pthread_mutex_lock(&r->bye_mu);
  r->bye_acks++;
  pthread_cond_broadcast(&r->bye_cond);
  pthread_mutex_unlock(&r->bye_mu);
}

static void remove_source(gdb_net_loop *loop, guint id) {
  GSource *s = id ? g_main_context_find_source_by_id(gdb_net_loop_context(loop), id) : NULL;
  if (s) g_source_destroy(s);
}

static void stop_timers_on_loop(void *p) {
  gdb_signal_room *r = p;
  remove_source(r->loop, r->announce_timer);
  remove_source(r->loop, r->expire_timer);
  r->announce_timer = r->expire_timer = 0;
}

void gdb_signal_room_leave(gdb_signal_room *r) {
  if (!r) return;
  gdb_net_loop_invoke_sync(r->loop, stop_timers_on_loop, r);
  /* Say goodbye and give the open relays a moment (at most 500 ms) to take it. */
  size_t open = gdb_nostr_pool_open_count(r->pool);
  json_t *m = json_pack("{s:s}", "t", "bye");
  if (m && open && room_publish(r, m, bye_ok) == GDB_OK) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += 500000000L;
    if (until.tv_nsec >= 1000000000L) {
      until.tv_sec++;
      until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&r->bye_mu);
    while (r->bye_acks < (int)open)
      if (pthread_cond_timedwait(&r->bye_cond, &r->bye_mu, &until)) break;
    pthread_mutex_unlock(&r->bye_mu);
  }
  room_free(r);
}
