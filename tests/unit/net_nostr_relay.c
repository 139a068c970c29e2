/* net_nostr_relay.c — the embedded relay over real loopback sockets: publish and subscribe,
 * storage rules, NIP-01 filters with limits, the HTTP status and NIP-11 answers, and bad
 * input (malformed JSON, oversize frames, bad ids and signatures, floods) refused with a
 * message, counted, and survived. */
#include "test.h"

#include "genosdb.h"
#include "nostr_ws.h"

#include <stdlib.h>

static gdb_nostr_relay *start(gdb_nostr_relay_options *o) {
  gdb_nostr_relay_options d;
  if (!o) {
    gdb_nostr_relay_options_init(&d);
    o = &d;
  }
  o->port = 0;
  gdb_nostr_relay *r = NULL;
  if (gdb_nostr_relay_start(o, &r)) fprintf(stderr, "relay: %s\n", gdb_errmsg());
  return r;
}

static gdb_nostr_event *signed_event(int kind, int64_t at, const char *content) {
  uint8_t sk[32] = {0};
  sk[0] = 1;
  sk[31] = (uint8_t)kind;
  gdb_nostr_event *ev = NULL;
  gdb_nostr_event_sign(sk, at, kind, "[[\"x\",\"t1\"]]", content, &ev);
  return ev;
}

static bool send_event(int fd, const gdb_nostr_event *ev) {
  size_t n = strlen(gdb_nostr_event_json(ev)) + 16;
  char *m = malloc(n);
  snprintf(m, n, "[\"EVENT\",%s]", gdb_nostr_event_json(ev));
  bool ok = tws_send(fd, m);
  free(m);
  return ok;
}

TEST(nostr_relay_publish_subscribe) {
  gdb_nostr_relay *r = start(NULL);
  CHECK(r);
  int sub = tws_connect(gdb_nostr_relay_port(r)), pub = tws_connect(gdb_nostr_relay_port(r));
  CHECK(sub >= 0 && pub >= 0);
  CHECK(tws_send(sub, "[\"REQ\",\"s1\",{\"kinds\":[1,20001]}]"));
  char *m = tws_expect(sub, "[\"EOSE\",\"s1\"]", 3000);
  CHECK(m);
  free(m);
  gdb_nostr_event *ev = signed_event(1, 0, "stored one");
  CHECK(send_event(pub, ev));
  char want[100];
  snprintf(want, sizeof want, "[\"OK\",\"%s\",true,", gdb_nostr_event_id(ev));
  CHECK((m = tws_expect(pub, want, 3000)));
  free(m);
  CHECK((m = tws_expect(sub, gdb_nostr_event_id(ev), 3000)));
  CHECK(!strncmp(m, "[\"EVENT\",\"s1\",{", 15));
  free(m);
  /* the same event again is a duplicate, accepted but not stored twice */
  CHECK(send_event(pub, ev));
  CHECK((m = tws_expect(pub, "duplicate:", 3000)));
  free(m);
  /* ephemeral: delivered live, never stored */
  gdb_nostr_event *eph = signed_event(20001, 0, "ephemeral");
  CHECK(send_event(pub, eph));
  CHECK((m = tws_expect(sub, gdb_nostr_event_id(eph), 3000)));
  free(m);
  /* a late subscriber gets the stored event and not the ephemeral one, then EOSE */
  int late = tws_connect(gdb_nostr_relay_port(r));
  CHECK(tws_send(late, "[\"REQ\",\"s2\",{\"kinds\":[1,20001]}]"));
  CHECK((m = tws_recv(late, 3000)));
  CHECK(strstr(m, gdb_nostr_event_id(ev)));
  free(m);
  CHECK((m = tws_recv(late, 3000)));
  CHECK_STR(m, "[\"EOSE\",\"s2\"]");
  free(m);
  /* CLOSE stops delivery */
  CHECK(tws_send(sub, "[\"CLOSE\",\"s1\"]"));
  gdb_nostr_event *after = signed_event(1, 0, "after close");
  CHECK(send_event(pub, after));
  CHECK((m = tws_expect(pub, gdb_nostr_event_id(after), 3000)));
  free(m);
  CHECK(tws_send(sub, "[\"REQ\",\"probe\",{\"ids\":["
                      "\"0000000000000000000000000000000000000000000000000000000000000000\"]}]"));
  CHECK((m = tws_recv(sub, 3000)));
  CHECK_STR(m, "[\"EOSE\",\"probe\"]"); /* nothing of s1 came in between */
  free(m);
  gdb_nostr_relay_stats st;
  CHECK_OK(gdb_nostr_relay_get_stats(r, &st));
  CHECK_INT(st.connections, 3);
  CHECK_INT(st.events, 3);
  CHECK_INT(st.stored, 2);
  CHECK_INT(st.dropped, 0);
  close(sub);
  close(pub);
  close(late);
  gdb_nostr_event_release(ev);
  gdb_nostr_event_release(eph);
  gdb_nostr_event_release(after);
  gdb_nostr_relay_stop(r);
}

