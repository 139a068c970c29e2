/*
 * value.c — JSON <-> canonical MessagePack, canonical JSON, content ids. See value.h.
 *
 * Input from outside the library is parsed by jansson (JSON) or msgpack-c (MessagePack) and
 * re-encoded canonically with msgpack-c's packer; values the library wrote are printed by
 * walking them with the mp.h cursor.
 */
/* SHA256_Init & co. are deprecated in OpenSSL 3 but remain its fastest path for short input. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "core/value.h"

#include "core/error.h"
#include "core/mp.h"

#include <float.h>
#include <locale.h>
#include <math.h>
#include <msgpack.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>

/* ───────────── canonical key order ───────────── */

/* An array index: "0" or digits without a leading zero, value < 2^32 - 1. */
static bool key_index(const char *k, size_t len, uint64_t *out) {
  if (len == 0 || len > 10) return false;
  if (k[0] == '0' && len > 1) return false;
  uint64_t v = 0;
  for (size_t i = 0; i < len; i++) {
    if (k[i] < '0' || k[i] > '9') return false;
    v = v * 10 + (uint64_t)(k[i] - '0');
  }
  if (v >= 4294967295u) return false;
  *out = v;
  return true;
}

/* Decodes the code point of valid UTF-8 starting at s[i] (i < len). */
static uint32_t utf8_at(const unsigned char *s, size_t len, size_t i) {
  uint32_t c = s[i];
  int n = c < 0x80 ? 0 : c < 0xe0 ? 1 : c < 0xf0 ? 2 : 3;
  if (n) c &= 0x3f >> n;
  for (int k = 1; k <= n && i + (size_t)k < len; k++) c = c << 6 | (s[i + (size_t)k] & 0x3f);
  return c;
}

/* The first UTF-16 code unit of a code point (the high surrogate above the BMP). */
static uint32_t utf16_first(uint32_t cp) {
  return cp >= 0x10000 ? 0xd800 + ((cp - 0x10000) >> 10) : cp;
}
static uint32_t utf16_second(uint32_t cp) {
  return cp >= 0x10000 ? 0xdc00 + ((cp - 0x10000) & 0x3ff) : 0;
}

int gdb_canon_key_cmp(const char *a, size_t alen, const char *b, size_t blen) {
  uint64_t ia, ib;
  /* Only keys starting with a digit can be array indices. */
  bool da = alen && a[0] >= '0' && a[0] <= '9', db = blen && b[0] >= '0' && b[0] <= '9';
  bool xa = da && key_index(a, alen, &ia), xb = db && key_index(b, blen, &ib);
  if (xa || xb) {
    if (xa && xb) return ia < ib ? -1 : ia > ib;
    return xa ? -1 : 1;
  }
  const unsigned char *ua = (const unsigned char *)a, *ub = (const unsigned char *)b;
  size_t n = alen < blen ? alen : blen, i = 0;
  while (i < n && ua[i] == ub[i]) i++;
  if (i == n) return alen < blen ? -1 : alen > blen;
  if (ua[i] < 0x80 && ub[i] < 0x80) return ua[i] < ub[i] ? -1 : 1; /* ASCII: bytes are code units */
  /* The strings share bytes [0, i): back up to the start of the character that differs. */
  while (i > 0 && (ua[i] & 0xc0) == 0x80) i--;
  uint32_t ca = utf8_at(ua, alen, i), cb = utf8_at(ub, blen, i);
  uint32_t fa = utf16_first(ca), fb = utf16_first(cb);
  if (fa != fb) return fa < fb ? -1 : 1;
  uint32_t sa = utf16_second(ca), sb = utf16_second(cb);
  return sa < sb ? -1 : sa > sb;
}

/* ───────────── numbers ───────────── */

static locale_t c_locale(void) {
  static locale_t loc;
  if (!loc) loc = newlocale(LC_ALL_MASK, "C", (locale_t)0);
  return loc;
}

/* Exact powers of ten (every 10^k with k <= 22 is a double). */
static const double POW10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                               1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* The shortest round-trip digits of finite x > 0 when they number at most 15 and x has a
 * decimal form with at most 22 fractional digits: y = x * 10^k integral with |y| < 10^15, and
 * y / 10^k (IEEE division of two exact values: the correctly rounded quotient, which is what
 * strtod returns for that decimal) == x. A decimal of at most 15 significant digits that
 * round-trips is the correctly rounded 15-digit form of x (its distance to x, at most half an
 * ulp or 1.2e-16 relative, is below half a unit of the 15th digit, 5e-16 relative), so it is
 * the shortest form, as the slow path would find. Returns the digit count (0: use the slow
 * path); *n is the decimal exponent, x = 0.d1d2... * 10^n. Numbers as typed by people (12.25,
 * 0.1, 3.14159, 1e-7) take this path: one multiply per candidate k, no printf, no strtod. */
