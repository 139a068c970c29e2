/*
 * net_rtc_messages.c — messages of 0 B to 256 KiB, text and binary, over ordered, unordered
 * and negotiated channels between two C peers, echoed back and checked byte for byte;
 * channel close by stream reset; size and state errors.
 */
#include "rtc_fixture.h"
#include "test.h"

#include <glib.h>
#include <stdlib.h>

static const size_t SIZES[] = {0,     1,     2,      3,      100,    1000,  1199,
                               1200,  1201,  4096,   16383,  16384,  16385, 65535,
                               65536, 65537, 100000, 200000, 262143, 262144};
#define NSIZES (sizeof SIZES / sizeof SIZES[0])

typedef struct checker {
  bool ordered;
  size_t n;
  size_t lens[2 * NSIZES];
  bool bins[2 * NSIZES];
  _Atomic int next, bad, opened, closed;
} checker;

static uint32_t seed_of(size_t len, bool binary) { return (uint32_t)(len * 2 + binary); }

static void check_message(gdb_rtc_channel *ch, const uint8_t *msg, size_t len, bool binary,
                          void *data) {
  (void)ch;
  checker *c = data;
  int i = atomic_fetch_add(&c->next, 1);
  if (c->ordered && (i >= (int)c->n || c->lens[i] != len || c->bins[i] != binary)) {
    atomic_fetch_add(&c->bad, 1);
    return;
  }
  uint8_t *want = malloc(len + 1);
  rtc_fill(want, len, seed_of(len, binary), binary);
  if (len && memcmp(want, msg, len)) atomic_fetch_add(&c->bad, 1);
  free(want);
}
static void check_open(gdb_rtc_channel *ch, void *data) {
  (void)ch;
  atomic_fetch_add(&((checker *)data)->opened, 1);
}
static void check_close(gdb_rtc_channel *ch, void *data) {
  (void)ch;
  atomic_fetch_add(&((checker *)data)->closed, 1);
}

/* Sends every size as text and as binary on ch. */
static int send_all(gdb_rtc_channel *ch, checker *c) {
  uint8_t *buf = malloc(262144);
  int rc = GDB_OK;
  c->n = 0;
  for (size_t i = 0; i < NSIZES; i++)
    for (int b = 0; b < 2; b++) {
      c->lens[c->n] = SIZES[i];
      c->bins[c->n++] = b;
    }
  for (size_t i = 0; i < c->n && !rc; i++) {
    rtc_fill(buf, c->lens[i], seed_of(c->lens[i], c->bins[i]), c->bins[i]);
    rc = gdb_rtc_channel_send(ch, buf, c->lens[i], c->bins[i]);
  }
  free(buf);
  return rc;
}

TEST(rtc_echo_all_sizes) {
  rtc_pair pr = {0};
  pr.b.echo = true;
  CHECK(rtc_pair_connect(&pr, false, NULL));
  checker c[3] = {{.ordered = true}, {.ordered = false}, {.ordered = true}};
  gdb_rtc_channel *ch[3];
  gdb_rtc_channel_options o[3];
  for (int i = 0; i < 3; i++) gdb_rtc_channel_options_init(&o[i]);
  o[1].unordered = true;
  o[2].negotiated = true;
  o[2].id = 100;
  const char *labels[3] = {"ordered", "unordered", "negotiated"};
  for (int i = 0; i < 3; i++) {
    gdb_rtc_channel_callbacks cb = {
        .on_open = check_open, .on_message = check_message, .on_close = check_close, .data = &c[i]};
    CHECK_OK(gdb_rtc_channel_open(pr.a.p, labels[i], &o[i], &cb, &ch[i]));
  }
  /* The answering side opens its half of the negotiated channel itself. */
  gdb_rtc_channel *neg_b;
  gdb_rtc_channel_callbacks bcb = rtc_side_cb(&pr.b);
  CHECK_OK(gdb_rtc_channel_open(pr.b.p, "negotiated", &o[2], &bcb, &neg_b));
  for (int i = 0; i < 3; i++) CHECK(rtc_wait_int(&c[i].opened, 1, 5000));
  CHECK(rtc_wait_int(&pr.b.n_remote, 2, 5000));
  CHECK_INT(gdb_rtc_channel_id(ch[2]), 100);
  CHECK_INT(gdb_rtc_channel_id(neg_b), 100);
  /* Stream ids by DTLS role: even for the DTLS client, odd for the server (RFC 8832 §6). */
  gdb_rtc_peer_info ia;
  CHECK_OK(gdb_rtc_peer_get_info(pr.a.p, &ia));
  CHECK_INT(gdb_rtc_channel_id(ch[0]) % 2, ia.dtls_client ? 0 : 1);
  CHECK_INT(gdb_rtc_channel_id(ch[1]) % 2, ia.dtls_client ? 0 : 1);
  for (int i = 0; i < 3; i++) CHECK_OK(send_all(ch[i], &c[i]));
  for (int i = 0; i < 3; i++)
    CHECK_MSG(rtc_wait_int(&c[i].next, (int)c[i].n, 20000), "channel %d: %d of %zu echoes", i,
              atomic_load(&c[i].next), c[i].n);
  for (int i = 0; i < 3; i++) CHECK_INT(atomic_load(&c[i].bad), 0);
  CHECK_INT(atomic_load(&pr.b.mismatches), 0);
  /* Labels and options arrived through DCEP. */
  bool seen_unordered = false;
  for (int i = 0; i < 2; i++)
    if (!strcmp(gdb_rtc_channel_label(pr.b.remote[i]), "unordered")) seen_unordered = true;
  CHECK(seen_unordered);

  /* Close the ordered channel: both sides see it close; the others stay open. */
  gdb_rtc_channel_close(ch[0]);
  CHECK(rtc_wait_int(&c[0].closed, 1, 5000));
  CHECK(rtc_wait_int(&pr.b.closed, 1, 5000));
  CHECK(!gdb_rtc_channel_is_open(ch[0]));
  CHECK(gdb_rtc_channel_is_open(ch[1]));
  CHECK_INT(gdb_rtc_channel_send(ch[0], "x", 1, false), GDB_ESTATE);
  rtc_pair_free(&pr);
  for (int i = 1; i < 3; i++) CHECK_INT(atomic_load(&c[i].closed), 1);
}

