/* net_nostr_relay_order.c — the relay with parallel verification: answers leave in the order
 * the messages came (OK, NOTICE, EOSE interleaved, past the queue limit that pauses reading),
 * subscribers see a publisher's events in its order, a connection that leaves with
 * verifications in flight is forgotten cleanly, the verified-events cache skips only true
 * repeats and stays bounded, and a subscriber that reads slowly (partial writes, a ping in
 * the middle) still receives whole frames in order; subscriptions sharing a filter set (one
 * match per event for all of them) get exactly what their own filters say, through REQs that
 * replace filters and CLOSEs. */
#include "test.h"

#include "core/buf.h"
#include "genosdb.h"
#include "net/nostr/event.h"
#include "net/nostr/seen.h"
#include "nostr_ws.h"

#include <stdlib.h>

static gdb_nostr_relay *start_relay(uint32_t threads, uint32_t seen_max) {
  gdb_nostr_relay_options o;
  gdb_nostr_relay_options_init(&o);
  o.port = 0;
  o.events_per_sec = 0;
  o.verify_threads = threads;
  o.seen_max = seen_max;
  gdb_nostr_relay *r = NULL;
  if (gdb_nostr_relay_start(&o, &r)) fprintf(stderr, "relay: %s\n", gdb_errmsg());
  return r;
}

static gdb_nostr_event *make_event(int key, int kind, const char *content) {
  uint8_t sk[32] = {0};
  sk[0] = 7;
  sk[31] = (uint8_t)key;
  gdb_nostr_event *ev = NULL;
  gdb_nostr_event_sign(sk, 1700000000, kind, "[[\"x\",\"order\"]]", content, &ev);
  return ev;
}

