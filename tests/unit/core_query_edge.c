/*
 * core_query_edge.c — $edge: descendants of the nodes the query selects, on trees, DAGs
 * (each descendant once), cycles (terminates; a start node is a result when reachable from a
 * start node), $depth limits, nested $edge, edges to nodes that do not exist yet, removals,
 * sorting and cursors over the results, and a long chain.
 */
#include "core_query_util.h"

#include <stdio.h>

static int link(gdb_t *db, const char *a, const char *b) { return gdb_link(db, a, b); }

/* root -> A -> A1, A2; root -> B -> B1; B1 -> A2 (a second way to A2) */
static gdb_t *tree(void) {
  gdb_t *db;
  if (gdb_open(NULL, NULL, &db)) return NULL;
  const char *docs[][2] = {
      {"root", "{\"kind\":\"dir\",\"name\":\"root\"}"}, {"A", "{\"kind\":\"dir\",\"name\":\"A\"}"},
      {"B", "{\"kind\":\"dir\",\"name\":\"B\"}"},       {"A1", "{\"kind\":\"file\",\"size\":10}"},
      {"A2", "{\"kind\":\"file\",\"size\":20}"},        {"B1", "{\"kind\":\"file\",\"size\":30}"},
      {"other", "{\"kind\":\"file\",\"size\":99}"}};
  for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++)
    if (q_put(db, docs[i][0], docs[i][1])) return NULL;
  if (link(db, "root", "A") || link(db, "root", "B") || link(db, "A", "A1") ||
      link(db, "A", "A2") || link(db, "B", "B1"))
    return NULL;
  return db;
}

TEST(query_edge_tree) {
  gdb_t *db = tree();
  CHECK(db);
  CHECK_IDS(db, "{\"query\":{\"name\":\"root\",\"$edge\":{}}}", "A,B,A1,A2,B1");
  CHECK_IDS(db, "{\"query\":{\"name\":\"root\",\"$edge\":{\"kind\":\"file\"}}}", "A1,A2,B1");
  CHECK_IDS(db, "{\"query\":{\"name\":\"root\",\"$edge\":{\"size\":{\"$gt\":15}}}}", "A2,B1");
  CHECK_IDS(db, "{\"query\":{\"name\":\"A\",\"$edge\":{}}}", "A1,A2");
  CHECK_IDS(db, "{\"query\":{\"kind\":\"file\",\"$edge\":{}}}",
            ""); /* leaves have no descendants */
  CHECK_IDS(db, "{\"query\":{\"kind\":\"dir\",\"$edge\":{}}}",
            "A,B,A1,A2,B1"); /* A and B are below root */
  CHECK_IDS(db, "{\"query\":{\"name\":\"nothing\",\"$edge\":{}}}", "");
  CHECK_IDS(db,
            "{\"query\":{\"name\":\"root\",\"$edge\":{\"kind\":\"file\"}},\"field\":\"size\","
            "\"order\":\"desc\"}",
            "B1,A2,A1");
  CHECK_IDS(db,
            "{\"query\":{\"name\":\"root\",\"$edge\":{\"kind\":\"file\"}},\"field\":\"size\",\"$"
            "limit\":2}",
            "A1,A2");
  CHECK_IDS(db, "{\"query\":{\"name\":\"root\",\"$edge\":{}},\"$after\":\"B\",\"$limit\":2}",
            "A1,A2");
  gdb_close(db);
}

TEST(query_edge_depth) {
  gdb_t *db = tree();
  CHECK(db);
  CHECK_IDS(db, "{\"query\":{\"name\":\"root\",\"$edge\":{\"$depth\":1}}}", "A,B");
  CHECK_IDS(db, "{\"query\":{\"name\":\"root\",\"$edge\":{\"$depth\":1,\"kind\":\"file\"}}}", "");
  CHECK_IDS(db, "{\"query\":{\"name\":\"root\",\"$edge\":{\"$depth\":2,\"kind\":\"file\"}}}",
            "A1,A2,B1");
  CHECK_IDS(db, "{\"query\":{\"name\":\"root\",\"$edge\":{\"$depth\":100}}}", "A,B,A1,A2,B1");
  gdb_close(db);
}

TEST(query_edge_dag_counts_each_once) {
  gdb_t *db = tree();
  CHECK(db);
  CHECK_OK(link(db, "B1", "A2"));
  CHECK_OK(link(db, "root", "A2")); /* A2 at depth 1 now */
  CHECK_IDS(db, "{\"query\":{\"name\":\"root\",\"$edge\":{\"kind\":\"file\"}}}", "A1,A2,B1");
  CHECK_IDS(db, "{\"query\":{\"name\":\"root\",\"$edge\":{\"$depth\":1}}}",
            "A,B,A2"); /* shortest path */
  CHECK_IDS(db, "{\"query\":{\"name\":\"B\",\"$edge\":{}}}", "A2,B1");
  gdb_close(db);
}

