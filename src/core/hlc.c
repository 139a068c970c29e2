/*
 * hlc.c — the Hybrid Logical Clock. See hlc.h.
 */
#include "core/hlc.h"

#include <time.h>

int gdb_hlc_compare(gdb_hlc a, gdb_hlc b) {
  if (a.physical != b.physical) return a.physical < b.physical ? -1 : 1;
  if (a.logical != b.logical) return a.logical < b.logical ? -1 : 1;
  return 0;
}

int64_t gdb_wall_ms(void *unused) {
  (void)unused;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void gdb_clock_init(gdb_clock *c, int64_t max_drift_ms, gdb_wall_fn wall, void *wall_data) {
  c->wall = wall ? wall : gdb_wall_ms;
  c->wall_data = wall_data;
  c->max_drift_ms = max_drift_ms;
  c->last = (gdb_hlc){c->wall(c->wall_data), 0};
}

gdb_hlc gdb_clock_now(gdb_clock *c) {
  int64_t w = c->wall(c->wall_data);
  if (w > c->last.physical) c->last.physical = w;
  c->last.logical++;
  return c->last;
}

gdb_hlc gdb_clock_update(gdb_clock *c, gdb_hlc remote) {
  int64_t p = remote.physical;
  int64_t limit = c->wall(c->wall_data) + c->max_drift_ms;
  if (p > limit) p = limit;
  if (p > c->last.physical) c->last.physical = p;
  if (remote.logical > c->last.logical) c->last.logical = remote.logical;
  c->last.logical++;
  return c->last;
}

void gdb_clock_observe(gdb_clock *c, gdb_hlc t) {
  /* Component-wise: the logical counter keeps counting across restarts. */
  if (t.physical > c->last.physical) c->last.physical = t.physical;
  if (t.logical > c->last.logical) c->last.logical = t.logical;
}

bool gdb_hlc_valid(gdb_hlc t) {
  return t.physical >= 0 && t.logical >= 0 && t.logical <= (int64_t)9007199254740992LL;
}
