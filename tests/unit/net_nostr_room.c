/* net_nostr_room.c — room signaling through an embedded relay: two peers discover each other
 * and exchange sealed offers and answers; a third without the password reads nothing; sealing
 * round-trips and fails closed. */
#include "test.h"

#include "genosdb.h"
#include "nostr_ws.h"

#include <openssl/sha.h>
#include <pthread.h>
#include <stdlib.h>

TEST(nostr_seal_roundtrip_and_wrong_password) {
  char *s, *p;
  size_t n;
  CHECK_OK(gdb_signal_seal("pw", "app", "room", "{\"sdp\":\"v=0\"}", 13, &s));
  CHECK(!strncmp(s, "gs1:", 4));
  CHECK(!strstr(s, "sdp"));
  CHECK_OK(gdb_signal_unseal("pw", "app", "room", s, &p, &n));
  CHECK_STR(p, "{\"sdp\":\"v=0\"}");
  CHECK_INT(n, 13);
  gdb_free(p);
  CHECK_INT(gdb_signal_unseal("px", "app", "room", s, &p, &n), GDB_ECRYPTO);
  CHECK_INT(gdb_signal_unseal("pw", "app", "room2", s, &p, &n), GDB_ECRYPTO);
  s[10] ^= 1; /* a flipped bit fails the tag */
  CHECK_INT(gdb_signal_unseal("pw", "app", "room", s, &p, &n), GDB_ECRYPTO);
  gdb_free(s);
  static const char *JUNK[] = {"", "gs1:", "gs1:!!!!", "gs1:AAAA", "plain text", "gs1:AAA"};
  for (size_t i = 0; i < sizeof JUNK / sizeof JUNK[0]; i++)
    CHECK_INT(gdb_signal_unseal("pw", "app", "room", JUNK[i], &p, &n), GDB_ECRYPTO);
}

typedef struct peer {
  pthread_mutex_t mu;
  int seen, lost, offers, answers;
  char other[65];
  char last_payload[256];
} peer;

static void seen_cb(gdb_signal_room *room, const char *id, void *data) {
  peer *p = data;
  pthread_mutex_lock(&p->mu);
  p->seen++;
  snprintf(p->other, sizeof p->other, "%s", id);
  pthread_mutex_unlock(&p->mu);
  if (strcmp(gdb_signal_room_self(room), id) < 0)
    gdb_signal_room_send(room, id, "offer", "OFFER-SDP");
}

static void lost_cb(gdb_signal_room *room, const char *id, void *data) {
  peer *p = data;
  pthread_mutex_lock(&p->mu);
  p->lost++;
  pthread_mutex_unlock(&p->mu);
}

static void signal_cb(gdb_signal_room *room, const char *id, const char *type, const char *payload,
                      void *data) {
  peer *p = data;
  pthread_mutex_lock(&p->mu);
  if (!strcmp(type, "offer")) p->offers++;
  if (!strcmp(type, "answer")) p->answers++;
  snprintf(p->last_payload, sizeof p->last_payload, "%s", payload);
  pthread_mutex_unlock(&p->mu);
  if (!strcmp(type, "offer")) gdb_signal_room_send(room, id, "answer", "ANSWER-SDP");
}

static int field(peer *p, int *f) {
  pthread_mutex_lock(&p->mu);
  int v = *f;
  pthread_mutex_unlock(&p->mu);
  return v;
}

#define WAIT_UNTIL(cond, ms)                                                                       \
  ({                                                                                               \
    int64_t until_ = tws_now_ms() + (ms);                                                          \
    while (!(cond) && tws_now_ms() < until_) usleep(10000);                                        \
    (bool)(cond);                                                                                  \
  })

