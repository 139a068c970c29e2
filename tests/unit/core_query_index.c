/*
 * core_query_index.c — indexes answer exactly like scans. Two databases receive the same
 * random writes (local puts, updates, removals, links, remote operations); one has every
 * kind of index, declared before the writes so that maintenance is exercised; the same
 * queries (equality, $in, ranges, dates, $startsWith, $text, $near, $bbox, dot paths through
 * arrays, sorted + limited, cursors, $edge) must return the same ids in the same order. Then
 * the indexed database reopens from its file, rebuilding the declared indexes.
 */
#include "core_query_util.h"

#include <stdio.h>
#include <time.h>

static uint64_t rng_state;
static uint32_t rnd(uint32_t n) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (uint32_t)(rng_state % n);
}

static const char *const COLORS[] = {"red", "green", "blue", "cyan", "Red", "reed"};
static const char *const WORDS[] = {"apple", "Pear", "plum", "kiwi", "fig", "lime", "café", "cafe"};

static void random_doc(char *out, size_t cap) {
  size_t n = (size_t)snprintf(out, cap, "{");
#define ADD(...) n += (size_t)snprintf(out + n, cap - n, __VA_ARGS__)
  uint32_t r = rnd(100);
  if (r < 85)
    ADD("\"k\":%u,", rnd(50));
  else if (r < 92)
    ADD("\"k\":\"k%u\",", rnd(5));
  else if (r < 95)
    ADD("\"k\":null,");
  r = rnd(100);
  if (r < 65)
    ADD("\"s\":\"%s\",", COLORS[rnd(6)]);
  else if (r < 85)
    ADD("\"s\":[\"%s\",\"%s\"],", COLORS[rnd(6)], COLORS[rnd(6)]);
  r = rnd(100);
  if (r < 60)
    ADD("\"d\":\"2024-01-%02uT%02u:%02u:00Z\",", 1 + rnd(28), rnd(24), rnd(60));
  else if (r < 80)
    ADD("\"d\":\"2024-01-%02uT%02u:00+0%u:00\",", 1 + rnd(28), rnd(24), rnd(6));
  else if (r < 85)
    ADD("\"d\":\"2024-01-%02u\",", 1 + rnd(28));
  if (rnd(100) < 85) ADD("\"t\":\"%s %s, %s!\",", WORDS[rnd(8)], WORDS[rnd(8)], WORDS[rnd(8)]);
  r = rnd(100);
  if (r < 65)
    ADD("\"g\":{\"lat\":%.4f,\"lng\":%.4f},", 40 + rnd(1000) / 100.0, -5 + rnd(1000) / 100.0);
  else if (r < 72)
    ADD("\"g\":[{\"lat\":%.4f,\"lng\":%.4f},{\"lat\":1,\"lng\":1}],", 40 + rnd(1000) / 100.0,
        -5 + rnd(1000) / 100.0);
  r = rnd(100);
  if (r < 55)
    ADD("\"n\":{\"x\":%u},", rnd(10));
  else if (r < 70)
    ADD("\"n\":[{\"x\":%u},{\"x\":%u}],", rnd(10), rnd(10));
  ADD("\"z\":%u}", rnd(3));
#undef ADD
}

static int both_put(gdb_t *a, gdb_t *b, const char *id, const char *json) {
  int r1 = q_put(a, id, json), r2 = q_put(b, id, json);
  return r1 ? r1 : r2;
}