/* Appends one masked client frame (opcode op) holding the n bytes at p. */
static void put_frame(gdb_buf *b, int op, const char *p, size_t n) {
  uint8_t h[14];
  size_t hl = 2;
  h[0] = (uint8_t)(0x80 | op);
  if (n < 126) {
    h[1] = (uint8_t)(0x80 | n);
  } else if (n <= 0xffff) {
    h[1] = 0x80 | 126;
    h[2] = (uint8_t)(n >> 8);
    h[3] = (uint8_t)n;
    hl = 4;
  } else {
    h[1] = 0x80 | 127;
    for (int i = 0; i < 8; i++) h[2 + i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
    hl = 10;
  }
  memset(h + hl, 0, 4); /* a zero mask leaves the payload as it is */
  gdb_buf_put(b, h, hl + 4);
  gdb_buf_put(b, p, n);
}

static void put_event(gdb_buf *b, const char *json) {
  char *m = malloc(strlen(json) + 16);
  int n = sprintf(m, "[\"EVENT\",%s]", json);
  put_frame(b, 0x1, m, (size_t)n);
  free(m);
}

/* The event's JSON with one hex digit of its signature changed (still well formed). */
static char *forge_sig(const gdb_nostr_event *ev) {
  char *j = strdup(gdb_nostr_event_json(ev));
  char *p = strstr(j, "\"sig\":\"") + 7;
  p[10] = p[10] == 'a' ? 'b' : 'a';
  return j;
}

TEST(nostr_relay_answers_in_order_with_parallel_verify) {
  gdb_nostr_relay *r = start_relay(2, 0);
  CHECK(r);
  uint16_t port = gdb_nostr_relay_port(r);
  int pub = tws_connect(port), sub = tws_connect(port);
  CHECK(pub >= 0 && sub >= 0);
  CHECK(tws_send(sub, "[\"REQ\",\"all\",{\"kinds\":[20001]}]"));
  char *m = tws_expect(sub, "[\"EOSE\",\"all\"]", 5000);
  CHECK(m);
  free(m);
  /* 1500 messages in one write (past the 1024 that pause reading): valid events with bad
   * signatures, malformed EVENTs, REQs and CLOSEs among them, each with its expected answer */
  enum { N = 1500 };
  char **expect = calloc(N, sizeof *expect);
  char **fanned = calloc(N, sizeof *fanned);
  size_t n_expect = 0, n_fanned = 0;
  gdb_buf burst = {0};
  for (int i = 0; i < N; i++) {
    char text[64], line[400];
    if (i % 97 == 13) {
      put_frame(&burst, 0x1, "[\"EVENT\",{\"id\":1}]", 19);
      expect[n_expect++] = strdup("[\"NOTICE\",\"invalid: ");
    } else if (i % 101 == 17) {
      snprintf(text, sizeof text, "[\"REQ\",\"q%d\",{\"kinds\":[1],\"limit\":0}]", i);
      put_frame(&burst, 0x1, text, strlen(text));
      snprintf(line, sizeof line, "[\"EOSE\",\"q%d\"]", i);
      expect[n_expect++] = strdup(line);
    } else if (i % 103 == 19) {
      snprintf(text, sizeof text, "[\"CLOSE\",\"q%d\"]", i - 2);
      put_frame(&burst, 0x1, text, strlen(text)); /* no answer */
    } else {
      snprintf(text, sizeof text, "n%d", i);
      gdb_nostr_event *ev = make_event(i % 5, 20001, text);
      CHECK(ev);
      if (i % 50 == 7) {
        char *forged = forge_sig(ev);
        put_event(&burst, forged);
        free(forged);
        snprintf(line, sizeof line, "[\"OK\",\"%s\",false,\"invalid: bad signature\"]",
                 gdb_nostr_event_id(ev));
      } else {
        put_event(&burst, gdb_nostr_event_json(ev));
        snprintf(line, sizeof line, "[\"OK\",\"%s\",true,\"\"]", gdb_nostr_event_id(ev));
        fanned[n_fanned++] = strdup(gdb_nostr_event_id(ev));
      }
      expect[n_expect++] = strdup(line);
      gdb_nostr_event_release(ev);
    }
  }
  CHECK(!burst.oom);
  CHECK(tws_write_all(pub, burst.data, burst.len));
  for (size_t i = 0; i < n_expect; i++) {
    m = tws_recv(pub, 10000);
    CHECK_MSG(m, "answer %zu of %zu missing", i, n_expect);
    CHECK_MSG(!strncmp(m, expect[i], strlen(expect[i])), "answer %zu: %s\n  expected %s", i, m,
              expect[i]);
    free(m);
  }
  for (size_t i = 0; i < n_fanned; i++) {
    m = tws_recv(sub, 10000);
    CHECK_MSG(m && strstr(m, fanned[i]), "delivery %zu out of order or missing", i);
    free(m);
  }
  gdb_nostr_relay_stats st;
  CHECK_OK(gdb_nostr_relay_get_stats(r, &st));
  CHECK_INT(st.events, n_fanned);
  CHECK_INT(st.delivered, n_fanned);
  CHECK_INT(st.connections, 2);
  for (size_t i = 0; i < n_expect; i++) free(expect[i]);
  for (size_t i = 0; i < n_fanned; i++) free(fanned[i]);
  free(expect);
  free(fanned);
  gdb_buf_free(&burst);
  close(pub);
  close(sub);
  gdb_nostr_relay_stop(r);
}

TEST(nostr_relay_forgets_connection_with_verifications_in_flight) {
  gdb_nostr_relay *r = start_relay(2, 1024);
  CHECK(r);
  uint16_t port = gdb_nostr_relay_port(r);
  gdb_buf burst = {0};
  for (int i = 0; i < 300; i++) {
    char text[32];
    snprintf(text, sizeof text, "gone %d", i);
    gdb_nostr_event *ev = make_event(1, 20001, text);
    CHECK(ev);
    put_event(&burst, gdb_nostr_event_json(ev));
    gdb_nostr_event_release(ev);
  }
  /* one connection leaves right after its burst; another stays with a burst when the relay
   * stops: both with jobs still at the workers */
  int gone = tws_connect(port);
  CHECK(gone >= 0);
  CHECK(tws_write_all(gone, burst.data, burst.len));
  close(gone);
  int fd = tws_connect(port);
  CHECK(fd >= 0);
  gdb_nostr_event *ev = make_event(2, 20001, "still here");
  gdb_buf one = {0};
  put_event(&one, gdb_nostr_event_json(ev));
  CHECK(tws_write_all(fd, one.data, one.len));
  char *m = tws_expect(fd, "\"OK\"", 5000);
  CHECK(m && strstr(m, gdb_nostr_event_id(ev)) && strstr(m, "true"));
  free(m);
  CHECK(tws_write_all(fd, burst.data, burst.len));
  gdb_nostr_relay_stop(r); /* jobs come back orphaned and are freed (the ASan run checks) */
  close(fd);
  gdb_nostr_event_release(ev);
  gdb_buf_free(&one);
  gdb_buf_free(&burst);
}

TEST(nostr_relay_seen_cache_skips_only_true_repeats) {
  gdb_nostr_relay *r = start_relay(2, 1024);
  CHECK(r);
  uint16_t port = gdb_nostr_relay_port(r);
  int a = tws_connect(port), b = tws_connect(port);
  CHECK(a >= 0 && b >= 0);
  gdb_nostr_event *eph = make_event(3, 20001, "twice"), *reg = make_event(3, 1, "kept");
  CHECK(eph && reg);
  gdb_buf msg = {0};
  put_event(&msg, gdb_nostr_event_json(eph));
  char *m;
  /* the same ephemeral event from two connections: verified once, forwarded twice */
  CHECK(tws_write_all(a, msg.data, msg.len));
  CHECK((m = tws_expect(a, gdb_nostr_event_id(eph), 5000)) && strstr(m, "true"));
  free(m);
  CHECK(tws_write_all(b, msg.data, msg.len));
  CHECK((m = tws_expect(b, gdb_nostr_event_id(eph), 5000)) && strstr(m, "true"));
  free(m);
  gdb_nostr_relay_stats st;
  CHECK_OK(gdb_nostr_relay_get_stats(r, &st));
  CHECK_INT(st.verify_skipped, 1);
  CHECK_INT(st.events, 2);
  /* same id and pubkey, another signature: checked, and refused */
  char *forged = forge_sig(eph);
  msg.len = 0;
  put_event(&msg, forged);
  CHECK(tws_write_all(b, msg.data, msg.len));
  CHECK((m = tws_expect(b, "\"OK\"", 5000)));
  CHECK(strstr(m, "false,\"invalid: bad signature\""));
  free(m);
  free(forged);
  /* same id and signature, other content: the id no longer matches, cache or not */
  char *tampered = strdup(gdb_nostr_event_json(eph));
  char *p = strstr(tampered, "\"content\":\"twice\"");
  p[11] = 'T';
  msg.len = 0;
  put_event(&msg, tampered);
  CHECK(tws_write_all(b, msg.data, msg.len));
  CHECK((m = tws_expect(b, "\"OK\"", 5000)));
  CHECK(strstr(m, "false,\"invalid: event id does not match"));
  free(m);
  free(tampered);
  /* a stored event sent again: a duplicate, and not verified again either */
  msg.len = 0;
  put_event(&msg, gdb_nostr_event_json(reg));
  CHECK(tws_write_all(a, msg.data, msg.len));
  CHECK((m = tws_expect(a, gdb_nostr_event_id(reg), 5000)) && strstr(m, "true,\"\""));
  free(m);
  CHECK(tws_write_all(a, msg.data, msg.len));
  CHECK((m = tws_expect(a, gdb_nostr_event_id(reg), 5000)) && strstr(m, "duplicate:"));
  free(m);
  CHECK_OK(gdb_nostr_relay_get_stats(r, &st));
  CHECK_INT(st.verify_skipped, 2);
  CHECK_INT(st.dropped_invalid, 2);
  close(a);
  close(b);
  gdb_nostr_relay_stop(r);
  /* without the cache every copy is verified */
  r = start_relay(1, 0);
  CHECK(r);
  a = tws_connect(gdb_nostr_relay_port(r));
  msg.len = 0;
  put_event(&msg, gdb_nostr_event_json(eph));
  for (int i = 0; i < 2; i++) {
    CHECK(tws_write_all(a, msg.data, msg.len));
    CHECK((m = tws_expect(a, gdb_nostr_event_id(eph), 5000)) && strstr(m, "true"));
    free(m);
  }
  CHECK_OK(gdb_nostr_relay_get_stats(r, &st));
  CHECK_INT(st.verify_skipped, 0);
  CHECK_INT(st.events, 2);
  close(a);
  gdb_nostr_relay_stop(r);
  gdb_buf_free(&msg);
  gdb_nostr_event_release(eph);
  gdb_nostr_event_release(reg);
}

TEST(nostr_seen_is_bounded) {
  CHECK(gdb_nostr_seen_new(0) == NULL);
  gdb_nostr_event *ev[6];
  for (int i = 0; i < 6; i++) {
    char text[16];
    snprintf(text, sizeof text, "s%d", i);
    CHECK((ev[i] = make_event(4, 1, text)));
  }
  CHECK(!gdb_nostr_seen_has(NULL, ev[0]));
  gdb_nostr_seen *s = gdb_nostr_seen_new(4); /* one set of four */
  CHECK(s);
  for (int i = 0; i < 4; i++) gdb_nostr_seen_add(s, ev[i]);
  for (int i = 0; i < 4; i++) CHECK(gdb_nostr_seen_has(s, ev[i]));
  CHECK(!gdb_nostr_seen_has(s, ev[4]));
  gdb_nostr_seen_add(s, ev[4]); /* replaces the oldest */
  gdb_nostr_seen_add(s, ev[4]); /* already there: replaces nothing */
  CHECK(!gdb_nostr_seen_has(s, ev[0]));
  for (int i = 1; i < 5; i++) CHECK(gdb_nostr_seen_has(s, ev[i]));
  /* a copy with another signature is not the event that was verified */
  ev[1]->sig[3] ^= 1;
  CHECK(!gdb_nostr_seen_has(s, ev[1]));
  gdb_nostr_seen_free(s);
  /* a bigger cache holds what it was sized for */
  s = gdb_nostr_seen_new(1000);
  CHECK(s);
  for (int i = 0; i < 6; i++) gdb_nostr_seen_add(s, ev[i]);
  for (int i = 0; i < 6; i++) CHECK(gdb_nostr_seen_has(s, ev[i]));
  gdb_nostr_seen_free(s);
  for (int i = 0; i < 6; i++) gdb_nostr_event_release(ev[i]);
}

TEST(nostr_relay_slow_subscriber_gets_whole_frames) {
  gdb_nostr_relay *r = start_relay(2, 0);
  CHECK(r);
  uint16_t port = gdb_nostr_relay_port(r);
  /* a subscriber with a small receive buffer that does not read for a while: the relay's
   * writes to it come back partial, and a ping in the middle makes lws write a pong */
  int sub = tws_connect_rcvbuf(port, 8192);
  CHECK(sub >= 0);
  int pub = tws_connect(port);
  CHECK(pub >= 0);
  CHECK(tws_send(sub, "[\"REQ\",\"slow\",{\"kinds\":[20002]}]"));
  char *m = tws_expect(sub, "EOSE", 5000);
  CHECK(m);
  free(m);
  enum { N = 600 };
  char *content = malloc(8193), **want = calloc(N, sizeof *want);
  gdb_buf burst = {0};
  for (int i = 0; i < N; i++) {
    memset(content, 'a' + i % 26, 8192);
    content[8192] = 0;
    snprintf(content, 16, "%05d", i);
    content[5] = '-';
    gdb_nostr_event *ev = make_event(5, 20002, content);
    CHECK(ev);
    put_event(&burst, gdb_nostr_event_json(ev));
    size_t n = strlen(gdb_nostr_event_json(ev)) + 32;
    want[i] = malloc(n);
    snprintf(want[i], n, "[\"EVENT\",\"slow\",%s]", gdb_nostr_event_json(ev));
    gdb_nostr_event_release(ev);
  }
  CHECK(tws_write_all(pub, burst.data, burst.len)); /* ~5 MB, more than the socket buffers */
  int oks = 0;
  while (oks < N && (m = tws_expect(pub, "[\"OK\"", 10000))) {
    oks++;
    free(m);
  }
  CHECK_INT(oks, N);
  CHECK(tws_send_frame(sub, 0x9, "ping", 4));
  for (int i = 0; i < N; i++) {
    m = tws_recv(sub, 10000); /* skips the pong; a torn frame would fail here */
    CHECK_MSG(m, "event %d missing", i);
    CHECK_MSG(!strcmp(m, want[i]), "event %d torn or out of order", i);
    free(m);
  }
  gdb_nostr_relay_stats st;
  CHECK_OK(gdb_nostr_relay_get_stats(r, &st));
  CHECK_INT(st.delivered, N);
  CHECK_INT(st.dropped, 0);
  for (int i = 0; i < N; i++) free(want[i]);
  free(want);
  free(content);
  gdb_buf_free(&burst);
  close(sub);
  close(pub);
  gdb_nostr_relay_stop(r);
}

TEST(nostr_relay_subscription_groups_deliver_by_own_filters) {
  gdb_nostr_relay *r = start_relay(2, 0);
  CHECK(r);
  uint16_t port = gdb_nostr_relay_port(r);
  enum { N = 6 };
  int fd[N];
  /* a and b share a set, c and d share another (same filters in another order), e has an
   * empty ids list (matches nothing), f two filters */
  static const char *REQ[N] = {
      "[\"REQ\",\"s\",{\"kinds\":[20001]}]",
      "[\"REQ\",\"s\",{\"kinds\":[20001]}]",
      "[\"REQ\",\"s\",{\"kinds\":[20002,20001],\"#x\":[\"order\"]}]",
      "[\"REQ\",\"s\",{\"#x\":[\"order\"],\"kinds\":[20001,20002]}]",
      "[\"REQ\",\"s\",{\"ids\":[],\"kinds\":[20001]}]",
      "[\"REQ\",\"s\",{\"kinds\":[20003]},{\"kinds\":[20002]}]",
  };
  for (int i = 0; i < N; i++) {
    CHECK((fd[i] = tws_connect(port)) >= 0);
    CHECK(tws_send(fd[i], REQ[i]));
    char *m = tws_expect(fd[i], "EOSE", 5000);
    CHECK(m);
    free(m);
  }
  /* b moves to the set of f; a closes and opens another id on the set b left */
  CHECK(tws_send(fd[1], "[\"REQ\",\"s\",{\"kinds\":[20003]},{\"kinds\":[20002]}]"));
  char *m = tws_expect(fd[1], "EOSE", 5000);
  CHECK(m);
  free(m);
  CHECK(tws_send(fd[0], "[\"CLOSE\",\"s\"]"));
  CHECK(tws_send(fd[0], "[\"REQ\",\"t\",{\"kinds\":[20001]}]"));
  CHECK((m = tws_expect(fd[0], "EOSE", 5000)));
  free(m);
  int pub = tws_connect(port);
  CHECK(pub >= 0);
  static const int KIND[3] = {20001, 20002, 20003};
  /* who gets which kind: a(t) b c d e f */
  static const bool WANT[3][N] = {{1, 0, 1, 1, 0, 0}, {0, 1, 1, 1, 0, 1}, {0, 1, 0, 0, 0, 1}};
  for (int k = 0; k < 3; k++) {
    gdb_nostr_event *ev = make_event(6, KIND[k], "grouped");
    CHECK(ev);
    gdb_buf msg = {0};
    put_event(&msg, gdb_nostr_event_json(ev));
    CHECK(tws_write_all(pub, msg.data, msg.len));
    CHECK((m = tws_expect(pub, gdb_nostr_event_id(ev), 5000)) && strstr(m, "true"));
    free(m);
    /* a probe on every subscriber's connection marks where this event's deliveries end */
    for (int i = 0; i < N; i++) {
      CHECK(tws_send(fd[i], "[\"REQ\",\"probe\",{\"ids\":[]}]"));
      m = tws_recv(fd[i], 5000);
      CHECK(m);
      bool got = strstr(m, gdb_nostr_event_id(ev)) != NULL;
      CHECK_MSG(got == WANT[k][i], "kind %d to subscriber %d: got %d, want %d", KIND[k], i, got,
                WANT[k][i]);
      if (got) CHECK(!strncmp(m, i == 0 ? "[\"EVENT\",\"t\"," : "[\"EVENT\",\"s\",", 13));
      if (got) {
        free(m);
        m = tws_recv(fd[i], 5000);
        CHECK(m);
      }
      CHECK_STR(m, "[\"EOSE\",\"probe\"]");
      free(m);
      CHECK(tws_send(fd[i], "[\"CLOSE\",\"probe\"]"));
    }
    gdb_buf_free(&msg);
    gdb_nostr_event_release(ev);
  }
  for (int i = 0; i < N; i++) close(fd[i]);
  close(pub);
  gdb_nostr_relay_stop(r);
}
