/*
 * core_query_ops.c — conformance of every operator: matches, missing fields, mixed types,
 * arrays, dot paths. One dataset of six nodes (a..f, created in that order) whose fields
 * disagree in type on purpose; each case states the ids expected, in creation order.
 */
#include "core_query_util.h"

static gdb_t *dataset(void) {
  gdb_t *db;
  if (gdb_open(NULL, NULL, &db)) return NULL;
  const char *docs[][2] = {
      {"a", "{\"name\":\"Ada\",\"age\":36,\"tags\":[\"math\",\"code\"],\"address\":{\"city\":"
            "\"London\",\"zip\":\"N1\"},"
            "\"born\":\"1815-12-10\",\"score\":9.5,\"active\":true,\"loc\":{\"lat\":51.5074,"
            "\"lng\":-0.1278}}"},
      {"b", "{\"name\":\"Bob\",\"age\":\"40\",\"tags\":[\"code\"],\"address\":{\"city\":\"Paris\"},"
            "\"born\":\"1990-05-01T10:00:00+02:00\",\"score\":7,\"active\":false,\"loc\":{\"lat\":"
            "48.8566,\"lng\":2.3522}}"},
      {"c", "{\"name\":\"Cleo\",\"age\":null,\"tags\":[],\"items\":[{\"sku\":\"x1\",\"qty\":5},{"
            "\"sku\":\"y2\",\"qty\":1}],"
            "\"born\":\"1990-05-01T09:00:00Z\",\"bio\":\"Café owner, loves crème "
            "brûlée!\",\"loc\":{\"lat\":40.7128,\"lng\":-74.006}}"},
      {"d", "{\"name\":\"dan\",\"age\":25.5,\"tags\":\"code\",\"bio\":\"Don't PANIC: café & "
            "code\",\"score\":[3,8],"
            "\"active\":1,\"blob\":{\"$bin\":\"AAE=\"}}"},
      {"e", "{\"name\":\"Éva\",\"nested\":{\"a\":{\"b\":{\"c\":42}}},\"items\":[{\"sku\":\"x1\","
            "\"qty\":2}],"
            "\"born\":\"not a date\",\"matrix\":[[1,2],[3]]}"},
      {"f", "{\"title\":\"no name\"}"},
  };
  for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++)
    if (q_put(db, docs[i][0], docs[i][1])) return NULL;
  return db;
}

#define Q(json) "{\"query\":" json "}"

TEST(query_eq_and_shorthand) {
  gdb_t *db = dataset();
  CHECK(db);
  CHECK_IDS(db, NULL, "a,b,c,d,e,f");
  CHECK_IDS(db, "", "a,b,c,d,e,f");
  CHECK_IDS(db, "{}", "a,b,c,d,e,f");
  CHECK_IDS(db, Q("{}"), "a,b,c,d,e,f");
  CHECK_IDS(db, Q("{\"age\":36}"), "a");
  CHECK_IDS(db, Q("{\"age\":36.0}"), "a"); /* integral numbers are one value */
  CHECK_IDS(db, Q("{\"age\":{\"$eq\":\"40\"}}"), "b");
  CHECK_IDS(db, Q("{\"age\":40}"), "");        /* no coercion between strings and numbers */
  CHECK_IDS(db, Q("{\"age\":null}"), "c,e,f"); /* null matches null and missing */
  CHECK_IDS(db, Q("{\"address\":{\"city\":\"Paris\"}}"), "b"); /* whole-object equality */
  CHECK_IDS(db, Q("{\"address\":{\"city\":\"London\"}}"), "");
  CHECK_IDS(db, Q("{\"blob\":{\"$bin\":\"AAE=\"}}"), "d");
  CHECK_IDS(db, Q("{\"active\":true}"), "a");
  CHECK_IDS(db, Q("{\"active\":1}"), "d");
  gdb_close(db);
}

