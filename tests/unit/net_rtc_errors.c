/*
 * net_rtc_errors.c — bad input and bad peers: malformed SDP, calls in the wrong state, a
 * certificate that does not match the SDP fingerprint, unknown and malformed DCEP messages,
 * and a peer that vanishes mid-transfer. Each must end in a clean error or state change.
 */
#include "rtc_fixture.h"
#include "test.h"

#include "net/rtc/dcep.h"
#include "net/rtc/rtc.h"

#include <glib.h>
#include <stdlib.h>

static const char *GOOD_MEDIA = "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
                                "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuv\r\n"
                                "a=fingerprint:sha-256 "
                                "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
                                "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF\r\n"
                                "a=setup:actpass\r\na=mid:0\r\na=sctp-port:5000\r\n";

TEST(rtc_malformed_sdp_rejected) {
  gdb_rtc_config c;
  rtc_side s = {0};
  rtc_test_config(&c, &s);
  gdb_rtc_peer *p;
  CHECK_OK(gdb_rtc_peer_new(&c, &p));
  char good[1024];
  snprintf(good, sizeof good, "v=0\r\ns=-\r\n%s", GOOD_MEDIA);
  const char *bad[] = {
      "",
      "hello",
      "v=1\r\n",
      "v=0\r\nthis is not sdp\r\n",
      "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=ice-ufrag:x\r\n", /* no data section */
      "v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=ice-pwd:abc\r\n", /* no ufrag */
      "v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=ice-ufrag:ab\r\n"
      "a=ice-pwd:abcdefghijklmnopqrstuv\r\na=fingerprint:sha-256 zz:11\r\n",
      "v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=ice-ufrag:a b\r\n",
      "v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=sctp-port:99999\r\n",
      "v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=setup:sideways\r\n",
      "v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=max-message-size:-1\r\n",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int rc = gdb_rtc_peer_set_remote_description(p, "offer", bad[i]);
    CHECK_MSG(rc == GDB_EINVAL, "SDP %zu: rc %d", i, rc);
    CHECK(gdb_errmsg()[0]);
  }
  CHECK_INT(gdb_rtc_peer_set_remote_description(p, "pranswer", good), GDB_EINVAL);
  char *sdp = NULL;
  CHECK_INT(gdb_rtc_peer_create_answer(p, &sdp), GDB_ESTATE);
  CHECK_INT(gdb_rtc_peer_add_remote_candidate(p, "candidate:1 1 udp 1 127.0.0.1 9 typ host", "0"),
            GDB_ESTATE);
  CHECK_INT(gdb_rtc_peer_set_remote_description(p, "answer", good), GDB_ESTATE);
  /* The good one is accepted; then garbage candidates are refused one by one. */
  CHECK_OK(gdb_rtc_peer_set_remote_description(p, "offer", good));
  CHECK_INT(gdb_rtc_peer_add_remote_candidate(p, "candidate:garbage", "0"), GDB_EINVAL);
  CHECK_INT(gdb_rtc_peer_add_remote_candidate(p, "nonsense", "0"), GDB_EINVAL);
  CHECK_INT(gdb_rtc_peer_set_remote_description(p, "offer", good), GDB_ESTATE);
  CHECK_OK(gdb_rtc_peer_create_answer(p, &sdp));
  CHECK(strstr(sdp, "a=setup:active"));
  gdb_free(sdp);
  CHECK_INT(gdb_rtc_peer_create_offer(p, &sdp), GDB_ESTATE);
  gdb_rtc_peer_free(p);

  gdb_rtc_config bad_cfg;
  gdb_rtc_config_init(&bad_cfg);
  bad_cfg.consent_timeout_ms = 5;
  CHECK_INT(gdb_rtc_peer_new(&bad_cfg, &p), GDB_EINVAL);
  const char *addr[] = {"not-an-ip"};
  gdb_rtc_config_init(&bad_cfg);
  bad_cfg.bind_addresses = addr;
  bad_cfg.bind_address_count = 1;
  CHECK_INT(gdb_rtc_peer_new(&bad_cfg, &p), GDB_EINVAL);
  gdb_rtc_ice_server srv = {.urls = "http://example.invalid"};
  gdb_rtc_config_init(&bad_cfg);
  bad_cfg.ice_servers = &srv;
  bad_cfg.ice_server_count = 1;
  CHECK_INT(gdb_rtc_peer_new(&bad_cfg, &p), GDB_EINVAL);
  CHECK(strstr(gdb_errmsg(), "stun:"));
  srv.urls = "turn:127.0.0.1:3478"; /* no credentials */
  CHECK_INT(gdb_rtc_peer_new(&bad_cfg, &p), GDB_EINVAL);
}

