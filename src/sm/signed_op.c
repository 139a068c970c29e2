/*
 * signed_op.c — signing and verifying graph operations as spec/SIGNING.md: the signature
 * covers the canonical JSON of the operation with originUser set to the signer and without
 * originEthAddress and signature.
 *
 * Two forms share one rule. JSON operations (the CLI, tests, other implementations) go
 * through jansson and the core's canonical MessagePack. Structured operations (gdb_op, what
 * the sync and security layers hold) are printed straight to canonical JSON from their fields
 * and MessagePack, without building a tree: that is the per-operation hot path of sync.
 */
#include "sm/sm.h"

#include "core/error.h"
#include "core/mp.h"
#include "core/value.h"

#include <jansson.h>
#include <msgpack.h>
#include <pthread.h>
#include <stdlib.h>

#define F_USER "originUser"
#define F_ETH "originEthAddress"
#define F_SIG "signature"

/* ───────────── JSON operations ───────────── */

static json_t *parse_object(const char *json, size_t len, const char *what) {
  json_t *j = gdb_json_parse(json, len, what);
  if (j && !json_is_object(j)) {
    gdb_fail(GDB_EINVAL, "%s must be a JSON object, not %s", what,
             json_is_array(j) ? "an array" : "a scalar");
    json_decref(j);
    return NULL;
  }
  return j;
}

/* Appends the canonical JSON of obj without originEthAddress and signature (removed from obj). */
static int json_message(json_t *obj, gdb_buf *out) {
  json_object_del(obj, F_ETH);
  json_object_del(obj, F_SIG);
  uint8_t stack[1024];
  gdb_buf mp = GDB_BUF_ON_STACK(stack);
  int rc = gdb_value_from_jansson(obj, &mp);
  if (!rc) rc = gdb_value_write_json(out, mp.data, mp.len);
  gdb_buf_free(&mp);
  return rc;
}

static int buf_take(gdb_buf *b, char **out, size_t *out_len) {
  if (gdb_buf_finish(b)) {
    gdb_buf_free(b);
    return gdb_fail(GDB_ENOMEM, "out of memory");
  }
  *out = (char *)b->data;
  if (out_len) *out_len = b->len;
  return GDB_OK;
}

int gdb_sm_op_message_json(const char *json, size_t len, const char *origin_user, char **out,
                           size_t *out_len) {
  json_t *op = parse_object(json, len, "operation");
  if (!op) return GDB_EINVAL;
  int rc = GDB_OK;
  if (origin_user) rc = json_object_set_new(op, F_USER, json_string(origin_user)) ? GDB_EINVAL : 0;
  if (rc) rc = gdb_fail(GDB_EINVAL, "originUser is not valid UTF-8");
  gdb_buf b = {0};
  if (!rc) rc = json_message(op, &b);
  json_decref(op);
  if (rc) {
    gdb_buf_free(&b);
    return rc;
  }
  return buf_take(&b, out, out_len);
}

int gdb_sm_sign_op_json(const gdb_identity *id, const char *json, size_t len, char **out,
                        size_t *out_len) {
  json_t *op = parse_object(json, len, "operation");
  if (!op) return GDB_EINVAL;
  char sig[GDB_SIGNATURE_BUFSZ];
  uint8_t stack[1024];
  gdb_buf msg = GDB_BUF_ON_STACK(stack), res = {0};
  json_object_set_new(op, F_USER, json_string(id->address));
  int rc = json_message(op, &msg);
  if (!rc) rc = gdb_sm_sign_message(id, msg.data, msg.len, sig);
  if (!rc) {
    json_object_set_new(op, F_ETH, json_string(id->address));
    json_object_set_new(op, F_SIG, json_string(sig));
    uint8_t mp_stack[1024];
    gdb_buf mp = GDB_BUF_ON_STACK(mp_stack);
    rc = gdb_value_from_jansson(op, &mp);
    if (!rc) rc = gdb_value_write_json(&res, mp.data, mp.len);
    gdb_buf_free(&mp);
  }
  gdb_buf_free(&msg);
  json_decref(op);
  if (rc) {
    gdb_buf_free(&res);
    return rc;
  }
  return buf_take(&res, out, out_len);
}