TEST(query_ne_in_nin) {
  gdb_t *db = dataset();
  CHECK(db);
  CHECK_IDS(db, Q("{\"age\":{\"$ne\":36}}"), "b,c,d,e,f");
  CHECK_IDS(db, Q("{\"age\":{\"$ne\":null}}"), "a,b,d");
  CHECK_IDS(db, Q("{\"age\":{\"$in\":[36,\"40\"]}}"), "a,b");
  CHECK_IDS(db, Q("{\"age\":{\"$in\":[null]}}"), "c,e,f");
  CHECK_IDS(db, Q("{\"age\":{\"$in\":[]}}"), "");
  CHECK_IDS(db, Q("{\"age\":{\"$nin\":[36,null]}}"), "b,d");
  CHECK_IDS(db, Q("{\"age\":{\"$nin\":[]}}"), "a,b,c,d,e,f");
  CHECK_IDS(db, Q("{\"tags\":{\"$in\":[\"math\",\"x\"]}}"), "a");
  CHECK_IDS(db, Q("{\"tags\":{\"$ne\":\"code\"}}"), "c,e,f");
  gdb_close(db);
}

TEST(query_comparisons_bracket_types) {
  gdb_t *db = dataset();
  CHECK(db);
  CHECK_IDS(db, Q("{\"age\":{\"$gt\":30}}"), "a");
  CHECK_IDS(db, Q("{\"age\":{\"$gte\":25.5}}"), "a,d");
  CHECK_IDS(db, Q("{\"age\":{\"$lt\":30}}"), "d");
  CHECK_IDS(db, Q("{\"age\":{\"$lte\":36}}"), "a,d");
  CHECK_IDS(db, Q("{\"age\":{\"$gt\":\"30\"}}"), "b");
  CHECK_IDS(db, Q("{\"age\":{\"$gt\":25.5,\"$lt\":36}}"), "");
  CHECK_IDS(db, Q("{\"age\":{\"$gte\":25.5,\"$lte\":36}}"), "a,d");
  CHECK_IDS(db, Q("{\"age\":{\"$between\":[25,36]}}"), "a,d");
  CHECK_IDS(db, Q("{\"age\":{\"$between\":[36,25]}}"), "");
  CHECK_IDS(db, Q("{\"active\":{\"$gt\":false}}"), "a");
  CHECK_IDS(db, Q("{\"score\":{\"$gt\":8}}"), "a");
  CHECK_IDS(db, Q("{\"score\":{\"$gte\":8}}"), "a,d"); /* an element of [3,8] */
  CHECK_IDS(db, Q("{\"name\":{\"$gte\":\"B\",\"$lt\":\"D\"}}"), "b,c");
  CHECK_IDS(db, Q("{\"name\":{\"$gt\":\"Z\"}}"),
            "d,e"); /* bytewise: lower case and accents sort after */
  gdb_close(db);
}

TEST(query_dates_compare_chronologically) {
  gdb_t *db = dataset();
  CHECK(db);
  /* b is 08:00Z written with an offset, c is 09:00Z */
  CHECK_IDS(db, Q("{\"born\":{\"$gt\":\"1990-05-01T07:30:00Z\"}}"), "b,c");
  CHECK_IDS(db, Q("{\"born\":{\"$lt\":\"1990-05-01T08:30:00Z\"}}"), "a,b");
  CHECK_IDS(
      db,
      Q("{\"born\":{\"$gte\":\"1990-05-01T10:00:00+02:00\",\"$lte\":\"1990-05-01T08:00:00Z\"}}"),
      "b");
  CHECK_IDS(db, Q("{\"born\":{\"$between\":[\"1800-01-01\",\"1900-01-01\"]}}"), "a");
  CHECK_IDS(db, Q("{\"born\":{\"$between\":[\"1990-05-01T09:00:00.000Z\",\"1990-05-01T09:00Z\"]}}"),
            "c");
  CHECK_IDS(db, Q("{\"born\":{\"$lte\":\"1990-05-01T09:00:00.000Z\"}}"), "a,b,c");
  CHECK_IDS(db, Q("{\"born\":{\"$lt\":\"1990-05-01T11:00+02\"}}"), "a,b");
  CHECK_IDS(db, Q("{\"born\":{\"$type\":\"date\"}}"), "a,b,c");
  /* a non-date operand compares strings bytewise (dates by their UTC form) */
  CHECK_IDS(db, Q("{\"born\":{\"$gt\":\"m\"}}"), "e");
  gdb_close(db);
}