/* Replaces the fingerprint in sdp with one of the same length but other bytes. */
static void tamper_fingerprint(char *sdp) {
  char *f = strstr(sdp, "a=fingerprint:sha-256 ");
  if (!f) return;
  f += strlen("a=fingerprint:sha-256 ");
  f[0] = f[0] == 'A' ? 'B' : 'A';
}

TEST(rtc_fingerprint_mismatch_fails) {
  rtc_pair pr = {0};
  gdb_rtc_config ca, cb;
  rtc_test_config(&ca, &pr.a);
  rtc_test_config(&cb, &pr.b);
  CHECK_OK(gdb_rtc_peer_new(&ca, &pr.a.p));
  CHECK_OK(gdb_rtc_peer_new(&cb, &pr.b.p));
  char *offer, *answer;
  CHECK_OK(gdb_rtc_peer_create_offer(pr.a.p, &offer));
  CHECK_OK(gdb_rtc_peer_set_remote_description(pr.b.p, "offer", offer));
  CHECK_OK(gdb_rtc_peer_create_answer(pr.b.p, &answer));
  tamper_fingerprint(answer);
  CHECK_OK(gdb_rtc_peer_set_remote_description(pr.a.p, "answer", answer));
  gdb_free(offer);
  gdb_free(answer);
  char *da, *db;
  /* Trickle the candidates once gathered. */
  for (int i = 0;
       i < 5000 && !(gdb_rtc_peer_gathering_done(pr.a.p) && gdb_rtc_peer_gathering_done(pr.b.p));
       i++)
    g_usleep(1000);
  CHECK_OK(gdb_rtc_peer_local_description(pr.a.p, &da));
  CHECK_OK(gdb_rtc_peer_local_description(pr.b.p, &db));
  gchar **la = g_strsplit(da, "\r\n", -1), **lb = g_strsplit(db, "\r\n", -1);
  for (gchar **l = la; *l; l++)
    if (g_str_has_prefix(*l, "a=candidate:")) gdb_rtc_peer_add_remote_candidate(pr.b.p, *l, "0");
  for (gchar **l = lb; *l; l++)
    if (g_str_has_prefix(*l, "a=candidate:")) gdb_rtc_peer_add_remote_candidate(pr.a.p, *l, "0");
  g_strfreev(la);
  g_strfreev(lb);
  gdb_free(da);
  gdb_free(db);
  /* a checks b's certificate against the tampered fingerprint and fails; b sees the alert. */
  CHECK(rtc_wait_state(&pr.a, GDB_RTC_FAILED, 8000));
  gdb_rtc_peer_info info;
  CHECK_OK(gdb_rtc_peer_get_info(pr.a.p, &info));
  CHECK_MSG(strstr(info.reason, "fingerprint"), "reason: %s", info.reason);
  CHECK(rtc_wait_state(&pr.b, GDB_RTC_FAILED, 8000));
  rtc_pair_free(&pr);
}

typedef struct inject {
  gdb_rtc_peer *p;
  int sid;
  uint8_t msg[64];
  size_t len;
  int rc;
} inject;

static void do_inject(void *data) {
  inject *in = data;
  gdb_rtc_channel fake = {.peer = in->p, .sid = in->sid, .acked = true};
  in->rc = gdb_rtc_sctp_send(in->p, &fake, GDB_PPID_DCEP, in->msg, in->len);
  gdb_rtc_sctp_drain();
}