static int shortest_digits_fast(double x, char digits[20], int *n) {
  for (int k = 0; k <= 22; k++) {
    double y = x * POW10[k];
    if (y >= 1e15) return 0;
    if (y != trunc(y) || y / POW10[k] != x) continue;
    uint64_t u = (uint64_t)y;
    if (u == 0) return 0;
    char tmp[20];
    int len = 0;
    for (; u; u /= 10) tmp[len++] = (char)('0' + u % 10);
    int lead = len; /* digits before trailing zeros are dropped */
    int zeros = 0;
    while (zeros < len - 1 && tmp[zeros] == '0') zeros++;
    for (int i = 0; i < len - zeros; i++) digits[i] = tmp[len - 1 - i];
    *n = lead - k;
    return len - zeros;
  }
  return 0;
}

/* The shortest round-trip digits by printf: the smallest precision whose correctly rounded
 * form reads back as x. For normal numbers that is the first of 15, 16, 17 that works (at 15,
 * trailing zeros dropped give any shorter form, by the argument above); subnormals have fewer
 * significant bits, so their search starts at 1 (more digits never stop round-tripping, so a
 * binary search finds it). */
static int shortest_digits_slow(double x, char digits[20], int *n) {
  locale_t old = uselocale(c_locale());
  char tmp[40];
  if (x < DBL_MIN) {
    int lo = 1, hi = 17;
    while (lo < hi) {
      int mid = (lo + hi) / 2;
      snprintf(tmp, sizeof tmp, "%.*e", mid - 1, x);
      if (strtod(tmp, NULL) == x)
        hi = mid;
      else
        lo = mid + 1;
    }
    snprintf(tmp, sizeof tmp, "%.*e", lo - 1, x);
  } else {
    for (int p = 15; p <= 17; p++) {
      snprintf(tmp, sizeof tmp, "%.*e", p - 1, x);
      if (p == 17 || strtod(tmp, NULL) == x) break;
    }
  }
  uselocale(old);
  /* tmp is d[.ddd]e(+|-)XX: split into digits and the exponent. */
  const char *p = tmp;
  int k = 0;
  for (; *p != 'e'; p++)
    if (*p >= '0' && *p <= '9') digits[k++] = *p;
  while (k > 1 && digits[k - 1] == '0') k--;
  *n = atoi(p + 1) + 1;
  return k;
}

size_t gdb_format_double(double x, char *out) {
  if (x == 0 || !isfinite(x)) { /* -0 prints as 0; NaN/Infinity never reach canonical values */
    memcpy(out, x == 0 ? "0" : "null", x == 0 ? 2 : 5);
    return x == 0 ? 1 : 4;
  }
  char *o = out;
  if (x < 0) {
    *o++ = '-';
    x = -x;
  }
  char digits[20];
  int n; /* x = 0.d1d2…dk × 10^n */
  int k = shortest_digits_fast(x, digits, &n);
  if (!k) k = shortest_digits_slow(x, digits, &n);

  /* Layout as Number::toString (ECMA-262 §6.1.6.1.20). */
  if (k <= n && n <= 21) {
    memcpy(o, digits, (size_t)k);
    o += k;
    for (int i = k; i < n; i++) *o++ = '0';
  } else if (0 < n && n <= 21) {
    memcpy(o, digits, (size_t)n);
    o += n;
    *o++ = '.';
    memcpy(o, digits + n, (size_t)(k - n));
    o += k - n;
  } else if (-6 < n && n <= 0) {
    *o++ = '0';
    *o++ = '.';
    for (int i = 0; i < -n; i++) *o++ = '0';
    memcpy(o, digits, (size_t)k);
    o += k;
  } else {
    *o++ = digits[0];
    if (k > 1) {
      *o++ = '.';
      memcpy(o, digits + 1, (size_t)(k - 1));
      o += k - 1;
    }
    o += sprintf(o, "e%c%d", n - 1 < 0 ? '-' : '+', abs(n - 1));
  }
  *o = 0;
  return (size_t)(o - out);
}

