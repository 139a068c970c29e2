/*
 * oplog.c — operation records, their MessagePack and JSON forms, and the capped log.
 */
#include "core/oplog.h"

#include "core/error.h"
#include "core/mp.h"
#include "core/value.h"

#include <math.h>
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

gdb_oprec *gdb_oprec_new(const gdb_op *op, gdb_node *node, gdb_hlc pos, uint64_t seq) {
  gdb_oprec *r;
  if (node) {
    r = malloc(sizeof *r);
    if (!r) return NULL;
    memset(r, 0, sizeof *r);
    gdb_node_retain(node);
    r->node = node;
  } else {
    size_t il = op->id ? strlen(op->id) : 0, tl = op->target ? strlen(op->target) : 0;
    size_t ol = op->origin ? strlen(op->origin) : 0;
    r = malloc(sizeof *r + il + 1 + tl + 1 + ol + 1 + op->extra_len);
    if (!r) return NULL;
    memset(r, 0, sizeof *r);
    r->id_len = (uint16_t)il;
    r->target_len = (uint16_t)tl;
    r->origin_len = (uint16_t)ol;
    r->extra_len = (uint32_t)op->extra_len;
    char *p = r->data;
    memcpy(p, op->id ? op->id : "", il + 1);
    p += il + 1;
    memcpy(p, op->target ? op->target : "", tl + 1);
    p += tl + 1;
    memcpy(p, op->origin ? op->origin : "", ol + 1);
    p += ol + 1;
    if (op->extra_len) memcpy(p, op->extra, op->extra_len);
  }
  atomic_init(&r->refs, 1);
  r->type = (uint8_t)op->type;
  r->ts = op->timestamp;
  r->pos = pos;
  r->seq = seq;
  return r;
}

void gdb_oprec_unref(gdb_oprec *r) {
  if (!r || atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) != 1) return;
  if (r->node) gdb_node_release(r->node);
  free(r);
}

void gdb_oprec_view(const gdb_oprec *r, gdb_op *out) {
  memset(out, 0, sizeof *out);
  out->type = (gdb_op_type)r->type;
  out->timestamp = r->ts;
  if (r->node) {
    const gdb_node *n = r->node;
    out->id = gdb_node_idp(n);
    out->value = gdb_node_valuep(n);
    out->value_len = n->value_len;
    out->origin = gdb_node_origin(n);
    out->extra = gdb_node_extra(n);
    out->extra_len = n->extra_len;
    return;
  }
  const char *p = r->data;
  out->id = p;
  p += r->id_len + 1;
  out->target = r->type == GDB_OP_LINK ? p : NULL;
  p += r->target_len + 1;
  out->origin = p;
  p += r->origin_len + 1;
  out->extra = r->extra_len ? (const uint8_t *)p : NULL;
  out->extra_len = r->extra_len;
}

/* ── MessagePack form (storage) ── */

static int buf_write(void *data, const char *p, size_t len) {
  gdb_buf_put(data, p, len);
  return 0;
}

static void pack_str(msgpack_packer *pk, const char *s) {
  if (!s) {
    msgpack_pack_nil(pk);
    return;
  }
  size_t n = strlen(s);
  msgpack_pack_str(pk, n);
  msgpack_pack_str_body(pk, s, n);
}

int gdb_oprec_encode(const gdb_oprec *r, gdb_buf *out) {
  gdb_op op;
  gdb_oprec_view(r, &op);
  msgpack_packer pk;
  msgpack_packer_init(&pk, out, buf_write);
  msgpack_pack_array(&pk, 10);
  msgpack_pack_uint8(&pk, r->type);
  pack_str(&pk, op.id);
  pack_str(&pk, op.target);
  if (op.value) gdb_buf_put(out, op.value, op.value_len);
  else msgpack_pack_nil(&pk);
  msgpack_pack_int64(&pk, op.timestamp.physical);
  msgpack_pack_int64(&pk, op.timestamp.logical);
  pack_str(&pk, op.origin);
  if (op.extra) gdb_buf_put(out, op.extra, op.extra_len);
  else msgpack_pack_nil(&pk);
  msgpack_pack_int64(&pk, r->pos.physical);
  msgpack_pack_int64(&pk, r->pos.logical);
  return out->oom ? gdb_fail(GDB_ENOMEM, "out of memory") : GDB_OK;
}

