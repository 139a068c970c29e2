/*
 * hlc.h — the Hybrid Logical Clock (behaviour fixed by tests/vectors/hlc.json).
 *
 * now(): physical = max(last physical, wall); logical increments on every call, never resets.
 * update(remote): physical = max(local, remote physical capped at wall + max drift);
 * logical = max(local, remote logical) + 1. So every reading is strictly greater than the one
 * before, which the oplog uses as its position.
 */
#ifndef GDB_CORE_HLC_H
#define GDB_CORE_HLC_H

#include "genosdb.h"

typedef int64_t (*gdb_wall_fn)(void *data);

typedef struct gdb_clock {
  gdb_hlc last;
  int64_t max_drift_ms;
  gdb_wall_fn wall;
  void *wall_data;
} gdb_clock;

/* Milliseconds since the epoch (CLOCK_REALTIME). */
int64_t gdb_wall_ms(void *unused);
/* Starts a clock, reading the wall once; wall NULL means gdb_wall_ms. */
void gdb_clock_init(gdb_clock *c, int64_t max_drift_ms, gdb_wall_fn wall, void *wall_data);
gdb_hlc gdb_clock_now(gdb_clock *c);
gdb_hlc gdb_clock_update(gdb_clock *c, gdb_hlc remote);
/* Never lets the clock fall behind t in either component (used when reopening a database). */
void gdb_clock_observe(gdb_clock *c, gdb_hlc t);
/* True when t is a timestamp an operation may carry: 0 <= physical, 0 <= logical <= 2^53. */
bool gdb_hlc_valid(gdb_hlc t);

#endif
