/*
 * bench_query.c — `genosdb bench query [--nodes N] [--runs R] [--subs S] [--no-open]`: the
 * query steps of the shared workload (../shared/bench/WORKLOAD.md, steps 3-5) through the C
 * API, by scan and with indexes, plus $text, live-subscription updates and index rebuilds.
 * Each query is run once to warm up, then timed once (the workload's rule); with --runs R it
 * is timed R times and the median is reported (this machine is shared and noisy).
 *
 *   filter_scan_ms       step 3, {"age":{"$gt":50},"status":"active"}, no index (N/4 results)
 *   sort_limit_ms        step 4, status active, age desc, $limit 10, no index
 *   edge_chain_ms        step 5, root + 1,000-node chain, $edge to size > 500 (499), no index
 *   filter_index_ms      step 3 with indexes: status (eq), age (range)
 *   filter_index_exec_ms the same without building the result (explain's time: the index
 *                        work alone, before taking a reference to each of the N/4 nodes)
 *   filter_index_eq_ms   a one-result equality ({"name":"u<N/2>"}) through an eq index
 *   sort_limit_index_ms  step 4 with a range index on age (walked in order)
 *   edge_chain_index_ms  step 5 with an eq index on type (finds the root)
 *   text_scan_ms         $text on N short documents, one word in ~1% of them, no index
 *   text_ms              the same through a text index
 *   sub_update_us        per write per affected subscription: S subscriptions that all see
 *                        each write (updated events delivered to callbacks)
 *   sub_unaffected_us    per write with S subscriptions anchored on other values
 *   index_build_ms       creating the eq (status, type, name) and range (age) indexes on N nodes
 *   text_index_build_ms  creating the text index
 *   open_s / open_indexed_s  reopening a file of N nodes without / with three declared indexes
 *                        (declared indexes are built when a query first needs them)
 *   first_query_ms       the step-3 query right after the indexed reopen: builds the status
 *                        and age indexes, then answers
 */
#include "bench.h"

#include "genosdb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int die(const char *what) {
  fprintf(stderr, "bench query: %s: %s\n", what, gdb_errmsg());
  return 3;
}

static double ms_since(uint64_t t0) { return (double)(bench_now_ns() - t0) / 1e6; }

static int runs = 1;

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Runs options twice (warm-up, then timed); checks the result count when want >= 0. */
static int timed_map(gdb_t *db, const char *options, long want, double *ms) {
  gdb_result *r;
  if (gdb_map(db, options, &r)) return die(options);
  gdb_result_free(r);
  double t[101];
  size_t n = 0;
  for (int i = 0; i < runs; i++) {
    uint64_t t0 = bench_now_ns();
    if (gdb_map(db, options, &r)) return die(options);
    t[i] = ms_since(t0);
    n = gdb_result_len(r);
    gdb_result_free(r);
  }
  qsort(t, (size_t)runs, sizeof *t, cmp_double);
  *ms = t[runs / 2];
  if (want >= 0 && (long)n != want) {
    fprintf(stderr, "bench query: %s returned %zu results, expected %ld\n", options, n, want);
    return 3;
  }
  return 0;
}

static int put_workload(gdb_t *db, size_t n) {
  for (size_t i = 0; i < n; i++) {
    char buf[128];
    int len = snprintf(buf, sizeof buf,
                       "{\"type\":\"user\",\"name\":\"u%zu\",\"age\":%zu,\"status\":\"%s\"}", i,
                       i % 100, i % 2 ? "active" : "inactive");
    if (gdb_put_json(db, NULL, buf, (size_t)len, NULL)) return die("put");
  }
  return 0;
}

