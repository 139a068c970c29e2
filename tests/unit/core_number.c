/* core_number.c — gdb_format_double (JavaScript's Number#toString) against the definition:
 * the shortest correctly rounded decimal that reads back as the same double, found by trying
 * every precision from 1 to 17 with printf and strtod. Random bit patterns cover every
 * exponent (subnormals included); decimals of few digits cover the fast path. */
#include "test.h"

#include "core/value.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

/* The reference: digits and exponent of the shortest round-trip form, laid out as JS does. */
static void reference(double x, char *out) {
  if (x == 0) {
    strcpy(out, "0");
    return;
  }
  char tmp[40];
  int p = 1;
  for (; p < 17; p++) {
    snprintf(tmp, sizeof tmp, "%.*e", p - 1, x);
    if (strtod(tmp, NULL) == x) break;
  }
  snprintf(tmp, sizeof tmp, "%.*e", p - 1, x);
  char digits[20], *o = out;
  const char *q = tmp;
  if (*q == '-') *o++ = *q++;
  int k = 0;
  for (; *q != 'e'; q++)
    if (*q >= '0' && *q <= '9') digits[k++] = *q;
  while (k > 1 && digits[k - 1] == '0') k--;
  int n = atoi(q + 1) + 1;
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
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void) { /* xorshift64*: reproducible */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 2685821657736338717ull;
}

static int check_one(double x) {
  if (!isfinite(x)) return 0;
  char got[40], want[40];
  gdb_format_double(x, got);
  reference(x, want);
  if (strcmp(got, want)) {
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    gdb_test_failed(__FILE__, __LINE__, "%.17g (bits %016llx): got %s, want %s", x,
                    (unsigned long long)bits, got, want);
    return 1;
  }
  return 0;
}

TEST(number_format_random_bit_patterns) {
  int bad = 0;
  for (int i = 0; i < 50000 && bad < 5; i++) {
    uint64_t bits = rng();
    double x;
    memcpy(&x, &bits, sizeof x);
    bad += check_one(x);
  }
}

TEST(number_format_short_decimals) {
  /* What people type: m / 10^k and m * 10^k for m of 1..9 digits (the fast path), plus the
   * neighbours one ulp away (which must not take it wrongly). */
  int bad = 0;
  for (int i = 0; i < 30000 && bad < 5; i++) {
    uint64_t r = rng();
    double m = (double)(r % 1000000000u) * ((r >> 40) & 1 ? -1 : 1);
    int k = (int)((r >> 32) % 40) - 20;
    double x = k >= 0 ? m / pow(10, k) : m * pow(10, -k);
    bad += check_one(x);
    bad += check_one(nextafter(x, INFINITY));
    bad += check_one(nextafter(x, -INFINITY));
  }
}

TEST(number_format_edges) {
  const double xs[] = {DBL_MIN,
                       DBL_MAX,
                       DBL_TRUE_MIN,
                       4.9406564584124654e-324,
                       2.2250738585072009e-308,
                       1e15,
                       1e15 + 0.5,
                       999999999999999.9,
                       0.1 + 0.2,
                       1.0 / 3,
                       2.0 / 3,
                       1e-7,
                       1.5e-9,
                       9007199254740993.0,
                       1e21,
                       1e22,
                       1e23,
                       5e-7,
                       123456789012345.67,
                       0.000001,
                       0.0000001,
                       1e-300,
                       8.41e21,
                       5.0e-324};
  for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) {
    check_one(xs[i]);
    check_one(-xs[i]);
    check_one(nextafter(xs[i], INFINITY));
    check_one(nextafter(xs[i], 0));
  }
  /* Every power of ten and its neighbours. */
  for (int e = -323; e <= 308; e++) {
    char s[16];
    snprintf(s, sizeof s, "1e%d", e);
    double x = strtod(s, NULL);
    check_one(x);
    check_one(nextafter(x, INFINITY));
    check_one(nextafter(x, 0));
  }
}