static void random_writes(gdb_t *a, gdb_t *b, int count, int64_t *remote_ts) {
  char id[32], id2[32], doc[512];
  for (int i = 0; i < count; i++) {
    uint32_t r = rnd(100);
    snprintf(id, sizeof id, "n%u", rnd(400));
    if (r < 55) {
      random_doc(doc, sizeof doc);
      both_put(a, b, id, doc);
    } else if (r < 65) {
      gdb_remove(a, id);
      gdb_remove(b, id);
    } else if (r < 80) {
      snprintf(id2, sizeof id2, "n%u", rnd(400));
      gdb_link(a, id, id2);
      gdb_link(b, id, id2);
    } else {
      /* remote operations on ids only remote writers touch: the same outcome on both */
      random_doc(doc, sizeof doc);
      char ops[1024];
      snprintf(id, sizeof id, "r%u", rnd(100));
      snprintf(id2, sizeof id2, "n%u", rnd(400));
      int64_t ts = ++*remote_ts;
      if (r < 92)
        snprintf(ops, sizeof ops,
                 "{\"type\":\"upsert\",\"id\":\"%s\",\"value\":%s,\"timestamp\":{\"physical\":%lld,"
                 "\"logical\":0},\"origin\":\"peer\"}",
                 id, doc, (long long)ts);
      else if (r < 96)
        snprintf(ops, sizeof ops,
                 "{\"type\":\"remove\",\"id\":\"%s\",\"timestamp\":{\"physical\":%lld,\"logical\":"
                 "0},\"origin\":\"peer\"}",
                 id, (long long)ts);
      else
        snprintf(ops, sizeof ops,
                 "{\"type\":\"link\",\"id\":\"%s\",\"target\":\"%s\",\"timestamp\":{\"physical\":%"
                 "lld,\"logical\":0},\"origin\":\"peer\"}",
                 id, id2, (long long)ts);
      gdb_apply_remote_json(a, ops, strlen(ops), NULL);
      gdb_apply_remote_json(b, ops, strlen(ops), NULL);
    }
  }
}

static const char *const QUERIES[] = {
    "{\"query\":{\"k\":7}}",
    "{\"query\":{\"k\":\"k3\"}}",
    "{\"query\":{\"k\":null}}",
    "{\"query\":{\"k\":{\"$gt\":40}}}",
    "{\"query\":{\"k\":{\"$gte\":10,\"$lt\":12}}}",
    "{\"query\":{\"k\":{\"$between\":[45,47]}}}",
    "{\"query\":{\"k\":{\"$in\":[1,2,\"k1\",2]}}}",
    "{\"query\":{\"k\":{\"$lt\":\"k2\"}}}",
    "{\"query\":{\"s\":\"red\"}}",
    "{\"query\":{\"s\":[\"red\",\"blue\"]}}",
    "{\"query\":{\"s\":{\"$in\":[\"cyan\",\"Red\"]}}}",
    "{\"query\":{\"s\":{\"$startsWith\":\"re\"}}}",
    "{\"query\":{\"s\":{\"$startsWith\":\"R\"}}}",
    "{\"query\":{\"s\":{\"$startsWith\":\"\"}}}",
    "{\"query\":{\"s\":{\"$gt\":\"green\"}}}",
    "{\"query\":{\"d\":{\"$gte\":\"2024-01-10T00:00:00+01:00\"}}}",
    "{\"query\":{\"d\":{\"$lt\":\"2024-01-05\"}}}",
    "{\"query\":{\"d\":{\"$between\":[\"2024-01-07T12:00Z\",\"2024-01-08\"]}}}",
    "{\"query\":{\"t\":{\"$text\":\"apple\"}}}",
    "{\"query\":{\"t\":{\"$text\":\"PEAR plum\"}}}",
    "{\"query\":{\"t\":{\"$text\":\"cafe\"}}}",
    "{\"query\":{\"t\":{\"$text\":\"durian\"}}}",
    "{\"query\":{\"g\":{\"$near\":{\"lat\":45,\"lng\":0,\"radius\":150000}}}}",
    "{\"query\":{\"g\":{\"$near\":{\"lat\":1,\"lng\":1,\"radius\":10}}}}",
    "{\"query\":{\"g\":{\"$bbox\":{\"minLat\":42,\"minLng\":-1,\"maxLat\":44.5,\"maxLng\":2}}}}",
    "{\"query\":{\"g\":{\"$bbox\":{\"minLat\":40,\"minLng\":4,\"maxLat\":50,\"maxLng\":-4}}}}",
    "{\"query\":{\"g\":{\"$bbox\":{\"minLat\":-90,\"minLng\":-1,\"maxLat\":90,\"maxLng\":-2}}}}",
    "{\"query\":{\"n.x\":3}}",
    "{\"query\":{\"n.x\":{\"$gte\":8}}}",
    "{\"query\":{\"k\":{\"$gt\":20},\"s\":\"blue\"}}",
    "{\"query\":{\"s\":\"red\",\"z\":1,\"k\":{\"$lt\":30}}}",
    "{\"query\":{\"k\":{\"$gt\":5},\"t\":{\"$text\":\"fig\"},\"g\":{\"$bbox\":{\"minLat\":40,"
    "\"minLng\":-5,\"maxLat\":46,\"maxLng\":5}}}}",
    "{\"query\":{\"$or\":[{\"k\":1},{\"s\":\"cyan\"}]}}",
    "{\"query\":{\"s\":\"green\"},\"field\":\"k\",\"order\":\"desc\",\"$limit\":7}",
    "{\"query\":{\"z\":2},\"field\":\"k\",\"$limit\":9}",
    "{\"field\":\"k\",\"$limit\":25}",
    "{\"field\":\"k\",\"order\":\"desc\"}",
    "{\"field\":\"d\",\"$limit\":15}",
    "{\"field\":\"n.x\",\"order\":\"desc\",\"$limit\":15}",
    "{\"query\":{\"k\":{\"$gte\":25}},\"field\":\"k\",\"$limit\":5}",
    "{\"query\":{\"k\":33},\"field\":\"k\",\"order\":\"desc\",\"$limit\":3}",
    "{\"query\":{\"s\":\"red\"},\"order\":\"desc\",\"$limit\":4}",
    "{\"query\":{\"k\":{\"$gt\":10}},\"$limit\":6}",
    "{\"query\":{\"z\":0,\"$edge\":{\"k\":{\"$lt\":10}}}}",
    "{\"query\":{\"s\":\"blue\",\"$edge\":{\"$depth\":2,\"s\":\"red\"}},\"field\":\"k\"}",
};

