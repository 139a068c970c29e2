/*
 * mp.h — a bounds-checked, zero-copy MessagePack reader.
 *
 * msgpack-c writes every buffer in this library and validates every buffer that comes from
 * outside (see value.c), but its reader builds an object tree in a zone allocator for each
 * value. The query engine evaluates filters directly on stored values thousands of times per
 * millisecond, so it walks the bytes in place with this cursor instead. Every read checks the
 * remaining length: a corrupt buffer makes a read fail, never overrun.
 */
#ifndef GDB_CORE_MP_H
#define GDB_CORE_MP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef enum mp_kind {
  MP_NIL,
  MP_BOOL,
  MP_INT,   /* v.i (also unsigned values that fit in int64) */
  MP_UINT,  /* v.u, only for values above INT64_MAX */
  MP_FLOAT, /* v.f (float32 widened) */
  MP_STR,   /* v.s */
  MP_BIN,   /* v.s */
  MP_ARRAY, /* v.n elements follow */
  MP_MAP,   /* v.n key/value pairs follow */
  MP_EXT,   /* v.s holds the payload, ext_type the type */
} mp_kind;

typedef struct mp_item {
  mp_kind kind;
  int8_t ext_type;
  union {
    bool b;
    int64_t i;
    uint64_t u;
    double f;
    struct {
      const char *p;
      uint32_t len;
    } s;
    uint32_t n;
  } v;
} mp_item;

typedef struct mp_cur {
  const uint8_t *p, *end;
} mp_cur;

static inline mp_cur mp_cursor(const uint8_t *p, size_t len) { return (mp_cur){p, p + len}; }
static inline bool mp_done(const mp_cur *c) { return c->p >= c->end; }

/* Reads the next item's header: a scalar whole, or a container's count (its elements follow).
 * False (cursor unchanged) on truncation or a reserved byte. */
bool mp_next(mp_cur *c, mp_item *it);
/* Skips one complete value, containers included, at most max_depth containers deep. */
bool mp_skip(mp_cur *c, int max_depth);
/* True when [p, p+len) is exactly one well-formed value, at most max_depth containers deep. */
bool mp_check(const uint8_t *p, size_t len, int max_depth);

/* Looks up key in the map at the cursor; on success *val is positioned at its value.
 * Keys are compared bytewise. The cursor must be at a map header. */
bool mp_map_find(mp_cur c, const char *key, size_t klen, mp_cur *val);

#endif
