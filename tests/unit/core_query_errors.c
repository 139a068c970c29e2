/*
 * core_query_errors.c — bad queries: each fails with GDB_EQUERY (never a crash) and a message
 * that names the problem, with a "did you mean" when a known name is close. The database is
 * never changed by a failed query.
 */
#include "core_query_util.h"

#include <stdio.h>

static const struct {
  const char *opts, *needle;
} BAD[] = {
    {"{\"query\":{\"age\":{\"$gte \":1}}}",
     "unknown operator \"$gte \" on \"age\" (did you mean \"$gte\"?)"},
    {"{\"query\":{\"age\":{\"$gtt\":1}}}", "did you mean \"$gt\"?"},
    {"{\"query\":{\"name\":{\"$startswith\":\"a\"}}}", "did you mean \"$startsWith\"?"},
    {"{\"query\":{\"name\":{\"$regexp\":\"a\"}}}", "did you mean \"$regex\"?"},
    {"{\"query\":{\"name\":{\"$frobnicate\":1}}}", "unknown operator \"$frobnicate\" on \"name\""},
    {"{\"query\":{\"$ro\":[]}}", "unknown operator \"$ro\" in query (did you mean \"$or\"?)"},
    {"{\"query\":{\"$edgee\":{}}}", "did you mean \"$edge\"?"},
    {"{\"query\":{\"$gt\":1}}", "$gt needs a field"},
    {"{\"qeury\":{}}", "unknown option \"qeury\" (did you mean \"query\"?)"},
    {"{\"limit\":3}", "did you mean \"$limit\"?"},
    {"{\"strictmode\":true}", "did you mean \"strictMode\"?"},
    {"{\"query\":{\"name\":{\"$regex\":\"([\"}}}", "invalid regular expression for \"name\""},
    {"{\"query\":{\"name\":{\"$regex\":\"a\",\"$options\":\"q\"}}}", "unknown flag 'q'"},
    {"{\"query\":{\"name\":{\"$options\":\"i\"}}}", "needs a $regex beside it"},
    {"{\"query\":{\"name\":{\"$regex\":5}}}", "$regex on \"name\" needs a pattern string"},
    {"{\"query\":{\"age\":{\"$in\":5}}}", "$in on \"age\" needs an array"},
    {"{\"query\":{\"age\":{\"$nin\":\"x\"}}}", "$nin on \"age\" needs an array"},
    {"{\"query\":{\"age\":{\"$all\":{}}}}", "$all on \"age\" needs an array"},
    {"{\"query\":{\"age\":{\"$gt\":[1]}}}",
     "$gt on \"age\" needs a number, a string or a boolean (got an array)"},
    {"{\"query\":{\"age\":{\"$lt\":null}}}", "(got null)"},
    {"{\"query\":{\"age\":{\"$between\":[1]}}}",
     "$between on \"age\" needs an array of two bounds"},
    {"{\"query\":{\"age\":{\"$between\":[1,\"a\"]}}}", "two bounds of one type"},
    {"{\"query\":{\"age\":{\"$between\":[\"2024-01-01\",\"b\"]}}}", "two bounds of one type"},
    {"{\"query\":{\"age\":{\"$exists\":\"yes\"}}}", "$exists on \"age\" needs true or false"},
    {"{\"query\":{\"age\":{\"$type\":\"strin\"}}}",
     "unknown type \"strin\" in $type (did you mean \"string\"?)"},
    {"{\"query\":{\"age\":{\"$type\":[]}}}", "$type on \"age\" needs a type name"},
    {"{\"query\":{\"bio\":{\"$text\":\"!!!\"}}}", "needs at least one word"},
    {"{\"query\":{\"bio\":{\"$text\":5}}}", "$text on \"bio\" needs a string"},
    {"{\"query\":{\"n\":{\"$like\":1}}}", "$like on \"n\" needs a string"},
    {"{\"query\":{\"n\":{\"$size\":-1}}}", "$size on \"n\" needs a non-negative integer"},
    {"{\"query\":{\"n\":{\"$size\":1.5}}}", "$size on \"n\" needs a non-negative integer"},
    {"{\"query\":{\"n\":{\"$mod\":[0,1]}}}", "non-zero divisor"},
    {"{\"query\":{\"n\":{\"$mod\":[2]}}}", "$mod on \"n\" needs [divisor, remainder]"},
    {"{\"query\":{\"n\":{\"$elemMatch\":5}}}", "$elemMatch on \"n\" needs a non-empty object"},
    {"{\"query\":{\"n\":{\"$elemMatch\":{\"$edge\":{}}}}}",
     "$edge may only appear at the top level"},
    {"{\"query\":{\"n\":{\"$not\":5}}}", "$not on \"n\" needs an object of operators"},
    {"{\"query\":{\"n\":{\"$gt\":1,\"x\":2}}}", "mix operators and field names"},
    {"{\"query\":{\"n\":{\"x\":2,\"$gt\":1}}}", "mix field names and operators"},
    {"{\"query\":{\"loc\":{\"$near\":{\"lat\":100,\"lng\":0,\"radius\":1}}}}",
     "\"lat\" must be between -90 and 90"},
    {"{\"query\":{\"loc\":{\"$near\":{\"lat\":1,\"lng\":0}}}}", "needs a number \"radius\""},
    {"{\"query\":{\"loc\":{\"$near\":{\"lat\":1,\"lng\":0,\"radius\":1,\"raduis\":2}}}}",
     "did you mean \"radius\"?"},
    {"{\"query\":{\"loc\":{\"$bbox\":{\"minLat\":10,\"minLng\":0,\"maxLat\":5,\"maxLng\":1}}}}",
     "minLat is above maxLat"},
    {"{\"query\":{\"$and\":{}}}", "$and needs a non-empty array of queries"},
    {"{\"query\":{\"$or\":[]}}", "$or needs a non-empty array"},
    {"{\"query\":{\"$or\":[5]}}", "a query must be an object"},
    {"{\"query\":{\"$or\":[{\"$edge\":{}}]}}", "$edge may only appear at the top level"},
    {"{\"query\":{\"$not\":{\"$edge\":{}}}}", "$edge may only appear at the top level"},
    {"{\"query\":{\"$edge\":5}}", "$edge needs a sub-query object"},
    {"{\"query\":{\"$edge\":{\"$depth\":0}}}", "$depth needs a positive integer"},
    {"{\"query\":{\"$edge\":{\"$depth\":\"2\"}}}", "$depth needs a positive integer"},
    {"{\"query\":{\"$depth\":2}}", "$depth belongs inside $edge"},
    {"{\"query\":{\"a..b\":1}}", "has an empty part"},
    {"{\"query\":{\".a\":1}}", "has an empty part"},
    {"{\"query\":{\"a.\":1}}", "has an empty part"},
    {"{\"query\":5}", "\"query\" must be an object"},
    {"{\"field\":\"\"}", "a field name must be 1 to"},
    {"{\"field\":5}", "\"field\" must be the name of the field"},
    {"{\"order\":\"up\"}", "\"order\" must be \"asc\" or \"desc\""},
    {"{\"$limit\":-1}", "\"$limit\" must be a non-negative integer"},
    {"{\"$limit\":1.5}", "\"$limit\" must be a non-negative integer"},
    {"{\"$limit\":\"10\"}", "\"$limit\" must be a non-negative integer"},
    {"{\"$after\":\"\"}", "\"$after\" must be a node id"},
    {"{\"$before\":7}", "\"$before\" must be a node id"},
    {"{\"realtime\":\"yes\"}", "\"realtime\" must be true or false"},
    {"{\"strictMode\":1}", "\"strictMode\" must be true or false"},
    {"[1,2]", "options must be a JSON object"},
    {"\"x\"", "options must be a JSON object"},
    {"not json", "not valid JSON"},
    {"{\"query\":{}", "not valid JSON"},
    {"{\"query\":{},\"query\":{}}", "duplicate"},
};

