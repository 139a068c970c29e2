/* sm_sign.c — signing and verifying operations and envelopes: every case of sm.json through
 * the JSON API and through structured operations (gdb_op), then every malformed or malleated
 * signature refused with its own reason. */
#include "test.h"

#include "core/buf.h"
#include "core/value.h"
#include "genosdb.h"
#include "sm/sm.h"

#include <jansson.h>
#include <stdlib.h>

static json_t *vectors(void) {
  json_error_t e;
  json_t *v = json_load_file(gdb_test_path("vectors/sm.json"), 0, &e);
  if (!v) fprintf(stderr, "cannot load sm.json: %s\n", e.text);
  return v;
}

static char *dump(const json_t *j) {
  return json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(17));
}

/* Canonical JSON of a tree, to compare documents whatever their key order. */
static char *canon_of(const json_t *j) {
  char *text = dump(j), *out = NULL;
  size_t len;
  if (gdb_canonical_json(text, strlen(text), &out, &len)) out = NULL;
  free(text);
  return out;
}

/* A structured operation built from a JSON one, with everything it points to. */
typedef struct op_holder {
  gdb_op op;
  uint8_t *value, *extra;
  char *id, *target;
} op_holder;

static void holder_free(op_holder *h) {
  free(h->value);
  free(h->extra);
  free(h->id);
  free(h->target);
  memset(h, 0, sizeof *h);
}

static uint8_t *mp_of(const json_t *j, size_t *len) {
  char *text = dump(j);
  uint8_t *mp = NULL;
  if (gdb_json_to_value(text, strlen(text), &mp, len)) mp = NULL;
  free(text);
  return mp;
}

static bool op_from_json(const json_t *in, op_holder *h) {
  memset(h, 0, sizeof *h);
  json_t *rest = json_deep_copy(in);
  const char *type = json_string_value(json_object_get(in, "type"));
  h->op.type = !strcmp(type, "upsert")   ? GDB_OP_UPSERT
               : !strcmp(type, "remove") ? GDB_OP_REMOVE
                                         : GDB_OP_LINK;
  const char *idk = h->op.type == GDB_OP_LINK ? "sourceId" : "id";
  h->id = strdup(json_string_value(json_object_get(in, idk)));
  h->op.id = h->id;
  if (h->op.type == GDB_OP_LINK) {
    h->target = strdup(json_string_value(json_object_get(in, "targetId")));
    h->op.target = h->target;
  }
  json_t *value = json_object_get(in, "value");
  if (value) {
    h->value = mp_of(value, &h->op.value_len);
    h->op.value = h->value;
    if (!h->value) return false;
  }
  json_t *ts = json_object_get(in, "timestamp");
  h->op.timestamp.physical = (int64_t)json_number_value(json_object_get(ts, "physical"));
  h->op.timestamp.logical = (int64_t)json_number_value(json_object_get(ts, "logical"));
  static const char *const FIXED[] = {"type", "id", "sourceId", "targetId", "value", "timestamp"};
  for (size_t i = 0; i < 6; i++) json_object_del(rest, FIXED[i]);
  if (json_object_size(rest)) {
    h->extra = mp_of(rest, &h->op.extra_len);
    h->op.extra = h->extra;
  }
  bool ok = !json_object_size(rest) || h->extra;
  json_decref(rest);
  return ok;
}

TEST(sm_sign_vectors_json) {
  json_t *v = vectors();
  CHECK(v);
  json_t *cases = json_object_get(v, "sign"), *c;
  size_t i;
  CHECK(json_array_size(cases) == 11);
  json_array_foreach(cases, i, c) {
    const char *name = json_string_value(json_object_get(c, "name"));
    gdb_identity *id;
    CHECK_OK(gdb_id_from_private_key(json_string_value(json_object_get(c, "key")), &id));
    CHECK_STR(gdb_id_address(id), json_string_value(json_object_get(c, "signer")));
    char *in = dump(json_object_get(c, "input")), *out = NULL,
         *want = canon_of(json_object_get(c, "expected"));
    size_t len;
    int rc = gdb_sm_sign_op_json(id, in, strlen(in), &out, &len);
    CHECK_MSG(rc == 0, "%s: %s", name, gdb_errmsg());
    CHECK_MSG(!strcmp(out, want), "%s:\n   got %s\n  want %s", name, out, want);
    /* And it verifies, signed by the key's address. */
    gdb_sm_verdict vd;
    CHECK_OK(gdb_sm_verify_op_json(out, len, &vd));
    CHECK_MSG(vd.ok && !strcmp(vd.signer, gdb_id_address(id)), "%s: %s", name,
              gdb_sm_reason_detail(vd.reason));
    free(in);
    free(out);
    free(want);
    gdb_id_free(id);
  }
  json_decref(v);
}