static int put_chain(gdb_t *db) {
  char prev[GDB_ID_BUFSZ], id[GDB_ID_BUFSZ];
  const char *root = "{\"type\":\"Folder\",\"name\":\"root\"}";
  if (gdb_put_json(db, NULL, root, strlen(root), prev)) return die("put root");
  for (int k = 0; k < 1000; k++) {
    char buf[64];
    int len = snprintf(buf, sizeof buf, "{\"type\":\"File\",\"size\":%d}", k);
    if (gdb_put_json(db, NULL, buf, (size_t)len, id) || gdb_link(db, prev, id)) return die("chain");
    memcpy(prev, id, sizeof id);
  }
  return 0;
}

static const char *const WORDS[] = {"alpha",   "bravo",  "charlie", "delta",    "echo",
                                    "foxtrot", "golf",   "hotel",   "india",    "juliett",
                                    "kilo",    "lima",   "mike",    "november", "oscar",
                                    "papa",    "quebec", "romeo",   "sierra",   "tango"};

/* Short documents of five words from a vocabulary of 2,000 (each word in ~0.25% of them),
 * and "Zebra-crossing" (accent and case variants) in 1%. */
static int put_texts(gdb_t *db, size_t n) {
  uint64_t x = 88172645463325252ull;
  for (size_t i = 0; i < n; i++) {
    char buf[256];
    int len = snprintf(buf, sizeof buf, "{\"body\":\"");
    for (int w = 0; w < 5; w++) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      len += snprintf(buf + len, sizeof buf - (size_t)len, "%s%s%u", w ? " " : "", WORDS[x % 20],
                      (unsigned)(x >> 32) % 100);
    }
    if (i % 100 == 7)
      len += snprintf(buf + len, sizeof buf - (size_t)len, " %s",
                      i % 200 == 7 ? "Zébra-crossing!" : "zebra crossing");
    len += snprintf(buf + len, sizeof buf - (size_t)len, "\",\"n\":%zu}", i);
    if (gdb_put_json(db, NULL, buf, (size_t)len, NULL)) return die("put text");
  }
  return 0;
}

static void count_event(gdb_watch *w, gdb_event ev, gdb_node *node, void *data) {
  (void)w, (void)ev, (void)node;
  (*(uint64_t *)data)++;
}

static int bench_subs(size_t subs, double *affected_us, double *unaffected_us) {
  gdb_t *db;
  if (gdb_open(NULL, NULL, &db)) return die("open");
  gdb_watch **w = calloc(subs, sizeof *w);
  uint64_t events = 0;
  /* every subscription matches the written nodes: half plain filters, half $limit windows */
  for (size_t i = 0; i < subs; i++) {
    char opts[160];
    if (i % 2)
      snprintf(opts, sizeof opts, "{\"query\":{\"type\":\"hot\",\"v\":{\"$gte\":%zu}}}", i % 7);
    else
      snprintf(opts, sizeof opts,
               "{\"query\":{\"type\":\"hot\"},\"field\":\"v\",\"order\":\"desc\",\"$limit\":%zu}",
               50 + i % 10);
    if (gdb_map_watch(db, opts, count_event, &events, &w[i])) return die("watch");
  }
  const int writes = 2000;
  char id[32];
  /* affected: updates of 20 hot nodes, each seen by every subscription */
  for (int k = 0; k < 20; k++) {
    snprintf(id, sizeof id, "hot%d", k);
    char v[64];
    int len = snprintf(v, sizeof v, "{\"type\":\"hot\",\"v\":%d}", 1000 + k);
    if (gdb_put_json(db, id, v, (size_t)len, NULL)) return die("put hot");
  }
  events = 0;
  uint64_t t0 = bench_now_ns();
  for (int k = 0; k < writes; k++) {
    snprintf(id, sizeof id, "hot%d", k % 20);
    char v[64];
    int len = snprintf(v, sizeof v, "{\"type\":\"hot\",\"v\":%d}", 1000 + k);
    if (gdb_put_json(db, id, v, (size_t)len, NULL)) return die("put hot");
  }
  double total_us = (double)(bench_now_ns() - t0) / 1e3;
  if (events < (uint64_t)writes * subs) {
    fprintf(stderr, "bench query: %llu events for %d writes x %zu subscriptions\n",
            (unsigned long long)events, writes, subs);
    return 3;
  }
  *affected_us = total_us / ((double)writes * (double)subs);
  /* unaffected: writes of another type; the subscriptions' anchor skips them */
  t0 = bench_now_ns();
  for (int k = 0; k < writes; k++) {
    snprintf(id, sizeof id, "cold%d", k % 20);
    char v[64];
    int len = snprintf(v, sizeof v, "{\"type\":\"cold\",\"v\":%d}", k);
    if (gdb_put_json(db, id, v, (size_t)len, NULL)) return die("put cold");
  }
  *unaffected_us = (double)(bench_now_ns() - t0) / 1e3 / writes;
  for (size_t i = 0; i < subs; i++) gdb_watch_cancel(w[i]);
  free(w);
  gdb_close(db);
  return 0;
}

