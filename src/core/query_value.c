/*
 * query_value.c — how the query engine reads and orders values: sort keys and their order,
 * ISO-8601 dates, the words of $text, SQL LIKE patterns, distances on the sphere, and the
 * MessagePack readers of the evaluation hot path.
 *
 * Values are read where they are stored (canonical MessagePack, see value.h); nothing here
 * allocates. The rules users see are written in docs/query.md.
 */
#include "core/mp.h"
#include "core/query.h"

#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* ── sort keys ── */

/* An unsigned integer whose order is the order of the doubles. */
static uint64_t dbl_key(double d) {
  if (d == 0) d = 0; /* -0 sorts as 0 */
  uint64_t u;
  memcpy(&u, &d, 8);
  return u >> 63 ? ~u : u | (1ull << 63);
}

static uint64_t bytes_prefix(const void *p, size_t len) {
  const uint8_t *b = p;
  uint64_t v = 0;
  for (size_t i = 0; i < 8; i++) v = v << 8 | (i < len ? b[i] : 0);
  return v;
}

static bool date_like(const char *s, size_t len) {
  return len >= 10 && s[4] == '-' && s[7] == '-' && (unsigned)(s[0] - '0') < 10 &&
         (unsigned)(s[1] - '0') < 10 && (unsigned)(s[2] - '0') < 10 && (unsigned)(s[3] - '0') < 10;
}

bool gdb_skey_of(const uint8_t *p, const uint8_t *end, gdb_skey *k) {
  memset(k, 0, sizeof *k);
  if (!p) return true; /* missing: null */
  if (p >= end) return false;
  uint8_t b = *p;
  double d;
  const char *s;
  uint32_t len;
  if (b == 0xc0) return true;
  if (b == 0xc2 || b == 0xc3) {
    k->cls = QCLS_BOOL;
    k->prefix = b == 0xc3;
    return true;
  }
  if (gdb_qmp_num(p, end, &d)) {
    k->cls = QCLS_NUM;
    k->prefix = dbl_key(d);
    return true;
  }
  if (gdb_qmp_str(p, end, &s, &len)) {
    k->cls = QCLS_STR;
    k->p = (const uint8_t *)s;
    k->len = len;
    char norm[GDB_DATE_NORM_LEN + 1];
    if (date_like(s, len) && gdb_date_norm(s, len, norm)) {
      k->date = true;
      k->prefix = bytes_prefix(norm, GDB_DATE_NORM_LEN);
    } else {
      k->prefix = bytes_prefix(s, len);
    }
    return true;
  }
  uint32_t n;
  if (b == 0xc4 || b == 0xc5 || b == 0xc6) {
    const uint8_t *e = gdb_qmp_skip(p, end);
    if (!e) return false;
    size_t h = b == 0xc4 ? 2 : b == 0xc5 ? 3 : 5;
    k->cls = QCLS_BIN;
    k->p = p + h;
    k->len = (uint32_t)(e - p - h);
    k->prefix = bytes_prefix(k->p, k->len);
    return true;
  }
  bool map = gdb_qmp_container(p, end, MP_MAP, &n) != NULL;
  if (map || gdb_qmp_container(p, end, MP_ARRAY, &n)) {
    const uint8_t *e = gdb_qmp_skip(p, end);
    if (!e) return false;
    k->cls = map ? QCLS_MAP : QCLS_ARR;
    k->p = p;
    k->len = (uint32_t)(e - p);
    k->prefix = bytes_prefix(p, k->len);
    return true;
  }
  return false;
}

static int bytes_cmp(const void *a, size_t al, const void *b, size_t bl) {
  size_t m = al < bl ? al : bl;
  int r = m ? memcmp(a, b, m) : 0;
  if (r) return r < 0 ? -1 : 1;
  return al < bl ? -1 : al > bl;
}

