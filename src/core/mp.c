/*
 * mp.c — the bounds-checked MessagePack cursor (see mp.h for why it exists beside msgpack-c).
 */
#include "core/mp.h"

static inline uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t be64(const uint8_t *p) { return (uint64_t)be32(p) << 32 | be32(p + 4); }

/* Sets a string-like item whose length field of `lb` bytes starts at p+1. */
static bool read_span(mp_cur *c, mp_item *it, mp_kind kind, size_t lb, size_t extra) {
  const uint8_t *p = c->p;
  if ((size_t)(c->end - p) < 1 + lb + extra) return false;
  uint32_t len = lb == 1 ? p[1] : lb == 2 ? be16(p + 1) : be32(p + 1);
  const uint8_t *data = p + 1 + lb + extra;
  if ((size_t)(c->end - data) < len) return false;
  it->kind = kind;
  if (extra) it->ext_type = (int8_t)p[1 + lb];
  it->v.s.p = (const char *)data;
  it->v.s.len = len;
  c->p = data + len;
  return true;
}

static bool read_fixed(mp_cur *c, size_t n) {
  if ((size_t)(c->end - c->p) < 1 + n) return false;
  return true;
}

bool mp_next(mp_cur *c, mp_item *it) {
  if (c->p >= c->end) return false;
  const uint8_t *p = c->p;
  uint8_t b = *p;
  if (b <= 0x7f) {
    it->kind = MP_INT;
    it->v.i = b;
    c->p++;
    return true;
  }
  if (b >= 0xe0) {
    it->kind = MP_INT;
    it->v.i = (int8_t)b;
    c->p++;
    return true;
  }
  if ((b & 0xf0) == 0x80 || (b & 0xf0) == 0x90) {
    it->kind = (b & 0xf0) == 0x80 ? MP_MAP : MP_ARRAY;
    it->v.n = b & 0x0f;
    c->p++;
    return true;
  }
  if ((b & 0xe0) == 0xa0) {
    uint32_t len = b & 0x1f;
    if ((size_t)(c->end - p) < 1 + (size_t)len) return false;
    it->kind = MP_STR;
    it->v.s.p = (const char *)p + 1;
    it->v.s.len = len;
    c->p = p + 1 + len;
    return true;
  }
  switch (b) {
  case 0xc0: it->kind = MP_NIL; c->p++; return true;
  case 0xc2:
  case 0xc3: it->kind = MP_BOOL; it->v.b = b == 0xc3; c->p++; return true;
  case 0xc4: return read_span(c, it, MP_BIN, 1, 0);
  case 0xc5: return read_span(c, it, MP_BIN, 2, 0);
  case 0xc6: return read_span(c, it, MP_BIN, 4, 0);
  case 0xc7: return read_span(c, it, MP_EXT, 1, 1);
  case 0xc8: return read_span(c, it, MP_EXT, 2, 1);
  case 0xc9: return read_span(c, it, MP_EXT, 4, 1);
  case 0xca: {
    if (!read_fixed(c, 4)) return false;
    uint32_t u = be32(p + 1);
    float f;
    memcpy(&f, &u, 4);
    it->kind = MP_FLOAT;
    it->v.f = f;
    c->p += 5;
    return true;
  }
  case 0xcb: {
    if (!read_fixed(c, 8)) return false;
    uint64_t u = be64(p + 1);
    memcpy(&it->v.f, &u, 8);
    it->kind = MP_FLOAT;
    c->p += 9;
    return true;
  }
  case 0xcc: if (!read_fixed(c, 1)) return false; it->kind = MP_INT; it->v.i = p[1]; c->p += 2; return true;
  case 0xcd: if (!read_fixed(c, 2)) return false; it->kind = MP_INT; it->v.i = be16(p + 1); c->p += 3; return true;
  case 0xce: if (!read_fixed(c, 4)) return false; it->kind = MP_INT; it->v.i = be32(p + 1); c->p += 5; return true;
  case 0xcf: {
    if (!read_fixed(c, 8)) return false;
    uint64_t u = be64(p + 1);
    if (u > (uint64_t)INT64_MAX) {
      it->kind = MP_UINT;
      it->v.u = u;
    } else {
      it->kind = MP_INT;
      it->v.i = (int64_t)u;
    }
    c->p += 9;
    return true;
  }
  case 0xd0: if (!read_fixed(c, 1)) return false; it->kind = MP_INT; it->v.i = (int8_t)p[1]; c->p += 2; return true;
  case 0xd1: if (!read_fixed(c, 2)) return false; it->kind = MP_INT; it->v.i = (int16_t)be16(p + 1); c->p += 3; return true;
  case 0xd2: if (!read_fixed(c, 4)) return false; it->kind = MP_INT; it->v.i = (int32_t)be32(p + 1); c->p += 5; return true;
  case 0xd3: if (!read_fixed(c, 8)) return false; it->kind = MP_INT; it->v.i = (int64_t)be64(p + 1); c->p += 9; return true;
  case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8: {
    size_t n = (size_t)1 << (b - 0xd4);
    if (!read_fixed(c, 1 + n)) return false;
    it->kind = MP_EXT;
    it->ext_type = (int8_t)p[1];
    it->v.s.p = (const char *)p + 2;
    it->v.s.len = (uint32_t)n;
    c->p += 2 + n;
    return true;
  }
  case 0xd9: return read_span(c, it, MP_STR, 1, 0);
  case 0xda: return read_span(c, it, MP_STR, 2, 0);
  case 0xdb: return read_span(c, it, MP_STR, 4, 0);
  case 0xdc: if (!read_fixed(c, 2)) return false; it->kind = MP_ARRAY; it->v.n = be16(p + 1); c->p += 3; return true;
  case 0xdd: if (!read_fixed(c, 4)) return false; it->kind = MP_ARRAY; it->v.n = be32(p + 1); c->p += 5; return true;
  case 0xde: if (!read_fixed(c, 2)) return false; it->kind = MP_MAP; it->v.n = be16(p + 1); c->p += 3; return true;
  case 0xdf: if (!read_fixed(c, 4)) return false; it->kind = MP_MAP; it->v.n = be32(p + 1); c->p += 5; return true;
  default: return false; /* 0xc1 is never used */
  }
}