TEST(rtc_unknown_dcep_ignored) {
  rtc_pair pr = {0};
  pr.b.echo = true;
  CHECK(rtc_pair_connect(&pr, false, NULL));
  rtc_side mine = {0};
  gdb_rtc_channel_callbacks cb = rtc_side_cb(&mine);
  gdb_rtc_channel *ch;
  CHECK_OK(gdb_rtc_channel_open(pr.a.p, "main", NULL, &cb, &ch));
  CHECK(rtc_wait_int(&mine.opened, 1, 5000));
  CHECK(rtc_wait_int(&pr.b.n_remote, 1, 5000));
  /* An unknown DCEP type on the open channel's stream. */
  inject in = {.p = pr.a.p, .sid = gdb_rtc_channel_id(ch), .msg = {0x07, 1, 2, 3}, .len = 4};
  gdb_net_loop_invoke_sync(pr.a.p->loop, do_inject, &in);
  CHECK_INT(in.rc, 1);
  /* A truncated DATA_CHANNEL_OPEN, and one whose lengths disagree, on fresh streams. */
  inject t = {.p = pr.a.p, .sid = 201, .msg = {0x03, 0x00, 0x00}, .len = 3};
  gdb_net_loop_invoke_sync(pr.a.p->loop, do_inject, &t);
  inject l = {
      .p = pr.a.p, .sid = 203, .msg = {0x03, 0, 0, 0, 0, 0, 0, 0, 0, 50, 0, 0, 'x'}, .len = 13};
  gdb_net_loop_invoke_sync(pr.a.p->loop, do_inject, &l);
  inject e = {.p = pr.a.p, .sid = gdb_rtc_channel_id(ch), .len = 0};
  gdb_net_loop_invoke_sync(pr.a.p->loop, do_inject, &e); /* empty DCEP message */
  /* The connection and the channel carry on; no channel was created by the bad OPENs. */
  CHECK_OK(gdb_rtc_channel_send(ch, "still here", 10, false));
  CHECK(rtc_wait_ll(&mine.msgs, 1, 5000));
  CHECK_INT(atomic_load(&mine.bytes), 10);
  CHECK_INT(atomic_load(&pr.b.n_remote), 1);
  CHECK_INT(gdb_rtc_peer_state(pr.b.p), GDB_RTC_CONNECTED);
  rtc_pair_free(&pr);
}

TEST(rtc_vanished_peer_detected) {
  rtc_pair pr = {0};
  pr.b.echo = true;
  CHECK(rtc_pair_connect(&pr, false, NULL)); /* consent timeout 3000 ms */
  rtc_side mine = {0};
  gdb_rtc_channel_callbacks cb = rtc_side_cb(&mine);
  gdb_rtc_channel *ch;
  CHECK_OK(gdb_rtc_channel_open(pr.a.p, "bulk", NULL, &cb, &ch));
  CHECK(rtc_wait_int(&mine.opened, 1, 5000));
  uint8_t *chunk = malloc(65536);
  rtc_fill(chunk, 65536, 1, true);
  for (int i = 0; i < 64; i++) CHECK_OK(gdb_rtc_channel_send(ch, chunk, 65536, true));
  gdb_rtc_peer_test_freeze(pr.b.p); /* b vanishes mid-transfer */
  int64_t t0 = g_get_monotonic_time();
  for (int i = 0; i < 64; i++) gdb_rtc_channel_send(ch, chunk, 65536, true);
  free(chunk);
  CHECK(rtc_wait_state(&pr.a, GDB_RTC_FAILED, 10000));
  int64_t ms = (g_get_monotonic_time() - t0) / 1000;
  CHECK_MSG(ms < 8000, "detected after %lld ms", (long long)ms);
  CHECK(rtc_wait_int(&mine.closed, 1, 1000));
  CHECK_INT(gdb_rtc_channel_send(ch, "x", 1, false), GDB_ESTATE);
  gdb_rtc_peer_info info;
  CHECK_OK(gdb_rtc_peer_get_info(pr.a.p, &info));
  CHECK_MSG(strstr(info.reason, "nothing heard"), "reason: %s", info.reason);
  rtc_pair_free(&pr);
}