TEST(query_bad_input_has_clear_errors) {
  gdb_t *db;
  CHECK_OK(gdb_open(NULL, NULL, &db));
  CHECK_OK(q_put(db, "a", "{\"age\":1}"));
  char before[65], after[65];
  CHECK_OK(gdb_state_hash(db, before));
  for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++)
    CHECK_QUERY_FAILS(db, BAD[i].opts, GDB_EQUERY, BAD[i].needle);
  /* every message starts with the verb */
  CHECK_QUERY_FAILS(db, "{\"query\":{\"age\":{\"$gtt\":1}}}", GDB_EQUERY, "map: unknown operator");
  char *plan;
  CHECK_INT(gdb_explain(db, "{\"query\":{\"age\":{\"$gtt\":1}}}", &plan), GDB_EQUERY);
  CHECK(strstr(gdb_errmsg(), "explain: unknown operator"));
  CHECK_OK(gdb_state_hash(db, after));
  CHECK_STR(before, after);
  gdb_close(db);
}

TEST(query_deep_nesting_is_refused) {
  gdb_t *db;
  CHECK_OK(gdb_open(NULL, NULL, &db));
  char q[4096] = "{\"query\":";
  for (int i = 0; i < 40; i++) strcat(q, "{\"$not\":");
  strcat(q, "{\"a\":1}");
  for (int i = 0; i < 40; i++) strcat(q, "}");
  strcat(q, "}");
  CHECK_QUERY_FAILS(db, q, GDB_EQUERY, "nests deeper than");
  /* 20 levels are fine */
  strcpy(q, "{\"query\":");
  for (int i = 0; i < 20; i++) strcat(q, "{\"$not\":");
  strcat(q, "{\"a\":1}");
  for (int i = 0; i < 20; i++) strcat(q, "}");
  strcat(q, "}");
  CHECK_IDS(db, q, "");
  CHECK_OK(q_put(db, "x", "{\"a\":1}"));
  CHECK_IDS(db, q, "x"); /* an even number of negations */
  gdb_close(db);
}

