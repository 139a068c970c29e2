/* fuzz_query.c — map options (JSON) against a small database with every index kind and a
 * live subscription: malformed options fail with GDB_EQUERY (or GDB_ENOTFOUND for a cursor),
 * valid ones run through the planner, indexes, $edge and explain; nothing crashes or leaks,
 * and the indexed answer equals the scan's. */
#include "genosdb.h"

#include <stdlib.h>
#include <string.h>

static gdb_t *db, *plain;

static void fill(gdb_t *d) {
  static const char *const docs[][2] = {
      {"a", "{\"name\":\"Ada\",\"age\":36,\"tags\":[\"x\",\"y\"],\"at\":\"2024-01-02T03:04:05Z\","
            "\"p\":{\"lat\":1,\"lng\":2}}"},
      {"b", "{\"name\":\"Bob\",\"age\":\"40\",\"tags\":\"x\",\"n\":{\"k\":[1,2,{\"z\":null}]},"
            "\"p\":{\"lat\":1.5,\"lng\":2.5}}"},
      {"c", "{\"name\":\"Cé lia, "
            "déjà\",\"age\":null,\"items\":[{\"s\":1},{\"s\":2}],\"b\":{\"$bin\":\"AAE=\"}}"},
      {"d", "{\"age\":25.5,\"flag\":true,\"at\":\"2023-12-31\",\"p\":[{\"lat\":-1,\"lng\":-2}]}"},
      {"e", "{}"},
  };
  for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++)
    gdb_put_json(d, docs[i][0], docs[i][1], strlen(docs[i][1]), NULL);
  gdb_link(d, "a", "b");
  gdb_link(d, "b", "c");
  gdb_link(d, "c", "a");
  gdb_link(d, "d", "missing");
}

static void on_event(gdb_watch *w, gdb_event ev, gdb_node *node, void *data) {
  (void)w, (void)ev, (void)node, (void)data;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!db) {
    if (gdb_open(NULL, NULL, &db) || gdb_open(NULL, NULL, &plain)) abort();
    fill(db);
    fill(plain);
    const char *fields[] = {"name", "age", "tags", "at", "p", "n.k", "items.s"};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
      for (int k = GDB_INDEX_EQ; k <= GDB_INDEX_GEO; k++)
        gdb_index_create(db, fields[i], (gdb_index_kind)k);
  }
  char *opts = malloc(size + 1);
  if (!opts) return 0;
  memcpy(opts, data, size);
  opts[size] = 0;
  gdb_result *r = NULL, *s = NULL;
  int rc = gdb_map(db, opts, &r), rc2 = gdb_map(plain, opts, &s);
  if (rc != GDB_OK && rc != GDB_EQUERY && rc != GDB_ENOTFOUND) abort();
  if (rc != rc2) abort();
  if (!rc) {
    if (gdb_result_len(r) != gdb_result_len(s)) abort();
    for (size_t i = 0; i < gdb_result_len(r); i++)
      if (strcmp(gdb_node_id(gdb_result_at(r, i)), gdb_node_id(gdb_result_at(s, i)))) abort();
    char *plan;
    if (gdb_explain(db, opts, &plan) != GDB_OK) abort();
    gdb_free(plan);
    gdb_watch *w;
    if (gdb_map_watch(db, opts, on_event, NULL, &w) == GDB_OK) {
      gdb_put_json(db, "e", "{\"age\":1}", 9, NULL);
      gdb_put_json(db, "e", "{}", 2, NULL);
      gdb_watch_cancel(w);
    }
  }
  gdb_result_free(r);
  gdb_result_free(s);
  free(opts);
  return 0;
}