TEST(query_exists_type) {
  gdb_t *db = dataset();
  CHECK(db);
  CHECK_IDS(db, Q("{\"age\":{\"$exists\":true}}"), "a,b,c,d");
  CHECK_IDS(db, Q("{\"age\":{\"$exists\":false}}"), "e,f");
  CHECK_IDS(db, Q("{\"age\":{\"$type\":\"number\"}}"), "a,d");
  CHECK_IDS(db, Q("{\"age\":{\"$type\":\"integer\"}}"), "a");
  CHECK_IDS(db, Q("{\"age\":{\"$type\":\"string\"}}"), "b");
  CHECK_IDS(db, Q("{\"age\":{\"$type\":\"null\"}}"), "c");
  CHECK_IDS(db, Q("{\"age\":{\"$type\":[\"null\",\"string\"]}}"), "b,c");
  CHECK_IDS(db, Q("{\"tags\":{\"$type\":\"array\"}}"), "a,b,c");
  CHECK_IDS(db, Q("{\"tags\":{\"$type\":\"string\"}}"), "a,b,d"); /* elements count */
  CHECK_IDS(db, Q("{\"address\":{\"$type\":\"object\"}}"), "a,b");
  CHECK_IDS(db, Q("{\"active\":{\"$type\":\"boolean\"}}"), "a,b");
  CHECK_IDS(db, Q("{\"blob\":{\"$type\":\"binary\"}}"), "d");
  gdb_close(db);
}

TEST(query_arrays) {
  gdb_t *db = dataset();
  CHECK(db);
  CHECK_IDS(db, Q("{\"tags\":\"code\"}"), "a,b,d");
  CHECK_IDS(db, Q("{\"tags\":[\"code\"]}"), "b");
  CHECK_IDS(db, Q("{\"tags\":[\"code\",\"math\"]}"), ""); /* arrays compare in order */
  CHECK_IDS(db, Q("{\"tags\":{\"$size\":0}}"), "c");
  CHECK_IDS(db, Q("{\"tags\":{\"$size\":2}}"), "a");
  CHECK_IDS(db, Q("{\"tags\":{\"$all\":[\"code\",\"math\"]}}"), "a");
  CHECK_IDS(db, Q("{\"tags\":{\"$all\":[\"code\"]}}"), "a,b,d");
  CHECK_IDS(db, Q("{\"tags\":{\"$all\":[]}}"), "");
  CHECK_IDS(db, Q("{\"tags\":{\"$contains\":\"code\"}}"), "a,b,d");
  CHECK_IDS(db, Q("{\"name\":{\"$contains\":\"a\"}}"), "a,d,e");
  CHECK_IDS(db, Q("{\"score\":{\"$contains\":8}}"), "d");
  CHECK_IDS(db, Q("{\"items\":{\"$elemMatch\":{\"sku\":\"x1\",\"qty\":{\"$gt\":3}}}}"), "c");
  CHECK_IDS(db, Q("{\"items\":{\"$elemMatch\":{\"sku\":\"y2\",\"qty\":{\"$gt\":3}}}}"), "");
  CHECK_IDS(db, Q("{\"score\":{\"$elemMatch\":{\"$gt\":5,\"$lt\":9}}}"), "d");
  CHECK_IDS(db, Q("{\"score\":{\"$elemMatch\":{\"$gt\":8}}}"), ""); /* 9.5 is no array */
  CHECK_IDS(db, Q("{\"matrix\":[3]}"), "e");
  CHECK_IDS(db, Q("{\"matrix\":3}"), ""); /* nested arrays are not flattened */
  gdb_close(db);
}

TEST(query_dot_paths) {
  gdb_t *db = dataset();
  CHECK(db);
  CHECK_IDS(db, Q("{\"address.city\":\"London\"}"), "a");
  CHECK_IDS(db, Q("{\"address.zip\":{\"$exists\":false}}"), "b,c,d,e,f");
  CHECK_IDS(db, Q("{\"nested.a.b.c\":42}"), "e");
  CHECK_IDS(db, Q("{\"nested.a.b\":{\"$type\":\"object\"}}"), "e");
  CHECK_IDS(db, Q("{\"nested.a.x.c\":42}"), "");
  CHECK_IDS(db, Q("{\"items.sku\":\"x1\"}"), "c,e"); /* through arrays of objects */
  CHECK_IDS(db, Q("{\"items.qty\":{\"$gt\":4}}"), "c");
  CHECK_IDS(db, Q("{\"items.0.sku\":\"y2\"}"), "");
  CHECK_IDS(db, Q("{\"items.1.sku\":\"y2\"}"), "c");
  CHECK_IDS(db, Q("{\"tags.0\":\"math\"}"), "a");
  CHECK_IDS(db, Q("{\"name.first\":{\"$exists\":true}}"), ""); /* through a string: missing */
  gdb_close(db);
}

