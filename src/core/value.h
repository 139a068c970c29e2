/*
 * value.h — JSON documents as canonical MessagePack, and canonical JSON (spec/SIGNING.md).
 *
 * A canonical value is MessagePack in which every map's keys are strings in canonical-JSON
 * order, every number that JavaScript would print as an integer (integral, |x| <= 2^53) is an
 * integer in its shortest encoding, every other number is a float64, and containers nest at
 * most GDB_VALUE_MAX_DEPTH deep. Two equal JSON documents have byte-equal canonical forms, so
 * equality, hashing and signing work on bytes, and canonical JSON is a straight walk.
 */
#ifndef GDB_CORE_VALUE_H
#define GDB_CORE_VALUE_H

#include "core/buf.h"
#include "genosdb.h"

#include <jansson.h>

/* Containers (maps and arrays) may nest this deep, the top-level map included. */
#define GDB_VALUE_MAX_DEPTH 32
/* The largest integer JavaScript represents exactly: 2^53. */
#define GDB_MAX_SAFE_INT 9007199254740992.0

/* Orders two object keys as canonical JSON does: array-index keys first, numerically, then
 * the rest by UTF-16 code units. Keys are UTF-8. */
int gdb_canon_key_cmp(const char *a, size_t alen, const char *b, size_t blen);

/* Formats a finite double as JavaScript's Number#toString does. out: 32 bytes. Returns length. */
size_t gdb_format_double(double x, char *out);

/* Appends s as a JSON string literal escaped as JSON.stringify does. */
void gdb_json_escape(gdb_buf *out, const char *s, size_t len);

/* Appends the JSON text of the MessagePack value at [mp, mp+len) (canonical JSON when the
 * value is canonical). GDB_ECORRUPT if the bytes are not one well-formed value. */
int gdb_value_write_json(gdb_buf *out, const uint8_t *mp, size_t len);

/* Appends the canonical MessagePack of a parsed JSON tree. */
int gdb_value_from_jansson(const json_t *j, gdb_buf *out);
/* Parses JSON text into a jansson tree with the library's rules (no duplicate keys, integers
 * as JavaScript numbers). what names the input in error messages. Caller decrefs. */
json_t *gdb_json_parse(const char *json, size_t len, const char *what);
/* Builds a jansson tree from MessagePack (blobs become {"$bin":…}). Caller decrefs. */
json_t *gdb_value_to_jansson(const uint8_t *mp, size_t len);

/* Appends the canonical form of any MessagePack value (validating it). */
int gdb_value_canonicalize_into(const uint8_t *mp, size_t len, gdb_buf *out);
/* True when [mp, mp+len) is already exactly canonical. */
bool gdb_value_is_canonical(const uint8_t *mp, size_t len);
/* gdb_value_is_canonical that also appends the canonical JSON to out in the same pass. */
bool gdb_value_canonical_json(const uint8_t *mp, size_t len, gdb_buf *out);

/* SHA-256 of the canonical JSON of a canonical value, as 64 hex digits + NUL. */
int gdb_value_content_id(const uint8_t *mp, size_t len, char out[65]);

/* SHA-256 (OpenSSL), with a per-thread context so hot paths do not allocate. */
void gdb_sha256(const void *data, size_t len, uint8_t out[32]);

/* True when s is well-formed UTF-8 (no surrogates, no overlongs). */
bool gdb_utf8_valid(const char *s, size_t len);

#endif
