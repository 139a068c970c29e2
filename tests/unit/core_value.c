/* core_value.c — canonical JSON, canonical MessagePack, numbers, keys, blobs, bad input. */
#include "test.h"

#include "core/mp.h"
#include "core/value.h"
#include "genosdb.h"

#include <jansson.h>
#include <math.h>
#include <msgpack.h>
#include <stdlib.h>

static json_t *load_vectors(const char *file) {
  json_error_t e;
  json_t *v = json_load_file(gdb_test_path(file), 0, &e);
  if (!v) fprintf(stderr, "cannot load %s: %s\n", file, e.text);
  return v;
}

TEST(canonicalize_vectors) {
  json_t *v = load_vectors("vectors/sm.json");
  CHECK(v);
  json_t *cases = json_object_get(v, "canonicalize");
  CHECK(json_array_size(cases) >= 17);
  size_t i;
  json_t *c;
  json_array_foreach(cases, i, c) {
    /* Serialize the input with jansson (any key order), then canonicalize it. */
    char *in = json_dumps(json_object_get(c, "input"), JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
    char *out = NULL;
    size_t len;
    int rc = gdb_canonical_json(in, strlen(in), &out, &len);
    const char *name = json_string_value(json_object_get(c, "name"));
    CHECK_MSG(rc == 0, "%s: %s", name, gdb_errmsg());
    CHECK_MSG(!strcmp(out, json_string_value(json_object_get(c, "expected"))), "%s: got %s", name, out);
    free(in);
    free(out);
  }
  json_decref(v);
}

static void check_num(double x, const char *want) {
  char buf[32];
  gdb_format_double(x, buf);
  if (strcmp(buf, want)) gdb_test_failed(__FILE__, __LINE__, "format(%.17g) = %s, want %s", x, buf, want);
}

TEST(numbers_format_as_javascript) {
  check_num(1.5, "1.5");
  check_num(0.1, "0.1");
  check_num(-0.0, "0");
  check_num(1e21, "1e+21");
  check_num(1e20, "100000000000000000000");
  check_num(123456789012345680000.0, "123456789012345680000");
  check_num(1e-7, "1e-7");
  check_num(1e-6, "0.000001");
  check_num(-1.5e-9, "-1.5e-9");
  check_num(0.1 + 0.2, "0.30000000000000004");
  check_num(5e-324, "5e-324");
  check_num(1.7976931348623157e308, "1.7976931348623157e+308");
  check_num(123.456, "123.456");
  check_num(-42.0, "-42");
  check_num(1.2345e25, "1.2345e+25");
  check_num(2.5e-5, "0.000025");
}

static char *canon(const char *json) {
  char *out = NULL;
  size_t len;
  if (gdb_canonical_json(json, strlen(json), &out, &len)) return NULL;
  return out;
}

TEST(integers_exact_to_2_pow_53_then_rounded) {
  char *s = canon("{\"a\":9007199254740993,\"b\":-9007199254740991,\"c\":1.0,\"d\":1e2,\"e\":12345678901234567890}");
  CHECK(s);
  CHECK_STR(s, "{\"a\":9007199254740992,\"b\":-9007199254740991,\"c\":1,\"d\":100,\"e\":12345678901234567000}");
  free(s);
}

TEST(keys_sort_by_utf16_with_index_keys_first) {
  CHECK(gdb_canon_key_cmp("2", 1, "10", 2) < 0);
  CHECK(gdb_canon_key_cmp("10", 2, "a", 1) < 0);
  CHECK(gdb_canon_key_cmp("01", 2, "1", 1) > 0);          /* "01" is not an index */
  CHECK(gdb_canon_key_cmp("4294967295", 10, "0", 1) > 0); /* 2^32-1 is not an index */
  CHECK(gdb_canon_key_cmp("4294967294", 10, "a", 1) < 0);
  CHECK(gdb_canon_key_cmp("\xf0\x9d\x95\x92", 4, "\xef\xac\x80", 3) < 0); /* 𝕒 before ﬀ */
  CHECK(gdb_canon_key_cmp("ab", 2, "abc", 3) < 0);
  CHECK(gdb_canon_key_cmp("abc", 3, "abc", 3) == 0);
}

TEST(blobs_round_trip_as_bin) {
  uint8_t *mp;
  size_t len;
  const char *j = "{\"data\":{\"$bin\":\"AAEC/w==\"},\"x\":1}";
  CHECK_OK(gdb_json_to_value(j, strlen(j), &mp, &len));
  mp_cur c = mp_cursor(mp, len), v;
  CHECK(mp_map_find(c, "data", 4, &v));
  mp_item it;
  CHECK(mp_next(&v, &it));
  CHECK_INT(it.kind, MP_BIN);
  CHECK_INT(it.v.s.len, 4);
  CHECK(!memcmp(it.v.s.p, "\x00\x01\x02\xff", 4));
  char *back;
  CHECK_OK(gdb_value_to_json(mp, len, &back, NULL));
  CHECK_STR(back, j);
  free(back);
  free(mp);
  CHECK(gdb_json_to_value("{\"$bin\":\"!!\"}", 13, &mp, &len) == GDB_EINVAL);
  CHECK(strstr(gdb_errmsg(), "base64"));
  CHECK(gdb_json_to_value("{\"$bin\":5}", 10, &mp, &len) == GDB_EINVAL);
}

TEST(bad_json_is_refused_with_a_message) {
  uint8_t *mp;
  size_t len;
  CHECK(gdb_json_to_value("{\"a\":", 5, &mp, &len) == GDB_EINVAL);
  CHECK(strstr(gdb_errmsg(), "not valid JSON"));
  CHECK(gdb_json_to_value("{\"a\":1,\"a\":2}", 13, &mp, &len) == GDB_EINVAL);
  CHECK(strstr(gdb_errmsg(), "duplicate"));
  CHECK(gdb_json_to_value("{\"a\":NaN}", 9, &mp, &len) == GDB_EINVAL);
  CHECK(gdb_json_to_value("{} x", 4, &mp, &len) == GDB_EINVAL);
  CHECK(gdb_json_to_value("{\"a\":\"\xff\"}", 8, &mp, &len) == GDB_EINVAL);
  CHECK(gdb_json_to_value("{\"a\":1e999}", 11, &mp, &len) == GDB_EINVAL);
}

static char *nested(int depth) {
  char *s = malloc((size_t)depth * 6 + 8);
  size_t n = 0;
  for (int i = 0; i < depth; i++) n += (size_t)sprintf(s + n, "{\"a\":");
  n += (size_t)sprintf(s + n, "1");
  for (int i = 0; i < depth; i++) s[n++] = '}';
  s[n] = 0;
  return s;
}

TEST(depth_limit_is_exact) {
  uint8_t *mp;
  size_t len;
  char *ok = nested(GDB_VALUE_MAX_DEPTH), *bad = nested(GDB_VALUE_MAX_DEPTH + 1);
  CHECK_OK(gdb_json_to_value(ok, strlen(ok), &mp, &len));
  /* what JSON accepted, the MessagePack path accepts too */
  uint8_t *again;
  size_t again_len;
  CHECK_OK(gdb_value_canonicalize(mp, len, &again, &again_len));
  CHECK(again_len == len && !memcmp(mp, again, len));
  CHECK(gdb_value_is_canonical(mp, len));
  free(again);
  free(mp);
  CHECK(gdb_json_to_value(bad, strlen(bad), &mp, &len) == GDB_EINVAL);
  CHECK(strstr(gdb_errmsg(), "deeper"));
  free(ok);
  free(bad);
}

TEST(msgpack_input_is_canonicalized) {
  /* {"b": 1.0 (float32), "a": uint64 5, "c": [int8 -1 as 0xd0 0xff]} */
  const uint8_t in[] = {0x83, 0xa1, 'b', 0xca, 0x3f, 0x80, 0x00, 0x00, 0xa1, 'a', 0xcf, 0, 0, 0, 0, 0, 0, 0, 5,
                        0xa1, 'c', 0x91, 0xd0, 0xff};
  CHECK(!gdb_value_is_canonical(in, sizeof in));
  uint8_t *out;
  size_t len;
  CHECK_OK(gdb_value_canonicalize(in, sizeof in, &out, &len));
  const uint8_t want[] = {0x83, 0xa1, 'a', 0x05, 0xa1, 'b', 0x01, 0xa1, 'c', 0x91, 0xff};
  CHECK_INT(len, sizeof want);
  CHECK(!memcmp(out, want, len));
  CHECK(gdb_value_is_canonical(out, len));
  free(out);
}

TEST(msgpack_big_integers_round_like_javascript) {
  /* 2^53 + 1 as uint64 becomes the double 2^53, which is an integer again */
  const uint8_t in[] = {0x81, 0xa1, 'x', 0xcf, 0x00, 0x20, 0, 0, 0, 0, 0, 0x01};
  uint8_t *out;
  size_t len;
  CHECK_OK(gdb_value_canonicalize(in, sizeof in, &out, &len));
  CHECK(gdb_value_is_canonical(out, len));
  char *j;
  CHECK_OK(gdb_value_to_json(out, len, &j, NULL));
  CHECK_STR(j, "{\"x\":9007199254740992}");
  free(j);
  free(out);
}

TEST(msgpack_bad_input_is_refused) {
  uint8_t *out;
  size_t len;
  const uint8_t trunc[] = {0x82, 0xa1, 'a'};
  CHECK(gdb_value_canonicalize(trunc, sizeof trunc, &out, &len) == GDB_EINVAL);
  const uint8_t intkey[] = {0x81, 0x01, 0x02};
  CHECK(gdb_value_canonicalize(intkey, sizeof intkey, &out, &len) == GDB_EINVAL);
  CHECK(strstr(gdb_errmsg(), "keys must be strings"));
  const uint8_t ext[] = {0x81, 0xa1, 'a', 0xd4, 0x01, 0x00};
  CHECK(gdb_value_canonicalize(ext, sizeof ext, &out, &len) == GDB_EINVAL);
  const uint8_t dup[] = {0x82, 0xa1, 'a', 0x01, 0xa1, 'a', 0x02};
  CHECK(gdb_value_canonicalize(dup, sizeof dup, &out, &len) == GDB_EINVAL);
  const uint8_t nan[] = {0x81, 0xa1, 'a', 0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0};
  CHECK(gdb_value_canonicalize(nan, sizeof nan, &out, &len) == GDB_EINVAL);
  const uint8_t trailing[] = {0x80, 0x80};
  CHECK(gdb_value_canonicalize(trailing, sizeof trailing, &out, &len) == GDB_EINVAL);
  const uint8_t badutf8[] = {0x81, 0xa1, 'a', 0xa2, 0xed, 0xa0};
  CHECK(gdb_value_canonicalize(badutf8, sizeof badutf8, &out, &len) == GDB_EINVAL);
  const uint8_t huge_count[] = {0xdd, 0xff, 0xff, 0xff, 0xff};
  CHECK(gdb_value_canonicalize(huge_count, sizeof huge_count, &out, &len) == GDB_EINVAL);
}

TEST(content_id_is_sha256_of_canonical_json) {
  uint8_t *mp;
  size_t len;
  const char *j = "{\"b\":1,\"a\":\"x\"}";
  CHECK_OK(gdb_json_to_value(j, strlen(j), &mp, &len));
  char id[65];
  CHECK_OK(gdb_value_content_id(mp, len, id));

  uint8_t d[32];
  char hex[65];
  gdb_sha256("{\"a\":\"x\",\"b\":1}", 15, d);
  gdb_hex(d, 32, hex);
  CHECK_STR(id, hex);
  free(mp);
  /* A value whose JSON is far larger than its MessagePack (escaped control characters). */
  char big[6000];
  size_t n = (size_t)sprintf(big, "{\"s\":\"");
  for (int i = 0; i < 900; i++) n += (size_t)sprintf(big + n, "\\u0001");
  sprintf(big + n, "\"}");
  CHECK_OK(gdb_json_to_value(big, strlen(big), &mp, &len));
  CHECK_OK(gdb_value_content_id(mp, len, id));
  char *cj;
  size_t cjl;
  CHECK_OK(gdb_value_to_json(mp, len, &cj, &cjl));
  gdb_sha256(cj, cjl, d);
  gdb_hex(d, 32, hex);
  CHECK_STR(id, hex);
  free(cj);
  free(mp);
}

TEST(string_escapes_match_json_stringify) {
  char *s = canon("{\"s\":\"\\u001f\\u007f\\b\\f\\/\\u2028\"}");
  CHECK(s);
  CHECK_STR(s, "{\"s\":\"\\u001f\x7f\\b\\f/\xe2\x80\xa8\"}");
  free(s);
}
