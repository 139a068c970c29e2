/* net_nostr_pool.c — the relay pool against embedded relays on loopback: parallel relays with
 * de-duplication, reconnection after a relay restart (subscriptions re-sent), a relay that
 * demands proof of work (dropped), a relay that never answers (does not delay the others),
 * and a relay that keeps failing (dropped after max_failures). */
#include "test.h"

#include "genosdb.h"
#include "nostr_ws.h"

#include <pthread.h>
#include <stdlib.h>

typedef struct seen {
  pthread_mutex_t mu;
  int events, eose, oks, ok_true;
  char last_id[65];
  char last_ok_msg[200];
} seen;

static void on_event(const gdb_nostr_event *ev, const char *relay, void *data) {
  seen *s = data;
  pthread_mutex_lock(&s->mu);
  s->events++;
  snprintf(s->last_id, sizeof s->last_id, "%s", gdb_nostr_event_id(ev));
  pthread_mutex_unlock(&s->mu);
}

static void on_eose(const char *relay, void *data) {
  seen *s = data;
  pthread_mutex_lock(&s->mu);
  s->eose++;
  pthread_mutex_unlock(&s->mu);
}

static void on_ok(const char *id, bool ok, const char *msg, const char *relay, void *data) {
  seen *s = data;
  pthread_mutex_lock(&s->mu);
  s->oks++;
  s->ok_true += ok;
  snprintf(s->last_ok_msg, sizeof s->last_ok_msg, "%s", msg);
  pthread_mutex_unlock(&s->mu);
}

static int get(seen *s, int *field) {
  pthread_mutex_lock(&s->mu);
  int v = *field;
  pthread_mutex_unlock(&s->mu);
  return v;
}

/* Polls cond every 10 ms for at most ms; true when it held. */
#define WAIT_UNTIL(cond, ms)                                                                       \
  ({                                                                                               \
    int64_t until_ = tws_now_ms() + (ms);                                                          \
    while (!(cond) && tws_now_ms() < until_) usleep(10000);                                        \
    (bool)(cond);                                                                                  \
  })

static gdb_nostr_relay *relay_on(uint16_t port, int min_pow) {
  gdb_nostr_relay_options o;
  gdb_nostr_relay_options_init(&o);
  o.port = port;
  o.min_pow = min_pow;
  gdb_nostr_relay *r = NULL;
  if (gdb_nostr_relay_start(&o, &r)) fprintf(stderr, "relay: %s\n", gdb_errmsg());
  return r;
}

static void url_of(gdb_nostr_relay *r, char *buf, size_t n) {
  snprintf(buf, n, "ws://127.0.0.1:%u", gdb_nostr_relay_port(r));
}

static gdb_nostr_event *event(const char *content) {
  uint8_t sk[32];
  gdb_nostr_key_generate(sk);
  gdb_nostr_event *ev = NULL;
  gdb_nostr_event_sign(sk, 0, 1, "[[\"x\",\"pool-test\"]]", content, &ev);
  return ev;
}

static gdb_nostr_relay_state state(gdb_nostr_pool *p, size_t i) {
  gdb_nostr_relay_health h;
  gdb_nostr_pool_health(p, i, &h);
  return h.state;
}

TEST(nostr_pool_two_relays_dedup) {
  gdb_nostr_relay *a = relay_on(0, 0), *b = relay_on(0, 0);
  CHECK(a && b);
  char ua[64], ub[64];
  url_of(a, ua, sizeof ua);
  url_of(b, ub, sizeof ub);
  const char *urls[] = {ua, ub};
  gdb_nostr_pool *p;
  CHECK_OK(gdb_nostr_pool_new(urls, 2, NULL, &p));
  seen s = {.mu = PTHREAD_MUTEX_INITIALIZER};
  uint64_t id;
  CHECK_OK(gdb_nostr_pool_subscribe(p, "[{\"#x\":[\"pool-test\"]}]", on_event, on_eose, &s, &id));
  CHECK(WAIT_UNTIL(get(&s, &s.eose) == 2, 5000));
  gdb_nostr_event *ev = event("to both");
  CHECK_OK(gdb_nostr_pool_publish(p, ev, on_ok, &s));
  CHECK(WAIT_UNTIL(get(&s, &s.oks) == 2, 5000));
  CHECK_INT(get(&s, &s.ok_true), 2);
  CHECK(WAIT_UNTIL(get(&s, &s.events) >= 1, 5000));
  usleep(200000);
  CHECK_INT(get(&s, &s.events), 1); /* delivered by both relays, seen once */
  CHECK_STR(s.last_id, gdb_nostr_event_id(ev));
  gdb_nostr_relay_health h;
  CHECK_OK(gdb_nostr_pool_health(p, 0, &h));
  CHECK_INT(h.state, GDB_NOSTR_OPEN);
  CHECK_INT(h.connects, 1);
  CHECK(h.latency_ms > 0);
  CHECK_OK(gdb_nostr_pool_unsubscribe(p, id));
  CHECK_INT(gdb_nostr_pool_unsubscribe(p, id), GDB_ENOTFOUND);
  gdb_nostr_event_release(ev);
  gdb_nostr_pool_free(p);
  gdb_nostr_relay_stop(a);
  gdb_nostr_relay_stop(b);
}