/* Publishes ev and returns the OK answer (caller frees). */
static char *publish(int fd, const gdb_nostr_event *ev) {
  if (!send_event(fd, ev)) return NULL;
  return tws_expect(fd, gdb_nostr_event_id(ev), 3000);
}

TEST(nostr_relay_filters_limit_and_window) {
  gdb_nostr_relay_options o;
  gdb_nostr_relay_options_init(&o);
  o.store_max = 4;
  gdb_nostr_relay *r = start(&o);
  CHECK(r);
  int fd = tws_connect(gdb_nostr_relay_port(r));
  CHECK(fd >= 0);
  gdb_nostr_event *ev[6];
  for (int i = 0; i < 6; i++) {
    char c[16];
    snprintf(c, sizeof c, "n%d", i);
    ev[i] = signed_event(1, 1000 + i, c);
    char *m = publish(fd, ev[i]);
    CHECK(m && strstr(m, "true"));
    free(m);
  }
  /* window of 4: n2..n5 remain; limit 2 gives the newest two; since/until bound the rest */
  CHECK(tws_send(fd, "[\"REQ\",\"a\",{\"kinds\":[1],\"limit\":2}]"));
  char *m1 = tws_recv(fd, 3000), *m2 = tws_recv(fd, 3000), *m3 = tws_recv(fd, 3000);
  CHECK(m1 && m2 && m3);
  CHECK(strstr(m1, "\"n5\"") && strstr(m2, "\"n4\""));
  CHECK_STR(m3, "[\"EOSE\",\"a\"]");
  free(m1);
  free(m2);
  free(m3);
  CHECK(tws_send(fd, "[\"REQ\",\"b\",{\"since\":1001,\"until\":1003},{\"#x\":[\"none\"]}]"));
  m1 = tws_recv(fd, 3000);
  m2 = tws_recv(fd, 3000);
  m3 = tws_recv(fd, 3000);
  CHECK(m1 && m2 && m3);
  CHECK(strstr(m1, "\"n3\"") && strstr(m2, "\"n2\"")); /* n1 fell out of the window */
  CHECK_STR(m3, "[\"EOSE\",\"b\"]");
  free(m1);
  free(m2);
  free(m3);
  close(fd);
  for (int i = 0; i < 6; i++) gdb_nostr_event_release(ev[i]);
  gdb_nostr_relay_stop(r);
}

static gdb_nostr_event *tagged_event(int kind, int64_t at, const char *tags, const char *content) {
  uint8_t sk[32] = {0};
  sk[0] = 2;
  gdb_nostr_event *ev = NULL;
  gdb_nostr_event_sign(sk, at, kind, tags, content, &ev);
  return ev;
}

/* REQ with filter; returns how many events came before EOSE, and checks each holds want[i]. */
static int req_contents(int fd, const char *sub, const char *filter, const char *const *want) {
  char q[256];
  snprintf(q, sizeof q, "[\"REQ\",\"%s\",%s]", sub, filter);
  if (!tws_send(fd, q)) return -1;
  int n = 0;
  for (;;) {
    char *m = tws_recv(fd, 3000);
    if (!m) return -1;
    if (!strncmp(m, "[\"EOSE\"", 7)) {
      free(m);
      return n;
    }
    bool ok = want && want[n] && strstr(m, want[n]);
    free(m);
    if (!ok) return -1;
    n++;
  }
}

/* NIP-01: of replaceable kinds only the newest per (pubkey, kind) is kept, of addressable kinds
 * the newest per (pubkey, kind, d); older versions are answered but not stored; the holes they
 * leave in the window are reclaimed as it turns. */
