/*
 * bench_core.c — `genosdb bench core [--nodes N] [--dir DIR] [--threads T]`: the put/get part
 * of the shared workload (../shared/bench/WORKLOAD.md) through the C API.
 *
 *   put_mem_ops_s    puts per second into a memory-only database (values given as MessagePack)
 *   put_json_ops_s   the same with JSON text values (parsing included)
 *   put_async_ops_s  puts per second into a file, counted until the last one is on disk
 *   put_sync_ops_s   acknowledged (committed) puts per second, T threads writing at once
 *   get_ns           average time of a get by id, every id once
 *   bytes_per_node   memory per node beyond the value's own bytes
 *   open_s           time to reopen the file holding N nodes
 */
#include "bench.h"

#include "genosdb.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct workload {
  size_t n;
  uint8_t **mp;
  size_t *mp_len;
  char **json;
  char (*ids)[65];
  size_t value_bytes;
} workload;

static void make_workload(workload *w, size_t n) {
  w->n = n;
  w->mp = malloc(n * sizeof *w->mp);
  w->mp_len = malloc(n * sizeof *w->mp_len);
  w->json = malloc(n * sizeof *w->json);
  w->ids = malloc(n * sizeof *w->ids);
  w->value_bytes = 0;
  for (size_t i = 0; i < n; i++) {
    char buf[128];
    int len = snprintf(buf, sizeof buf, "{\"type\":\"user\",\"name\":\"u%zu\",\"age\":%zu,\"status\":\"%s\"}", i, i % 100,
                       i % 2 ? "active" : "inactive");
    w->json[i] = strdup(buf);
    gdb_json_to_value(buf, (size_t)len, &w->mp[i], &w->mp_len[i]);
    w->value_bytes += w->mp_len[i];
  }
}

static void free_workload(workload *w) {
  for (size_t i = 0; i < w->n; i++) {
    gdb_free(w->mp[i]);
    free(w->json[i]);
  }
  free(w->mp);
  free(w->mp_len);
  free(w->json);
  free(w->ids);
}

static int die(const char *what) {
  fprintf(stderr, "bench core: %s: %s\n", what, gdb_errmsg());
  return 3;
}

typedef struct sync_arg {
  gdb_t *db;
  workload *w;
  size_t from, to;
  int fails;
} sync_arg;

static void *sync_writer(void *p) {
  sync_arg *a = p;
  for (size_t i = a->from; i < a->to; i++)
    if (gdb_put(a->db, NULL, a->w->mp[i], a->w->mp_len[i], NULL)) a->fails++;
  return NULL;
}