TEST(rtc_send_limits) {
  rtc_pair pr = {0};
  CHECK(rtc_pair_connect(&pr, false, NULL));
  gdb_rtc_channel *ch;
  checker c = {0};
  gdb_rtc_channel_callbacks cb = {.on_open = check_open, .data = &c};
  CHECK_OK(gdb_rtc_channel_open(pr.a.p, "limits", NULL, &cb, &ch));
  CHECK(rtc_wait_int(&c.opened, 1, 5000));
  uint8_t *big = calloc(1, 262145);
  CHECK_INT(gdb_rtc_channel_send(ch, big, 262145, true), GDB_ETOOBIG);
  CHECK(strstr(gdb_errmsg(), "max-message-size"));
  free(big);
  CHECK_INT(gdb_rtc_channel_send(ch, NULL, 5, true), GDB_EINVAL);
  gdb_rtc_channel_options o;
  gdb_rtc_channel_options_init(&o);
  o.max_retransmits = 1;
  o.max_packet_life_ms = 10;
  gdb_rtc_channel *bad;
  CHECK_INT(gdb_rtc_channel_open(pr.a.p, "both", &o, NULL, &bad), GDB_EINVAL);
  rtc_pair_free(&pr);
}

/* Partial reliability: channels with max_retransmits and max_packet_life_ms carry messages
 * (on a lossless path all of them arrive). */
TEST(rtc_partial_reliability) {
  rtc_pair pr = {0};
  CHECK(rtc_pair_connect(&pr, false, NULL));
  gdb_rtc_channel_options o;
  gdb_rtc_channel_options_init(&o);
  o.unordered = true;
  o.max_retransmits = 0;
  gdb_rtc_channel *ch1, *ch2;
  checker c = {0};
  gdb_rtc_channel_callbacks cb = {.on_open = check_open, .data = &c};
  CHECK_OK(gdb_rtc_channel_open(pr.a.p, "rexmit", &o, &cb, &ch1));
  o.max_retransmits = -1;
  o.max_packet_life_ms = 500;
  o.unordered = false;
  CHECK_OK(gdb_rtc_channel_open(pr.a.p, "timed", &o, &cb, &ch2));
  CHECK(rtc_wait_int(&c.opened, 2, 5000));
  for (int i = 0; i < 100; i++) {
    CHECK_OK(gdb_rtc_channel_send(ch1, "abc", 3, false));
    CHECK_OK(gdb_rtc_channel_send(ch2, "defg", 4, true));
  }
  CHECK(rtc_wait_ll(&pr.b.msgs, 200, 5000));
  CHECK_INT(atomic_load(&pr.b.bytes), 700);
  rtc_pair_free(&pr);
}