static size_t format_int(int64_t v, char *out) {
  char tmp[24];
  int n = 0;
  uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
  do {
    tmp[n++] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  size_t len = 0;
  if (v < 0) out[len++] = '-';
  while (n) out[len++] = tmp[--n];
  out[len] = 0;
  return len;
}

/* ───────────── strings ───────────── */

bool gdb_utf8_valid(const char *str, size_t len) {
  if (len == 0) return true; /* str may be NULL (msgpack-c's empty strings) */
  const unsigned char *s = (const unsigned char *)str, *end = s + len;
  while (s < end) {
    /* ASCII runs, eight bytes at a time */
    while (end - s >= 8) {
      uint64_t w;
      memcpy(&w, s, 8);
      if (w & 0x8080808080808080ULL) break;
      s += 8;
    }
    if (s >= end) break;
    if (*s < 0x80) {
      s++;
      continue;
    }
    uint32_t c;
    int n;
    if (*s >= 0xc2 && *s <= 0xdf) {
      c = *s & 0x1f;
      n = 1;
    } else if (*s >= 0xe0 && *s <= 0xef) {
      c = *s & 0x0f;
      n = 2;
    } else if (*s >= 0xf0 && *s <= 0xf4) {
      c = *s & 0x07;
      n = 3;
    } else {
      return false;
    }
    if (end - s <= n) return false;
    for (int i = 1; i <= n; i++) {
      if ((s[i] & 0xc0) != 0x80) return false;
      c = c << 6 | (s[i] & 0x3f);
    }
    if ((n == 2 && c < 0x800) || (n == 3 && (c < 0x10000 || c > 0x10ffff)) ||
        (c >= 0xd800 && c <= 0xdfff))
      return false;
    s += n + 1;
  }
  return true;
}

void gdb_json_escape(gdb_buf *out, const char *s, size_t len) {
  static const char HEX[] = "0123456789abcdef";
  /* Room for the common case (nothing to escape) up front; escapes grow it as needed. */
  if (out->len + len + 2 > out->cap && !gdb_buf_grow(out, len + 2)) return;
  uint8_t *o = out->data + out->len;
  *o++ = '"';
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c != '"' && c != '\\') {
      *o++ = c;
      continue;
    }
    char esc[6] = {'\\', 0};
    size_t n = 2;
    switch (c) {
    case '"': esc[1] = '"'; break;
    case '\\': esc[1] = '\\'; break;
    case '\b': esc[1] = 'b'; break;
    case '\f': esc[1] = 'f'; break;
    case '\n': esc[1] = 'n'; break;
    case '\r': esc[1] = 'r'; break;
    case '\t': esc[1] = 't'; break;
    default:
      memcpy(esc + 1, "u00", 3);
      esc[4] = HEX[c >> 4];
      esc[5] = HEX[c & 15];
      n = 6;
    }
    out->len = (size_t)(o - out->data);
    /* the rest of the string, the closing quote and this escape */
    if (out->len + n + (len - i) + 1 > out->cap && !gdb_buf_grow(out, n + (len - i) + 1)) return;
    o = out->data + out->len;
    memcpy(o, esc, n);
    o += n;
  }
  *o++ = '"';
  out->len = (size_t)(o - out->data);
}

/* ───────────── base64 for blobs ───────────── */

static void put_base64(gdb_buf *out, const char *p, size_t len) {
  size_t need = 4 * ((len + 2) / 3);
  if (!gdb_buf_grow(out, need)) return;
  EVP_EncodeBlock(out->data + out->len, (const unsigned char *)p, (int)len);
  out->len += need;
}

/* Strict standard base64 (with padding). Returns decoded length or -1. */
static long decode_base64(const char *s, size_t len, unsigned char *out) {
  if (len % 4) return -1;
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/' || (c == '=' && i >= len - 2);
    if (!ok) return -1;
  }
  if (len >= 2 && s[len - 2] == '=' && s[len - 1] != '=') return -1;
  if (len == 0) return 0;
  int n = EVP_DecodeBlock(out, (const unsigned char *)s, (int)len);
  if (n < 0) return -1;
  return n - (s[len - 1] == '=') - (s[len - 2] == '=');
}

/* ───────────── canonical MessagePack writer ───────────── */

static int buf_write(void *data, const char *p, size_t len) {
  gdb_buf_put(data, p, len);
  return 0;
}

typedef struct canon_writer {
  msgpack_packer pk;
  gdb_buf *out;
} canon_writer;

static void writer_init(canon_writer *w, gdb_buf *out) {
  w->out = out;
  msgpack_packer_init(&w->pk, out, buf_write);
}

static int pack_double(canon_writer *w, double d) {
  if (!isfinite(d)) return gdb_fail(GDB_EINVAL, "numbers must be finite (NaN and Infinity are not JSON)");
  if (d == 0)
    msgpack_pack_int64(&w->pk, 0);
  else if (d == trunc(d) && fabs(d) <= GDB_MAX_SAFE_INT)
    msgpack_pack_int64(&w->pk, (int64_t)d);
  else
    msgpack_pack_double(&w->pk, d);
  return GDB_OK;
}

