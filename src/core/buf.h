/*
 * buf.h — a growable byte buffer used by every encoder in the library (JSON, MessagePack,
 * canonical forms). Appends never fail silently: on allocation failure the buffer is marked
 * and gdb_buf_finish() reports GDB_ENOMEM once, so encoders need not check every append.
 */
#ifndef GDB_CORE_BUF_H
#define GDB_CORE_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct gdb_buf {
  uint8_t *data;
  size_t len, cap;
  bool oom;
  bool borrowed; /* data is caller storage (e.g. a stack array): copied to the heap on growth */
} gdb_buf;

/* A buffer that starts in caller storage and moves to the heap only if it outgrows it. */
#define GDB_BUF_ON_STACK(arr) ((gdb_buf){.data = (arr), .cap = sizeof(arr), .borrowed = true})

bool gdb_buf_grow(gdb_buf *b, size_t extra);
void gdb_buf_free(gdb_buf *b);
/* Appends a NUL (not counted in len) and reports GDB_ENOMEM if any append failed. */
int gdb_buf_finish(gdb_buf *b);
void gdb_buf_printf(gdb_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void gdb_buf_hex(gdb_buf *b, const uint8_t *p, size_t n);

static inline void gdb_buf_put(gdb_buf *b, const void *p, size_t n) {
  if (b->len + n > b->cap && !gdb_buf_grow(b, n)) return;
  if (n) memcpy(b->data + b->len, p, n);
  b->len += n;
}
static inline void gdb_buf_putc(gdb_buf *b, char c) {
  if (b->len + 1 > b->cap && !gdb_buf_grow(b, 1)) return;
  b->data[b->len++] = (uint8_t)c;
}
static inline void gdb_buf_puts(gdb_buf *b, const char *s) { gdb_buf_put(b, s, strlen(s)); }

/* Lower-case hex of n bytes into out (2n+1 bytes, NUL-terminated). */
void gdb_hex(const uint8_t *p, size_t n, char *out);
/* Parses exactly 2n hex digits into n bytes; false on any other input. */
bool gdb_unhex(const char *s, size_t slen, uint8_t *out, size_t n);

#endif
