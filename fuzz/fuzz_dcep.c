/*
 * fuzz_dcep.c — libFuzzer target for the DCEP decoder (RFC 8832 DATA_CHANNEL_OPEN): any input
 * decodes or fails with GDB_EPROTO; a decoded message re-encodes to the same bytes.
 */
#include "net/rtc/dcep.h"

#include "genosdb.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  (void)gdb_dcep_type(data, size);
  gdb_dcep_open o;
  int rc = gdb_dcep_decode_open(data, size, &o);
  if (rc != GDB_OK) {
    if (rc != GDB_EPROTO) abort();
    return 0;
  }
  gdb_buf b = {0};
  gdb_dcep_encode_open(&b, &o);
  if (!b.oom && (b.len != size || memcmp(b.data, data, size))) abort();
  gdb_buf_free(&b);
  return 0;
}
