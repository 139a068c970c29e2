/*
 * envelope.c — signed envelopes for application messages (spec/SIGNING.md):
 * {"kind","from","at","value","signature"}, the signature covering the canonical JSON of
 * {at, from, kind, value}. A receiver accepts one only when the signature recovers "from" and
 * "at" is within its freshness window, which bounds how long a captured message can be
 * replayed.
 */
#include "sm/sm.h"

#include "core/error.h"
#include "core/value.h"

#include <jansson.h>
#include <math.h>

/* Appends the canonical JSON of obj's {at, from, kind, value} members. */
static int envelope_message(json_t *obj, gdb_buf *out) {
  json_t *m = json_object();
  if (!m) return gdb_fail(GDB_ENOMEM, "out of memory");
  static const char *const KEYS[] = {"at", "from", "kind", "value"};
  for (int i = 0; i < 4; i++) json_object_set(m, KEYS[i], json_object_get(obj, KEYS[i]));
  uint8_t stack[1024];
  gdb_buf mp = GDB_BUF_ON_STACK(stack);
  int rc = gdb_value_from_jansson(m, &mp);
  if (!rc) rc = gdb_value_write_json(out, mp.data, mp.len);
  gdb_buf_free(&mp);
  json_decref(m);
  return rc;
}

int gdb_sm_envelope_sign(const gdb_identity *id, const char *kind, int64_t at_ms,
                         const char *value_json, size_t len, char **out, size_t *out_len) {
  if (!kind || !gdb_utf8_valid(kind, strlen(kind)))
    return gdb_fail(GDB_EINVAL, "envelope kind must be a UTF-8 string");
  json_t *value = gdb_json_parse(value_json, len, "envelope value");
  if (!value) return GDB_EINVAL;
  json_t *env = json_object();
  uint8_t stack[1024];
  gdb_buf msg = GDB_BUF_ON_STACK(stack), res = {0};
  char sig[GDB_SIGNATURE_BUFSZ];
  int rc = env ? GDB_OK : gdb_fail(GDB_ENOMEM, "out of memory");
  if (!rc) {
    json_object_set_new(env, "kind", json_string(kind));
    json_object_set_new(env, "from", json_string(id->address));
    json_object_set_new(env, "at", json_integer(at_ms));
    json_object_set(env, "value", value);
    rc = envelope_message(env, &msg);
  }
  if (!rc) rc = gdb_sm_sign_message(id, msg.data, msg.len, sig);
  if (!rc) {
    json_object_set_new(env, "signature", json_string(sig));
    uint8_t mp_stack[1024];
    gdb_buf mp = GDB_BUF_ON_STACK(mp_stack);
    rc = gdb_value_from_jansson(env, &mp);
    if (!rc) rc = gdb_value_write_json(&res, mp.data, mp.len);
    gdb_buf_free(&mp);
  }
  if (!rc && gdb_buf_finish(&res)) rc = gdb_fail(GDB_ENOMEM, "out of memory");
  json_decref(env);
  json_decref(value);
  gdb_buf_free(&msg);
  if (rc) {
    gdb_buf_free(&res);
    return rc;
  }
  *out = (char *)res.data;
  if (out_len) *out_len = res.len;
  return GDB_OK;
}

int gdb_sm_envelope_verify(const char *json, size_t len, int64_t now_ms, int64_t max_age_ms,
                           gdb_sm_verdict *v) {
  json_t *env = gdb_json_parse(json, len, "envelope");
  if (!env) return GDB_EINVAL;
  if (!json_is_object(env)) {
    json_decref(env);
    return gdb_fail(GDB_EINVAL, "an envelope must be a JSON object");
  }
  json_t *kind = json_object_get(env, "kind"), *from = json_object_get(env, "from"),
         *at = json_object_get(env, "at"), *value = json_object_get(env, "value"),
         *sig = json_object_get(env, "signature");
  gdb_sm_reason r = GDB_SM_OK;
  uint8_t claimed[20], signer[20];
  int rc = GDB_OK;
  if (!kind || !from || !at || !value || !sig)
    r = GDB_SM_MISSING_FIELDS;
  else if (!json_is_string(kind) || !json_is_string(from) || !json_is_number(at) ||
           !json_is_string(sig))
    r = GDB_SM_FIELD_TYPE;
  else
    r = gdb_address_check(json_string_value(from), json_string_length(from), claimed);
  /* Freshness before the signature: a stale envelope costs no curve arithmetic. */
  if (!r && fabs((double)now_ms - json_number_value(at)) > (double)max_age_ms) r = GDB_SM_STALE;
  if (!r) {
    uint8_t stack[1024], h[32];
    gdb_buf msg = GDB_BUF_ON_STACK(stack);
    rc = envelope_message(env, &msg);
    if (!rc) {
      gdb_personal_hash(msg.data, msg.len, h);
      r = gdb_sig_recover(h, json_string_value(sig), json_string_length(sig), signer);
      if (!r && memcmp(signer, claimed, 20)) r = GDB_SM_SIGNER_MISMATCH;
    }
    gdb_buf_free(&msg);
  }
  json_decref(env);
  if (rc) return rc;
  gdb_verdict_set(v, r, signer);
  return GDB_OK;
}