TEST(query_text) {
  gdb_t *db = dataset();
  CHECK(db);
  CHECK_IDS(db, Q("{\"bio\":{\"$text\":\"cafe\"}}"), "c,d");
  CHECK_IDS(db, Q("{\"bio\":{\"$text\":\"CAFÉ\"}}"), "c,d");
  CHECK_IDS(db, Q("{\"bio\":{\"$text\":\"CREME brulee\"}}"), "c");
  CHECK_IDS(db, Q("{\"bio\":{\"$text\":\"dont panic\"}}"), "d");
  CHECK_IDS(db, Q("{\"bio\":{\"$text\":\"don't\"}}"), "d");
  CHECK_IDS(db, Q("{\"bio\":{\"$text\":\"cafe code\"}}"), "d"); /* every word */
  CHECK_IDS(db, Q("{\"bio\":{\"$text\":\"caf\"}}"), "");        /* whole words */
  CHECK_IDS(db, Q("{\"tags\":{\"$text\":\"MATH\"}}"), "a");     /* an array entry */
  CHECK_IDS(db, Q("{\"age\":{\"$text\":\"40\"}}"), "b");
  gdb_close(db);
}

TEST(query_patterns) {
  gdb_t *db = dataset();
  CHECK(db);
  CHECK_IDS(db, Q("{\"name\":{\"$like\":\"A%\"}}"), "a");
  CHECK_IDS(db, Q("{\"name\":{\"$like\":\"_an\"}}"), "d");
  CHECK_IDS(db, Q("{\"name\":{\"$like\":\"_va\"}}"), "e"); /* _ is one character, not one byte */
  CHECK_IDS(db, Q("{\"name\":{\"$like\":\"%\"}}"), "a,b,c,d,e");
  CHECK_IDS(db, Q("{\"name\":{\"$like\":\"a%\"}}"), "");
  CHECK_IDS(db, Q("{\"name\":{\"$ilike\":\"a%\"}}"), "a");
  CHECK_IDS(db, Q("{\"name\":{\"$ilike\":\"%VA\"}}"), "e");
  CHECK_IDS(db, Q("{\"name\":{\"$ilike\":\"éVA\"}}"), "e");
  CHECK_IDS(db, Q("{\"title\":{\"$like\":\"no\\\\_name\"}}"), ""); /* \\_ is a literal _ */
  CHECK_IDS(db, Q("{\"title\":{\"$like\":\"no%e\"}}"), "f");
  CHECK_IDS(db, Q("{\"name\":{\"$regex\":\"^[A-C]\"}}"), "a,b,c");
  CHECK_IDS(db, Q("{\"name\":{\"$regex\":\"^d\",\"$options\":\"i\"}}"), "d");
  CHECK_IDS(db, Q("{\"name\":{\"$regex\":\"^.va$\"}}"), "e");
  CHECK_IDS(db, Q("{\"tags\":{\"$regex\":\"^ma\"}}"), "a");
  CHECK_IDS(db, Q("{\"name\":{\"$startsWith\":\"C\"}}"), "c");
  CHECK_IDS(db, Q("{\"name\":{\"$startsWith\":\"\"}}"), "a,b,c,d,e");
  CHECK_IDS(db, Q("{\"name\":{\"$endsWith\":\"a\"}}"), "a,e");
  CHECK_IDS(db, Q("{\"age\":{\"$startsWith\":\"4\"}}"), "b"); /* strings only */
  gdb_close(db);
}