/* Reads a string or nil into a NUL-terminated copy in `buf` (at most cap bytes). */
static bool read_opt_str(mp_cur *c, char *buf, size_t cap, bool *present) {
  mp_item it;
  if (!mp_next(c, &it)) return false;
  if (it.kind == MP_NIL) {
    *present = false;
    buf[0] = 0;
    return true;
  }
  if (it.kind != MP_STR || it.v.s.len >= cap) return false;
  memcpy(buf, it.v.s.p, it.v.s.len);
  buf[it.v.s.len] = 0;
  *present = true;
  return true;
}

static bool read_i64(mp_cur *c, int64_t *v) {
  mp_item it;
  if (!mp_next(c, &it) || it.kind != MP_INT) return false;
  *v = it.v.i;
  return true;
}

/* Reads a value (or nil) in place: *p and *len point into the buffer. */
static bool read_opt_value(mp_cur *c, const uint8_t **p, size_t *len) {
  mp_cur start = *c;
  mp_item it;
  mp_cur peek = *c;
  if (!mp_next(&peek, &it)) return false;
  if (it.kind == MP_NIL) {
    *c = peek;
    *p = NULL;
    *len = 0;
    return true;
  }
  if (!mp_skip(c, GDB_VALUE_MAX_DEPTH + 1)) return false;
  *p = start.p;
  *len = (size_t)(c->p - start.p);
  return true;
}

gdb_oprec *gdb_oprec_decode(const uint8_t *bytes, size_t blen, uint64_t seq) {
  mp_cur c = mp_cursor(bytes, blen);
  mp_item it;
  char id[GDB_ID_BUFSZ], target[GDB_ID_BUFSZ], origin[256];
  bool has_id, has_target, has_origin;
  gdb_op op = {0};
  gdb_hlc pos;
  int64_t type;
  if (!mp_next(&c, &it) || it.kind != MP_ARRAY || it.v.n != 10 || !read_i64(&c, &type) ||
      !read_opt_str(&c, id, sizeof id, &has_id) ||
      !read_opt_str(&c, target, sizeof target, &has_target) ||
      !read_opt_value(&c, &op.value, &op.value_len) || !read_i64(&c, &op.timestamp.physical) ||
      !read_i64(&c, &op.timestamp.logical) || !read_opt_str(&c, origin, sizeof origin, &has_origin) ||
      !read_opt_value(&c, &op.extra, &op.extra_len) || !read_i64(&c, &pos.physical) ||
      !read_i64(&c, &pos.logical) || !mp_done(&c) || type < GDB_OP_UPSERT || type > GDB_OP_LINK ||
      !has_id || (type == GDB_OP_LINK) != has_target || (type == GDB_OP_UPSERT) != (op.value != NULL)) {
    gdb_fail(GDB_ECORRUPT, "operation log record %llu is malformed", (unsigned long long)seq);
    return NULL;
  }
  op.type = (gdb_op_type)type;
  op.id = id;
  op.target = has_target ? target : NULL;
  op.origin = origin;
  gdb_node *n = NULL;
  if (op.type == GDB_OP_UPSERT) {
    if (!gdb_value_is_canonical(op.value, op.value_len)) {
      gdb_fail(GDB_ECORRUPT, "operation log record %llu holds a malformed value", (unsigned long long)seq);
      return NULL;
    }
    n = gdb_node_new(id, strlen(id), origin, op.value, op.value_len, op.extra, op.extra_len,
                     op.timestamp, (gdb_hlc){0, 0}, NULL, 0, 0);
    if (!n) return NULL;
  }
  gdb_oprec *r = gdb_oprec_new(&op, n, pos, seq);
  if (n) gdb_node_release(n);
  return r;
}

/* ── the log ── */

int gdb_oplog_init(gdb_oplog *l, uint32_t cap) {
  memset(l, 0, sizeof *l);
  l->cap = cap ? cap : 1;
  l->ring = calloc(l->cap, sizeof *l->ring);
  return l->ring ? GDB_OK : gdb_fail(GDB_ENOMEM, "out of memory");
}