TEST(nostr_relay_keeps_newest_replaceable) {
  gdb_nostr_relay_options o;
  gdb_nostr_relay_options_init(&o);
  o.store_max = 6;
  gdb_nostr_relay *r = start(&o);
  CHECK(r);
  int fd = tws_connect(gdb_nostr_relay_port(r));
  CHECK(fd >= 0);
  gdb_nostr_event *ev[12];
  int n = 0;
  ev[n++] = tagged_event(0, 1000, NULL, "meta-1");
  ev[n++] = tagged_event(0, 1002, NULL, "meta-3");
  ev[n++] = tagged_event(0, 1001, NULL, "meta-2"); /* older than the one stored */
  ev[n++] = tagged_event(30000, 1000, "[[\"d\",\"a\"]]", "addr-a1");
  ev[n++] = tagged_event(30000, 1000, "[[\"d\",\"b\"]]", "addr-b1");
  ev[n++] = tagged_event(30000, 1001, "[[\"d\",\"a\"]]", "addr-a2");
  for (int i = 0; i < n; i++) {
    char *m = publish(fd, ev[i]);
    CHECK(m && strstr(m, "true"));
    if (i == 2) CHECK(m && strstr(m, "newer version"));
    free(m);
  }
  static const char *const META[] = {"meta-3", NULL};
  CHECK(req_contents(fd, "m", "{\"kinds\":[0]}", META) == 1);
  static const char *const ADDR[] = {"addr-a2", "addr-b1", NULL};
  CHECK(req_contents(fd, "a", "{\"kinds\":[30000]}", ADDR) == 2);
  gdb_nostr_relay_stats st;
  CHECK_OK(gdb_nostr_relay_get_stats(r, &st));
  CHECK(st.stored == 3);
  /* a replaced event published again is still the older version */
  char *m = publish(fd, ev[0]);
  CHECK(m && strstr(m, "newer version"));
  free(m);
  /* six regular events turn the window past every slot, holes included */
  for (int i = 0; i < 6; i++) {
    char c[16];
    snprintf(c, sizeof c, "reg-%d", i);
    ev[n] = tagged_event(1, 2000 + i, NULL, c);
    m = publish(fd, ev[n++]);
    CHECK(m && strstr(m, "true"));
    free(m);
  }
  CHECK(req_contents(fd, "m2", "{\"kinds\":[0,30000]}", NULL) == 0);
  CHECK_OK(gdb_nostr_relay_get_stats(r, &st));
  CHECK(st.stored == 6);
  /* with the old version gone from the window, it is stored again */
  m = publish(fd, ev[0]);
  CHECK(m && strstr(m, "true") && !strstr(m, "newer version"));
  free(m);
  close(fd);
  for (int i = 0; i < n; i++) gdb_nostr_event_release(ev[i]);
  gdb_nostr_relay_stop(r);
}

TEST(nostr_relay_refuses_bad_input) {
  gdb_nostr_relay_options o;
  gdb_nostr_relay_options_init(&o);
  o.max_message = 4096;
  o.max_subs = 2;
  o.max_filters = 3;
  o.events_per_sec = 5;
  gdb_nostr_relay *r = start(&o);
  CHECK(r);
  int fd = tws_connect(gdb_nostr_relay_port(r));
  CHECK(fd >= 0);
  char *m;
  /* malformed JSON, wrong shapes, unknown types */
  static const char *JUNK[] = {"{",
                               "[]",
                               "[1]",
                               "\"EVENT\"",
                               "[\"EVENT\"]",
                               "[\"WHAT\",1]",
                               "[\"REQ\",\"\",{}]",
                               "[\"EVENT\",{\"id\":1}]",
                               "null"};
  for (size_t i = 0; i < sizeof JUNK / sizeof JUNK[0]; i++) {
    CHECK(tws_send(fd, JUNK[i]));
    CHECK_MSG((m = tws_expect(fd, "[\"NOTICE\",\"invalid: ", 3000)), "no NOTICE for %s", JUNK[i]);
    free(m);
  }
  /* oversize frame */
  char *big = malloc(10000);
  memset(big, 'a', 9999);
  big[9999] = 0;
  CHECK(tws_send(fd, big));
  free(big);
  CHECK((m = tws_expect(fd, "too large", 3000)));
  free(m);
  /* bad id, then bad signature */
  gdb_nostr_event *ev = signed_event(1, 0, "good");
  char *txt = strdup(gdb_nostr_event_json(ev)), *p = strstr(txt, "\"content\":\"good\"");
  p[11] = 'G';
  char msg[2048];
  snprintf(msg, sizeof msg, "[\"EVENT\",%s]", txt);
  CHECK(tws_send(fd, msg));
  CHECK((m = tws_expect(fd, "\"OK\"", 3000)));
  CHECK(strstr(m, "false") && strstr(m, "invalid: event id"));
  free(m);
  p[11] = 'g';
  p = strstr(txt, "\"sig\":\"") + 7;
  p[5] = p[5] == '0' ? '1' : '0';
  snprintf(msg, sizeof msg, "[\"EVENT\",%s]", txt);
  CHECK(tws_send(fd, msg));
  CHECK((m = tws_expect(fd, "\"OK\"", 3000)));
  CHECK(strstr(m, "false") && strstr(m, "invalid: bad signature"));
  free(m);
  free(txt);
  /* subscription and filter limits */
  CHECK(tws_send(fd, "[\"REQ\",\"s1\",{}]"));
  free(tws_expect(fd, "EOSE", 3000));
  CHECK(tws_send(fd, "[\"REQ\",\"s2\",{}]"));
  free(tws_expect(fd, "EOSE", 3000));
  CHECK(tws_send(fd, "[\"REQ\",\"s3\",{}]"));
  CHECK((m = tws_expect(fd, "[\"CLOSED\",\"s3\",\"error: too many subscriptions", 3000)));
  free(m);
  CHECK(tws_send(fd, "[\"REQ\",\"s1\",{},{},{},{}]"));
  CHECK((m = tws_expect(fd, "[\"CLOSED\",\"s1\",\"error: REQ has 4 filters", 3000)));
  free(m);
  /* a flood: 5/s with a burst of 10, so of 30 sent at once many are refused */
  int accepted = 0, limited = 0;
  for (int i = 0; i < 30; i++) {
    char c[16];
    snprintf(c, sizeof c, "flood %d", i);
    gdb_nostr_event *f = signed_event(20002, 0, c);
    CHECK((m = publish(fd, f)));
    if (strstr(m, "true")) accepted++;
    if (strstr(m, "rate-limited:")) limited++;
    free(m);
    gdb_nostr_event_release(f);
  }
  CHECK(accepted >= 5 && limited >= 10); /* two tokens went to the bad events above */
  CHECK_INT(accepted + limited, 30);
  gdb_nostr_relay_stats st;
  CHECK_OK(gdb_nostr_relay_get_stats(r, &st));
  CHECK_INT(st.dropped_invalid, 9 + 2);
  CHECK_INT(st.dropped_limit, 1 + 2 + limited);
  CHECK_INT(st.dropped, st.dropped_invalid + st.dropped_limit);
  CHECK_INT(st.connections, 1); /* still connected, still served */
  close(fd);
  gdb_nostr_event_release(ev);
  gdb_nostr_relay_stop(r);
}

