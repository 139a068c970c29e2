/* fuzz_op_json.c — remote operations as JSON into a memory database: bad operations are
 * refused one by one, nothing crashes, and the database stays usable. */
#include "genosdb.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static gdb_t *db;
  if (!db && gdb_open(NULL, NULL, &db) != GDB_OK) abort();
  gdb_apply_result r;
  gdb_apply_remote_json(db, (const char *)data, size, &r);
  char hex[65];
  if (gdb_state_hash(db, hex) != GDB_OK) abort();
  gdb_stats s;
  gdb_get_stats(db, &s);
  if (s.nodes + s.tombstones > 500) { /* keep each run cheap: the hash sorts every record */
    gdb_close(db);
    db = NULL;
  }
  return 0;
}