TEST(nostr_pool_reconnects_after_relay_restart) {
  gdb_nostr_relay *r = relay_on(0, 0);
  CHECK(r);
  uint16_t port = gdb_nostr_relay_port(r);
  char url[64];
  url_of(r, url, sizeof url);
  const char *urls[] = {url};
  gdb_nostr_pool_options o;
  gdb_nostr_pool_options_init(&o);
  o.backoff_min_ms = 50;
  o.backoff_max_ms = 400;
  o.max_failures = 50;
  gdb_nostr_pool *p;
  CHECK_OK(gdb_nostr_pool_new(urls, 1, &o, &p));
  seen s = {.mu = PTHREAD_MUTEX_INITIALIZER};
  CHECK_OK(gdb_nostr_pool_subscribe(p, "[{\"#x\":[\"pool-test\"]}]", on_event, on_eose, &s, NULL));
  CHECK(WAIT_UNTIL(get(&s, &s.eose) == 1, 5000));
  /* kill the relay mid-session */
  gdb_nostr_relay_stop(r);
  CHECK(WAIT_UNTIL(state(p, 0) != GDB_NOSTR_OPEN, 5000));
  usleep(300000); /* a few failed attempts while it is down */
  gdb_nostr_relay_health h;
  CHECK_OK(gdb_nostr_pool_health(p, 0, &h));
  CHECK(h.failures >= 2);
  CHECK(h.state != GDB_NOSTR_DROPPED);
  /* back on the same port: the pool reconnects and re-sends its subscription */
  r = relay_on(port, 0);
  CHECK(r);
  CHECK(WAIT_UNTIL(get(&s, &s.eose) == 2, 5000));
  CHECK_OK(gdb_nostr_pool_health(p, 0, &h));
  CHECK_INT(h.state, GDB_NOSTR_OPEN);
  CHECK_INT(h.connects, 2);
  CHECK_INT(h.consecutive, 0);
  gdb_nostr_event *ev = event("after restart");
  gdb_nostr_pool *other;
  CHECK_OK(gdb_nostr_pool_new(urls, 1, NULL, &other));
  CHECK_OK(gdb_nostr_pool_publish(other, ev, NULL, NULL));
  CHECK(WAIT_UNTIL(get(&s, &s.events) == 1, 5000));
  CHECK_STR(s.last_id, gdb_nostr_event_id(ev));
  gdb_nostr_event_release(ev);
  gdb_nostr_pool_free(other);
  gdb_nostr_pool_free(p);
  gdb_nostr_relay_stop(r);
}

TEST(nostr_pool_drops_relay_demanding_pow) {
  gdb_nostr_relay *pow = relay_on(0, 30), *good = relay_on(0, 0);
  CHECK(pow && good);
  char u1[64], u2[64];
  url_of(pow, u1, sizeof u1);
  url_of(good, u2, sizeof u2);
  const char *urls[] = {u1, u2};
  gdb_nostr_pool *p;
  CHECK_OK(gdb_nostr_pool_new(urls, 2, NULL, &p));
  CHECK(WAIT_UNTIL(state(p, 0) == GDB_NOSTR_DROPPED, 5000)); /* NIP-11 says min_pow 30 */
  gdb_nostr_relay_health h;
  CHECK_OK(gdb_nostr_pool_health(p, 0, &h));
  CHECK(!strncmp(h.reason, "pow:", 4));
  CHECK(WAIT_UNTIL(state(p, 1) == GDB_NOSTR_OPEN, 5000));
  gdb_nostr_pool_free(p);
  /* and by the OK answer alone, when NIP-11 is not consulted in time: publish right away */
  gdb_nostr_pool *q;
  CHECK_OK(gdb_nostr_pool_new(urls, 1, NULL, &q));
  seen s = {.mu = PTHREAD_MUTEX_INITIALIZER};
  gdb_nostr_event *ev = event("no work done");
  CHECK_OK(gdb_nostr_pool_publish(q, ev, on_ok, &s));
  CHECK(WAIT_UNTIL(state(q, 0) == GDB_NOSTR_DROPPED, 5000));
  gdb_nostr_event_release(ev);
  gdb_nostr_pool_free(q);
  gdb_nostr_relay_stop(pow);
  gdb_nostr_relay_stop(good);
}

