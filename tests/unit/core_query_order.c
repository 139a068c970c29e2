/*
 * core_query_order.c — result order: sorting across types, ties broken by id, dates in time
 * order, descending as the exact reverse, $limit, both cursors alone and together, cursors
 * that name removed or unknown nodes, and pagination that visits every node exactly once.
 */
#include "core_query_util.h"

#include <stdio.h>

TEST(query_order_creation_by_default) {
  gdb_t *db;
  CHECK_OK(gdb_open(NULL, NULL, &db));
  CHECK_OK(q_put(db, "z", "{\"v\":1}"));
  CHECK_OK(q_put(db, "a", "{\"v\":2}"));
  CHECK_OK(q_put(db, "m", "{\"v\":3}"));
  CHECK_OK(q_put(db, "a", "{\"v\":4}")); /* an update keeps the node's place */
  CHECK_IDS(db, NULL, "z,a,m");
  CHECK_IDS(db, "{\"order\":\"desc\"}", "m,a,z");
  CHECK_IDS(db, "{\"$limit\":2}", "z,a");
  CHECK_IDS(db, "{\"$limit\":0}", "");
  CHECK_IDS(db, "{\"order\":\"desc\",\"$limit\":1}", "m");
  CHECK_OK(gdb_remove(db, "a"));
  CHECK_OK(q_put(db, "a", "{\"v\":5}")); /* back after a removal: still its first place */
  CHECK_IDS(db, NULL, "z,a,m");
  gdb_close(db);
}

TEST(query_order_across_types_and_ties) {
  gdb_t *db;
  CHECK_OK(gdb_open(NULL, NULL, &db));
  /* ids chosen so that ties must be broken by id, not by creation */
  const char *docs[][2] = {
      {"t2", "{\"v\":true}"},  {"n2", "{\"v\":2}"},
      {"s1", "{\"v\":\"b\"}"}, {"m1", "{}"},
      {"n1", "{\"v\":2}"},     {"o1", "{\"v\":{\"k\":1}}"},
      {"a1", "{\"v\":[1]}"},   {"z1", "{\"v\":null}"},
      {"n3", "{\"v\":-1.5}"},  {"s2", "{\"v\":\"a\"}"},
      {"f1", "{\"v\":false}"}, {"b1", "{\"v\":{\"$bin\":\"AA==\"}}"},
      {"n4", "{\"v\":1e300}"}, {"s3", "{\"v\":\"B\"}"},
      {"m0", "{\"w\":1}"},
  };
  for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++)
    CHECK_OK(q_put(db, docs[i][0], docs[i][1]));
  /* null and missing first (ties by id), numbers, strings (bytewise), objects, arrays, blobs,
   * booleans */
  CHECK_IDS(db, "{\"field\":\"v\"}", "m0,m1,z1,n3,n1,n2,n4,s3,s2,s1,o1,a1,b1,f1,t2");
  CHECK_IDS(db, "{\"field\":\"v\",\"order\":\"desc\"}",
            "t2,f1,b1,a1,o1,s1,s2,s3,n4,n2,n1,n3,z1,m1,m0");
  CHECK_IDS(db, "{\"field\":\"v\",\"order\":\"asc\",\"$limit\":4}", "m0,m1,z1,n3");
  CHECK_IDS(db, "{\"field\":\"v\",\"order\":\"desc\",\"$limit\":3}", "t2,f1,b1");
  CHECK_IDS(db, "{\"query\":{\"v\":2},\"field\":\"v\"}", "n1,n2");
  CHECK_IDS(db, "{\"query\":{\"v\":2},\"field\":\"v\",\"order\":\"desc\"}", "n2,n1");
  gdb_close(db);
}