static char *http_get(uint16_t port, const char *accept) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&a, sizeof a)) {
    close(fd);
    return NULL;
  }
  char req[256];
  int n = snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: x\r\n%s%s%sConnection: close\r\n\r\n",
                   accept ? "Accept: " : "", accept ? accept : "", accept ? "\r\n" : "");
  tws_write_all(fd, req, (size_t)n);
  char *buf = calloc(1, 8192);
  size_t len = 0;
  int64_t deadline = tws_now_ms() + 3000;
  while (len < 8191 && tws_now_ms() < deadline) {
    struct pollfd pfd = {fd, POLLIN, 0};
    if (poll(&pfd, 1, 200) <= 0) continue;
    ssize_t r = recv(fd, buf + len, 8191 - len, 0);
    if (r <= 0) break;
    len += (size_t)r;
    if (strstr(buf, "\r\n\r\n") && strrchr(buf, '}') > strstr(buf, "\r\n\r\n")) break;
  }
  close(fd);
  return buf;
}

TEST(nostr_relay_http_status_and_nip11) {
  gdb_nostr_relay_options o;
  gdb_nostr_relay_options_init(&o);
  o.min_pow = 8;
  gdb_nostr_relay *r = start(&o);
  CHECK(r);
  char *s = http_get(gdb_nostr_relay_port(r), NULL);
  CHECK(s && strstr(s, "200"));
  CHECK(strstr(s, "{\"relay\":\"genosdb\",\"connections\":0,\"events\":0,\"dropped\":0"));
  free(s);
  s = http_get(gdb_nostr_relay_port(r), "application/nostr+json");
  CHECK(s && strstr(s, "application/nostr+json"));
  CHECK(strstr(s, "\"supported_nips\":[1,11,13]"));
  CHECK(strstr(s, "\"min_pow_difficulty\":8"));
  CHECK(strstr(s, "ccess-control-allow-origin: *"));
  free(s);
  /* an event without the work is refused with a pow: reason */
  int fd = tws_connect(gdb_nostr_relay_port(r));
  gdb_nostr_event *ev = NULL;
  for (int i = 0; i < 50; i++) { /* find one under 8 bits (almost every event) */
    char c[16];
    snprintf(c, sizeof c, "%d", i);
    gdb_nostr_event_release(ev);
    ev = signed_event(1, 0, c);
    if (gdb_nostr_event_pow(ev) < 8) break;
  }
  CHECK(send_event(fd, ev));
  char *m = tws_expect(fd, "\"OK\"", 3000);
  CHECK(m && strstr(m, "false,\"pow: difficulty"));
  free(m);
  close(fd);
  gdb_nostr_event_release(ev);
  gdb_nostr_relay_stop(r);
}