void gdb_oplog_free(gdb_oplog *l) {
  for (uint32_t i = 0; i < l->len; i++) gdb_oprec_unref(gdb_oplog_at(l, i));
  free(l->ring);
  memset(l, 0, sizeof *l);
}

gdb_oprec *gdb_oplog_append(gdb_oplog *l, gdb_oprec *r) {
  gdb_oprec *out = NULL;
  if (l->len == l->cap) {
    out = l->ring[l->head];
    if (gdb_hlc_compare(out->pos, l->evicted) > 0) l->evicted = out->pos;
    l->ring[l->head] = r;
    l->head = (l->head + 1) % l->cap;
  } else {
    l->ring[(l->head + l->len) % l->cap] = r;
    l->len++;
  }
  return out;
}

uint32_t gdb_oplog_first_after(const gdb_oplog *l, gdb_hlc after) {
  uint32_t lo = 0, hi = l->len;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (gdb_hlc_compare(gdb_oplog_at(l, mid)->pos, after) > 0)
      hi = mid;
    else
      lo = mid + 1;
  }
  return lo;
}

/* ── JSON form ── */

static const char *type_name(gdb_op_type t) {
  return t == GDB_OP_UPSERT ? "upsert" : t == GDB_OP_REMOVE ? "remove" : t == GDB_OP_LINK ? "link" : "?";
}

int gdb_op_write_json(gdb_buf *out, const gdb_op *op) {
  gdb_buf_printf(out, "{\"type\":\"%s\"", type_name(op->type));
  if (op->type == GDB_OP_LINK) {
    gdb_buf_puts(out, ",\"sourceId\":");
    gdb_json_escape(out, op->id, strlen(op->id));
    gdb_buf_puts(out, ",\"targetId\":");
    gdb_json_escape(out, op->target, strlen(op->target));
  } else {
    gdb_buf_puts(out, ",\"id\":");
    gdb_json_escape(out, op->id, strlen(op->id));
  }
  if (op->value) {
    gdb_buf_puts(out, ",\"value\":");
    int rc = gdb_value_write_json(out, op->value, op->value_len);
    if (rc) return rc;
  }
  gdb_buf_printf(out, ",\"timestamp\":{\"physical\":%lld,\"logical\":%lld}",
                 (long long)op->timestamp.physical, (long long)op->timestamp.logical);
  if (op->origin && *op->origin) {
    gdb_buf_puts(out, ",\"origin\":");
    gdb_json_escape(out, op->origin, strlen(op->origin));
  }
  if (op->extra && op->extra_len) {
    /* Extra fields print inline: {"a":1} -> ,"a":1 */
    gdb_buf tmp = {0};
    int rc = gdb_value_write_json(&tmp, op->extra, op->extra_len);
    if (!rc && tmp.len > 2 && tmp.data[0] == '{') {
      gdb_buf_putc(out, ',');
      gdb_buf_put(out, tmp.data + 1, tmp.len - 2);
    }
    gdb_buf_free(&tmp);
    if (rc) return rc;
  }
  gdb_buf_putc(out, '}');
  return out->oom ? gdb_fail(GDB_ENOMEM, "out of memory") : GDB_OK;
}

char *gdb_op_to_json(const gdb_op *op) {
  gdb_buf b = {0};
  if (gdb_op_write_json(&b, op) || gdb_buf_finish(&b)) {
    gdb_buf_free(&b);
    return NULL;
  }
  return (char *)b.data;
}

static char *dup_str(const json_t *s, void *(*alloc)(void *, size_t), void *ctx) {
  size_t n = json_string_length(s);
  char *p = alloc(ctx, n + 1);
  if (p) memcpy(p, json_string_value(s), n + 1);
  return p;
}

static bool json_hlc(const json_t *t, gdb_hlc *out) {
  const json_t *p = json_object_get(t, "physical"), *l = json_object_get(t, "logical");
  if (!json_is_number(p) || !json_is_number(l)) return false;
  double pd = json_number_value(p), ld = json_number_value(l);
  /* integers within ±2^53 (anything else is not a timestamp, and casting it would be UB) */
  if (!(fabs(pd) <= 9007199254740992.0) || !(fabs(ld) <= 9007199254740992.0) || pd != trunc(pd) || ld != trunc(ld))
    return false;
  *out = (gdb_hlc){(int64_t)pd, (int64_t)ld};
  return true;
}