static void pack_int(canon_writer *w, int64_t v) {
  if (v > (int64_t)GDB_MAX_SAFE_INT || v < -(int64_t)GDB_MAX_SAFE_INT)
    pack_double(w, (double)v); /* rounds as JavaScript would, possibly back to 2^53 exactly */
  else
    msgpack_pack_int64(&w->pk, v);
}

static void pack_str(canon_writer *w, const char *s, size_t len) {
  msgpack_pack_str(&w->pk, len);
  msgpack_pack_str_body(&w->pk, s, len);
}

/* A map entry being sorted: key bytes and the (source-specific) value. */
typedef struct canon_kv {
  const char *k;
  size_t klen;
  const void *v;
} canon_kv;

static int kv_cmp(const void *a, const void *b) {
  const canon_kv *x = a, *y = b;
  return gdb_canon_key_cmp(x->k, x->klen, y->k, y->klen);
}

/* Sorts entries and rejects duplicate keys. */
static int sort_entries(canon_kv *kv, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!kv[i].k) kv[i].k = ""; /* msgpack-c leaves empty strings without a pointer */
  if (n > 1) qsort(kv, n, sizeof *kv, kv_cmp);
  for (size_t i = 1; i < n; i++)
    if (kv[i].klen == kv[i - 1].klen && (kv[i].klen == 0 || !memcmp(kv[i].k, kv[i - 1].k, kv[i].klen)))
      return gdb_fail(GDB_EINVAL, "duplicate key \"%.*s\" in an object", (int)(kv[i].klen > 64 ? 64 : kv[i].klen), kv[i].k);
  return GDB_OK;
}

/* ── from jansson ── */

static int from_jansson(canon_writer *w, const json_t *j, int depth);

static int from_jansson_object(canon_writer *w, const json_t *j, int depth) {
  /* {"$bin": "<base64>"} is a blob. */
  if (json_object_size(j) == 1) {
    const json_t *b = json_object_get(j, "$bin");
    if (b) {
      if (!json_is_string(b)) return gdb_fail(GDB_EINVAL, "\"$bin\" must hold a base64 string (the key marks a binary blob)");
      size_t len = json_string_length(b);
      unsigned char *raw = malloc(len / 4 * 3 + 3);
      if (!raw) return gdb_fail(GDB_ENOMEM, "out of memory");
      long n = decode_base64(json_string_value(b), len, raw);
      if (n < 0) {
        free(raw);
        return gdb_fail(GDB_EINVAL, "\"$bin\" is not valid base64 (the key marks a binary blob)");
      }
      msgpack_pack_bin(&w->pk, (size_t)n);
      msgpack_pack_bin_body(&w->pk, raw, (size_t)n);
      free(raw);
      return GDB_OK;
    }
  }
  size_t n = json_object_size(j), i = 0;
  canon_kv stackbuf[16], *kv = n <= 16 ? stackbuf : malloc(n * sizeof *kv);
  if (!kv) return gdb_fail(GDB_ENOMEM, "out of memory");
  const char *key;
  const json_t *val;
  void *iter = json_object_iter((json_t *)j);
  for (; iter; iter = json_object_iter_next((json_t *)j, iter), i++) {
    key = json_object_iter_key(iter);
    val = json_object_iter_value(iter);
    kv[i] = (canon_kv){key, json_object_iter_key_len(iter), val};
  }
  int rc = sort_entries(kv, n);
  if (!rc) {
    msgpack_pack_map(&w->pk, n);
    for (i = 0; i < n && !rc; i++) {
      pack_str(w, kv[i].k, kv[i].klen);
      rc = from_jansson(w, kv[i].v, depth + 1);
    }
  }
  if (kv != stackbuf) free(kv);
  return rc;
}

