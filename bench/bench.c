/*
 * bench.c — `genosdb bench SUITE [ARGS]`: dispatch to the benchmark suites.
 */
#include "bench.h"

#include "cli/cli.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

uint64_t bench_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t bench_rss_bytes(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  unsigned long size = 0, rss = 0;
  if (f) {
    if (fscanf(f, "%lu %lu", &size, &rss) != 2) rss = 0;
    fclose(f);
  }
  return (uint64_t)rss * (uint64_t)sysconf(_SC_PAGESIZE);
}

static const struct {
  const char *name;
  int (*fn)(int argc, char **argv);
} SUITES[] = {
    {"core", bench_core},
    {"relay", bench_relay},
    {"rtc", bench_rtc},
    {"sm", bench_sm},
    {"query", bench_query},
};

int cmd_bench(const cli_global *g, int argc, char **argv) {
  (void)g;
  if (argc < 2) return cli_usage("bench: which suite? (core, relay, query)");
  for (size_t i = 0; i < sizeof SUITES / sizeof SUITES[0]; i++)
    if (!strcmp(argv[1], SUITES[i].name)) return SUITES[i].fn(argc - 1, argv + 1);
  return cli_usage("bench: unknown suite \"%s\"", argv[1]);
}
