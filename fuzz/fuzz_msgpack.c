/* fuzz_msgpack.c — arbitrary MessagePack: the cursor never overruns, canonicalization either
 * refuses or yields a canonical value that is a fixed point and prints as JSON. */
#include "core/mp.h"
#include "core/value.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  mp_check(data, size, 64);
  mp_cur c = mp_cursor(data, size), v;
  mp_map_find(c, "a", 1, &v);
  bool canonical = gdb_value_is_canonical(data, size);
  uint8_t *out;
  size_t len;
  if (gdb_value_canonicalize(data, size, &out, &len) != GDB_OK) {
    if (canonical) abort(); /* a canonical value is always accepted */
    return 0;
  }
  if (!gdb_value_is_canonical(out, len)) abort();
  if (canonical && (len != size || memcmp(out, data, size))) abort();
  uint8_t *again;
  size_t alen;
  if (gdb_value_canonicalize(out, len, &again, &alen) != GDB_OK || alen != len || memcmp(again, out, len)) abort();
  char *json;
  if (gdb_value_to_json(out, len, &json, NULL) != GDB_OK) abort();
  free(json);
  free(again);
  free(out);
  return 0;
}
