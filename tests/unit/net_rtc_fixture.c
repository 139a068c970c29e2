/* net_rtc_fixture.c — the helpers of rtc_fixture.h (no test cases here). */
#include "rtc_fixture.h"

#include "test.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

static const char *LOOPBACK[] = {"127.0.0.1"};

static void on_state(gdb_rtc_peer *p, gdb_rtc_state st, void *data) {
  (void)p;
  atomic_store(&((rtc_side *)data)->state, (int)st);
}

static void ch_open(gdb_rtc_channel *ch, void *data) {
  (void)ch;
  atomic_fetch_add(&((rtc_side *)data)->opened, 1);
}
static void ch_close(gdb_rtc_channel *ch, void *data) {
  (void)ch;
  atomic_fetch_add(&((rtc_side *)data)->closed, 1);
}
static void ch_low(gdb_rtc_channel *ch, void *data) {
  (void)ch;
  atomic_fetch_add(&((rtc_side *)data)->low, 1);
}
static void ch_message(gdb_rtc_channel *ch, const uint8_t *msg, size_t len, bool binary,
                       void *data) {
  rtc_side *s = data;
  if (s->echo && gdb_rtc_channel_send(ch, msg, len, binary) != GDB_OK)
    atomic_fetch_add(&s->mismatches, 1);
  atomic_fetch_add(&s->bytes, (long long)len);
  atomic_fetch_add(&s->msgs, 1);
}

gdb_rtc_channel_callbacks rtc_side_cb(rtc_side *s) {
  return (gdb_rtc_channel_callbacks){.on_open = ch_open,
                                     .on_message = ch_message,
                                     .on_buffered_low = ch_low,
                                     .on_close = ch_close,
                                     .data = s};
}

static void on_channel(gdb_rtc_peer *p, gdb_rtc_channel *ch, void *data) {
  (void)p;
  rtc_side *s = data;
  gdb_rtc_channel_callbacks cb = rtc_side_cb(s);
  gdb_rtc_channel_set_callbacks(ch, &cb);
  int i = atomic_load(&s->n_remote);
  if (i < RTC_MAX_CH) s->remote[i] = ch;
  atomic_fetch_add(&s->n_remote, 1);
}

void rtc_test_config(gdb_rtc_config *c, rtc_side *s) {
  gdb_rtc_config_init(c);
  c->bind_addresses = LOOPBACK;
  c->bind_address_count = 1;
  c->consent_timeout_ms = 3000;
  c->cb.on_state = on_state;
  c->cb.on_channel = on_channel;
  c->cb.data = s;
}

bool rtc_wait(bool (*cond)(void *), void *arg, int ms) {
  for (int i = 0; i < ms; i++) {
    if (cond(arg)) return true;
    g_usleep(1000);
  }
  return cond(arg);
}

typedef struct intwait {
  _Atomic int *v;
  int n;
} intwait;
static bool int_ge(void *a) {
  intwait *w = a;
  return atomic_load(w->v) >= w->n;
}
bool rtc_wait_int(_Atomic int *v, int at_least, int ms) {
  intwait w = {v, at_least};
  return rtc_wait(int_ge, &w, ms);
}
typedef struct llwait {
  _Atomic long long *v;
  long long n;
} llwait;
static bool ll_ge(void *a) {
  llwait *w = a;
  return atomic_load(w->v) >= w->n;
}
bool rtc_wait_ll(_Atomic long long *v, long long at_least, int ms) {
  llwait w = {v, at_least};
  return rtc_wait(ll_ge, &w, ms);
}
typedef struct statewait {
  rtc_side *s;
  gdb_rtc_state st;
} statewait;
static bool state_is(void *a) {
  statewait *w = a;
  return atomic_load(&w->s->state) == (int)w->st;
}
bool rtc_wait_state(rtc_side *s, gdb_rtc_state st, int ms) {
  statewait w = {s, st};
  return rtc_wait(state_is, &w, ms);
}

