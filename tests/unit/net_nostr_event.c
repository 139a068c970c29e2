/* net_nostr_event.c — NIP-01 events against vectors made by nostr-tools, BIP-340 signatures
 * against the BIP's own test vectors, and refusal of tampered or malformed events. */
#include "test.h"

#include "core/buf.h"
#include "genosdb.h"
#include "net/nostr/event.h"

#include <jansson.h>
#include <stdlib.h>

static bool unhex(const char *s, uint8_t *out, size_t n) {
  char low[260];
  size_t len = strlen(s);
  if (len != 2 * n || len >= sizeof low) return false;
  for (size_t i = 0; i <= len; i++) low[i] = (char)(s[i] >= 'A' && s[i] <= 'F' ? s[i] + 32 : s[i]);
  return gdb_unhex(low, len, out, n);
}

TEST(nostr_bip340_vectors) {
  FILE *f = fopen(gdb_test_path("vectors/bip340.csv"), "r");
  CHECK(f);
  char line[1024];
  int rows = 0, signed_rows = 0;
  CHECK(fgets(line, sizeof line, f)); /* header */
  while (fgets(line, sizeof line, f)) {
    char *field[8] = {0}, *p = line;
    for (int i = 0; i < 8; i++) {
      field[i] = p;
      p = strchr(p, ',');
      if (!p) break;
      *p++ = 0;
    }
    uint8_t sk[32], pk[32], aux[32], msg[32], sig[64], mine[64];
    CHECK(unhex(field[2], pk, 32) && unhex(field[4], msg, 32) && unhex(field[5], sig, 64));
    bool expect = !strncmp(field[6], "TRUE", 4);
    CHECK_MSG(gdb_nostr_schnorr_verify(pk, msg, sig) == expect, "vector %s: verify != %s", field[0],
              field[6]);
    if (field[1][0]) {
      CHECK(unhex(field[1], sk, 32) && unhex(field[3], aux, 32));
      char pub[65], want[65];
      CHECK_OK(gdb_nostr_key_pubkey(sk, pub));
      gdb_hex(pk, 32, want);
      CHECK_STR(pub, want);
      CHECK_OK(gdb_nostr_schnorr_sign(sk, msg, aux, mine));
      CHECK_MSG(!memcmp(mine, sig, 64), "vector %s: signature differs", field[0]);
      signed_rows++;
    }
    rows++;
  }
  fclose(f);
  CHECK_INT(rows, 15);
  CHECK_INT(signed_rows, 4);
}

TEST(nostr_event_vectors_from_nostr_tools) {
  json_error_t err;
  json_t *all = json_load_file(gdb_test_path("vectors/nostr_events.json"), 0, &err);
  CHECK_MSG(all, "%s", err.text);
  CHECK(json_array_size(all) >= 7);
  for (size_t i = 0; i < json_array_size(all); i++) {
    json_t *v = json_array_get(all, i);
    char *txt = json_dumps(json_object_get(v, "event"), 0);
    gdb_nostr_event *ev;
    CHECK_OK(gdb_nostr_event_parse(txt, strlen(txt), &ev));
    free(txt);
    CHECK_OK(gdb_nostr_event_verify(ev));
    char *c;
    CHECK_OK(gdb_nostr_event_commitment(ev, &c, NULL));
    CHECK_STR(c, json_string_value(json_object_get(v, "commitment")));
    gdb_free(c);
    /* the same fields signed by us give the same id (signatures differ by their aux nonce) */
    uint8_t sk[32];
    CHECK(unhex(json_string_value(json_object_get(v, "seckey")), sk, 32));
    char *tags = json_dumps(json_object_get(json_object_get(v, "event"), "tags"), JSON_COMPACT);
    gdb_nostr_event *mine;
    CHECK_OK(gdb_nostr_event_sign(sk, gdb_nostr_event_created_at(ev), gdb_nostr_event_kind(ev),
                                  tags, gdb_nostr_event_content(ev), &mine));
    free(tags);
    if (gdb_nostr_event_created_at(ev) > 0)
      CHECK_STR(gdb_nostr_event_id(mine), gdb_nostr_event_id(ev));
    CHECK_STR(gdb_nostr_event_pubkey(mine), json_string_value(json_object_get(v, "pubkey")));
    CHECK_OK(gdb_nostr_event_verify(mine));
    /* our JSON parses back to the same event */
    gdb_nostr_event *back;
    CHECK_OK(gdb_nostr_event_parse(gdb_nostr_event_json(mine), strlen(gdb_nostr_event_json(mine)),
                                   &back));
    CHECK_OK(gdb_nostr_event_verify(back));
    CHECK_STR(gdb_nostr_event_json(back), gdb_nostr_event_json(mine));
    gdb_nostr_event_release(back);
    gdb_nostr_event_release(mine);
    gdb_nostr_event_release(ev);
  }
  json_decref(all);
}

/* NIP-01 escapes only \n \" \\ \r \t \b \f in the id serialization; every other character,
 * control characters included, goes in verbatim (JSON.stringify would write \u0001). */
