/* net_rtc_connect.c — two C peers connect over 127.0.0.1 in one process and close cleanly. */
#include "rtc_fixture.h"
#include "test.h"

#include <glib.h>

TEST(rtc_connect_non_trickle) {
  rtc_pair pr = {0};
  CHECK(rtc_pair_connect(&pr, false, NULL));
  gdb_rtc_peer_info ia, ib;
  CHECK_OK(gdb_rtc_peer_get_info(pr.a.p, &ia));
  CHECK_OK(gdb_rtc_peer_get_info(pr.b.p, &ib));
  CHECK_STR(ia.local_candidate_type, "host");
  CHECK(!strncmp(ia.local_address, "127.0.0.1:", 10));
  CHECK(ia.dtls_client != ib.dtls_client);
  CHECK_INT(ia.remote_max_message_size, 262144);
  gdb_rtc_peer_close(pr.a.p);
  CHECK_INT(gdb_rtc_peer_state(pr.a.p), GDB_RTC_CLOSED);
  CHECK(rtc_wait_state(&pr.b, GDB_RTC_CLOSED, 5000));
  rtc_pair_free(&pr);
}

TEST(rtc_connect_trickle) {
  rtc_pair pr = {0};
  CHECK(rtc_pair_connect(&pr, true, NULL));
  rtc_pair_free(&pr);
}

/* Nothing to send for longer than the consent timeout (3 s here): SCTP heartbeats keep the
 * peers hearing from each other, so neither side may report disconnected or failed. */
TEST(rtc_idle_stays_connected) {
  rtc_pair pr = {0};
  CHECK(rtc_pair_connect(&pr, false, NULL));
  for (int i = 0; i < 80; i++) {
    g_usleep(100000);
    CHECK_MSG(atomic_load(&pr.a.state) == GDB_RTC_CONNECTED &&
                  atomic_load(&pr.b.state) == GDB_RTC_CONNECTED,
              "after %d ms idle: %s / %s", i * 100, gdb_rtc_state_name(atomic_load(&pr.a.state)),
              gdb_rtc_state_name(atomic_load(&pr.b.state)));
  }
  rtc_pair_free(&pr);
}