static bool gathered(void *a) { return gdb_rtc_peer_gathering_done(a); }

void rtc_fill(uint8_t *buf, size_t len, uint32_t seed, bool binary) {
  uint32_t x = seed * 2654435761u + 12345u;
  for (size_t i = 0; i < len; i++) {
    x = x * 1103515245u + 12345u;
    buf[i] = binary ? (uint8_t)(x >> 16) : (uint8_t)(' ' + (x >> 16) % 95);
  }
}

bool rtc_pair_connect(rtc_pair *pr, bool trickle, const gdb_rtc_config *base) {
  gdb_rtc_config ca, cb;
  rtc_test_config(&ca, &pr->a);
  rtc_test_config(&cb, &pr->b);
  if (base) {
    ca.consent_timeout_ms = cb.consent_timeout_ms = base->consent_timeout_ms;
    ca.max_message_size = cb.max_message_size = base->max_message_size;
  }
  char *offer = NULL, *answer = NULL;
  bool ok = false;
  if (gdb_rtc_peer_new(&ca, &pr->a.p) || gdb_rtc_peer_new(&cb, &pr->b.p)) {
    fprintf(stderr, "  peer_new: %s\n", gdb_errmsg());
    return false;
  }
  if (!trickle && !rtc_wait(gathered, pr->a.p, 5000)) goto out;
  if (gdb_rtc_peer_create_offer(pr->a.p, &offer)) goto out;
  if (!trickle) {
    gdb_free(offer);
    if (gdb_rtc_peer_local_description(pr->a.p, &offer)) goto out;
  }
  if (gdb_rtc_peer_set_remote_description(pr->b.p, "offer", offer)) goto out;
  if (!trickle && !rtc_wait(gathered, pr->b.p, 5000)) goto out;
  if (gdb_rtc_peer_create_answer(pr->b.p, &answer)) goto out;
  if (!trickle) {
    gdb_free(answer);
    if (gdb_rtc_peer_local_description(pr->b.p, &answer)) goto out;
  }
  if (gdb_rtc_peer_set_remote_description(pr->a.p, "answer", answer)) goto out;
  if (trickle) {
    /* Hand every local candidate over through the trickle API. */
    char *da = NULL, *db = NULL;
    if (!rtc_wait(gathered, pr->a.p, 5000) || !rtc_wait(gathered, pr->b.p, 5000)) goto out;
    if (gdb_rtc_peer_local_description(pr->a.p, &da) ||
        gdb_rtc_peer_local_description(pr->b.p, &db))
      goto out;
    char *descs[2] = {da, db};
    gdb_rtc_peer *to[2] = {pr->b.p, pr->a.p};
    for (int k = 0; k < 2; k++) {
      gchar **lines = g_strsplit(descs[k], "\r\n", -1);
      for (gchar **l = lines; *l; l++)
        if (g_str_has_prefix(*l, "a=candidate:"))
          gdb_rtc_peer_add_remote_candidate(to[k], *l + 2, "0");
      gdb_rtc_peer_add_remote_candidate(to[k], NULL, "0");
      g_strfreev(lines);
    }
    gdb_free(da);
    gdb_free(db);
  }
  ok = rtc_wait_state(&pr->a, GDB_RTC_CONNECTED, 5000) &&
       rtc_wait_state(&pr->b, GDB_RTC_CONNECTED, 5000);
out:
  if (!ok)
    fprintf(stderr, "  connect failed: a=%s b=%s (%s)\n",
            gdb_rtc_state_name(atomic_load(&pr->a.state)),
            gdb_rtc_state_name(atomic_load(&pr->b.state)), gdb_errmsg());
  gdb_free(offer);
  gdb_free(answer);
  return ok;
}

void rtc_pair_free(rtc_pair *pr) {
  gdb_rtc_peer_free(pr->a.p);
  gdb_rtc_peer_free(pr->b.p);
  pr->a.p = pr->b.p = NULL;
}
