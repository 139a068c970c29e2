/*
 * fuzz_canon.c — canonical JSON round trip (spec/SIGNING.md): any input that parses as JSON
 * must canonicalize to a fixed point (canonical JSON of canonical JSON is itself), through
 * canonical MessagePack that the library itself judges canonical; the same input read as
 * MessagePack must canonicalize and print consistently too. Any crash, leak or broken
 * invariant is a bug in the parser or the printer.
 */
#include "core/value.h"
#include "genosdb.h"

#include <stdlib.h>
#include <string.h>

static void round_trip_json(const char *text, size_t len) {
  char *c1 = NULL, *c2 = NULL;
  size_t l1, l2;
  if (gdb_canonical_json(text, len, &c1, &l1)) return;
  if (gdb_canonical_json(c1, l1, &c2, &l2)) abort(); /* canonical output must parse */
  if (l1 != l2 || memcmp(c1, c2, l1)) abort();       /* and be a fixed point */
  uint8_t *mp = NULL, *mp2 = NULL;
  size_t ml, ml2;
  if (gdb_json_to_value(c1, l1, &mp, &ml)) abort();
  if (!gdb_value_is_canonical(mp, ml)) abort();
  if (gdb_value_canonicalize(mp, ml, &mp2, &ml2)) abort();
  if (ml != ml2 || memcmp(mp, mp2, ml)) abort(); /* canonicalizing canonical bytes is a no-op */
  free(c1);
  free(c2);
  free(mp);
  free(mp2);
}

static void round_trip_msgpack(const uint8_t *data, size_t size) {
  uint8_t *mp = NULL;
  size_t ml;
  if (gdb_value_canonicalize(data, size, &mp, &ml)) return;
  char *json = NULL;
  if (gdb_value_to_json(mp, ml, &json, NULL)) abort();
  uint8_t *back = NULL;
  size_t bl;
  /* Printed canonical JSON parses back to the same canonical bytes, unless the value nests
   * deeper than JSON input may (the printer allows more depth than the parser). */
  if (!gdb_json_to_value(json, strlen(json), &back, &bl) && (bl != ml || memcmp(back, mp, ml)))
    abort();
  free(mp);
  free(json);
  free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  round_trip_json((const char *)data, size);
  round_trip_msgpack(data, size);
  return 0;
}