static size_t compared; /* result ids compared (so the test cannot pass on empty results) */

static int compare_all(gdb_t *plain, gdb_t *indexed, const char *where) {
  int bad = 0;
  char opts[512];
  for (size_t i = 0; i < sizeof QUERIES / sizeof QUERIES[0]; i++) {
    char *want = q_ids(plain, QUERIES[i]), *got = q_ids(indexed, QUERIES[i]);
    if (!strncmp(want, "ERR", 3)) {
      gdb_test_failed(__FILE__, __LINE__, "%s: %s: %s", where, QUERIES[i], want);
      bad++;
    }
    for (const char *c = want; *c; c++) compared += *c == ',';
    if (getenv("GDB_TEST_VERBOSE")) fprintf(stderr, "%s %zu\n", QUERIES[i], strlen(want));
    if (strcmp(want, got)) {
      gdb_test_failed(__FILE__, __LINE__, "%s: %s\n      indexed [%.300s]\n      scan    [%.300s]",
                      where, QUERIES[i], got, want);
      bad++;
    }
    /* the same with a cursor in the middle of the results */
    char *comma = strchr(want, ',');
    if (comma && !strstr(QUERIES[i], "$edge")) {
      char *second = comma + 1, *end = strchr(second, ',');
      if (end) *end = 0;
      snprintf(opts, sizeof opts, "%.*s,\"$after\":\"%s\"}", (int)strlen(QUERIES[i]) - 1,
               QUERIES[i], second);
      char *w2 = q_ids(plain, opts), *g2 = q_ids(indexed, opts);
      if (strcmp(w2, g2)) {
        gdb_test_failed(__FILE__, __LINE__,
                        "%s: %s\n      indexed [%.300s]\n      scan    [%.300s]", where, opts, g2,
                        w2);
        bad++;
      }
      free(w2);
      free(g2);
    }
    free(want);
    free(got);
  }
  return bad;
}

static int declare(gdb_t *db) {
  static const struct {
    const char *f;
    gdb_index_kind k;
  } IDX[] = {{"k", GDB_INDEX_RANGE},  {"k", GDB_INDEX_EQ},    {"s", GDB_INDEX_EQ},
             {"s", GDB_INDEX_PREFIX}, {"s", GDB_INDEX_RANGE}, {"d", GDB_INDEX_RANGE},
             {"t", GDB_INDEX_TEXT},   {"g", GDB_INDEX_GEO},   {"n.x", GDB_INDEX_RANGE},
             {"z", GDB_INDEX_EQ}};
  for (size_t i = 0; i < sizeof IDX / sizeof IDX[0]; i++) {
    int rc = gdb_index_create(db, IDX[i].f, IDX[i].k);
    if (rc) return rc;
  }
  return GDB_OK;
}