/* A claimed field: absent, not a string, or its text. */
static gdb_sm_reason field_str(json_t *obj, const char *key, const char **s, size_t *len) {
  json_t *v = json_object_get(obj, key);
  if (!v) return GDB_SM_MISSING_FIELDS;
  if (!json_is_string(v)) return GDB_SM_FIELD_TYPE;
  *s = json_string_value(v);
  *len = json_string_length(v);
  return GDB_SM_OK;
}

/* The checks both forms share once the three fields are read: the claimed addresses, then
 * recovery over message. On success the verdict's signer is written here: the claimed
 * spelling when its EIP-55 checksum was just verified, which spares hashing it again. */
static gdb_sm_reason verify_claims(const char *user, size_t ulen, const char *eth, size_t elen,
                                   const char *sig, size_t slen, const uint8_t *msg, size_t mlen,
                                   gdb_sm_verdict *v) {
  uint8_t ua[20], ea[20], signer[20];
  gdb_sm_reason r = gdb_address_check(user, ulen, ua);
  if (r) return r;
  /* Usually the same text: check it once. */
  if (ulen == elen && !memcmp(user, eth, ulen))
    memcpy(ea, ua, 20);
  else if ((r = gdb_address_check(eth, elen, ea)))
    return r;
  if (memcmp(ua, ea, 20)) return GDB_SM_ADDRESS_MISMATCH;
  uint8_t h[32];
  gdb_personal_hash(msg, mlen, h);
  r = gdb_sig_recover(h, sig, slen, signer);
  if (!r && memcmp(signer, ea, 20)) r = GDB_SM_SIGNER_MISMATCH;
  if (r) return r;
  v->ok = true;
  v->reason = GDB_SM_OK;
  if (gdb_address_is_checksummed(eth, elen)) {
    memcpy(v->signer, "0x", 2);
    memcpy(v->signer + 2, eth + 2, 41); /* 40 digits and the NUL after them */
    v->signer[42] = 0;
  } else {
    gdb_address_format(signer, v->signer);
  }
  return GDB_SM_OK;
}

int gdb_sm_verify_op_json(const char *json, size_t len, gdb_sm_verdict *v) {
  json_t *op = parse_object(json, len, "signed operation");
  if (!op) return GDB_EINVAL;
  const char *user = NULL, *eth = NULL, *sig = NULL;
  size_t ulen = 0, elen = 0, slen = 0;
  gdb_sm_reason got[3] = {field_str(op, F_SIG, &sig, &slen), field_str(op, F_USER, &user, &ulen),
                          field_str(op, F_ETH, &eth, &elen)};
  /* Absent fields first (the spec's order), then fields of the wrong type. */
  gdb_sm_reason r = GDB_SM_OK;
  for (int i = 0; i < 3; i++)
    if (got[i] == GDB_SM_MISSING_FIELDS) r = GDB_SM_MISSING_FIELDS;
  for (int i = 0; i < 3 && !r; i++) r = got[i];
  int rc = GDB_OK;
  if (!r) {
    /* The message deletes signature and originEthAddress from the tree: keep them alive. */
    json_t *keep_sig = json_incref(json_object_get(op, F_SIG));
    json_t *keep_eth = json_incref(json_object_get(op, F_ETH));
    uint8_t stack[1024];
    gdb_buf msg = GDB_BUF_ON_STACK(stack);
    rc = json_message(op, &msg);
    if (!rc) r = verify_claims(user, ulen, eth, elen, sig, slen, msg.data, msg.len, v);
    gdb_buf_free(&msg);
    json_decref(keep_sig);
    json_decref(keep_eth);
  }
  json_decref(op);
  if (rc) return rc;
  if (r) gdb_verdict_set(v, r, NULL);
  return GDB_OK;
}

/* ───────────── structured operations ───────────── */