TEST(query_edge_cycles_terminate) {
  gdb_t *db;
  CHECK_OK(gdb_open(NULL, NULL, &db));
  CHECK_OK(q_put(db, "x", "{\"c\":1}"));
  CHECK_OK(q_put(db, "y", "{\"c\":2}"));
  CHECK_OK(q_put(db, "z", "{\"c\":3}"));
  CHECK_OK(q_put(db, "solo", "{\"c\":4}"));
  CHECK_OK(link(db, "x", "y"));
  CHECK_OK(link(db, "y", "z"));
  CHECK_OK(link(db, "z", "x"));
  CHECK_OK(link(db, "solo", "solo"));                           /* a self-loop */
  CHECK_IDS(db, "{\"query\":{\"c\":1,\"$edge\":{}}}", "x,y,z"); /* x is its own descendant */
  CHECK_IDS(db, "{\"query\":{\"c\":1,\"$edge\":{\"$depth\":2}}}", "y,z");
  CHECK_IDS(db, "{\"query\":{\"c\":1,\"$edge\":{\"$depth\":3}}}", "x,y,z");
  CHECK_IDS(db, "{\"query\":{\"c\":4,\"$edge\":{}}}", "solo");
  CHECK_IDS(db, "{\"query\":{\"$edge\":{\"c\":{\"$gte\":3}}}}", "z,solo"); /* every node a start */
  gdb_close(db);
}

TEST(query_edge_nested) {
  gdb_t *db;
  CHECK_OK(gdb_open(NULL, NULL, &db));
  /* org -> team1 -> (p1, p2), org -> team2 -> p3; p2 -> doc (a person's document) */
  CHECK_OK(q_put(db, "org", "{\"t\":\"org\"}"));
  CHECK_OK(q_put(db, "team1", "{\"t\":\"team\",\"n\":1}"));
  CHECK_OK(q_put(db, "team2", "{\"t\":\"team\",\"n\":2}"));
  CHECK_OK(q_put(db, "p1", "{\"t\":\"person\",\"age\":30}"));
  CHECK_OK(q_put(db, "p2", "{\"t\":\"person\",\"age\":40}"));
  CHECK_OK(q_put(db, "p3", "{\"t\":\"person\",\"age\":50}"));
  CHECK_OK(q_put(db, "doc", "{\"t\":\"doc\"}"));
  CHECK_OK(link(db, "org", "team1"));
  CHECK_OK(link(db, "org", "team2"));
  CHECK_OK(link(db, "team1", "p1"));
  CHECK_OK(link(db, "team1", "p2"));
  CHECK_OK(link(db, "team2", "p3"));
  CHECK_OK(link(db, "p2", "doc"));
  CHECK_IDS(
      db,
      "{\"query\":{\"t\":\"org\",\"$edge\":{\"t\":\"team\",\"n\":1,\"$edge\":{\"t\":\"person\"}}}}",
      "p1,p2");
  CHECK_IDS(
      db, "{\"query\":{\"t\":\"org\",\"$edge\":{\"t\":\"team\",\"$edge\":{\"age\":{\"$gt\":35}}}}}",
      "p2,p3");
  CHECK_IDS(db,
            "{\"query\":{\"t\":\"org\",\"$edge\":{\"t\":\"person\",\"$edge\":{\"t\":\"doc\"}}}}",
            "doc");
  CHECK_IDS(db,
            "{\"query\":{\"t\":\"org\",\"$edge\":{\"$depth\":1,\"$edge\":{\"$depth\":1,\"t\":"
            "\"person\"}}}}",
            "p1,p2,p3");
  gdb_close(db);
}

TEST(query_edge_targets_arriving_and_leaving) {
  gdb_t *db = tree();
  CHECK(db);
  CHECK_OK(link(db, "B", "later"));
  CHECK_IDS(db, "{\"query\":{\"name\":\"B\",\"$edge\":{}}}", "B1");
  CHECK_OK(q_put(db, "later", "{\"kind\":\"file\",\"size\":5}"));
  CHECK_IDS(db, "{\"query\":{\"name\":\"B\",\"$edge\":{}}}", "B1,later");
  CHECK_OK(
      gdb_remove(db, "A")); /* removing A drops its edges: A1 and A2 are no longer below root */
  CHECK_IDS(db, "{\"query\":{\"name\":\"root\",\"$edge\":{}}}", "B,B1,later");
  gdb_close(db);
}

TEST(query_edge_long_chain) {
  gdb_t *db;
  CHECK_OK(gdb_open(NULL, NULL, &db));
  char prev[GDB_ID_BUFSZ], id[GDB_ID_BUFSZ];
  CHECK_OK(gdb_put_json(db, NULL, "{\"type\":\"Folder\",\"name\":\"root\"}", 31, prev));
  for (int k = 0; k < 1000; k++) {
    char buf[64];
    int len = snprintf(buf, sizeof buf, "{\"type\":\"File\",\"size\":%d}", k);
    CHECK_OK(gdb_put_json(db, NULL, buf, (size_t)len, id));
    CHECK_OK(gdb_link(db, prev, id));
    memcpy(prev, id, sizeof id);
  }
  gdb_result *r;
  CHECK_OK(gdb_map(db,
                   "{\"query\":{\"type\":\"Folder\",\"name\":\"root\",\"$edge\":{\"type\":\"File\","
                   "\"size\":{\"$gt\":500}}}}",
                   &r));
  CHECK_INT(gdb_result_len(r), 499);
  gdb_result_free(r);
  CHECK_OK(gdb_map(db, "{\"query\":{\"name\":\"root\",\"$edge\":{\"$depth\":10}}}", &r));
  CHECK_INT(gdb_result_len(r), 10);
  gdb_result_free(r);
  gdb_close(db);
}
