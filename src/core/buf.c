/*
 * buf.c — growable byte buffers and hex helpers.
 */
#include "core/buf.h"

#include "genosdb.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

bool gdb_buf_grow(gdb_buf *b, size_t extra) {
  if (b->oom) return false;
  size_t need = b->len + extra + 1; /* room for gdb_buf_finish()'s NUL */
  if (need <= b->cap) return true;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < need) cap *= 2;
  uint8_t *p = b->borrowed ? malloc(cap) : realloc(b->data, cap);
  if (!p) {
    b->oom = true;
    return false;
  }
  if (b->borrowed) {
    memcpy(p, b->data, b->len);
    b->borrowed = false;
  }
  b->data = p;
  b->cap = cap;
  return true;
}

void gdb_buf_free(gdb_buf *b) {
  if (!b->borrowed) free(b->data);
  *b = (gdb_buf){0};
}

int gdb_buf_finish(gdb_buf *b) {
  if (!gdb_buf_grow(b, 0)) return GDB_ENOMEM;
  b->data[b->len] = 0;
  return GDB_OK;
}

void gdb_buf_printf(gdb_buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0 || !gdb_buf_grow(b, (size_t)n)) return;
  va_start(ap, fmt);
  vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

static const char HEX[] = "0123456789abcdef";

void gdb_hex(const uint8_t *p, size_t n, char *out) {
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = HEX[p[i] >> 4];
    out[2 * i + 1] = HEX[p[i] & 15];
  }
  out[2 * n] = 0;
}

void gdb_buf_hex(gdb_buf *b, const uint8_t *p, size_t n) {
  if (!gdb_buf_grow(b, 2 * n)) return;
  gdb_hex(p, n, (char *)b->data + b->len);
  b->len += 2 * n;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool gdb_unhex(const char *s, size_t slen, uint8_t *out, size_t n) {
  if (slen != 2 * n) return false;
  for (size_t i = 0; i < n; i++) {
    int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = (uint8_t)(hi << 4 | lo);
  }
  return true;
}

void gdb_free(void *p) { free(p); }
