/* cmd_db.c — database verbs (placeholder until the core lands). */
#include "cli/cli.h"
#define STUB(n) int n(const cli_global *g, int argc, char **argv) { (void)g; (void)argc; return cli_usage("%s: not implemented yet", argv[0]); }
STUB(cmd_put) STUB(cmd_get) STUB(cmd_link) STUB(cmd_remove) STUB(cmd_clear) STUB(cmd_map)
STUB(cmd_import) STUB(cmd_export) STUB(cmd_apply) STUB(cmd_oplog) STUB(cmd_hash) STUB(cmd_stats)
STUB(cmd_shell)