TEST(nostr_pool_silent_relay_does_not_delay_others) {
  /* a TCP listener that never answers the WebSocket upgrade */
  int silent = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t alen = sizeof a;
  CHECK(!bind(silent, (struct sockaddr *)&a, sizeof a) && !listen(silent, 8));
  CHECK(!getsockname(silent, (struct sockaddr *)&a, &alen));
  gdb_nostr_relay *good = relay_on(0, 0);
  CHECK(good);
  char u1[64], u2[64];
  snprintf(u1, sizeof u1, "ws://127.0.0.1:%u", ntohs(a.sin_port));
  url_of(good, u2, sizeof u2);
  const char *urls[] = {u1, u2};
  gdb_nostr_pool_options o;
  gdb_nostr_pool_options_init(&o);
  o.connect_timeout_ms = 2000;
  gdb_nostr_pool *p;
  CHECK_OK(gdb_nostr_pool_new(urls, 2, &o, &p));
  seen s = {.mu = PTHREAD_MUTEX_INITIALIZER};
  CHECK_OK(gdb_nostr_pool_subscribe(p, "[{\"#x\":[\"pool-test\"]}]", on_event, NULL, &s, NULL));
  gdb_nostr_event *ev = event("not delayed");
  CHECK_OK(gdb_nostr_pool_publish(p, ev, on_ok, &s));
  CHECK(WAIT_UNTIL(get(&s, &s.events) == 1 && get(&s, &s.oks) == 1, 5000));
  /* the good relay answered while the silent one was still connecting */
  CHECK_INT(state(p, 0), GDB_NOSTR_CONNECTING);
  /* then the silent one times out into backoff */
  CHECK(WAIT_UNTIL(state(p, 0) == GDB_NOSTR_BACKOFF, 5000));
  gdb_nostr_relay_health h;
  CHECK_OK(gdb_nostr_pool_health(p, 0, &h));
  CHECK(h.failures >= 1);
  CHECK(strstr(h.reason, "timeout"));
  gdb_nostr_event_release(ev);
  gdb_nostr_pool_free(p);
  gdb_nostr_relay_stop(good);
  close(silent);
}

TEST(nostr_pool_drops_relay_that_keeps_failing) {
  /* a port nobody listens on: connection refused every time */
  int tmp = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t alen = sizeof a;
  CHECK(!bind(tmp, (struct sockaddr *)&a, sizeof a));
  CHECK(!getsockname(tmp, (struct sockaddr *)&a, &alen));
  close(tmp);
  char url[64];
  snprintf(url, sizeof url, "ws://127.0.0.1:%u/", ntohs(a.sin_port));
  const char *urls[] = {url};
  gdb_nostr_pool_options o;
  gdb_nostr_pool_options_init(&o);
  o.backoff_min_ms = 10;
  o.backoff_max_ms = 40;
  o.max_failures = 4;
  gdb_nostr_pool *p;
  CHECK_OK(gdb_nostr_pool_new(urls, 1, &o, &p));
  CHECK(WAIT_UNTIL(state(p, 0) == GDB_NOSTR_DROPPED, 5000));
  gdb_nostr_relay_health h;
  CHECK_OK(gdb_nostr_pool_health(p, 0, &h));
  CHECK_INT(h.failures, 4);
  CHECK(strstr(h.reason, "failed 4 times"));
  gdb_nostr_pool_free(p);
}

TEST(nostr_pool_rejects_bad_urls_and_filters) {
  const char *bad[] = {"http://x", "ws://", "ws://h:99999", "wss://[::1"};
  for (size_t i = 0; i < 4; i++) {
    gdb_nostr_pool *p = NULL;
    CHECK_INT(gdb_nostr_pool_new(&bad[i], 1, NULL, &p), GDB_EINVAL);
    CHECK(!p);
  }
  const char *ok[] = {"ws://127.0.0.1:1"};
  gdb_nostr_pool_options o;
  gdb_nostr_pool_options_init(&o);
  o.max_failures = 1;
  gdb_nostr_pool *p;
  CHECK_OK(gdb_nostr_pool_new(ok, 1, &o, &p));
  CHECK_INT(gdb_nostr_pool_subscribe(p, "{}", on_event, NULL, NULL, NULL), GDB_EINVAL);
  CHECK_INT(gdb_nostr_pool_subscribe(p, "[{\"kinds\":\"x\"}]", on_event, NULL, NULL, NULL),
            GDB_EINVAL);
  gdb_nostr_pool_free(p);
}