TEST(query_order_dates_and_nested_fields) {
  gdb_t *db;
  CHECK_OK(gdb_open(NULL, NULL, &db));
  CHECK_OK(q_put(db, "p", "{\"at\":{\"t\":\"2024-01-01T10:00:00+05:00\"}}")); /* 05:00Z */
  CHECK_OK(q_put(db, "q", "{\"at\":{\"t\":\"2024-01-01T06:00:00Z\"}}"));
  CHECK_OK(q_put(db, "r", "{\"at\":{\"t\":\"2024-01-01\"}}")); /* 00:00Z */
  CHECK_OK(
      q_put(db, "s",
            "{\"at\":{\"t\":\"2023-12-31T23:59:59.999-01:00\"}}")); /* 2024-01-01T00:59:59.999Z */
  CHECK_IDS(db, "{\"field\":\"at.t\"}", "r,s,p,q");
  CHECK_IDS(db, "{\"field\":\"at.t\",\"order\":\"desc\",\"$limit\":2}", "q,p");
  gdb_close(db);
}

static gdb_t *numbered(int n) {
  gdb_t *db;
  if (gdb_open(NULL, NULL, &db)) return NULL;
  for (int i = 0; i < n; i++) {
    char id[16], v[64];
    snprintf(id, sizeof id, "k%02d", i);
    snprintf(v, sizeof v, "{\"g\":%d,\"i\":%d}", i % 3, i);
    if (q_put(db, id, v)) return NULL;
  }
  return db;
}

TEST(query_cursors_creation_order) {
  gdb_t *db = numbered(10);
  CHECK(db);
  CHECK_IDS(db, "{\"$after\":\"k03\",\"$limit\":3}", "k04,k05,k06");
  CHECK_IDS(db, "{\"$after\":\"k08\"}", "k09");
  CHECK_IDS(db, "{\"$after\":\"k09\"}", "");
  CHECK_IDS(db, "{\"$before\":\"k03\"}", "k00,k01,k02");
  CHECK_IDS(db, "{\"$before\":\"k05\",\"$limit\":2}", "k03,k04"); /* the page just before */
  CHECK_IDS(db, "{\"$after\":\"k02\",\"$before\":\"k06\"}", "k03,k04,k05");
  CHECK_IDS(db, "{\"$after\":\"k02\",\"$before\":\"k06\",\"$limit\":2}", "k03,k04");
  CHECK_IDS(db, "{\"$after\":\"k06\",\"$before\":\"k02\"}", "");
  CHECK_IDS(db, "{\"order\":\"desc\",\"$after\":\"k05\",\"$limit\":2}", "k04,k03");
  CHECK_IDS(db, "{\"order\":\"desc\",\"$before\":\"k05\",\"$limit\":2}", "k07,k06");
  CHECK_IDS(db, "{\"query\":{\"g\":1},\"$after\":\"k02\",\"$limit\":2}",
            "k04,k07"); /* the cursor need not match */
  CHECK_OK(gdb_remove(db, "k05"));
  CHECK_IDS(db, "{\"$after\":\"k05\",\"$limit\":2}",
            "k06,k07"); /* a removed node keeps its place */
  CHECK_QUERY_FAILS(db, "{\"$after\":\"nope\"}", GDB_ENOTFOUND, "\"nope\" is not a node");
  gdb_close(db);
}

TEST(query_cursors_sorted) {
  gdb_t *db = numbered(10);
  CHECK(db);
  /* by g: g=0: k00 k03 k06 k09, g=1: k01 k04 k07, g=2: k02 k05 k08 (ties by id) */
  CHECK_IDS(db, "{\"field\":\"g\"}", "k00,k03,k06,k09,k01,k04,k07,k02,k05,k08");
  CHECK_IDS(db, "{\"field\":\"g\",\"$after\":\"k06\",\"$limit\":3}", "k09,k01,k04");
  CHECK_IDS(db, "{\"field\":\"g\",\"$before\":\"k04\",\"$limit\":3}", "k06,k09,k01");
  CHECK_IDS(db, "{\"field\":\"g\",\"$after\":\"k09\",\"$before\":\"k05\"}", "k01,k04,k07,k02");
  CHECK_IDS(db, "{\"field\":\"g\",\"order\":\"desc\",\"$after\":\"k02\",\"$limit\":3}",
            "k07,k04,k01");
  CHECK_IDS(db, "{\"field\":\"g\",\"order\":\"desc\",\"$before\":\"k01\",\"$limit\":2}", "k07,k04");
  CHECK_OK(gdb_remove(db, "k04"));
  CHECK_QUERY_FAILS(db, "{\"field\":\"g\",\"$after\":\"k04\"}", GDB_ENOTFOUND, "was removed");
  gdb_close(db);
}