/* One member of the operation object being printed. */
typedef enum { F_TEXT, F_VALUE, F_HLC } field_kind;
typedef struct op_field {
  const char *key; /* not NUL-terminated when it comes from extra */
  size_t klen;
  field_kind kind;
  const uint8_t *p; /* F_TEXT: UTF-8; F_VALUE: canonical MessagePack */
  size_t len;
  bool extra; /* an entry of op->extra */
} op_field;

/* Operations rarely carry more than a few extra fields: those fit on the stack. */
#define STACK_FIELDS 16

static const char *op_type_name(gdb_op_type t) {
  switch (t) {
  case GDB_OP_UPSERT: return "upsert";
  case GDB_OP_REMOVE: return "remove";
  case GDB_OP_LINK: return "link";
  }
  return NULL;
}

/* Writes an integer as JavaScript prints the Number it becomes. */
static void put_js_int(gdb_buf *b, int64_t v) {
  char num[32];
  if (v > (int64_t)GDB_MAX_SAFE_INT || v < -(int64_t)GDB_MAX_SAFE_INT)
    gdb_buf_put(b, num, gdb_format_double((double)v, num));
  else
    gdb_buf_printf(b, "%lld", (long long)v);
}

/* A canonical copy of a MessagePack value when it is not canonical already: *p and *len are
 * redirected into tmp. */
static int ensure_canonical(const uint8_t **p, size_t *len, gdb_buf *tmp, const char *what) {
  if (gdb_value_is_canonical(*p, *len)) return GDB_OK;
  int rc = gdb_value_canonicalize_into(*p, *len, tmp);
  if (rc) return gdb_fail_prefix(rc, what);
  *p = tmp->data;
  *len = tmp->len;
  return GDB_OK;
}

/* The parsed operation: its fields (sorted later) and the claimed signature fields of extra. */
typedef struct op_view {
  op_field *f, stack[STACK_FIELDS];
  size_t n, cap;
  const char *claim[3]; /* originUser, originEthAddress, signature as found in extra */
  size_t claim_len[3];
  gdb_sm_reason claim_state[3]; /* GDB_SM_OK, _MISSING_FIELDS or _FIELD_TYPE */
  gdb_buf value_tmp, extra_tmp;
} op_view;

static void view_free(op_view *v) {
  if (v->f != v->stack) free(v->f);
  gdb_buf_free(&v->value_tmp);
  gdb_buf_free(&v->extra_tmp);
}

/* True when key k is one the operation's own fields already print (v->f holds only those
 * while extra is being read). */
static bool own_key(const op_view *v, size_t own, const char *k, size_t n) {
  for (size_t i = 0; i < own; i++)
    if (v->f[i].klen == n && !memcmp(v->f[i].key, k, n)) return true;
  return false;
}

/* Room for `more` fields (and the originUser added when printing). */
static int view_reserve(op_view *v, size_t more) {
  if (v->n + more + 1 <= v->cap) return GDB_OK;
  size_t cap = v->n + more + 1;
  op_field *f = malloc(cap * sizeof *f);
  if (!f) return gdb_fail(GDB_ENOMEM, "out of memory");
  memcpy(f, v->f, v->n * sizeof *f);
  if (v->f != v->stack) free(v->f);
  v->f = f;
  v->cap = cap;
  return GDB_OK;
}

static void view_add(op_view *v, const char *key, field_kind kind, const void *p, size_t len) {
  v->f[v->n++] = (op_field){key, strlen(key), kind, p, len, false};
}

