/*
 * rtc_fixture.h — helpers for the rtc unit tests: two peers on 127.0.0.1 wired together
 * in one process, counters the callbacks fill, and bounded waits.
 */
#ifndef GDB_TEST_RTC_FIXTURE_H
#define GDB_TEST_RTC_FIXTURE_H

#include "genosdb.h"

#include <stdatomic.h>
#include <stdbool.h>

#define RTC_MAX_CH 32

typedef struct rtc_side {
  gdb_rtc_peer *p;
  _Atomic int state;
  _Atomic int n_remote; /* channels the other side opened */
  gdb_rtc_channel *remote[RTC_MAX_CH];
  _Atomic int opened, closed, low;
  bool echo;                     /* echo every message on its channel */
  _Atomic long long msgs, bytes; /* received */
  _Atomic int mismatches;        /* set by checking receivers */
} rtc_side;

typedef struct rtc_pair {
  rtc_side a, b; /* a offers, b answers */
} rtc_pair;

/* Config for tests: 127.0.0.1 only, short consent timeout. */
void rtc_test_config(gdb_rtc_config *c, rtc_side *s);
/* Creates both peers, exchanges complete descriptions (non-trickle) or trickles candidates,
 * and waits until both are connected. Returns false (with a message) on failure. */
bool rtc_pair_connect(rtc_pair *pr, bool trickle, const gdb_rtc_config *base);
void rtc_pair_free(rtc_pair *pr);
/* Polls cond(arg) every millisecond for up to ms; true once it holds. */
bool rtc_wait(bool (*cond)(void *), void *arg, int ms);
bool rtc_wait_int(_Atomic int *v, int at_least, int ms);
bool rtc_wait_ll(_Atomic long long *v, long long at_least, int ms);
/* Waits until the side's state is s. */
bool rtc_wait_state(rtc_side *s, gdb_rtc_state st, int ms);
/* Deterministic content of message (seed, len): text is printable ASCII. */
void rtc_fill(uint8_t *buf, size_t len, uint32_t seed, bool binary);
/* Channel callbacks: echo when side->echo, count always. */
extern const gdb_rtc_channel_callbacks rtc_counting_cb;
gdb_rtc_channel_callbacks rtc_side_cb(rtc_side *s);

#endif
