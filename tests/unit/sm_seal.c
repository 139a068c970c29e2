/* sm_seal.c — sealed values: only the sealing identity opens them; every other value comes
 * back unchanged with a state, never an error. */
#include "test.h"

#include "core/value.h"
#include "genosdb.h"

#include <jansson.h>
#include <stdlib.h>

static gdb_identity *ident(const char *key) {
  gdb_identity *id = NULL;
  gdb_id_from_private_key(key, &id);
  return id;
}
#define ALICE "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
#define BOB "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"

TEST(sm_seal_round_trip_and_wrapper) {
  gdb_identity *a = ident(ALICE);
  CHECK(a);
  const char *v = "{\"secret\":\"café\",\"n\":[1,2.5,null],\"z\":{\"b\":1,\"a\":2}}";
  char *sealed, *opened, *again;
  size_t len;
  CHECK_OK(gdb_sm_seal_json(a, v, strlen(v), &sealed, &len));
  json_t *w = json_loads(sealed, 0, NULL);
  CHECK(w && json_object_size(w) == 3);
  CHECK_INT(json_integer_value(json_object_get(w, "_sealed")), 1);
  CHECK_STR(json_string_value(json_object_get(w, "owner")), gdb_id_address(a));
  CHECK(!strstr(sealed, "café") && !strstr(sealed, "secret"));
  CHECK(!strncmp(sealed, "{\"_sealed\":1,\"owner\":\"", 22)); /* canonical order */
  gdb_seal_state st;
  CHECK_OK(gdb_sm_open_json(a, sealed, len, &opened, NULL, &st));
  CHECK_INT(st, GDB_SEAL_OPENED);
  CHECK_STR(opened, "{\"n\":[1,2.5,null],\"secret\":\"café\",\"z\":{\"a\":2,\"b\":1}}");
  /* A fresh nonce each time: sealing twice gives different payloads. */
  CHECK_OK(gdb_sm_seal_json(a, v, strlen(v), &again, NULL));
  CHECK(strcmp(again, sealed) != 0);
  /* Scalars and arrays seal too. */
  char *s2, *o2;
  CHECK_OK(gdb_sm_seal_json(a, "\"just text\"", 11, &s2, NULL));
  CHECK_OK(gdb_sm_open_json(a, s2, strlen(s2), &o2, NULL, &st));
  CHECK_STR(o2, "\"just text\"");
  free(s2);
  free(o2);
  json_decref(w);
  free(sealed);
  free(opened);
  free(again);
  gdb_id_free(a);
}

TEST(sm_seal_foreign_plain_and_tampered) {
  gdb_identity *a = ident(ALICE), *b = ident(BOB);
  const char *v = "{\"pin\":1234}";
  char *sealed, *out;
  size_t len, olen;
  gdb_seal_state st;
  CHECK_OK(gdb_sm_seal_json(a, v, strlen(v), &sealed, &len));
  /* Bob gets Alice's wrapper back, unopened. */
  CHECK_OK(gdb_sm_open_json(b, sealed, len, &out, &olen, &st));
  CHECK_INT(st, GDB_SEAL_FOREIGN);
  CHECK_STR(out, sealed);
  free(out);
  /* A plain value passes through. */
  CHECK_OK(gdb_sm_open_json(b, v, strlen(v), &out, NULL, &st));
  CHECK_INT(st, GDB_SEAL_PLAIN);
  CHECK_STR(out, v);
  free(out);
  /* Bob claims Alice's payload as his own: the AAD binds the owner, so it does not open. */
  json_t *w = json_loads(sealed, 0, NULL);
  json_object_set_new(w, "owner", json_string(gdb_id_address(b)));
  char *t = json_dumps(w, JSON_COMPACT);
  CHECK_OK(gdb_sm_open_json(b, t, strlen(t), &out, NULL, &st));
  CHECK_INT(st, GDB_SEAL_UNREADABLE);
  free(out);
  free(t);
  /* One payload character changed, a wrong version, payload not base64, too short. */
  json_object_set_new(w, "owner", json_string(gdb_id_address(a)));
  char payload[512];
  strcpy(payload, json_string_value(json_object_get(w, "payload")));
  payload[20] = payload[20] == 'A' ? 'B' : 'A';
  json_object_set_new(w, "payload", json_string(payload));
  t = json_dumps(w, JSON_COMPACT);
  CHECK_OK(gdb_sm_open_json(a, t, strlen(t), &out, NULL, &st));
  CHECK_INT(st, GDB_SEAL_UNREADABLE);
  CHECK(strstr(out, payload) != NULL); /* returned unchanged */
  free(out);
  free(t);
  const char *cases[] = {"{\"_sealed\":2,\"owner\":\"%s\",\"payload\":\"AAAA\"}",
                         "{\"_sealed\":1,\"owner\":\"%s\",\"payload\":\"@@@@\"}",
                         "{\"_sealed\":1,\"owner\":\"%s\",\"payload\":\"AAAA\"}",
                         "{\"_sealed\":1,\"owner\":\"%s\",\"payload\":\"\"}"};
  for (size_t i = 0; i < 4; i++) {
    char buf[300];
    snprintf(buf, sizeof buf, cases[i], gdb_id_address(a));
    CHECK_OK(gdb_sm_open_json(a, buf, strlen(buf), &out, NULL, &st));
    CHECK_MSG(st == GDB_SEAL_UNREADABLE, "case %zu: %d", i, st);
    free(out);
  }
  /* A wrapper-like value with extra keys is not a wrapper. */
  const char *extra = "{\"_sealed\":1,\"owner\":\"x\",\"payload\":\"\",\"more\":1}";
  CHECK_OK(gdb_sm_open_json(a, extra, strlen(extra), &out, NULL, &st));
  CHECK_INT(st, GDB_SEAL_PLAIN);
  free(out);
  /* The lower-case spelling of the owner still opens (addresses compare case-insensitively). */
  char lower[43];
  strcpy(lower, gdb_id_address(a));
  for (char *p = lower; *p; p++)
    if (*p >= 'A' && *p <= 'F') *p = (char)(*p + 32);
  json_t *w2 = json_loads(sealed, 0, NULL);
  json_object_set_new(w2, "owner", json_string(lower));
  t = json_dumps(w2, JSON_COMPACT);
  CHECK_OK(gdb_sm_open_json(a, t, strlen(t), &out, NULL, &st));
  CHECK_INT(st, GDB_SEAL_OPENED);
  free(out);
  free(t);
  json_decref(w2);
  /* Bad MessagePack is an error (not a value at all). */
  uint8_t junk[] = {0xc1};
  uint8_t *o;
  CHECK_INT(gdb_sm_open(a, junk, 1, &o, &olen, &st), GDB_EINVAL);
  json_decref(w);
  free(sealed);
  gdb_id_free(a);
  gdb_id_free(b);
}