static int bench_open(size_t n, const char *dir, double *open_s, double *open_indexed_s,
                      double *first_ms) {
  char tmpl[512], path[600];
  snprintf(tmpl, sizeof tmpl, "%s/genosdb-bench-XXXXXX", dir);
  if (!mkdtemp(tmpl)) return die("mkdtemp");
  snprintf(path, sizeof path, "%s/q.db", tmpl);
  gdb_t *db;
  if (gdb_open(path, NULL, &db) || put_workload(db, n) || gdb_close(db)) return die("write file");
  uint64_t t0 = bench_now_ns();
  if (gdb_open(path, NULL, &db)) return die("reopen");
  *open_s = ms_since(t0) / 1e3;
  if (gdb_index_create(db, "status", GDB_INDEX_EQ) ||
      gdb_index_create(db, "age", GDB_INDEX_RANGE) || gdb_index_create(db, "name", GDB_INDEX_EQ) ||
      gdb_close(db))
    return die("declare indexes");
  t0 = bench_now_ns();
  if (gdb_open(path, NULL, &db)) return die("reopen indexed");
  *open_indexed_s = ms_since(t0) / 1e3;
  gdb_result *r;
  t0 = bench_now_ns();
  if (gdb_map(db, "{\"query\":{\"age\":{\"$gt\":50},\"status\":\"active\"}}", &r))
    return die("first query");
  *first_ms = ms_since(t0);
  gdb_result_free(r);
  gdb_close(db);
  char cmd[700];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpl);
  if (system(cmd) != 0) fprintf(stderr, "bench query: could not remove %s\n", tmpl);
  return 0;
}