int gdb_skey_cmp(const gdb_skey *a, const gdb_skey *b) {
  if (a->cls != b->cls) return a->cls < b->cls ? -1 : 1;
  if (a->prefix != b->prefix) return a->prefix < b->prefix ? -1 : 1;
  switch (a->cls) {
  case QCLS_NULL:
  case QCLS_NUM:
  case QCLS_BOOL: return 0;
  case QCLS_STR: {
    if (!a->date && !b->date) return bytes_cmp(a->p, a->len, b->p, b->len);
    char na[GDB_DATE_NORM_LEN + 1], nb[GDB_DATE_NORM_LEN + 1];
    const void *pa = a->p, *pb = b->p;
    size_t la = a->len, lb = b->len;
    if (a->date && gdb_date_norm((const char *)a->p, a->len, na)) pa = na, la = GDB_DATE_NORM_LEN;
    if (b->date && gdb_date_norm((const char *)b->p, b->len, nb)) pb = nb, lb = GDB_DATE_NORM_LEN;
    int r = bytes_cmp(pa, la, pb, lb);
    if (r || (a->date && b->date && (a->instant || b->instant))) return r;
    /* the same instant written two ways: order by the text, so the order stays total */
    return bytes_cmp(a->p, a->len, b->p, b->len);
  }
  default: return bytes_cmp(a->p, a->len, b->p, b->len);
  }
}

/* ── ISO-8601 dates ── */

static bool digits(const char *s, size_t len, size_t at, size_t n, int *out) {
  if (at + n > len) return false;
  int v = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned d = (unsigned)(s[at + i] - '0');
    if (d > 9) return false;
    v = v * 10 + (int)d;
  }
  *out = v;
  return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

static int days_in_month(int y, int m) {
  static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : dim[m - 1];
}

bool gdb_date_norm(const char *s, size_t len, char out[GDB_DATE_NORM_LEN + 1]) {
  int y, mo, d, h = 0, mi = 0, sec = 0, oh = 0, om = 0, sign = 0;
  char frac[10] = "000000000";
  if (!date_like(s, len) || !digits(s, len, 0, 4, &y) || !digits(s, len, 5, 2, &mo) ||
      !digits(s, len, 8, 2, &d))
    return false;
  if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo)) return false;
  size_t i = 10;
  if (i < len) {
    if (s[i] != 'T' && s[i] != 't') return false;
    if (!digits(s, len, i + 1, 2, &h) || i + 3 >= len || s[i + 3] != ':' ||
        !digits(s, len, i + 4, 2, &mi))
      return false;
    i += 6;
    if (h > 23 || mi > 59) return false;
    if (i < len && s[i] == ':') {
      if (!digits(s, len, i + 1, 2, &sec) || sec > 59) return false;
      i += 3;
      if (i < len && (s[i] == '.' || s[i] == ',')) {
        size_t n = 0;
        for (i++; i < len && (unsigned)(s[i] - '0') < 10; i++, n++)
          if (n < 9) frac[n] = s[i];
        if (n == 0) return false;
      }
    }
    if (i < len) {
      if (s[i] == 'Z' || s[i] == 'z') {
        i++;
      } else if (s[i] == '+' || s[i] == '-') {
        sign = s[i] == '+' ? 1 : -1;
        if (!digits(s, len, i + 1, 2, &oh) || oh > 23) return false;
        i += 3;
        if (i < len && s[i] == ':') i++;
        if (i < len) {
          if (!digits(s, len, i, 2, &om) || om > 59) return false;
          i += 2;
        }
      } else {
        return false;
      }
    }
    if (i != len) return false;
  }
  int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
              (int64_t)sign * (oh * 3600 + om * 60);
  int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
  int64_t rem = t - days * 86400, yy;
  civil_from_days(days, &yy, &mo, &d);
  if (yy < 0 || yy > 9999) return false;
  /* "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ", every field in range by construction */
  int fields[6] = {(int)yy, mo, d, (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60)};
  static const char sep[6] = {'-', '-', 'T', ':', ':', '.'};
  char *o = out;
  for (int f = 0; f < 6; f++) {
    int v = fields[f], w = f ? 2 : 4;
    for (int k = w - 1; k >= 0; k--, v /= 10) o[k] = (char)('0' + v % 10);
    o[w] = sep[f];
    o += w + 1;
  }
  memcpy(o, frac, 9);
  o[9] = 'Z';
  o[10] = 0;
  return true;
}

/* ── words ── */

typedef struct wordbuf {
  char w[GDB_TEXT_WORD_MAX];
  size_t len;
} wordbuf;

static void word_add(wordbuf *b, const char *p, size_t n) {
  if (b->len + n <= GDB_TEXT_WORD_MAX) {
    memcpy(b->w + b->len, p, n);
    b->len += n;
  }
}