/* Reads op into v: fixed fields, then extra's entries except the three signature fields. */
static int view_build(const gdb_op *op, op_view *v) {
  memset(v, 0, sizeof *v);
  v->f = v->stack;
  v->cap = STACK_FIELDS;
  for (int i = 0; i < 3; i++) v->claim_state[i] = GDB_SM_MISSING_FIELDS;
  const char *type = op_type_name(op->type);
  if (!type)
    return gdb_fail(GDB_EINVAL, "operation type %d is not upsert, remove or link", (int)op->type);
  if (!op->id) return gdb_fail(GDB_EINVAL, "%s operation without an id", type);
  if (op->type == GDB_OP_LINK && !op->target)
    return gdb_fail(GDB_EINVAL, "link operation without a target");
  if (!gdb_utf8_valid(op->id, strlen(op->id)) ||
      (op->target && !gdb_utf8_valid(op->target, strlen(op->target))))
    return gdb_fail(GDB_EINVAL, "operation id is not valid UTF-8");
  view_add(v, "type", F_TEXT, type, strlen(type));
  if (op->type == GDB_OP_LINK) {
    view_add(v, "sourceId", F_TEXT, op->id, strlen(op->id));
    view_add(v, "targetId", F_TEXT, op->target, strlen(op->target));
  } else {
    view_add(v, "id", F_TEXT, op->id, strlen(op->id));
  }
  if (op->value) {
    const uint8_t *p = op->value;
    size_t len = op->value_len;
    int rc = ensure_canonical(&p, &len, &v->value_tmp, "operation value");
    if (rc) return rc;
    view_add(v, "value", F_VALUE, p, len);
  }
  view_add(v, "timestamp", F_HLC, NULL, 0);
  /* As gdb_op_to_json prints it: present when set and not empty. */
  if (op->origin && *op->origin) {
    if (!gdb_utf8_valid(op->origin, strlen(op->origin)))
      return gdb_fail(GDB_EINVAL, "operation origin is not valid UTF-8");
    view_add(v, "origin", F_TEXT, op->origin, strlen(op->origin));
  }
  size_t own = v->n;
  if (!op->extra) return GDB_OK;

  const uint8_t *p = op->extra;
  size_t len = op->extra_len;
  int rc = ensure_canonical(&p, &len, &v->extra_tmp, "operation extra fields");
  if (rc) return rc;
  mp_cur c = mp_cursor(p, len);
  mp_item it;
  if (!mp_next(&c, &it) || it.kind != MP_MAP)
    return gdb_fail(GDB_EINVAL, "operation extra fields must be a MessagePack map");
  rc = view_reserve(v, it.v.n);
  if (rc) return rc;
  static const char *const CLAIMS[3] = {F_USER, F_ETH, F_SIG};
  for (uint32_t i = 0; i < it.v.n; i++) {
    mp_item k;
    if (!mp_next(&c, &k) || k.kind != MP_STR)
      return gdb_fail(GDB_EINVAL, "operation extra fields: keys must be strings");
    const uint8_t *vstart = c.p;
    mp_cur vc = c;
    mp_item val;
    if (!mp_next(&vc, &val) || !mp_skip(&c, GDB_VALUE_MAX_DEPTH))
      return gdb_fail(GDB_EINVAL, "operation extra fields are not well-formed MessagePack");
    int claim = -1;
    for (int j = 0; j < 3; j++)
      if (k.v.s.len == strlen(CLAIMS[j]) && !memcmp(k.v.s.p, CLAIMS[j], k.v.s.len)) claim = j;
    if (claim >= 0) {
      v->claim_state[claim] = val.kind == MP_STR ? GDB_SM_OK : GDB_SM_FIELD_TYPE;
      v->claim[claim] = val.v.s.p;
      v->claim_len[claim] = val.kind == MP_STR ? val.v.s.len : 0;
      continue;
    }
    if (own_key(v, own, k.v.s.p, k.v.s.len))
      return gdb_fail(GDB_EINVAL,
                      "operation extra field \"%.*s\" would replace a field of the "
                      "operation itself",
                      (int)k.v.s.len, k.v.s.p);
    v->f[v->n++] = (op_field){k.v.s.p, k.v.s.len, F_VALUE, vstart, (size_t)(c.p - vstart), true};
  }
  return GDB_OK;
}

static int field_cmp(const void *a, const void *b) {
  const op_field *x = a, *y = b;
  return gdb_canon_key_cmp(x->key, x->klen, y->key, y->klen);
}