int bench_query(int argc, char **argv) {
  size_t n = 100000, subs = 1000;
  bool do_open = true;
  const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--nodes") && i + 1 < argc)
      n = strtoull(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--subs") && i + 1 < argc)
      subs = strtoull(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
      dir = argv[++i];
    else if (!strcmp(argv[i], "--no-open"))
      do_open = false;
    else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
      runs = atoi(argv[++i]);
    else {
      fprintf(
          stderr,
          "usage: genosdb bench query [--nodes N] [--runs R] [--subs S] [--no-open] [--dir DIR]\n");
      return 2;
    }
  }
  if (n < 200 || subs < 1 || runs < 1 || runs > 101) {
    fprintf(stderr,
            "bench query: --nodes must be at least 200, --subs positive, --runs 1 to 101\n");
    return 2;
  }
  gdb_t *db;
  if (gdb_open(NULL, NULL, &db)) return die("open");
  if (put_workload(db, n) || put_chain(db)) return 3;
  const char *filter = "{\"query\":{\"age\":{\"$gt\":50},\"status\":\"active\"}}";
  const char *sort =
      "{\"query\":{\"status\":\"active\"},\"field\":\"age\",\"order\":\"desc\",\"$limit\":10}";
  const char *edge = "{\"query\":{\"type\":\"Folder\",\"name\":\"root\",\"$edge\":{\"type\":"
                     "\"File\",\"size\":{\"$gt\":500}}}}";
  char eq[96];
  snprintf(eq, sizeof eq, "{\"query\":{\"name\":\"u%zu\"}}", n / 2);
  /* odd i with i % 100 > 50: 49 of every 100 ages are odd-compatible... count exactly */
  long want_filter = 0;
  for (size_t i = 0; i < n; i++) want_filter += i % 2 && i % 100 > 50;
  double filter_scan, sort_scan, edge_scan, filter_idx, eq_idx, sort_idx, edge_idx;
  if (timed_map(db, filter, want_filter, &filter_scan) || timed_map(db, sort, 10, &sort_scan) ||
      timed_map(db, edge, 499, &edge_scan))
    return 3;
  uint64_t t0 = bench_now_ns();
  if (gdb_index_create(db, "status", GDB_INDEX_EQ) ||
      gdb_index_create(db, "age", GDB_INDEX_RANGE) || gdb_index_create(db, "type", GDB_INDEX_EQ) ||
      gdb_index_create(db, "name", GDB_INDEX_EQ))
    return die("index create");
  double build_ms = ms_since(t0);
  char *plan;
  double exec_ms = -1;
  if (gdb_explain(db, filter, &plan)) return die("explain");
  gdb_free(plan);
  if (gdb_explain(db, filter, &plan)) return die("explain");
  const char *tu = strstr(plan, "\"time_us\":");
  if (tu) exec_ms = strtod(tu + 10, NULL) / 1e3;
  gdb_free(plan);
  if (timed_map(db, filter, want_filter, &filter_idx) || timed_map(db, eq, 1, &eq_idx) ||
      timed_map(db, sort, 10, &sort_idx) || timed_map(db, edge, 499, &edge_idx))
    return 3;
  gdb_close(db);

  /* $text */
  double text_scan, text_idx;
  const char *text = "{\"query\":{\"body\":{\"$text\":\"zebra\"}}}";
  if (gdb_open(NULL, NULL, &db) || put_texts(db, n)) return die("text db");
  long want_text = 0;
  for (size_t i = 0; i < n; i++) want_text += i % 100 == 7;
  if (timed_map(db, text, want_text, &text_scan)) return 3;
  t0 = bench_now_ns();
  if (gdb_index_create(db, "body", GDB_INDEX_TEXT)) return die("text index");
  double text_build_ms = ms_since(t0);
  if (timed_map(db, text, want_text, &text_idx)) return 3;
  gdb_close(db);

  double sub_us, sub_cold_us;
  if (bench_subs(subs, &sub_us, &sub_cold_us)) return 3;
  double open_s = -1, open_indexed_s = -1, first_ms = -1;
  if (do_open && bench_open(n, dir, &open_s, &open_indexed_s, &first_ms)) return 3;

  printf("{\"nodes\":%zu,\"runs\":%d,\"filter_scan_ms\":%.3f,\"sort_limit_ms\":%.3f,\"edge_chain_"
         "ms\":%.3f,"
         "\"filter_index_ms\":%.3f,\"filter_index_exec_ms\":%.3f,\"filter_index_eq_ms\":%.4f,"
         "\"sort_limit_index_ms\":%.4f,"
         "\"edge_chain_index_ms\":%.3f,\"text_scan_ms\":%.3f,\"text_ms\":%.3f,\"text_results\":%ld,"
         "\"subs\":%zu,\"sub_update_us\":%.3f,\"sub_unaffected_us\":%.3f,\"index_build_ms\":%.1f,"
         "\"text_index_build_ms\":%.1f,\"open_s\":%.3f,\"open_indexed_s\":%.3f,\"first_query_ms\":%"
         ".1f}\n",
         n, runs, filter_scan, sort_scan, edge_scan, filter_idx, exec_ms, eq_idx, sort_idx,
         edge_idx, text_scan, text_idx, want_text, subs, sub_us, sub_cold_us, build_ms,
         text_build_ms, open_s, open_indexed_s, first_ms);
  return 0;
}