TEST(sm_sign_vectors_structured) {
  /* The same cases through gdb_op: the signature (deterministic, RFC 6979) must be the
   * expected one, so the structured message is byte for byte the JSON one. */
  json_t *v = vectors();
  CHECK(v);
  json_t *cases = json_object_get(v, "sign"), *c;
  size_t i;
  json_array_foreach(cases, i, c) {
    const char *name = json_string_value(json_object_get(c, "name"));
    json_t *expected = json_object_get(c, "expected");
    gdb_identity *id;
    CHECK_OK(gdb_id_from_private_key(json_string_value(json_object_get(c, "key")), &id));
    op_holder h;
    CHECK(op_from_json(json_object_get(c, "input"), &h));
    uint8_t *extra;
    size_t elen;
    CHECK_OK(gdb_sm_sign_op(id, &h.op, &extra, &elen));
    json_t *ej = gdb_value_to_jansson(extra, elen);
    CHECK(ej && json_object_size(ej) == 3);
    CHECK_MSG(json_equal(json_object_get(ej, "signature"), json_object_get(expected, "signature")),
              "%s: signature %s", name, json_string_value(json_object_get(ej, "signature")));
    CHECK_STR(json_string_value(json_object_get(ej, "originUser")), gdb_id_address(id));
    CHECK_STR(json_string_value(json_object_get(ej, "originEthAddress")), gdb_id_address(id));
    CHECK(gdb_value_is_canonical(extra, elen));
    /* The message equals the JSON form's message. */
    char *m1, *m2, *in = dump(json_object_get(c, "input"));
    CHECK_OK(gdb_sm_op_message(&h.op, gdb_id_address(id), &m1, NULL));
    CHECK_OK(gdb_sm_op_message_json(in, strlen(in), gdb_id_address(id), &m2, NULL));
    CHECK_STR(m1, m2);
    /* Verify the signed structured op. */
    gdb_op signed_op = h.op;
    signed_op.extra = extra;
    signed_op.extra_len = elen;
    gdb_sm_verdict vd;
    CHECK_OK(gdb_sm_verify_op(&signed_op, &vd));
    CHECK_MSG(vd.ok, "%s: %s", name, gdb_sm_reason_detail(vd.reason));
    CHECK_STR(vd.signer, gdb_id_address(id));
    free(m1);
    free(m2);
    free(in);
    json_decref(ej);
    free(extra);
    holder_free(&h);
    gdb_id_free(id);
  }
  json_decref(v);
}

TEST(sm_verify_vectors_json_and_structured) {
  json_t *v = vectors();
  CHECK(v);
  json_t *cases = json_object_get(v, "verify"), *c;
  size_t i;
  CHECK(json_array_size(cases) == 22);
  json_array_foreach(cases, i, c) {
    const char *name = json_string_value(json_object_get(c, "name"));
    json_t *exp = json_object_get(c, "expected");
    bool want_ok = json_is_true(json_object_get(exp, "ok"));
    char *in = dump(json_object_get(c, "input"));
    gdb_sm_verdict a, b;
    CHECK_OK(gdb_sm_verify_op_json(in, strlen(in), &a));
    op_holder h;
    CHECK(op_from_json(json_object_get(c, "input"), &h));
    CHECK_OK(gdb_sm_verify_op(&h.op, &b));
    for (int k = 0; k < 2; k++) {
      gdb_sm_verdict *vd = k ? &b : &a;
      const char *form = k ? "structured" : "json";
      CHECK_MSG(vd->ok == want_ok, "%s (%s): ok=%d reason %s", name, form, vd->ok,
                gdb_sm_reason_detail(vd->reason));
      if (want_ok)
        CHECK_STR(vd->signer,
                  json_string_value(json_object_get(exp, "normalizedOriginEthAddress")));
      else
        CHECK_MSG(!strcmp(gdb_sm_reason_name(vd->reason),
                          json_string_value(json_object_get(exp, "reason"))),
                  "%s (%s): reason %s", name, form, gdb_sm_reason_name(vd->reason));
    }
    holder_free(&h);
    free(in);
  }
  json_decref(v);
}