/* Pages of $limit through $after visit every node once, in order, also in desc. */
TEST(query_pagination_covers_everything) {
  gdb_t *db = numbered(37);
  CHECK(db);
  const char *sorts[] = {"", "\"field\":\"g\",", "\"field\":\"g\",\"order\":\"desc\",",
                         "\"order\":\"desc\","};
  for (size_t s = 0; s < 4; s++) {
    char opts[256];
    snprintf(opts, sizeof opts, "{%s\"$limit\":1000}", sorts[s]);
    char *all = q_ids(db, opts);
    char joined[4096] = "";
    char last[32] = "";
    for (int page = 0; page < 20; page++) {
      if (last[0])
        snprintf(opts, sizeof opts, "{%s\"$limit\":5,\"$after\":\"%s\"}", sorts[s], last);
      else
        snprintf(opts, sizeof opts, "{%s\"$limit\":5}", sorts[s]);
      char *ids = q_ids(db, opts);
      if (!ids[0]) {
        free(ids);
        break;
      }
      if (joined[0]) strcat(joined, ",");
      strcat(joined, ids);
      char *l = strrchr(ids, ',');
      snprintf(last, sizeof last, "%s", l ? l + 1 : ids);
      free(ids);
    }
    int same = !strcmp(all, joined);
    if (!same)
      gdb_test_failed(__FILE__, __LINE__, "pages %s\n  all   %s\n  pages %s", sorts[s], all,
                      joined);
    free(all);
    if (!same) return;
    /* and backwards with $before */
    joined[0] = 0;
    char first[32] = "";
    char *parts[64];
    int np = 0;
    for (int page = 0; page < 20; page++) {
      if (!first[0]) {
        /* start from the last page: take the full list's last 5 */
        snprintf(opts, sizeof opts, "{%s\"$limit\":1000}", sorts[s]);
        char *full = q_ids(db, opts);
        char *p = full + strlen(full);
        int commas = 0;
        while (p > full && commas < 5) {
          p--;
          if (*p == ',') commas++;
        }
        if (*p == ',') p++;
        parts[np++] = strdup(p);
        free(full);
      } else {
        snprintf(opts, sizeof opts, "{%s\"$limit\":5,\"$before\":\"%s\"}", sorts[s], first);
        char *ids = q_ids(db, opts);
        if (!ids[0]) {
          free(ids);
          break;
        }
        parts[np++] = ids;
      }
      char *c = strchr(parts[np - 1], ',');
      snprintf(first, sizeof first, "%.*s",
               c ? (int)(c - parts[np - 1]) : (int)strlen(parts[np - 1]), parts[np - 1]);
    }
    for (int i = np - 1; i >= 0; i--) {
      if (joined[0]) strcat(joined, ",");
      strcat(joined, parts[i]);
      free(parts[i]);
    }
    snprintf(opts, sizeof opts, "{%s\"$limit\":1000}", sorts[s]);
    all = q_ids(db, opts);
    same = !strcmp(all, joined);
    if (!same)
      gdb_test_failed(__FILE__, __LINE__, "pages back %s\n  all   %s\n  pages %s", sorts[s], all,
                      joined);
    free(all);
    if (!same) return;
  }
  gdb_close(db);
}