TEST(query_indexes_answer_like_scans) {
  rng_state = 0x9e3779b97f4a7c15ull;
  gdb_t *plain, *indexed;
  char path[512];
  snprintf(path, sizeof path, "%s/idx.db", gdb_test_tmpdir());
  CHECK_OK(gdb_open(NULL, NULL, &plain));
  CHECK_OK(gdb_open(path, NULL, &indexed));
  int64_t ts = (int64_t)time(NULL) * 1000 - 3600 * 1000;
  random_writes(plain, indexed, 300, &ts); /* some data before the indexes exist */
  CHECK_OK(declare(indexed));
  CHECK_INT(compare_all(plain, indexed, "after build"), 0);
  CHECK(compared > 1000);
  for (int round = 0; round < 6; round++) {
    random_writes(plain, indexed, 600, &ts);
    char where[32];
    snprintf(where, sizeof where, "round %d", round);
    CHECK_INT(compare_all(plain, indexed, where), 0);
  }
  /* the planner did use them */
  char *plan;
  CHECK_OK(gdb_explain(indexed, "{\"query\":{\"k\":7}}", &plan));
  CHECK(strstr(plan, "\"access\":\"index\""));
  gdb_free(plan);
  CHECK_OK(gdb_explain(indexed, "{\"query\":{\"z\":1},\"field\":\"k\",\"$limit\":3}", &plan));
  CHECK(strstr(plan, "\"access\":\"index walk\""));
  gdb_free(plan);
  CHECK_OK(gdb_explain(plain, "{\"query\":{\"k\":7}}", &plan));
  CHECK(strstr(plan, "\"access\":\"scan\""));
  gdb_free(plan);
  /* declarations persist; contents are rebuilt at open */
  CHECK_OK(gdb_close(indexed));
  CHECK_OK(gdb_open(path, NULL, &indexed));
  char *list;
  CHECK_OK(gdb_index_list(indexed, &list));
  CHECK(strstr(list, "{\"field\":\"n.x\",\"kind\":\"range\""));
  CHECK(strstr(list, "{\"field\":\"t\",\"kind\":\"text\""));
  gdb_free(list);
  CHECK_INT(compare_all(plain, indexed, "after reopen"), 0);
  random_writes(plain, indexed, 600, &ts);
  CHECK_INT(compare_all(plain, indexed, "after reopen and writes"), 0);
  /* dropping persists too */
  CHECK_OK(gdb_index_drop(indexed, "t", GDB_INDEX_TEXT));
  CHECK_OK(gdb_clear(plain));
  CHECK_OK(gdb_clear(indexed));
  CHECK_INT(compare_all(plain, indexed, "after clear"), 0);
  CHECK_OK(gdb_close(indexed));
  CHECK_OK(gdb_open(path, NULL, &indexed));
  CHECK_OK(gdb_index_list(indexed, &list));
  CHECK(!strstr(list, "\"kind\":\"text\""));
  CHECK(strstr(list, "\"kind\":\"geo\""));
  gdb_free(list);
  gdb_close(indexed);
  gdb_close(plain);
}

TEST(query_index_create_is_idempotent_and_listed) {
  gdb_t *db;
  CHECK_OK(gdb_open(NULL, NULL, &db));
  CHECK_OK(q_put(db, "a", "{\"x\":1}"));
  CHECK_OK(gdb_index_create(db, "x", GDB_INDEX_EQ));
  CHECK_OK(gdb_index_create(db, "x", GDB_INDEX_EQ));
  char *list;
  CHECK_OK(gdb_index_list(db, &list));
  CHECK_STR(list, "[{\"field\":\"x\",\"kind\":\"eq\",\"entries\":1}]");
  gdb_free(list);
  CHECK_OK(gdb_index_drop(db, "x", GDB_INDEX_EQ));
  CHECK_OK(gdb_index_list(db, &list));
  CHECK_STR(list, "[]");
  gdb_free(list);
  gdb_close(db);
}
