/* fuzz_signal_unseal.c — opening sealed signaling payloads from untrusted relays. */
#include "genosdb.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1);
  if (!s) return 0;
  memcpy(s, data, size);
  s[size] = 0;
  char *out = NULL;
  size_t n;
  if (gdb_signal_unseal("pw", "app", "room", s, &out, &n) == GDB_OK) gdb_free(out);
  free(s);
  return 0;
}
