/*
 * bench.h — benchmarks run by `genosdb bench <suite>`. Each suite prints one JSON object on
 * stdout; figures and the commands that produced them are recorded in docs/performance.md.
 */
#ifndef GDB_BENCH_H
#define GDB_BENCH_H

#include <stdint.h>

/* Monotonic time in nanoseconds. */
uint64_t bench_now_ns(void);
/* Resident set size of this process in bytes (from /proc/self/statm). */
uint64_t bench_rss_bytes(void);

int bench_core(int argc, char **argv);
int bench_relay(int argc, char **argv);
int bench_rtc(int argc, char **argv);
int bench_sm(int argc, char **argv);
int bench_query(int argc, char **argv);

#endif