/* Appends the signed message: v's fields plus originUser = user, in canonical order. */
static int view_message(op_view *v, const gdb_op *op, const char *user, size_t ulen, gdb_buf *out) {
  /* view_reserve() left room for originUser; it is removed again before returning. */
  size_t n = v->n;
  v->f[n++] = (op_field){F_USER, strlen(F_USER), F_TEXT, (const uint8_t *)user, ulen, false};
  op_field stack[STACK_FIELDS + 1], *f = n <= STACK_FIELDS + 1 ? stack : malloc(n * sizeof *f);
  if (!f) return gdb_fail(GDB_ENOMEM, "out of memory");
  memcpy(f, v->f, n * sizeof *f);
  qsort(f, n, sizeof f[0], field_cmp);
  int rc = GDB_OK;
  gdb_buf_putc(out, '{');
  for (size_t i = 0; i < n && !rc; i++) {
    if (i) gdb_buf_putc(out, ',');
    gdb_json_escape(out, f[i].key, f[i].klen);
    gdb_buf_putc(out, ':');
    switch (f[i].kind) {
    case F_TEXT: gdb_json_escape(out, (const char *)f[i].p, f[i].len); break;
    case F_VALUE: rc = gdb_value_write_json(out, f[i].p, f[i].len); break;
    case F_HLC:
      gdb_buf_puts(out, "{\"logical\":");
      put_js_int(out, op->timestamp.logical);
      gdb_buf_puts(out, ",\"physical\":");
      put_js_int(out, op->timestamp.physical);
      gdb_buf_putc(out, '}');
      break;
    }
  }
  gdb_buf_putc(out, '}');
  if (f != stack) free(f);
  if (!rc && out->oom) rc = gdb_fail(GDB_ENOMEM, "out of memory");
  return rc;
}

int gdb_sm_op_message(const gdb_op *op, const char *origin_user, char **out, size_t *out_len) {
  op_view v;
  gdb_buf b = {0};
  int rc = view_build(op, &v);
  if (!rc && !origin_user) {
    if (v.claim_state[0])
      rc = gdb_fail(GDB_EINVAL, "operation has no originUser string and none was given");
    else
      rc = view_message(&v, op, v.claim[0], v.claim_len[0], &b);
  } else if (!rc) {
    if (!gdb_utf8_valid(origin_user, strlen(origin_user)))
      rc = gdb_fail(GDB_EINVAL, "originUser is not valid UTF-8");
    else
      rc = view_message(&v, op, origin_user, strlen(origin_user), &b);
  }
  view_free(&v);
  if (rc) {
    gdb_buf_free(&b);
    return rc;
  }
  return buf_take(&b, out, out_len);
}

static int mp_buf_write(void *data, const char *p, size_t len) {
  gdb_buf_put(data, p, len);
  return 0;
}

int gdb_sm_sign_op(const gdb_identity *id, const gdb_op *op, uint8_t **extra, size_t *extra_len) {
  op_view v;
  uint8_t stack[1024];
  gdb_buf msg = GDB_BUF_ON_STACK(stack), res = {0};
  char sig[GDB_SIGNATURE_BUFSZ];
  int rc = view_build(op, &v);
  if (!rc) rc = view_message(&v, op, id->address, 42, &msg);
  if (!rc) rc = gdb_sm_sign_message(id, msg.data, msg.len, sig);
  if (rc) goto done;

  /* The new extra: the old entries but the three, then the three. view_build reserved one
   * spare slot and the fixed fields (at least three) are dropped, so it all fits in v.f. */
  op_field *f = v.f;
  size_t n = 0;
  for (size_t i = 0; i < v.n; i++)
    if (v.f[i].extra) f[n++] = v.f[i];
  f[n++] = (op_field){F_USER, strlen(F_USER), F_TEXT, (const uint8_t *)id->address, 42, true};
  f[n++] = (op_field){F_ETH, strlen(F_ETH), F_TEXT, (const uint8_t *)id->address, 42, true};
  f[n++] =
      (op_field){F_SIG, strlen(F_SIG), F_TEXT, (const uint8_t *)sig, GDB_SIGNATURE_BUFSZ - 1, true};
  qsort(f, (size_t)n, sizeof f[0], field_cmp);
  msgpack_packer pk;
  msgpack_packer_init(&pk, &res, mp_buf_write);
  msgpack_pack_map(&pk, n);
  for (size_t i = 0; i < n; i++) {
    msgpack_pack_str(&pk, f[i].klen);
    msgpack_pack_str_body(&pk, f[i].key, f[i].klen);
    if (f[i].kind == F_TEXT) {
      msgpack_pack_str(&pk, f[i].len);
      msgpack_pack_str_body(&pk, f[i].p, f[i].len);
    } else {
      gdb_buf_put(&res, f[i].p, f[i].len);
    }
  }
  if (res.oom) rc = gdb_fail(GDB_ENOMEM, "out of memory");
done:
  view_free(&v);
  gdb_buf_free(&msg);
  if (rc) {
    gdb_buf_free(&res);
    return rc;
  }
  *extra = res.data;
  *extra_len = res.len;
  return GDB_OK;
}

