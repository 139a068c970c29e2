/*
 * qmp.h — MessagePack readers for the query engine's hot path, inline so that a filter's
 * field lookups and comparisons compile into the evaluation loop. Bounds-checked like mp.h
 * (every read checks the remaining length); scalars are skipped without mp.h's depth stack,
 * containers fall back to mp_skip().
 */
#ifndef GDB_CORE_QMP_H
#define GDB_CORE_QMP_H

#include "core/mp.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* Byte equality for the short strings of keys and operands (a libc call costs more). */
static inline bool gdb_qmp_eq(const void *a, const void *b, size_t n) {
  const unsigned char *x = a, *y = b;
  if (n > 16) return memcmp(x, y, n) == 0;
  for (size_t i = 0; i < n; i++)
    if (x[i] != y[i]) return false;
  return true;
}

static inline uint32_t qmp_be16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }
static inline uint32_t qmp_be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t qmp_be64(const uint8_t *p) {
  return (uint64_t)qmp_be32(p) << 32 | qmp_be32(p + 4);
}

static inline const uint8_t *gdb_qmp_skip(const uint8_t *p, const uint8_t *end) {
  if (p >= end) return NULL;
  uint8_t b = *p;
  size_t n, avail = (size_t)(end - p);
  if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) return p + 1;
  if ((b & 0xe0) == 0xa0) {
    n = 1 + (size_t)(b & 0x1f);
  } else {
    switch (b) {
    case 0xcc:
    case 0xd0: n = 2; break;
    case 0xcd:
    case 0xd1: n = 3; break;
    case 0xce:
    case 0xd2:
    case 0xca: n = 5; break;
    case 0xcf:
    case 0xd3:
    case 0xcb: n = 9; break;
    case 0xd9:
    case 0xc4: n = avail >= 2 ? 2 + (size_t)p[1] : SIZE_MAX; break;
    case 0xda:
    case 0xc5: n = avail >= 3 ? 3 + (size_t)qmp_be16(p + 1) : SIZE_MAX; break;
    case 0xdb:
    case 0xc6: n = avail >= 5 ? 5 + (size_t)qmp_be32(p + 1) : SIZE_MAX; break;
    default: {
      mp_cur c = mp_cursor(p, avail);
      return mp_skip(&c, 64) ? c.p : NULL;
    }
    }
  }
  return n <= avail ? p + n : NULL;
}

static inline const uint8_t *gdb_qmp_container(const uint8_t *p, const uint8_t *end, int kind,
                                               uint32_t *n) {
  if (p >= end) return NULL;
  uint8_t b = *p;
  size_t avail = (size_t)(end - p);
  if (kind == MP_MAP) {
    if ((b & 0xf0) == 0x80) return *n = b & 0x0f, p + 1;
    if (b == 0xde && avail >= 3) return *n = qmp_be16(p + 1), p + 3;
    if (b == 0xdf && avail >= 5) return *n = qmp_be32(p + 1), p + 5;
  } else {
    if ((b & 0xf0) == 0x90) return *n = b & 0x0f, p + 1;
    if (b == 0xdc && avail >= 3) return *n = qmp_be16(p + 1), p + 3;
    if (b == 0xdd && avail >= 5) return *n = qmp_be32(p + 1), p + 5;
  }
  return NULL;
}

static inline bool gdb_qmp_str(const uint8_t *p, const uint8_t *end, const char **s,
                               uint32_t *len) {
  if (p >= end) return false;
  uint8_t b = *p;
  size_t avail = (size_t)(end - p), h, l;
  if ((b & 0xe0) == 0xa0)
    h = 1, l = b & 0x1f;
  else if (b == 0xd9 && avail >= 2)
    h = 2, l = p[1];
  else if (b == 0xda && avail >= 3)
    h = 3, l = qmp_be16(p + 1);
  else if (b == 0xdb && avail >= 5)
    h = 5, l = qmp_be32(p + 1);
  else
    return false;
  if (avail - h < l) return false;
  *s = (const char *)p + h;
  *len = (uint32_t)l;
  return true;
}

__attribute__((always_inline)) static inline const uint8_t *
gdb_qmp_find(const uint8_t *p, const uint8_t *end, const char *key, size_t klen) {
  uint32_t n;
  p = gdb_qmp_container(p, end, MP_MAP, &n);
  if (!p) return NULL;
  for (uint32_t i = 0; i < n; i++) {
    if (p >= end) return NULL;
    uint8_t b = *p;
    const uint8_t *v;
    if ((b & 0xe0) == 0xa0) { /* fixstr: nearly every key */
      size_t l = b & 0x1f;
      v = p + 1 + l;
      if (v >= end) return NULL;
      if (l == klen && gdb_qmp_eq(p + 1, key, klen)) return v;
    } else {
      const char *s;
      uint32_t l;
      if (gdb_qmp_str(p, end, &s, &l)) {
        v = (const uint8_t *)s + l;
        if (l == klen && memcmp(s, key, klen) == 0) return v < end ? v : NULL;
      } else if (!(v = gdb_qmp_skip(p, end))) {
        return NULL;
      }
    }
    if (!(p = gdb_qmp_skip(v, end))) return NULL;
  }
  return NULL;
}

static inline bool gdb_qmp_num(const uint8_t *p, const uint8_t *end, double *out) {
  if (p >= end) return false;
  uint8_t b = *p;
  size_t avail = (size_t)(end - p);
  if (b <= 0x7f) return *out = b, true;
  if (b >= 0xe0) return *out = (int8_t)b, true;
  switch (b) {
  case 0xcc:
    if (avail < 2) return false;
    *out = p[1];
    return true;
  case 0xcd:
    if (avail < 3) return false;
    *out = qmp_be16(p + 1);
    return true;
  case 0xce:
    if (avail < 5) return false;
    *out = qmp_be32(p + 1);
    return true;
  case 0xcf:
    if (avail < 9) return false;
    *out = (double)qmp_be64(p + 1);
    return true;
  case 0xd0:
    if (avail < 2) return false;
    *out = (int8_t)p[1];
    return true;
  case 0xd1:
    if (avail < 3) return false;
    *out = (int16_t)qmp_be16(p + 1);
    return true;
  case 0xd2:
    if (avail < 5) return false;
    *out = (int32_t)qmp_be32(p + 1);
    return true;
  case 0xd3:
    if (avail < 9) return false;
    *out = (double)(int64_t)qmp_be64(p + 1);
    return true;
  case 0xca: {
    if (avail < 5) return false;
    uint32_t u = qmp_be32(p + 1);
    float f;
    memcpy(&f, &u, 4);
    *out = f;
    return true;
  }
  case 0xcb: {
    if (avail < 9) return false;
    uint64_t u = qmp_be64(p + 1);
    memcpy(out, &u, 8);
    return true;
  }
  default: return false;
  }
}

#endif