TEST(sm_envelope_vector) {
  json_t *v = vectors();
  CHECK(v);
  json_t *env = json_object_get(v, "envelope"), *in = json_object_get(env, "input");
  gdb_identity *id;
  CHECK_OK(gdb_id_from_private_key(json_string_value(json_object_get(env, "key")), &id));
  char *value = dump(json_object_get(in, "value")), *out = NULL;
  char *want = canon_of(json_object_get(env, "expected"));
  int64_t at = (int64_t)json_number_value(json_object_get(in, "at"));
  size_t len;
  CHECK_OK(gdb_sm_envelope_sign(id, json_string_value(json_object_get(in, "kind")), at, value,
                                strlen(value), &out, &len));
  CHECK_STR(out, want);
  /* The expected envelope verifies within the window, and not outside it. */
  char *exp = dump(json_object_get(env, "expected"));
  gdb_sm_verdict vd;
  CHECK_OK(gdb_sm_envelope_verify(exp, strlen(exp), at + 1000, GDB_SM_ENVELOPE_MAX_AGE_MS, &vd));
  CHECK(vd.ok);
  CHECK_STR(vd.signer, "0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
  CHECK_OK(gdb_sm_envelope_verify(exp, strlen(exp), at - 60000, GDB_SM_ENVELOPE_MAX_AGE_MS, &vd));
  CHECK(vd.ok); /* exactly at the edge */
  CHECK_OK(gdb_sm_envelope_verify(exp, strlen(exp), at + 60001, GDB_SM_ENVELOPE_MAX_AGE_MS, &vd));
  CHECK(!vd.ok && vd.reason == GDB_SM_STALE && !strcmp(gdb_sm_reason_name(vd.reason), "stale"));
  CHECK(vd.signer[0] == 0);
  /* Another "from", a changed value, a missing field. */
  json_t *t = json_deep_copy(json_object_get(env, "expected"));
  json_object_set_new(t, "from", json_string("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"));
  char *tt = dump(t);
  CHECK_OK(gdb_sm_envelope_verify(tt, strlen(tt), at, 60000, &vd));
  CHECK_INT(vd.reason, GDB_SM_SIGNER_MISMATCH);
  free(tt);
  json_object_set_new(t, "from", json_string("0x70997970C51812dc3A010C7d01b50e0d17dc79C8"));
  json_object_set_new(t, "value", json_integer(1));
  tt = dump(t);
  CHECK_OK(gdb_sm_envelope_verify(tt, strlen(tt), at, 60000, &vd));
  CHECK_INT(vd.reason, GDB_SM_SIGNER_MISMATCH);
  free(tt);
  json_object_del(t, "value");
  tt = dump(t);
  CHECK_OK(gdb_sm_envelope_verify(tt, strlen(tt), at, 60000, &vd));
  CHECK_INT(vd.reason, GDB_SM_MISSING_FIELDS);
  free(tt);
  json_object_set_new(t, "value", json_null());
  json_object_set_new(t, "at", json_string("soon"));
  tt = dump(t);
  CHECK_OK(gdb_sm_envelope_verify(tt, strlen(tt), at, 60000, &vd));
  CHECK_INT(vd.reason, GDB_SM_FIELD_TYPE);
  free(tt);
  json_decref(t);
  CHECK_INT(gdb_sm_envelope_verify("[1]", 3, at, 60000, &vd), GDB_EINVAL);
  CHECK_INT(gdb_sm_envelope_verify("{", 1, at, 60000, &vd), GDB_EINVAL);
  free(exp);
  free(value);
  free(out);
  free(want);
  gdb_id_free(id);
  json_decref(v);
}

/* ───── malformed and malleated signatures ───── */

static const char *MSG = "{\"hello\":\"world\"}";

/* s' = n - s (big-endian, 32 bytes). */
static void negate_s(uint8_t s[32]) {
  static const uint8_t N[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48,
                                0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};
  int borrow = 0;
  for (int i = 31; i >= 0; i--) {
    int d = N[i] - s[i] - borrow;
    borrow = d < 0;
    s[i] = (uint8_t)(d + (borrow ? 256 : 0));
  }
}

static gdb_sm_reason recover_reason(const char *sig, char signer[GDB_ADDRESS_BUFSZ]) {
  gdb_sm_verdict vd;
  gdb_sm_recover_message(MSG, strlen(MSG), sig, strlen(sig), &vd);
  if (signer) strcpy(signer, vd.signer);
  return vd.reason;
}

TEST(sm_signature_rejects_malformed_and_malleated) {
  gdb_identity *id;
  CHECK_OK(gdb_id_from_private_key(
      "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80", &id));
  char sig[GDB_SIGNATURE_BUFSZ], who[GDB_ADDRESS_BUFSZ], bad[200];
  CHECK_OK(gdb_sm_sign_message(id, MSG, strlen(MSG), sig));
  CHECK_INT(strlen(sig), 132);
  CHECK_INT(recover_reason(sig, who), GDB_SM_OK);
  CHECK_STR(who, gdb_id_address(id));
  uint8_t raw[65];
  CHECK(gdb_unhex(sig + 2, 130, raw, 65));

  /* High s: (r, n - s) with the other v is a valid ECDSA signature by the same key, which
   * Ethereum (EIP-2) and this library refuse. */
  uint8_t m[65];
  memcpy(m, raw, 65);
  negate_s(m + 32);
  m[64] = raw[64] == 27 ? 28 : 27;
  strcpy(bad, "0x");
  gdb_hex(m, 65, bad + 2);
  CHECK_INT(recover_reason(bad, NULL), GDB_SM_SIG_HIGH_S);
  CHECK_STR(gdb_sm_reason_detail(GDB_SM_SIG_HIGH_S), "signature-high-s");
  CHECK_STR(gdb_sm_reason_name(GDB_SM_SIG_HIGH_S), "invalid-signature");

  /* v: 0, 1 (raw recovery ids), 29, 37 (EIP-155 style) are all refused. */
  int vs[] = {0, 1, 26, 29, 37, 255};
  for (size_t i = 0; i < sizeof vs / sizeof vs[0]; i++) {
    memcpy(m, raw, 65);
    m[64] = (uint8_t)vs[i];
    gdb_hex(m, 65, bad + 2);
    CHECK_MSG(recover_reason(bad, NULL) == GDB_SM_SIG_V, "v=%d", vs[i]);
  }
  /* The other valid v recovers someone else. */
  memcpy(m, raw, 65);
  m[64] = raw[64] == 27 ? 28 : 27;
  gdb_hex(m, 65, bad + 2);
  gdb_sm_reason r = recover_reason(bad, who);
  CHECK(r == GDB_SM_SIG_UNRECOVERABLE || (r == GDB_SM_OK && strcmp(who, gdb_id_address(id))));

  /* Lengths: one digit short, one long, a byte long, empty, just "0x". */
  strcpy(bad, sig);
  bad[131] = 0;
  CHECK_INT(recover_reason(bad, NULL), GDB_SM_SIG_LENGTH);
  strcpy(bad, sig);
  strcat(bad, "0");
  CHECK_INT(recover_reason(bad, NULL), GDB_SM_SIG_LENGTH);
  strcat(bad, "0");
  CHECK_INT(recover_reason(bad, NULL), GDB_SM_SIG_LENGTH);
  CHECK_INT(recover_reason("0x", NULL), GDB_SM_SIG_LENGTH);
  CHECK_INT(recover_reason("", NULL), GDB_SM_SIG_NOT_HEX);
  /* Not hex: a 'g', a space, no 0x prefix. */
  strcpy(bad, sig);
  bad[70] = 'g';
  CHECK_INT(recover_reason(bad, NULL), GDB_SM_SIG_NOT_HEX);
  bad[70] = ' ';
  CHECK_INT(recover_reason(bad, NULL), GDB_SM_SIG_NOT_HEX);
  CHECK_INT(recover_reason(sig + 2, NULL), GDB_SM_SIG_NOT_HEX);
  /* Upper-case hex digits are hex. */
  strcpy(bad, sig);
  for (char *p = bad + 2; *p; p++)
    if (*p >= 'a' && *p <= 'f') *p = (char)(*p - 32);
  CHECK_INT(recover_reason(bad, who), GDB_SM_OK);

  /* Range: r = 0, s = 0, s = n, r = 2^256 - 1. */
  memcpy(m, raw, 65);
  memset(m, 0, 32);
  gdb_hex(m, 65, bad + 2);
  CHECK_INT(recover_reason(bad, NULL), GDB_SM_SIG_RANGE);
  memcpy(m, raw, 65);
  memset(m + 32, 0, 32);
  gdb_hex(m, 65, bad + 2);
  CHECK_INT(recover_reason(bad, NULL), GDB_SM_SIG_RANGE);
  memcpy(m, raw, 65);
  memset(m + 32, 0, 32);
  negate_s(m + 32); /* n - 0 = n */
  gdb_hex(m, 65, bad + 2);
  CHECK_INT(recover_reason(bad, NULL), GDB_SM_SIG_RANGE);
  memcpy(m, raw, 65);
  memset(m, 0xff, 32);
  gdb_hex(m, 65, bad + 2);
  CHECK_INT(recover_reason(bad, NULL), GDB_SM_SIG_RANGE);

  /* Unrecoverable: r = 5 is not the x coordinate of a curve point (5^3 + 7 is not a square
   * mod p), so no public key recovers from it. */
  memcpy(m, raw, 65);
  memset(m, 0, 32);
  m[31] = 5;
  gdb_hex(m, 65, bad + 2);
  CHECK_INT(recover_reason(bad, NULL), GDB_SM_SIG_UNRECOVERABLE);

  /* Every reason has a distinct detail. */
  for (int a = 0; a <= GDB_SM_STALE; a++)
    for (int b = a + 1; b <= GDB_SM_STALE; b++)
      CHECK(strcmp(gdb_sm_reason_detail((gdb_sm_reason)a), gdb_sm_reason_detail((gdb_sm_reason)b)));
  gdb_id_free(id);
}

/* Signs a small op, then applies `edit` to the signed JSON and returns the verdict. */
static gdb_sm_verdict verify_edited(const char *field, json_t *value) {
  gdb_identity *id;
  gdb_sm_verdict vd = {0};
  gdb_id_from_private_key("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
                          &id);
  const char *op = "{\"type\":\"upsert\",\"id\":\"a\",\"value\":{\"x\":1},\"timestamp\":{"
                   "\"physical\":5,\"logical\":0}}";
  char *signed_op;
  size_t len;
  gdb_sm_sign_op_json(id, op, strlen(op), &signed_op, &len);
  json_t *j = json_loads(signed_op, 0, NULL);
  if (value)
    json_object_set_new(j, field, value);
  else
    json_object_del(j, field);
  char *t = dump(j);
  gdb_sm_verify_op_json(t, strlen(t), &vd);
  free(t);
  json_decref(j);
  free(signed_op);
  gdb_id_free(id);
  return vd;
}

TEST(sm_verify_op_reasons) {
  const char *addr = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
  gdb_sm_verdict vd =
      verify_edited("originEthAddress", json_string("0x70997970c51812dc3a010c7d01b50e0d17dc79c8"));
  CHECK(vd.ok); /* a lower-case originEthAddress is the same address */
  CHECK_STR(vd.signer, addr);
  vd = verify_edited("originUser", json_string("0x70997970c51812dc3a010c7d01b50e0d17dc79c8"));
  CHECK_INT(vd.reason, GDB_SM_SIGNER_MISMATCH); /* the message covers originUser as written */
  CHECK_STR(gdb_sm_reason_name(vd.reason), "invalid-signature");
  vd = verify_edited("originEthAddress", json_string("0x70997970C51812dc3A010C7d01b50e0d17dc79c8"));
  CHECK_INT(vd.reason, GDB_SM_ADDRESS_CHECKSUM);
  CHECK_STR(gdb_sm_reason_name(vd.reason), "address-mismatch");
  vd = verify_edited("originUser", json_string("0x70997970C51812dc3A010C7d01b50e0d17dc79C"));
  CHECK_INT(vd.reason, GDB_SM_ADDRESS_FORMAT);
  vd = verify_edited("originUser", json_string("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"));
  CHECK_INT(vd.reason, GDB_SM_ADDRESS_MISMATCH);
  vd = verify_edited("originUser", NULL);
  CHECK_INT(vd.reason, GDB_SM_MISSING_FIELDS);
  vd = verify_edited("originEthAddress", NULL);
  CHECK_INT(vd.reason, GDB_SM_MISSING_FIELDS);
  vd = verify_edited("signature", json_integer(7));
  CHECK_INT(vd.reason, GDB_SM_FIELD_TYPE);
  CHECK_STR(gdb_sm_reason_name(vd.reason), "missing-fields");
  vd = verify_edited("signature", json_string("0x1234"));
  CHECK_INT(vd.reason, GDB_SM_SIG_LENGTH);
  vd = verify_edited("extra", json_string("added after signing"));
  CHECK_INT(vd.reason, GDB_SM_SIGNER_MISMATCH);
  CHECK(vd.signer[0] == 0);
  /* Not an object, not JSON: errors, not verdicts. */
  CHECK_INT(gdb_sm_verify_op_json("[]", 2, &vd), GDB_EINVAL);
  CHECK_INT(gdb_sm_verify_op_json("{\"a\":", 5, &vd), GDB_EINVAL);
  CHECK(strstr(gdb_errmsg(), "not valid JSON"));
}

TEST(sm_structured_op_extra_fields_and_batch) {
  gdb_identity *id;
  CHECK_OK(gdb_id_from_private_key(
      "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a", &id));
  /* Extra fields are covered by the signature, whatever their order in the map. */
  uint8_t *value, *extra, *sx;
  size_t vlen, elen, sxlen;
  const char *vj = "{\"b\":[1,2.5,\"x\"],\"a\":null}";
  CHECK_OK(gdb_json_to_value(vj, strlen(vj), &value, &vlen));
  /* Not canonical on purpose: keys out of order, written by hand. */
  static const uint8_t raw_extra[] = {0x82, 0xa4, 'z', 'o', 'n',  'e', 0x01,
                                      0xa3, 'a',  'p', 'p', 0xa1, 'q'};
  gdb_op op = {.type = GDB_OP_UPSERT,
               .id = "doc:9",
               .value = value,
               .value_len = vlen,
               .timestamp = {1750000000000, 3},
               .origin = "peer-a",
               .extra = raw_extra,
               .extra_len = sizeof raw_extra};
  char *msg;
  CHECK_OK(gdb_sm_op_message(&op, gdb_id_address(id), &msg, NULL));
  char want[400];
  snprintf(want, sizeof want,
           "{\"app\":\"q\",\"id\":\"doc:9\",\"origin\":\"peer-a\",\"originUser\":\"%s\","
           "\"timestamp\":{\"logical\":3,"
           "\"physical\":1750000000000},\"type\":\"upsert\",\"value\":{\"a\":null,\"b\":[1,2.5,"
           "\"x\"]},\"zone\":1}",
           gdb_id_address(id));
  CHECK_STR(msg, want);
  free(msg);
  CHECK_OK(gdb_sm_sign_op(id, &op, &extra, &elen));
  gdb_op s = op;
  s.extra = extra;
  s.extra_len = elen;
  gdb_sm_verdict vd;
  CHECK_OK(gdb_sm_verify_op(&s, &vd));
  CHECK(vd.ok);
  /* origin is covered like every other field: rewriting or dropping it breaks the signature. */
  gdb_op t = s;
  t.origin = "someone-else";
  CHECK_OK(gdb_sm_verify_op(&t, &vd));
  CHECK_INT(vd.reason, GDB_SM_SIGNER_MISMATCH);
  t.origin = "";
  CHECK_OK(gdb_sm_verify_op(&t, &vd));
  CHECK_INT(vd.reason, GDB_SM_SIGNER_MISMATCH);
  /* Re-signing replaces the signature fields instead of duplicating them. */
  CHECK_OK(gdb_sm_sign_op(id, &s, &sx, &sxlen));
  CHECK_INT(sxlen, elen);
  CHECK(!memcmp(sx, extra, elen));
  free(sx);

  /* A batch: 100 good, every 7th tampered (timestamp changed), on 1 and on 4 threads. */
  enum { N = 100 };
  gdb_op ops[N];
  gdb_sm_verdict v1[N], v4[N];
  for (int i = 0; i < N; i++) {
    ops[i] = s;
    if (i % 7 == 3) ops[i].timestamp.logical = 4;
  }
  CHECK_OK(gdb_sm_verify_ops(ops, N, v1, 1));
  CHECK_OK(gdb_sm_verify_ops(ops, N, v4, 4));
  for (int i = 0; i < N; i++) {
    CHECK_MSG(v1[i].ok == (i % 7 != 3), "op %d", i);
    CHECK(v4[i].ok == v1[i].ok && v4[i].reason == v1[i].reason);
    if (!v1[i].ok) CHECK_INT(v1[i].reason, GDB_SM_SIGNER_MISMATCH);
  }
  CHECK_OK(gdb_sm_verify_ops(ops, 0, v1, 4));

  /* Structural errors: an extra field repeating the op's own, non-map extra, bad value. */
  static const uint8_t shadow[] = {0x81, 0xa2, 'i', 'd', 0x01};
  gdb_op bad = op;
  bad.extra = shadow;
  bad.extra_len = sizeof shadow;
  CHECK_INT(gdb_sm_sign_op(id, &bad, &sx, &sxlen), GDB_EINVAL);
  CHECK(strstr(gdb_errmsg(), "\"id\""));
  static const uint8_t not_map[] = {0x91, 0x01};
  bad.extra = not_map;
  bad.extra_len = sizeof not_map;
  CHECK_INT(gdb_sm_verify_op(&bad, &vd), GDB_EINVAL);
  CHECK(!vd.ok);
  static const uint8_t truncated[] = {0x82, 0xa1};
  bad.extra = truncated;
  bad.extra_len = sizeof truncated;
  CHECK_INT(gdb_sm_verify_op(&bad, &vd), GDB_EINVAL);
  bad = op;
  bad.id = NULL;
  CHECK_INT(gdb_sm_op_message(&bad, "x", &msg, NULL), GDB_EINVAL);
  bad = op;
  bad.type = (gdb_op_type)9;
  CHECK_INT(gdb_sm_op_message(&bad, "x", &msg, NULL), GDB_EINVAL);
  bad = op;
  bad.type = GDB_OP_LINK;
  CHECK_INT(gdb_sm_op_message(&bad, "x", &msg, NULL), GDB_EINVAL); /* no target */
  /* A link op prints sourceId and targetId. */
  bad.target = "doc:10";
  bad.value = NULL;
  bad.extra = NULL;
  bad.origin = NULL;
  CHECK_OK(gdb_sm_op_message(&bad, "u", &msg, NULL));
  CHECK_STR(msg, "{\"originUser\":\"u\",\"sourceId\":\"doc:9\",\"targetId\":\"doc:10\","
                 "\"timestamp\":{\"logical\":3,\"physical\":1750000000000},\"type\":\"link\"}");
  free(msg);
  free(extra);
  free(value);
  gdb_id_free(id);
}

TEST(sm_structured_op_many_extra_fields) {
  /* More extra fields than fit on the stack take the heap path. */
  gdb_identity *id;
  CHECK_OK(gdb_id_from_private_key(
      "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6", &id));
  json_t *ex = json_object();
  for (int i = 0; i < 40; i++) {
    char k[16];
    snprintf(k, sizeof k, "f%02d", i);
    json_object_set_new(ex, k, json_integer(i));
  }
  json_t *opj = json_deep_copy(ex);
  json_object_set_new(opj, "type", json_string("remove"));
  json_object_set_new(opj, "id", json_string("n"));
  json_object_set_new(opj, "timestamp", json_pack("{s:i,s:i}", "physical", 1, "logical", 2));
  size_t elen;
  uint8_t *emp = mp_of(ex, &elen), *sx;
  size_t sxlen;
  gdb_op op = {
      .type = GDB_OP_REMOVE, .id = "n", .timestamp = {1, 2}, .extra = emp, .extra_len = elen};
  CHECK_OK(gdb_sm_sign_op(id, &op, &sx, &sxlen));
  op.extra = sx;
  op.extra_len = sxlen;
  gdb_sm_verdict vd;
  CHECK_OK(gdb_sm_verify_op(&op, &vd));
  CHECK(vd.ok);
  /* Same signature as the JSON form. */
  char *text = dump(opj), *signed_json;
  CHECK_OK(gdb_sm_sign_op_json(id, text, strlen(text), &signed_json, NULL));
  json_t *a = json_loads(signed_json, 0, NULL), *b = gdb_value_to_jansson(sx, sxlen);
  CHECK(json_equal(json_object_get(a, "signature"), json_object_get(b, "signature")));
  json_decref(a);
  json_decref(b);
  free(text);
  free(signed_json);
  free(sx);
  free(emp);
  json_decref(ex);
  json_decref(opj);
  gdb_id_free(id);
}

TEST(sm_structured_op_empty_strings) {
  /* Empty strings everywhere, in extra too (msgpack-c hands those out as NULL pointers; the
   * signature fuzzer, built with clang's UBSan, caught a NULL + 0 in UTF-8 validation). */
  static const uint8_t extra[] = {0x82, 0xa0, 0xa0, 0xa1, 'k', 0xa0};
  gdb_op op = {.type = GDB_OP_REMOVE,
               .id = "",
               .timestamp = {0, 0},
               .extra = extra,
               .extra_len = sizeof extra};
  char *msg;
  CHECK_OK(gdb_sm_op_message(&op, "", &msg, NULL));
  CHECK_STR(msg,
            "{\"\":\"\",\"id\":\"\",\"k\":\"\",\"originUser\":\"\",\"timestamp\":{\"logical\":0,"
            "\"physical\":0},\"type\":\"remove\"}");
  free(msg);
  gdb_sm_verdict vd;
  CHECK_OK(gdb_sm_verify_op(&op, &vd));
  CHECK_INT(vd.reason, GDB_SM_MISSING_FIELDS);
  /* Two empty keys are duplicates (the fuzzer's second find: memcmp on NULL, length 0). */
  static const uint8_t dup[] = {0x82, 0xa0, 0x01, 0xa0, 0x02};
  op.extra = dup;
  op.extra_len = sizeof dup;
  CHECK_INT(gdb_sm_verify_op(&op, &vd), GDB_EINVAL);
  CHECK(strstr(gdb_errmsg(), "duplicate key"));
}

TEST(sm_structured_op_as_the_core_maps_json) {
  /* The core's JSON-to-gdb_op mapping keeps "value" as op->value only for upserts; a remove's
   * value travels in extra, and "origin" becomes op->origin. Both must sign and verify exactly
   * as the JSON form does. */
  json_t *v = vectors();
  CHECK(v);
  json_t *cases = json_object_get(v, "sign"), *c;
  size_t i;
  int removes = 0;
  json_array_foreach(cases, i, c) {
    json_t *in = json_object_get(c, "input");
    if (strcmp(json_string_value(json_object_get(in, "type")), "remove")) continue;
    removes++;
    gdb_identity *id;
    CHECK_OK(gdb_id_from_private_key(json_string_value(json_object_get(c, "key")), &id));
    op_holder h;
    CHECK(op_from_json(in, &h));
    /* Move the value into extra, as {"value": V}. */
    json_t *ex = json_pack("{s:O}", "value", json_object_get(in, "value"));
    free(h.value);
    h.value = NULL;
    h.op.value = NULL;
    h.op.value_len = 0;
    h.extra = mp_of(ex, &h.op.extra_len);
    h.op.extra = h.extra;
    json_decref(ex);
    uint8_t *extra;
    size_t elen;
    CHECK_OK(gdb_sm_sign_op(id, &h.op, &extra, &elen));
    json_t *ej = gdb_value_to_jansson(extra, elen);
    CHECK(json_equal(json_object_get(ej, "signature"),
                     json_object_get(json_object_get(c, "expected"), "signature")));
    CHECK(json_equal(json_object_get(ej, "value"), json_object_get(in, "value")));
    json_decref(ej);
    free(extra);
    holder_free(&h);
    gdb_id_free(id);
  }
  CHECK(removes >= 5);
  /* A JSON operation carrying "origin", signed as JSON, verifies as a structured op. */
  gdb_identity *id;
  CHECK_OK(gdb_id_from_private_key(
      "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d", &id));
  const char *op = "{\"type\":\"upsert\",\"id\":\"a\",\"value\":{\"x\":1},\"origin\":\"peer-7\","
                   "\"timestamp\":{\"physical\":9,\"logical\":1}}";
  char *signed_json;
  CHECK_OK(gdb_sm_sign_op_json(id, op, strlen(op), &signed_json, NULL));
  json_t *sj = json_loads(signed_json, 0, NULL);
  op_holder h;
  CHECK(op_from_json(sj, &h)); /* origin stays in extra here: same message */
  gdb_sm_verdict vd;
  CHECK_OK(gdb_sm_verify_op(&h.op, &vd));
  CHECK(vd.ok);
  holder_free(&h);
  json_t *rest = json_deep_copy(sj);
  json_object_del(rest, "origin");
  CHECK(op_from_json(rest, &h));
  h.op.origin = "peer-7"; /* now as op->origin, as the core maps it */
  CHECK_OK(gdb_sm_verify_op(&h.op, &vd));
  CHECK(vd.ok);
  h.op.origin = "peer-8";
  CHECK_OK(gdb_sm_verify_op(&h.op, &vd));
  CHECK(!vd.ok);
  holder_free(&h);
  json_decref(rest);
  json_decref(sj);
  free(signed_json);
  gdb_id_free(id);
  json_decref(v);
}

TEST(sm_canonicalize_vectors_as_signed_bytes) {
  /* Every canonicalize case of sm.json, through the function signing uses, and as the value
   * of an operation: the signed message carries exactly the expected canonical JSON. */
  json_t *v = vectors();
  CHECK(v);
  json_t *cases = json_object_get(v, "canonicalize"), *c;
  size_t i;
  CHECK(json_array_size(cases) == 17);
  json_array_foreach(cases, i, c) {
    const char *name = json_string_value(json_object_get(c, "name"));
    const char *want = json_string_value(json_object_get(c, "expected"));
    char *in = dump(json_object_get(c, "input")), *out = NULL;
    CHECK_OK(gdb_canonical_json(in, strlen(in), &out, NULL));
    CHECK_MSG(!strcmp(out, want), "%s: got %s", name, out);
    uint8_t *mp;
    size_t len;
    CHECK_OK(gdb_json_to_value(in, strlen(in), &mp, &len));
    gdb_op op = {.type = GDB_OP_UPSERT, .id = "x", .value = mp, .value_len = len};
    char *msg, expect[4096];
    CHECK_OK(gdb_sm_op_message(&op, "u", &msg, NULL));
    snprintf(expect, sizeof expect,
             "{\"id\":\"x\",\"originUser\":\"u\",\"timestamp\":{\"logical\":0,\"physical\":0},"
             "\"type\":\"upsert\",\"value\":%s}",
             want);
    CHECK_MSG(!strcmp(msg, expect), "%s: message %s", name, msg);
    free(msg);
    free(mp);
    free(in);
    free(out);
  }
  json_decref(v);
}