static int from_jansson(canon_writer *w, const json_t *j, int depth) {
  if ((json_is_object(j) || json_is_array(j)) && depth >= GDB_VALUE_MAX_DEPTH)
    return gdb_fail(GDB_EINVAL, "value nests deeper than %d levels", GDB_VALUE_MAX_DEPTH);
  switch (json_typeof(j)) {
  case JSON_OBJECT: return from_jansson_object(w, j, depth);
  case JSON_ARRAY: {
    size_t n = json_array_size(j);
    msgpack_pack_array(&w->pk, n);
    for (size_t i = 0; i < n; i++) {
      int rc = from_jansson(w, json_array_get(j, i), depth + 1);
      if (rc) return rc;
    }
    return GDB_OK;
  }
  case JSON_STRING: pack_str(w, json_string_value(j), json_string_length(j)); return GDB_OK;
  case JSON_INTEGER: pack_int(w, json_integer_value(j)); return GDB_OK;
  case JSON_REAL: return pack_double(w, json_real_value(j));
  case JSON_TRUE: msgpack_pack_true(&w->pk); return GDB_OK;
  case JSON_FALSE: msgpack_pack_false(&w->pk); return GDB_OK;
  case JSON_NULL: msgpack_pack_nil(&w->pk); return GDB_OK;
  }
  return gdb_fail(GDB_EINVAL, "unknown JSON type");
}

int gdb_value_from_jansson(const json_t *j, gdb_buf *out) {
  canon_writer w;
  writer_init(&w, out);
  int rc = from_jansson(&w, j, 0);
  if (!rc && out->oom) rc = gdb_fail(GDB_ENOMEM, "out of memory");
  return rc;
}

json_t *gdb_json_parse(const char *json, size_t len, const char *what) {
  json_error_t err;
  /* Integers parse as doubles so that numbers behave as in JavaScript: exact up to 2^53,
   * rounded beyond (pack_double turns integral values back into integers). */
  json_t *j = json_loadb(json, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL, &err);
  if (!j) {
    gdb_fail(GDB_EINVAL, "%s is not valid JSON: %s (line %d, column %d)", what, err.text, err.line, err.column);
    return NULL;
  }
  return j;
}

int gdb_json_to_value(const char *json, size_t len, uint8_t **out, size_t *out_len) {
  json_t *j = gdb_json_parse(json, len, "input");
  if (!j) return GDB_EINVAL;
  gdb_buf b = {0};
  int rc = gdb_value_from_jansson(j, &b);
  json_decref(j);
  if (rc) {
    gdb_buf_free(&b);
    return rc;
  }
  *out = b.data;
  *out_len = b.len;
  return GDB_OK;
}

/* ── from msgpack-c objects ── */

static int from_msgpack(canon_writer *w, const msgpack_object *o, int depth);

static int from_msgpack_map(canon_writer *w, const msgpack_object *o, int depth) {
  size_t n = o->via.map.size;
  canon_kv stackbuf[16], *kv = n <= 16 ? stackbuf : malloc(n * sizeof *kv);
  if (!kv) return gdb_fail(GDB_ENOMEM, "out of memory");
  int rc = GDB_OK;
  for (size_t i = 0; i < n && !rc; i++) {
    const msgpack_object_kv *e = &o->via.map.ptr[i];
    if (e->key.type != MSGPACK_OBJECT_STR)
      rc = gdb_fail(GDB_EINVAL, "map keys must be strings (JSON objects have string keys)");
    else if (!gdb_utf8_valid(e->key.via.str.ptr, e->key.via.str.size))
      rc = gdb_fail(GDB_EINVAL, "a map key is not valid UTF-8");
    else
      kv[i] = (canon_kv){e->key.via.str.ptr, e->key.via.str.size, &e->val};
  }
  if (!rc) rc = sort_entries(kv, n);
  if (!rc) {
    msgpack_pack_map(&w->pk, n);
    for (size_t i = 0; i < n && !rc; i++) {
      pack_str(w, kv[i].k, kv[i].klen);
      rc = from_msgpack(w, kv[i].v, depth + 1);
    }
  }
  if (kv != stackbuf) free(kv);
  return rc;
}