TEST(nostr_room_two_peers_sealed_third_reads_nothing) {
  gdb_nostr_relay_options ro;
  gdb_nostr_relay_options_init(&ro);
  ro.port = 0;
  gdb_nostr_relay *relay;
  CHECK_OK(gdb_nostr_relay_start(&ro, &relay));
  char url[64];
  snprintf(url, sizeof url, "ws://127.0.0.1:%u", gdb_nostr_relay_port(relay));
  const char *urls[] = {url};
  peer a = {.mu = PTHREAD_MUTEX_INITIALIZER}, b = {.mu = PTHREAD_MUTEX_INITIALIZER},
       c = {.mu = PTHREAD_MUTEX_INITIALIZER};
  gdb_signal_options o = {.relays = urls,
                          .n_relays = 1,
                          .app_id = "app",
                          .room_id = "r1",
                          .password = "secret",
                          .announce_ms = 500};
  gdb_signal_callbacks ca = {seen_cb, lost_cb, signal_cb, &a},
                       cb = {seen_cb, lost_cb, signal_cb, &b},
                       cc = {seen_cb, lost_cb, signal_cb, &c};
  gdb_signal_room *ra, *rb, *rc;
  gdb_signal_options oc = o;
  oc.password = NULL;
  CHECK_OK(gdb_signal_room_join(&oc, &cc, &rc)); /* the eavesdropper, same app and room */
  CHECK_OK(gdb_signal_room_join(&o, &ca, &ra));
  CHECK_OK(gdb_signal_room_join(&o, &cb, &rb));
  /* one offer and one answer between a and b, whichever is the smaller id */
  CHECK(WAIT_UNTIL(field(&a, &a.offers) + field(&b, &b.offers) == 1 &&
                       field(&a, &a.answers) + field(&b, &b.answers) == 1,
                   5000));
  CHECK_STR(a.other, gdb_signal_room_self(rb));
  CHECK_STR(b.other, gdb_signal_room_self(ra));
  CHECK(!strcmp(a.last_payload, "OFFER-SDP") || !strcmp(a.last_payload, "ANSWER-SDP"));
  usleep(1200000); /* two more announce periods */
  CHECK_INT(field(&a, &a.seen), 1);
  CHECK_INT(field(&c, &c.seen), 0);
  CHECK_INT(field(&c, &c.offers) + field(&c, &c.answers), 0);
  gdb_signal_stats st;
  CHECK_OK(gdb_signal_room_get_stats(rc, &st));
  CHECK(st.received >= 4);
  CHECK_INT(st.unreadable, st.received); /* it saw the traffic and could read none of it */
  /* b leaves: a hears the goodbye */
  gdb_signal_room_leave(rb);
  CHECK(WAIT_UNTIL(field(&a, &a.lost) == 1, 5000));
  gdb_signal_room_leave(ra);
  gdb_signal_room_leave(rc);
  gdb_nostr_relay_stop(relay);
}

TEST(nostr_room_peer_lost_on_silence) {
  gdb_nostr_relay *relay;
  gdb_nostr_relay_options ro;
  gdb_nostr_relay_options_init(&ro);
  ro.port = 0;
  CHECK_OK(gdb_nostr_relay_start(&ro, &relay));
  char url[64];
  snprintf(url, sizeof url, "ws://127.0.0.1:%u", gdb_nostr_relay_port(relay));
  const char *urls[] = {url};
  peer a = {.mu = PTHREAD_MUTEX_INITIALIZER};
  gdb_signal_options o = {.relays = urls,
                          .n_relays = 1,
                          .app_id = "app",
                          .room_id = "quiet",
                          .announce_ms = 200,
                          .peer_timeout_ms = 600};
  gdb_signal_callbacks ca = {seen_cb, lost_cb, NULL, &a};
  gdb_signal_room *ra;
  CHECK_OK(gdb_signal_room_join(&o, &ca, &ra));
  /* a raw client announces once in the room and then goes silent (no bye) */
  int fd = tws_connect(gdb_nostr_relay_port(relay));
  CHECK(fd >= 0);
  uint8_t sk[32];
  CHECK_OK(gdb_nostr_key_generate(sk));
  /* topic: SHA-256("genosdb-signal/1\0app\0quiet") as the protocol document says */
  uint8_t buf[64], h[32];
  memcpy(buf, "genosdb-signal/1\0app\0quiet", 26);
  SHA256(buf, 26, h);
  char topic[65], tags[100];
  for (int i = 0; i < 32; i++) snprintf(topic + 2 * i, 3, "%02x", h[i]);
  snprintf(tags, sizeof tags, "[[\"x\",\"%s\"]]", topic);
  gdb_nostr_event *ev;
  CHECK_OK(gdb_nostr_event_sign(sk, 0, 25050, tags, "{\"v\":1,\"t\":\"hello\"}", &ev));
  char msg[1024];
  snprintf(msg, sizeof msg, "[\"EVENT\",%s]", gdb_nostr_event_json(ev));
  CHECK(tws_send(fd, msg));
  CHECK(WAIT_UNTIL(field(&a, &a.seen) == 1, 5000));
  CHECK(WAIT_UNTIL(field(&a, &a.lost) == 1, 5000));
  gdb_nostr_event_release(ev);
  close(fd);
  gdb_signal_room_leave(ra);
  gdb_nostr_relay_stop(relay);
}
