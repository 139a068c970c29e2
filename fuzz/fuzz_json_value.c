/* fuzz_json_value.c — JSON text into canonical values: no crash, and whatever parses must
 * be canonical, print, and parse back to the same bytes. */
#include "core/value.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t *mp;
  size_t len;
  if (gdb_json_to_value((const char *)data, size, &mp, &len) != GDB_OK) return 0;
  if (!gdb_value_is_canonical(mp, len)) abort();
  char *json;
  size_t jlen;
  if (gdb_value_to_json(mp, len, &json, &jlen) != GDB_OK) abort();
  uint8_t *again;
  size_t alen;
  if (gdb_json_to_value(json, jlen, &again, &alen) != GDB_OK) abort();
  if (alen != len || memcmp(again, mp, len)) abort();
  char id[65];
  if (gdb_value_content_id(mp, len, id) != GDB_OK) abort();
  free(again);
  free(json);
  free(mp);
  return 0;
}