static int from_msgpack(canon_writer *w, const msgpack_object *o, int depth) {
  if ((o->type == MSGPACK_OBJECT_MAP || o->type == MSGPACK_OBJECT_ARRAY) && depth >= GDB_VALUE_MAX_DEPTH)
    return gdb_fail(GDB_EINVAL, "value nests deeper than %d levels", GDB_VALUE_MAX_DEPTH);
  switch (o->type) {
  case MSGPACK_OBJECT_NIL: msgpack_pack_nil(&w->pk); return GDB_OK;
  case MSGPACK_OBJECT_BOOLEAN:
    if (o->via.boolean) msgpack_pack_true(&w->pk);
    else msgpack_pack_false(&w->pk);
    return GDB_OK;
  case MSGPACK_OBJECT_POSITIVE_INTEGER:
    if (o->via.u64 > (uint64_t)INT64_MAX) return pack_double(w, (double)o->via.u64);
    pack_int(w, (int64_t)o->via.u64);
    return GDB_OK;
  case MSGPACK_OBJECT_NEGATIVE_INTEGER: pack_int(w, o->via.i64); return GDB_OK;
  case MSGPACK_OBJECT_FLOAT32:
  case MSGPACK_OBJECT_FLOAT64: return pack_double(w, o->via.f64);
  case MSGPACK_OBJECT_STR:
    if (!gdb_utf8_valid(o->via.str.ptr, o->via.str.size)) return gdb_fail(GDB_EINVAL, "a string is not valid UTF-8");
    pack_str(w, o->via.str.ptr, o->via.str.size);
    return GDB_OK;
  case MSGPACK_OBJECT_BIN:
    msgpack_pack_bin(&w->pk, o->via.bin.size);
    msgpack_pack_bin_body(&w->pk, o->via.bin.ptr, o->via.bin.size);
    return GDB_OK;
  case MSGPACK_OBJECT_ARRAY:
    msgpack_pack_array(&w->pk, o->via.array.size);
    for (uint32_t i = 0; i < o->via.array.size; i++) {
      int rc = from_msgpack(w, &o->via.array.ptr[i], depth + 1);
      if (rc) return rc;
    }
    return GDB_OK;
  case MSGPACK_OBJECT_MAP: return from_msgpack_map(w, o, depth);
  case MSGPACK_OBJECT_EXT: return gdb_fail(GDB_EINVAL, "MessagePack extension types are not JSON values");
  }
  return gdb_fail(GDB_EINVAL, "unknown MessagePack type");
}

int gdb_value_canonicalize_into(const uint8_t *mp, size_t len, gdb_buf *out) {
  /* The cursor rejects depth and truncation cheaply before msgpack-c allocates a tree. */
  if (!mp_check(mp, len, GDB_VALUE_MAX_DEPTH))
    return gdb_fail(GDB_EINVAL, "not one well-formed MessagePack value (truncated, trailing bytes, or nested deeper than %d levels)", GDB_VALUE_MAX_DEPTH);
  msgpack_unpacked u;
  msgpack_unpacked_init(&u);
  size_t off = 0;
  int rc;
  msgpack_unpack_return r = msgpack_unpack_next(&u, (const char *)mp, len, &off);
  if (r != MSGPACK_UNPACK_SUCCESS || off != len) {
    rc = gdb_fail(GDB_EINVAL, "not one well-formed MessagePack value");
  } else {
    canon_writer w;
    writer_init(&w, out);
    rc = from_msgpack(&w, &u.data, 0);
    if (!rc && out->oom) rc = gdb_fail(GDB_ENOMEM, "out of memory");
  }
  msgpack_unpacked_destroy(&u);
  return rc;
}

int gdb_value_canonicalize(const uint8_t *mp, size_t len, uint8_t **out, size_t *out_len) {
  gdb_buf b = {0};
  int rc = gdb_value_canonicalize_into(mp, len, &b);
  if (rc) {
    gdb_buf_free(&b);
    return rc;
  }
  *out = b.data;
  *out_len = b.len;
  return GDB_OK;
}

/* ───────────── canonical check (fast path for values already canonical) ───────────── */

/* Validates that the value at c is canonical and, when out is not NULL, appends its canonical
 * JSON in the same pass (a put without an id needs both). */
