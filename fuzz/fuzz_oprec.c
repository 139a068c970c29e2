/* fuzz_oprec.c — operation-log records as read back from a (possibly damaged) file. */
#include "core/oplog.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  gdb_oprec *r = gdb_oprec_decode(data, size, 1);
  if (!r) return 0;
  gdb_buf b = {0};
  if (gdb_oprec_encode(r, &b) != GDB_OK) abort();
  gdb_oprec *again = gdb_oprec_decode(b.data, b.len, 1);
  if (!again) abort();
  gdb_oprec_unref(again);
  gdb_buf_free(&b);
  gdb_oprec_unref(r);
  return 0;
}