bool mp_skip(mp_cur *c, int max_depth) {
  /* Iterative: `pending` counts values still to skip at the current nesting. Each container
   * adds its children; the depth bound is checked with an explicit stack of remaining counts. */
  uint64_t stack[64];
  if (max_depth > 64) max_depth = 64;
  int depth = 0;
  uint64_t pending = 1;
  mp_cur cur = *c;
  for (;;) {
    while (pending == 0) {
      if (depth == 0) {
        *c = cur;
        return true;
      }
      pending = stack[--depth];
    }
    mp_item it;
    if (!mp_next(&cur, &it)) return false;
    pending--;
    if (it.kind == MP_ARRAY || it.kind == MP_MAP) {
      uint64_t children = it.kind == MP_MAP ? 2 * (uint64_t)it.v.n : it.v.n;
      /* Every child takes at least one byte: reject counts the buffer cannot hold. */
      if (children > (uint64_t)(cur.end - cur.p)) return false;
      if (depth >= max_depth) return false;
      stack[depth++] = pending;
      pending = children;
    }
  }
}

bool mp_check(const uint8_t *p, size_t len, int max_depth) {
  mp_cur c = mp_cursor(p, len);
  return mp_skip(&c, max_depth) && mp_done(&c);
}

bool mp_map_find(mp_cur c, const char *key, size_t klen, mp_cur *val) {
  mp_item it;
  if (!mp_next(&c, &it) || it.kind != MP_MAP) return false;
  for (uint32_t i = 0; i < it.v.n; i++) {
    mp_cur key_start = c;
    mp_item k;
    if (!mp_next(&c, &k)) return false;
    if (k.kind == MP_STR) {
      if (k.v.s.len == klen && memcmp(k.v.s.p, key, klen) == 0) {
        *val = c;
        return true;
      }
    } else {
      c = key_start; /* a non-string key (never in canonical values): skip it whole */
      if (!mp_skip(&c, 64)) return false;
    }
    if (!mp_skip(&c, 64)) return false;
  }
  return false;
}