static bool canonical_walk(mp_cur *c, int depth, gdb_buf *out) {
  const uint8_t *start = c->p;
  mp_item it;
  if (!mp_next(c, &it)) return false;
  size_t enc = (size_t)(c->p - start);
  char num[32];
  switch (it.kind) {
  case MP_NIL:
    if (out) gdb_buf_put(out, "null", 4);
    return true;
  case MP_BOOL:
    if (out) gdb_buf_puts(out, it.v.b ? "true" : "false");
    return true;
  case MP_INT: {
    int64_t v = it.v.i;
    if (v > (int64_t)GDB_MAX_SAFE_INT || v < -(int64_t)GDB_MAX_SAFE_INT) return false;
    size_t want = (v >= -32 && v <= 127) ? 1 : (v >= -128 && v <= 255) ? 2 : (v >= -32768 && v <= 65535) ? 3 : (v >= INT32_MIN && v <= (int64_t)UINT32_MAX) ? 5 : 9;
    /* msgpack-c packs non-negative values as unsigned and negative ones as signed */
    if (enc != want || (v >= 0 && *start >= 0xd0 && *start <= 0xd3)) return false;
    if (out) gdb_buf_put(out, num, format_int(v, num));
    return true;
  }
  case MP_UINT: return false;
  case MP_FLOAT:
    if (*start != 0xcb || !isfinite(it.v.f) || (it.v.f == trunc(it.v.f) && fabs(it.v.f) <= GDB_MAX_SAFE_INT)) return false;
    if (out) gdb_buf_put(out, num, gdb_format_double(it.v.f, num));
    return true;
  case MP_STR: {
    size_t l = it.v.s.len, hdr = l < 32 ? 1 : l < 256 ? 2 : l < 65536 ? 3 : 5;
    if (enc != hdr + l || !gdb_utf8_valid(it.v.s.p, l)) return false;
    if (out) gdb_json_escape(out, it.v.s.p, l);
    return true;
  }
  case MP_BIN: {
    size_t l = it.v.s.len, hdr = l < 256 ? 2 : l < 65536 ? 3 : 5;
    if (enc != hdr + l) return false;
    if (out) {
      gdb_buf_puts(out, "{\"$bin\":\"");
      put_base64(out, it.v.s.p, l);
      gdb_buf_puts(out, "\"}");
    }
    return true;
  }
  case MP_EXT: return false;
  case MP_ARRAY:
  case MP_MAP: {
    uint32_t n = it.v.n;
    bool map = it.kind == MP_MAP;
    if (enc != (n < 16 ? 1u : n < 65536 ? 3u : 5u) || depth + 1 > GDB_VALUE_MAX_DEPTH) return false;
    if (out) gdb_buf_putc(out, map ? '{' : '[');
    const char *pk = NULL;
    uint32_t pklen = 0;
    for (uint32_t i = 0; i < n; i++) {
      if (out && i) gdb_buf_putc(out, ',');
      if (map) {
        mp_item k;
        mp_cur kc = *c;
        if (!mp_next(&kc, &k) || k.kind != MP_STR) return false;
        if (!canonical_walk(c, depth + 1, out)) return false; /* validates and prints the key */
        if (pk && gdb_canon_key_cmp(pk, pklen, k.v.s.p, k.v.s.len) >= 0) return false;
        pk = k.v.s.p;
        pklen = k.v.s.len;
        if (out) gdb_buf_putc(out, ':');
      }
      if (!canonical_walk(c, depth + 1, out)) return false;
    }
    if (out) gdb_buf_putc(out, map ? '}' : ']');
    return true;
  }
  }
  return false;
}

bool gdb_value_is_canonical(const uint8_t *mp, size_t len) {
  mp_cur c = mp_cursor(mp, len);
  return canonical_walk(&c, 0, NULL) && mp_done(&c);
}

bool gdb_value_canonical_json(const uint8_t *mp, size_t len, gdb_buf *out) {
  mp_cur c = mp_cursor(mp, len);
  return canonical_walk(&c, 0, out) && mp_done(&c) && !out->oom;
}

/* ───────────── JSON output ───────────── */

static bool write_json(gdb_buf *out, mp_cur *c, int depth) {
  mp_item it;
  if (depth > 64 || !mp_next(c, &it)) return false;
  char num[32];
  switch (it.kind) {
  case MP_NIL: gdb_buf_put(out, "null", 4); return true;
  case MP_BOOL: gdb_buf_puts(out, it.v.b ? "true" : "false"); return true;
  case MP_INT: gdb_buf_put(out, num, format_int(it.v.i, num)); return true;
  case MP_UINT: gdb_buf_put(out, num, gdb_format_double((double)it.v.u, num)); return true;
  case MP_FLOAT: gdb_buf_put(out, num, gdb_format_double(it.v.f, num)); return true;
  case MP_STR: gdb_json_escape(out, it.v.s.p, it.v.s.len); return true;
  case MP_BIN:
  case MP_EXT:
    gdb_buf_puts(out, "{\"$bin\":\"");
    put_base64(out, it.v.s.p, it.v.s.len);
    gdb_buf_puts(out, "\"}");
    return true;
  case MP_ARRAY:
    gdb_buf_putc(out, '[');
    for (uint32_t i = 0; i < it.v.n; i++) {
      if (i) gdb_buf_putc(out, ',');
      if (!write_json(out, c, depth + 1)) return false;
    }
    gdb_buf_putc(out, ']');
    return true;
  case MP_MAP:
    gdb_buf_putc(out, '{');
    for (uint32_t i = 0; i < it.v.n; i++) {
      if (i) gdb_buf_putc(out, ',');
      mp_item k;
      mp_cur kc = *c;
      if (mp_next(&kc, &k) && k.kind == MP_STR) {
        *c = kc;
        gdb_json_escape(out, k.v.s.p, k.v.s.len);
      } else {
        /* Non-string keys only occur in foreign MessagePack; print them as JSON text keys. */
        gdb_buf kb = {0};
        bool ok = write_json(&kb, c, depth + 1);
        if (ok) gdb_json_escape(out, (const char *)kb.data, kb.len);
        gdb_buf_free(&kb);
        if (!ok) return false;
      }
      gdb_buf_putc(out, ':');
      if (!write_json(out, c, depth + 1)) return false;
    }
    gdb_buf_putc(out, '}');
    return true;
  }
  return false;
}