int bench_core(int argc, char **argv) {
  size_t n = 100000, sync_n = 0;
  int threads = 64;
  const char *dir = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--nodes") && i + 1 < argc) n = strtoull(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--sync-nodes") && i + 1 < argc) sync_n = strtoull(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--dir") && i + 1 < argc) dir = argv[++i];
    else {
      fprintf(stderr, "usage: genosdb bench core [--nodes N] [--sync-nodes N] [--threads T] [--dir DIR]\n");
      return 2;
    }
  }
  if (n == 0 || threads < 1) {
    fprintf(stderr, "bench core: --nodes and --threads must be positive\n");
    return 2;
  }
  if (!sync_n) sync_n = n < 100000 ? n : 100000;
  char tmpl[512];
  snprintf(tmpl, sizeof tmpl, "%s/genosdb-bench-XXXXXX", dir ? dir : (getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp"));
  if (!mkdtemp(tmpl)) {
    perror("bench core: mkdtemp");
    return 3;
  }
  char path[600];
  workload w;
  make_workload(&w, n);
  gdb_t *db;
  uint64_t t0, t1;

  /* 1. puts in memory, MessagePack values; memory per node measured here (the id array is
   * touched first so its pages are not counted) */
  memset(w.ids, 0, n * sizeof *w.ids);
  uint64_t rss0 = bench_rss_bytes();
  if (gdb_open(NULL, NULL, &db)) return die("open");
  t0 = bench_now_ns();
  for (size_t i = 0; i < n; i++)
    if (gdb_put(db, NULL, w.mp[i], w.mp_len[i], w.ids[i])) return die("put");
  t1 = bench_now_ns();
  double put_mem = (double)n / ((double)(t1 - t0) / 1e9);
  uint64_t rss1 = bench_rss_bytes();
  double bytes_per_node = ((double)rss1 - (double)rss0) / (double)n - (double)w.value_bytes / (double)n;

  /* 2. gets, every id once */
  t0 = bench_now_ns();
  size_t found = 0;
  for (size_t i = 0; i < n; i++) {
    gdb_node *node;
    if (gdb_get(db, w.ids[i], &node) == GDB_OK) {
      found++;
      gdb_node_release(node);
    }
  }
  t1 = bench_now_ns();
  double get_ns = (double)(t1 - t0) / (double)n;
  if (found != n) return die("get missed ids");
  gdb_close(db);

  /* JSON values */
  if (gdb_open(NULL, NULL, &db)) return die("open");
  t0 = bench_now_ns();
  for (size_t i = 0; i < n; i++)
    if (gdb_put_json(db, NULL, w.json[i], strlen(w.json[i]), NULL)) return die("put_json");
  t1 = bench_now_ns();
  double put_json = (double)n / ((double)(t1 - t0) / 1e9);
  gdb_close(db);

  /* 3. async persistence, until the last put is on disk */
  snprintf(path, sizeof path, "%s/async.db", tmpl);
  if (gdb_open(path, NULL, &db)) return die("open file");
  t0 = bench_now_ns();
  for (size_t i = 0; i < n; i++)
    if (gdb_put(db, NULL, w.mp[i], w.mp_len[i], NULL)) return die("put async");
  if (gdb_flush(db)) return die("flush");
  t1 = bench_now_ns();
  double put_async = (double)n / ((double)(t1 - t0) / 1e9);
  if (gdb_close(db)) return die("close");

  /* 4. reopening the file */
  t0 = bench_now_ns();
  if (gdb_open(path, NULL, &db)) return die("reopen");
  t1 = bench_now_ns();
  double open_s = (double)(t1 - t0) / 1e9;
  gdb_stats st;
  gdb_get_stats(db, &st);
  if (st.nodes != n) return die("reopen lost nodes");
  gdb_close(db);

  /* 5. sync durability: acknowledged after commit, T writers sharing commits */
  snprintf(path, sizeof path, "%s/sync.db", tmpl);
  gdb_options o;
  gdb_options_init(&o);
  o.durability = GDB_DURABILITY_SYNC;
  if (gdb_open(path, &o, &db)) return die("open sync");
  pthread_t *tid = calloc((size_t)threads, sizeof *tid);
  sync_arg *args = calloc((size_t)threads, sizeof *args);
  t0 = bench_now_ns();
  for (int i = 0; i < threads; i++) {
    args[i] = (sync_arg){db, &w, sync_n * (size_t)i / (size_t)threads, sync_n * (size_t)(i + 1) / (size_t)threads, 0};
    pthread_create(&tid[i], NULL, sync_writer, &args[i]);
  }
  int fails = 0;
  for (int i = 0; i < threads; i++) {
    pthread_join(tid[i], NULL);
    fails += args[i].fails;
  }
  t1 = bench_now_ns();
  double put_sync = (double)sync_n / ((double)(t1 - t0) / 1e9);
  gdb_get_stats(db, &st);
  gdb_close(db);
  free(tid);
  free(args);
  if (fails) return die("sync puts failed");

  printf("{\"nodes\":%zu,\"put_mem_ops_s\":%.0f,\"put_json_ops_s\":%.0f,\"put_async_ops_s\":%.0f,"
         "\"put_sync_ops_s\":%.0f,\"sync_nodes\":%zu,\"sync_threads\":%d,\"sync_commits\":%llu,"
         "\"get_ns\":%.1f,\"bytes_per_node\":%.0f,\"value_bytes_per_node\":%.1f,\"open_s\":%.3f}\n",
         n, put_mem, put_json, put_async, put_sync, sync_n, threads, (unsigned long long)st.store_commits, get_ns,
         bytes_per_node, (double)w.value_bytes / (double)n, open_s);
  free_workload(&w);
  char cmd[700];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpl);
  if (system(cmd) != 0) fprintf(stderr, "bench core: could not remove %s\n", tmpl);
  return 0;
}