int gdb_sm_verify_op(const gdb_op *op, gdb_sm_verdict *verdict) {
  op_view v;
  int rc = view_build(op, &v);
  if (rc) {
    view_free(&v);
    gdb_verdict_set(verdict, GDB_SM_MISSING_FIELDS, NULL);
    return rc;
  }
  /* Order of spec/SIGNING.md: missing fields, then addresses, then the signature. */
  gdb_sm_reason r = GDB_SM_OK;
  int order[3] = {2, 0, 1}; /* signature, originUser, originEthAddress */
  for (int i = 0; i < 3 && !r; i++)
    if (v.claim_state[order[i]] == GDB_SM_MISSING_FIELDS) r = GDB_SM_MISSING_FIELDS;
  for (int i = 0; i < 3 && !r; i++) r = v.claim_state[order[i]];
  if (!r) {
    uint8_t stack[1024];
    gdb_buf msg = GDB_BUF_ON_STACK(stack);
    rc = view_message(&v, op, v.claim[0], v.claim_len[0], &msg);
    if (!rc)
      r = verify_claims(v.claim[0], v.claim_len[0], v.claim[1], v.claim_len[1], v.claim[2],
                        v.claim_len[2], msg.data, msg.len, verdict);
    gdb_buf_free(&msg);
  }
  view_free(&v);
  if (rc || r) gdb_verdict_set(verdict, rc ? GDB_SM_MISSING_FIELDS : r, NULL);
  return rc;
}

/* ───────────── batches ───────────── */

typedef struct verify_job {
  const gdb_op *ops;
  gdb_sm_verdict *out;
  size_t n;
  int rc;
} verify_job;

static void *verify_run(void *arg) {
  verify_job *j = arg;
  j->rc = GDB_OK;
  for (size_t i = 0; i < j->n; i++) {
    int rc = gdb_sm_verify_op(&j->ops[i], &j->out[i]);
    if (rc && !j->rc) j->rc = rc;
  }
  return NULL;
}

int gdb_sm_verify_ops(const gdb_op *ops, size_t n, gdb_sm_verdict *verdicts, int threads) {
  enum { MAX_THREADS = 64, MIN_PER_THREAD = 16 };
  if (threads > MAX_THREADS) threads = MAX_THREADS;
  if (threads < 1) threads = 1;
  /* Fewer threads than asked when there is too little work to share. */
  if ((size_t)threads > n / MIN_PER_THREAD) threads = (int)(n / MIN_PER_THREAD);
  if (threads < 1) threads = 1;
  verify_job jobs[MAX_THREADS];
  pthread_t tid[MAX_THREADS];
  bool started[MAX_THREADS] = {0};
  size_t at = 0;
  for (int t = 0; t < threads; t++) {
    size_t share = n / (size_t)threads + ((size_t)t < n % (size_t)threads);
    jobs[t] = (verify_job){ops + at, verdicts + at, share, GDB_OK};
    at += share;
  }
  /* Thread 0's share runs on the caller; a thread that cannot start runs here too. */
  for (int t = 1; t < threads; t++)
    started[t] = !pthread_create(&tid[t], NULL, verify_run, &jobs[t]);
  verify_run(&jobs[0]);
  int rc = jobs[0].rc;
  for (int t = 1; t < threads; t++) {
    if (started[t])
      pthread_join(tid[t], NULL);
    else
      verify_run(&jobs[t]);
    if (jobs[t].rc && !rc) rc = jobs[t].rc;
  }
  return rc;
}