int gdb_value_write_json(gdb_buf *out, const uint8_t *mp, size_t len) {
  mp_cur c = mp_cursor(mp, len);
  if (!write_json(out, &c, 0) || !mp_done(&c))
    return gdb_fail(GDB_ECORRUPT, "value is not well-formed MessagePack");
  if (out->oom) return gdb_fail(GDB_ENOMEM, "out of memory");
  return GDB_OK;
}

int gdb_value_to_json(const uint8_t *mp, size_t len, char **out, size_t *out_len) {
  gdb_buf b = {0};
  int rc = gdb_value_write_json(&b, mp, len);
  if (!rc) rc = gdb_buf_finish(&b);
  if (rc) {
    gdb_buf_free(&b);
    return rc;
  }
  *out = (char *)b.data;
  if (out_len) *out_len = b.len;
  return GDB_OK;
}

int gdb_canonical_json(const char *json, size_t len, char **out, size_t *out_len) {
  uint8_t *mp;
  size_t mplen;
  int rc = gdb_json_to_value(json, len, &mp, &mplen);
  if (rc) return rc;
  rc = gdb_value_to_json(mp, mplen, out, out_len);
  free(mp);
  return rc;
}

/* ───────────── jansson trees from values ───────────── */

static json_t *to_jansson(mp_cur *c, int depth) {
  mp_item it;
  if (depth > 64 || !mp_next(c, &it)) return NULL;
  switch (it.kind) {
  case MP_NIL: return json_null();
  case MP_BOOL: return json_boolean(it.v.b);
  case MP_INT: return json_integer(it.v.i);
  case MP_UINT: return json_real((double)it.v.u);
  case MP_FLOAT: return json_real(it.v.f);
  case MP_STR: return json_stringn_nocheck(it.v.s.p, it.v.s.len);
  case MP_BIN:
  case MP_EXT: {
    gdb_buf b = {0};
    put_base64(&b, it.v.s.p, it.v.s.len);
    json_t *o = b.oom ? NULL : json_pack("{s:s%}", "$bin", b.data ? (char *)b.data : "", b.len);
    gdb_buf_free(&b);
    return o;
  }
  case MP_ARRAY: {
    json_t *a = json_array();
    for (uint32_t i = 0; a && i < it.v.n; i++) {
      json_t *e = to_jansson(c, depth + 1);
      if (!e || json_array_append_new(a, e)) {
        json_decref(a);
        return NULL;
      }
    }
    return a;
  }
  case MP_MAP: {
    json_t *o = json_object();
    for (uint32_t i = 0; o && i < it.v.n; i++) {
      mp_item k;
      if (!mp_next(c, &k) || k.kind != MP_STR) {
        json_decref(o);
        return NULL;
      }
      json_t *v = to_jansson(c, depth + 1);
      if (!v || json_object_setn_new_nocheck(o, k.v.s.p, k.v.s.len, v)) {
        json_decref(o);
        return NULL;
      }
    }
    return o;
  }
  }
  return NULL;
}

json_t *gdb_value_to_jansson(const uint8_t *mp, size_t len) {
  mp_cur c = mp_cursor(mp, len);
  json_t *j = to_jansson(&c, 0);
  if (j && !mp_done(&c)) {
    json_decref(j);
    j = NULL;
  }
  if (!j) gdb_fail(GDB_ECORRUPT, "value is not well-formed MessagePack");
  return j;
}

/* ───────────── hashing ───────────── */

void gdb_sha256(const void *data, size_t len, uint8_t out[32]) {
  /* The low-level interface: through EVP a 64-byte digest costs twice as much here, and ids
   * of small values are hashed on every put. */
  SHA256_CTX c;
  SHA256_Init(&c);
  SHA256_Update(&c, data, len);
  SHA256_Final(out, &c);
}

int gdb_value_content_id(const uint8_t *mp, size_t len, char out[65]) {
  uint8_t stack[1024];
  gdb_buf b = GDB_BUF_ON_STACK(stack);
  int rc = gdb_value_write_json(&b, mp, len);
  if (!rc) {
    uint8_t d[32];
    gdb_sha256(b.data, b.len, d);
    gdb_hex(d, 32, out);
  }
  gdb_buf_free(&b);
  return rc;
}