/* Canonical MessagePack of a JSON tree, in memory from alloc(ctx, n). */
static int value_into(const json_t *j, const uint8_t **out, size_t *out_len, void *(*alloc)(void *, size_t),
                      void *ctx) {
  gdb_buf b = {0};
  int rc = gdb_value_from_jansson(j, &b);
  uint8_t *p = rc ? NULL : alloc(ctx, b.len);
  if (!rc && !p) rc = gdb_fail(GDB_ENOMEM, "out of memory");
  if (p) {
    memcpy(p, b.data, b.len);
    *out = p;
    *out_len = b.len;
  }
  gdb_buf_free(&b);
  return rc;
}

int gdb_op_from_jansson(const json_t *j, gdb_op *op, void *(*alloc)(void *, size_t), void *ctx) {
  memset(op, 0, sizeof *op);
  if (!json_is_object(j)) return gdb_fail(GDB_EINVAL, "an operation must be a JSON object");
  const char *type = json_string_value(json_object_get(j, "type"));
  if (!type) return gdb_fail(GDB_EINVAL, "operation has no \"type\" (upsert, remove or link)");
  if (!strcmp(type, "upsert")) op->type = GDB_OP_UPSERT;
  else if (!strcmp(type, "remove")) op->type = GDB_OP_REMOVE;
  else if (!strcmp(type, "link")) op->type = GDB_OP_LINK;
  else return gdb_fail(GDB_EINVAL, "unknown operation type \"%.32s\" (upsert, remove or link)", type);

  const char *idkey = op->type == GDB_OP_LINK ? "sourceId" : "id";
  const json_t *id = json_object_get(j, idkey);
  if (!json_is_string(id)) return gdb_fail(GDB_EINVAL, "%s operation needs a string \"%s\"", type, idkey);
  if (!(op->id = dup_str(id, alloc, ctx))) return gdb_fail(GDB_ENOMEM, "out of memory");
  if (op->type == GDB_OP_LINK) {
    const json_t *t = json_object_get(j, "targetId");
    if (!json_is_string(t)) return gdb_fail(GDB_EINVAL, "link operation needs a string \"targetId\"");
    if (!(op->target = dup_str(t, alloc, ctx))) return gdb_fail(GDB_ENOMEM, "out of memory");
  }
  const json_t *ts = json_object_get(j, "timestamp");
  if (!json_hlc(ts, &op->timestamp))
    return gdb_fail(GDB_EINVAL, "operation needs \"timestamp\": {\"physical\": integer, \"logical\": integer}");
  const json_t *origin = json_object_get(j, "origin");
  if (origin && !json_is_string(origin)) return gdb_fail(GDB_EINVAL, "\"origin\" must be a string");
  if (origin && !(op->origin = dup_str(origin, alloc, ctx))) return gdb_fail(GDB_ENOMEM, "out of memory");

  int rc = GDB_OK;
  const json_t *value = json_object_get(j, "value");
  if (op->type == GDB_OP_UPSERT) {
    if (!json_is_object(value)) return gdb_fail(GDB_EINVAL, "upsert operation needs an object \"value\"");
    if ((rc = value_into(value, &op->value, &op->value_len, alloc, ctx))) return rc;
  }
  /* Every other field travels as extra (signatures and the like). */
  json_t *extra = json_object();
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)j, k, v) {
    if (!strcmp(k, "type") || !strcmp(k, "timestamp") || !strcmp(k, "origin") || !strcmp(k, idkey) ||
        (op->type == GDB_OP_LINK && !strcmp(k, "targetId")) || (op->type == GDB_OP_UPSERT && !strcmp(k, "value")))
      continue;
    json_object_set(extra, k, v);
  }
  if (json_object_size(extra)) rc = value_into(extra, &op->extra, &op->extra_len, alloc, ctx);
  json_decref(extra);
  return rc;
}

int gdb_op_from_json(const char *json, size_t len, gdb_op *op, void *(*alloc)(void *, size_t),
                     void *ctx) {
  json_t *j = gdb_json_parse(json, len, "operation");
  if (!j) return GDB_EINVAL;
  int rc = gdb_op_from_jansson(j, op, alloc, ctx);
  json_decref(j);
  return rc;
}