/* Ten channels closed at once from one side while messages are still queued on them, then
 * ten closed by the other side: every close completes on both sides (stream resets are
 * serialized by SCTP) and the remaining channel still works. */
TEST(rtc_close_many_channels) {
  rtc_pair pr = {0};
  pr.b.echo = true;
  CHECK(rtc_pair_connect(&pr, false, NULL));
  rtc_side mine = {0};
  gdb_rtc_channel_callbacks cb = rtc_side_cb(&mine);
  gdb_rtc_channel *ch[21];
  for (int i = 0; i < 21; i++) CHECK_OK(gdb_rtc_channel_open(pr.a.p, "many", NULL, &cb, &ch[i]));
  CHECK(rtc_wait_int(&mine.opened, 21, 5000));
  CHECK(rtc_wait_int(&pr.b.n_remote, 21, 5000));
  uint8_t *buf = calloc(1, 65536);
  for (int i = 0; i < 10; i++)
    for (int k = 0; k < 8; k++) CHECK_OK(gdb_rtc_channel_send(ch[i], buf, 65536, true));
  free(buf);
  for (int i = 0; i < 10; i++) gdb_rtc_channel_close(ch[i]);
  CHECK_MSG(rtc_wait_int(&mine.closed, 10, 10000), "%d of 10 closed", atomic_load(&mine.closed));
  CHECK(rtc_wait_int(&pr.b.closed, 10, 10000));
  /* The other side closes ten of the remaining ones. */
  int closed_by_b = 0;
  for (int i = 0; i < 21 && closed_by_b < 10; i++)
    if (gdb_rtc_channel_is_open(pr.b.remote[i])) {
      gdb_rtc_channel_close(pr.b.remote[i]);
      closed_by_b++;
    }
  CHECK_INT(closed_by_b, 10);
  CHECK_MSG(rtc_wait_int(&mine.closed, 20, 10000), "%d of 20 closed", atomic_load(&mine.closed));
  CHECK(rtc_wait_int(&pr.b.closed, 20, 10000));
  gdb_rtc_channel *last = NULL;
  for (int i = 0; i < 21; i++)
    if (gdb_rtc_channel_is_open(ch[i])) last = ch[i];
  CHECK(last != NULL);
  long long before = atomic_load(&mine.msgs);
  CHECK_OK(gdb_rtc_channel_send(last, "ping", 4, false));
  CHECK(rtc_wait_ll(&mine.msgs, before + 1, 5000));
  rtc_pair_free(&pr);
}

/* The peer closes a channel while this side still has megabytes queued on it: the queued
 * messages are dropped (the stream is reset), the channel reports on_close, and another
 * channel of the same connection is not held up behind them. */
TEST(rtc_remote_close_with_queued_data) {
  rtc_pair pr = {0};
  CHECK(rtc_pair_connect(&pr, false, NULL));
  checker cx = {0}, cy = {0};
  gdb_rtc_channel_callbacks cbx = {.on_open = check_open, .on_close = check_close, .data = &cx};
  gdb_rtc_channel_callbacks cby = {.on_open = check_open, .on_close = check_close, .data = &cy};
  gdb_rtc_channel *x, *y;
  CHECK_OK(gdb_rtc_channel_open(pr.a.p, "x", NULL, &cbx, &x));
  CHECK_OK(gdb_rtc_channel_open(pr.a.p, "y", NULL, &cby, &y));
  CHECK(rtc_wait_int(&cx.opened, 1, 5000) && rtc_wait_int(&cy.opened, 1, 5000));
  CHECK(rtc_wait_int(&pr.b.n_remote, 2, 5000));
  gdb_rtc_channel *bx =
      strcmp(gdb_rtc_channel_label(pr.b.remote[0]), "x") ? pr.b.remote[1] : pr.b.remote[0];
  uint8_t *buf = calloc(1, 65536);
  for (int i = 0; i < 256; i++) CHECK_OK(gdb_rtc_channel_send(x, buf, 65536, true));
  free(buf);
  gdb_rtc_channel_close(bx);
  CHECK(rtc_wait_int(&cx.closed, 1, 10000));
  CHECK(rtc_wait_int(&pr.b.closed, 1, 10000));
  CHECK(gdb_rtc_channel_is_open(y));
  long long before = atomic_load(&pr.b.msgs);
  CHECK_OK(gdb_rtc_channel_send(y, "after", 5, false));
  CHECK(rtc_wait_ll(&pr.b.msgs, before + 1, 5000));
  CHECK_INT(atomic_load(&cy.closed), 0);
  rtc_pair_free(&pr);
}