TEST(query_catastrophic_regex_is_bounded) {
  gdb_t *db;
  CHECK_OK(gdb_open(NULL, NULL, &db));
  char v[200] = "{\"s\":\"";
  for (int i = 0; i < 40; i++) strcat(v, "a");
  strcat(v, "!\"}");
  CHECK_OK(q_put(db, "x", v));
  /* nested quantifiers: the match limit stops it; the node simply does not match */
  CHECK_IDS(db, "{\"query\":{\"s\":{\"$regex\":\"^(a+)+$\"}}}", "");
  CHECK_IDS(db, "{\"query\":{\"s\":{\"$regex\":\"^(a+)+!$\"}}}", "x");
  gdb_close(db);
}

TEST(query_index_kinds_parse_with_suggestions) {
  gdb_index_kind k;
  CHECK_OK(gdb_index_kind_parse("range", &k));
  CHECK_INT(k, GDB_INDEX_RANGE);
  CHECK_INT(gdb_index_kind_parse("rnage", &k), GDB_EQUERY);
  CHECK(strstr(gdb_errmsg(), "did you mean \"range\"?"));
  CHECK_INT(gdb_index_kind_parse("btree", &k), GDB_EQUERY);
  CHECK(strstr(gdb_errmsg(), "kinds: eq, range, text, prefix, geo"));
  CHECK_STR(gdb_index_kind_name(GDB_INDEX_GEO), "geo");
  CHECK(gdb_index_kind_name((gdb_index_kind)42) == NULL);
  gdb_t *db;
  CHECK_OK(gdb_open(NULL, NULL, &db));
  CHECK_INT(gdb_index_create(db, "a..b", GDB_INDEX_EQ), GDB_EQUERY);
  CHECK_INT(gdb_index_create(db, "$gt", GDB_INDEX_EQ), GDB_EQUERY);
  CHECK_INT(gdb_index_create(db, "", GDB_INDEX_EQ), GDB_EQUERY);
  CHECK_INT(gdb_index_create(db, "a", (gdb_index_kind)9), GDB_EQUERY);
  CHECK_INT(gdb_index_drop(db, "a", GDB_INDEX_EQ), GDB_ENOTFOUND);
  gdb_close(db);
}