bool gdb_text_words(const char *s, size_t len, gdb_word_fn fn, void *data) {
  wordbuf b = {.len = 0};
#define FLUSH()                                                                                    \
  do {                                                                                             \
    if (b.len && fn(b.w, b.len, data)) return true;                                                \
    b.len = 0;                                                                                     \
  } while (0)
  size_t i = 0;
  while (i < len) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x80) {
      i++;
      if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
        char ch = (char)c;
        word_add(&b, &ch, 1);
      } else if (c >= 'A' && c <= 'Z') {
        char ch = (char)(c | 0x20);
        word_add(&b, &ch, 1);
      } else if (c != '\'') {
        FLUSH();
      }
      continue;
    }
    gunichar cp = g_utf8_get_char_validated(s + i, (gssize)(len - i));
    if (cp == (gunichar)-1 || cp == (gunichar)-2) {
      i++;
      FLUSH();
      continue;
    }
    i += (size_t)g_unichar_to_utf8(cp, NULL);
    if (cp == 0x2019 || cp == 0x02bc) continue; /* ’ and ʼ join like ' */
    gunichar dec[G_UNICHAR_MAX_DECOMPOSITION_LENGTH];
    gsize nd = g_unichar_fully_decompose(cp, TRUE, dec, G_N_ELEMENTS(dec));
    for (gsize k = 0; k < nd; k++) {
      if (g_unichar_ismark(dec[k])) continue;
      if (!g_unichar_isalnum(dec[k])) {
        FLUSH();
        continue;
      }
      char u[8];
      int n = g_unichar_to_utf8(g_unichar_tolower(dec[k]), u);
      word_add(&b, u, (size_t)n);
    }
  }
  FLUSH();
#undef FLUSH
  return false;
}

/* ── LIKE ── */

static inline gunichar fold(gunichar c, bool ci) {
  if (!ci) return c;
  if (c < 0x80) return c >= 'A' && c <= 'Z' ? c | 0x20 : c;
  return g_unichar_tolower(c);
}

static inline size_t cp_at(const char *s, size_t len, size_t i, gunichar *cp) {
  unsigned char c = (unsigned char)s[i];
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  gunichar u = g_utf8_get_char_validated(s + i, (gssize)(len - i));
  if (u == (gunichar)-1 || u == (gunichar)-2) {
    *cp = 0xfffd;
    return 1;
  }
  *cp = u;
  return (size_t)g_unichar_to_utf8(u, NULL);
}

bool gdb_like_match(const char *pat, size_t plen, const char *s, size_t slen, bool ci) {
  size_t pi = 0, si = 0, star_pi = SIZE_MAX, star_si = 0;
  while (si < slen) {
    if (pi < plen) {
      char pc = pat[pi];
      if (pc == '%') {
        star_pi = ++pi;
        star_si = si;
        continue;
      }
      gunichar sc, lc;
      size_t sl = cp_at(s, slen, si, &sc);
      if (pc == '_') {
        pi++;
        si += sl;
        continue;
      }
      size_t pj = pc == '\\' && pi + 1 < plen ? pi + 1 : pi;
      size_t ll = cp_at(pat, plen, pj, &lc);
      if (fold(lc, ci) == fold(sc, ci)) {
        pi = pj + ll;
        si += sl;
        continue;
      }
    }
    if (star_pi == SIZE_MAX) return false;
    gunichar skip;
    pi = star_pi;
    si = star_si + cp_at(s, slen, star_si, &skip);
    star_si = si;
  }
  while (pi < plen && pat[pi] == '%') pi++;
  return pi == plen;
}

/* ── geometry ── */

double gdb_haversine_m(double lat1, double lng1, double lat2, double lng2) {
  const double r = 6371008.8, rad = M_PI / 180.0;
  double dlat = (lat2 - lat1) * rad, dlng = (lng2 - lng1) * rad;
  double a = sin(dlat / 2) * sin(dlat / 2) +
             cos(lat1 * rad) * cos(lat2 * rad) * sin(dlng / 2) * sin(dlng / 2);
  if (a > 1) a = 1;
  return 2 * r * asin(sqrt(a));
}

bool gdb_geo_point(const uint8_t *p, const uint8_t *end, double *lat, double *lng) {
  const uint8_t *a = gdb_qmp_find(p, end, "lat", 3), *b = gdb_qmp_find(p, end, "lng", 3);
  return a && b && gdb_qmp_num(a, end, lat) && gdb_qmp_num(b, end, lng) && *lat >= -90 &&
         *lat <= 90 && *lng >= -180 && *lng <= 180;
}
