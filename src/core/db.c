/* db.c — placeholder until the core lands. */
#include "core/error.h"
#include <string.h>
void gdb_options_init(gdb_options *o) { memset(o, 0, sizeof *o); }
int gdb_open(const char *path, const gdb_options *opts, gdb_t **out) {
  (void)path; (void)opts; *out = NULL;
  return gdb_fail(GDB_ESTATE, "not implemented yet");
}