TEST(nostr_commitment_escaping_is_nip01) {
  uint8_t sk[32] = {0};
  sk[31] = 7;
  gdb_nostr_event *ev;
  CHECK_OK(gdb_nostr_event_sign(sk, 1700000000, 1, "[[\"t\",\"a\\u0001b\"]]",
                                "q\" b\\ n\n r\r t\t b\b f\f c\x01 u\xc3\xa9 /", &ev));
  char *c;
  CHECK_OK(gdb_nostr_event_commitment(ev, &c, NULL));
  char want[512];
  snprintf(want, sizeof want,
           "[0,\"%s\",1700000000,1,[[\"t\",\"a\x01"
           "b\"]],\"q\\\" b\\\\ n\\n r\\r t\\t b\\b f\\f "
           "c\x01 u\xc3\xa9 /\"]",
           gdb_nostr_event_pubkey(ev));
  CHECK_STR(c, want);
  gdb_free(c);
  /* ...while the wire JSON stays valid JSON */
  CHECK(strstr(gdb_nostr_event_json(ev), "c\\u0001 u"));
  gdb_nostr_event *back;
  CHECK_OK(
      gdb_nostr_event_parse(gdb_nostr_event_json(ev), strlen(gdb_nostr_event_json(ev)), &back));
  CHECK_OK(gdb_nostr_event_verify(back));
  gdb_nostr_event_release(back);
  gdb_nostr_event_release(ev);
}

static gdb_nostr_event *vector_event(size_t i, json_t **obj) {
  json_t *all = json_load_file(gdb_test_path("vectors/nostr_events.json"), 0, NULL);
  *obj = json_deep_copy(json_object_get(json_array_get(all, i), "event"));
  json_decref(all);
  return NULL;
}

static int parse_obj(json_t *o, gdb_nostr_event **ev) {
  char *t = json_dumps(o, 0);
  int rc = gdb_nostr_event_parse(t, strlen(t), ev);
  free(t);
  return rc;
}

TEST(nostr_event_tampering_is_refused) {
  json_t *o;
  vector_event(0, &o);
  CHECK(o);
  gdb_nostr_event *ev;
  /* content changed: id no longer matches */
  json_object_set_new(o, "content", json_string("hello nostr!"));
  CHECK_OK(parse_obj(o, &ev));
  CHECK_INT(gdb_nostr_event_verify(ev), GDB_EDENIED);
  CHECK(strstr(gdb_errmsg(), "id"));
  gdb_nostr_event_release(ev);
  json_object_set_new(o, "content", json_string("hello nostr"));
  /* one bit of the signature flipped */
  char sig[129];
  snprintf(sig, sizeof sig, "%s", json_string_value(json_object_get(o, "sig")));
  sig[10] = sig[10] == '0' ? '1' : '0';
  json_object_set_new(o, "sig", json_string(sig));
  CHECK_OK(parse_obj(o, &ev));
  CHECK_INT(gdb_nostr_event_verify(ev), GDB_EDENIED);
  CHECK(strstr(gdb_errmsg(), "signature"));
  gdb_nostr_event_release(ev);
  json_decref(o);
}

TEST(nostr_event_malformed_is_refused) {
  static const char *BAD[] = {
      "",
      "[]",
      "{}",
      "{\"id\":\"00\",\"pubkey\":\"00\",\"created_at\":1,\"kind\":1,\"tags\":[],\"content\":\"\","
      "\"sig\":\"00\"}",
      "{\"id\":\""
      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
      "\"}",
      "{\"content\":1}",
      "{\"a\":1,\"a\":2}",
      "not json",
      "{\"id\":\"\\u0000\"}",
  };
  for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
    gdb_nostr_event *ev = NULL;
    CHECK_INT(gdb_nostr_event_parse(BAD[i], strlen(BAD[i]), &ev), GDB_EINVAL);
    CHECK(ev == NULL);
    CHECK(gdb_errmsg()[0]);
  }
  /* wrong field types, one at a time, on an otherwise valid event */
  static const char *FIELDS[][2] = {{"kind", "\"1\""},     {"kind", "70000"}, {"created_at", "-1"},
                                    {"created_at", "1.5"}, {"tags", "[[1]]"}, {"tags", "{}"},
                                    {"pubkey", "\"zz\""},  {"sig", "null"}};
  for (size_t i = 0; i < sizeof FIELDS / sizeof FIELDS[0]; i++) {
    json_t *o;
    vector_event(1, &o);
    json_object_set_new(o, FIELDS[i][0], json_loads(FIELDS[i][1], JSON_DECODE_ANY, NULL));
    gdb_nostr_event *ev = NULL;
    CHECK_MSG(parse_obj(o, &ev) == GDB_EINVAL, "field %s = %s accepted", FIELDS[i][0],
              FIELDS[i][1]);
    json_decref(o);
  }
}

TEST(nostr_event_pow_counts_leading_zero_bits) {
  json_t *o;
  vector_event(0, &o);
  json_object_set_new(
      o, "id", json_string("000000f000000000000000000000000000000000000000000000000000000000"));
  gdb_nostr_event *ev;
  CHECK_OK(parse_obj(o, &ev));
  CHECK_INT(gdb_nostr_event_pow(ev), 24);
  gdb_nostr_event_release(ev);
  json_decref(o);
}