TEST(query_geo_and_mod) {
  gdb_t *db = dataset();
  CHECK(db);
  CHECK_IDS(db, Q("{\"loc\":{\"$near\":{\"lat\":51.5,\"lng\":-0.12,\"radius\":5000}}}"), "a");
  CHECK_IDS(db, Q("{\"loc\":{\"$near\":{\"lat\":50,\"lng\":1,\"radius\":400000}}}"), "a,b");
  CHECK_IDS(db, Q("{\"loc\":{\"$near\":{\"lat\":50,\"lng\":1,\"radius\":100}}}"), "");
  CHECK_IDS(db,
            Q("{\"loc\":{\"$bbox\":{\"minLat\":40,\"minLng\":-80,\"maxLat\":50,\"maxLng\":3}}}"),
            "b,c");
  CHECK_IDS(db,
            Q("{\"loc\":{\"$bbox\":{\"minLat\":-90,\"minLng\":170,\"maxLat\":90,\"maxLng\":-70}}}"),
            "c"); /* across 180° */
  CHECK_IDS(db, Q("{\"address\":{\"$near\":{\"lat\":0,\"lng\":0,\"radius\":1e7}}}"),
            ""); /* not points */
  CHECK_IDS(db, Q("{\"score\":{\"$mod\":[2,1]}}"), "a,b,d");
  CHECK_IDS(db, Q("{\"score\":{\"$mod\":[4,0]}}"), "d");
  gdb_close(db);
}

TEST(query_logic) {
  gdb_t *db = dataset();
  CHECK(db);
  CHECK_IDS(db, Q("{\"$or\":[{\"age\":36},{\"name\":\"dan\"}]}"), "a,d");
  CHECK_IDS(db, Q("{\"$nor\":[{\"age\":36},{\"name\":\"dan\"}]}"), "b,c,e,f");
  CHECK_IDS(db, Q("{\"$and\":[{\"tags\":\"code\"},{\"age\":{\"$type\":\"number\"}}]}"), "a,d");
  CHECK_IDS(db, Q("{\"$not\":{\"age\":{\"$gt\":30}}}"), "b,c,d,e,f");
  CHECK_IDS(db, Q("{\"age\":{\"$not\":{\"$gt\":30}}}"), "b,c,d,e,f");
  CHECK_IDS(db, Q("{\"score\":{\"$not\":{\"$gt\":5}}}"), "c,e,f"); /* none of [3,8] may be > 5 */
  CHECK_IDS(db,
            Q("{\"$and\":[{\"tags\":\"code\"},{\"$or\":[{\"age\":{\"$lt\":30}},{\"age\":{\"$type\":"
              "\"string\"}}]}]}"),
            "b,d");
  CHECK_IDS(db, Q("{\"name\":{\"$exists\":true},\"$nor\":[{\"tags\":\"code\"}]}"), "c,e");
  CHECK_IDS(db,
            Q("{\"$or\":[{\"$and\":[{\"age\":{\"$gte\":30}},{\"age\":{\"$lte\":40}}]},{\"$not\":{"
              "\"name\":{\"$exists\":true}}}]}"),
            "a,f");
  CHECK_IDS(db, Q("{\"$nor\":[{\"$or\":[{\"age\":null},{\"tags\":\"code\"}]}]}"), "");
  CHECK_IDS(db,
            Q("{\"$or\":[{\"missing\":1},{\"missing\":{\"$exists\":false},\"title\":{\"$exists\":"
              "true}}]}"),
            "f");
  gdb_close(db);
}

TEST(query_strict_mode) {
  gdb_t *db = dataset();
  CHECK(db);
  CHECK_QUERY_FAILS(db, "{\"query\":{\"age\":36},\"strictMode\":true}", GDB_EQUERY,
                    "has no field \"age\"");
  CHECK_IDS(db, "{\"query\":{\"title\":{\"$exists\":false}},\"strictMode\":true}", "a,b,c,d,e");
  CHECK_IDS(db, "{\"query\":{\"age\":36},\"strictMode\":false}", "a");
  CHECK_QUERY_FAILS(
      db, "{\"query\":{\"$or\":[{\"name\":\"Ada\"},{\"nested.a\":1}]},\"strictMode\":true}",
      GDB_EQUERY, "nested.a");
  gdb_close(db);
}

TEST(query_results_carry_nodes) {
  gdb_t *db = dataset();
  CHECK(db);
  gdb_result *r;
  CHECK_OK(gdb_map(db, Q("{\"age\":36}"), &r));
  CHECK_INT(gdb_result_len(r), 1);
  gdb_node *n = gdb_result_at(r, 0);
  CHECK(gdb_result_at(r, 1) == NULL);
  gdb_node_retain(n);
  gdb_result_free(r);
  CHECK_OK(q_put(db, "a", "{\"age\":37}")); /* the result kept the snapshot it matched */
  char *j = gdb_node_json(n);
  CHECK(strstr(j, "\"age\":36"));
  gdb_free(j);
  gdb_node_release(n);
  gdb_close(db);
}
