/*
 * net_rtc_soak.c — 100 simultaneous connections in one process (200 peers, both ends here)
 * stay up for a minute with traffic: every 100 ms each connection sends a message that the
 * other end echoes; at the end every echo must be back and no connection may have left the
 * connected state. GDB_RTC_SOAK_SECONDS changes the duration (default 60).
 */
#include "rtc_fixture.h"
#include "test.h"

#include <glib.h>
#include <stdlib.h>

#define CONNS 100

TEST(rtc_hundred_connections) {
  const char *env = getenv("GDB_RTC_SOAK_SECONDS");
  int seconds = env ? atoi(env) : 60;
  if (seconds < 1) seconds = 1;
  rtc_pair *pr = calloc(CONNS, sizeof *pr);
  gdb_rtc_channel **ch = calloc(CONNS, sizeof *ch);
  int made = 0;
  bool ok = true;
  for (; made < CONNS && ok; made++) {
    pr[made].b.echo = true;
    ok = rtc_pair_connect(&pr[made], made % 2 == 0, NULL);
    if (!ok) break;
    gdb_rtc_channel_callbacks cb = rtc_side_cb(&pr[made].a);
    ok = gdb_rtc_channel_open(pr[made].a.p, "soak", NULL, &cb, &ch[made]) == GDB_OK;
  }
  CHECK_MSG(ok, "connection %d of %d failed", made, CONNS);
  for (int i = 0; i < CONNS; i++) CHECK(rtc_wait_int(&pr[i].a.opened, 1, 5000));
  uint8_t msg[1024];
  long long sent = 0;
  int64_t end = g_get_monotonic_time() + (int64_t)seconds * G_TIME_SPAN_SECOND;
  int rounds = 0;
  while (g_get_monotonic_time() < end) {
    for (int i = 0; i < CONNS; i++) {
      rtc_fill(msg, sizeof msg, (uint32_t)(rounds * CONNS + i), true);
      CHECK_OK(gdb_rtc_channel_send(ch[i], msg, sizeof msg, true));
    }
    sent++;
    rounds++;
    g_usleep(100000);
    for (int i = 0; i < CONNS; i++) {
      CHECK_MSG(atomic_load(&pr[i].a.state) == GDB_RTC_CONNECTED &&
                    atomic_load(&pr[i].b.state) == GDB_RTC_CONNECTED,
                "connection %d left the connected state after %d rounds (%s/%s)", i, rounds,
                gdb_rtc_state_name(atomic_load(&pr[i].a.state)),
                gdb_rtc_state_name(atomic_load(&pr[i].b.state)));
    }
  }
  for (int i = 0; i < CONNS; i++) {
    CHECK_MSG(rtc_wait_ll(&pr[i].a.msgs, sent, 10000), "connection %d: %lld of %lld echoes", i,
              (long long)atomic_load(&pr[i].a.msgs), sent);
    CHECK_INT(atomic_load(&pr[i].a.bytes), sent * (long long)sizeof msg);
    CHECK_INT(atomic_load(&pr[i].b.mismatches), 0);
  }
  fprintf(stderr, "  %d connections, %d rounds, %lld echoed messages each\n", CONNS, rounds, sent);
  for (int i = 0; i < CONNS; i++) rtc_pair_free(&pr[i]);
  free(pr);
  free(ch);
}
