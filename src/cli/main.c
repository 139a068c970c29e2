/*
 * main.c — the genosdb command line: global options, the command table, dispatch.
 */
#include "cli/cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct cli_command {
  const char *name;
  cli_cmd_fn fn;
  bool needs_db;
  const char *usage;
} cli_command;

static const cli_command COMMANDS[] = {
    {"put", cmd_put, true, "put [--id ID] JSON            store a value, print its id"},
    {"get", cmd_get, true, "get ID                        print a node"},
    {"link", cmd_link, true, "link SRC DST                  add the edge SRC -> DST"},
    {"remove", cmd_remove, true, "remove ID                     remove a node and its edges"},
    {"clear", cmd_clear, true, "clear                         remove every node"},
    {"map", cmd_map, true, "map [OPTIONS_JSON]            print matching nodes, one per line"},
    {"import", cmd_import, true, "import [--sync] FILE|-        load JSON Lines, print each id"},
    {"export", cmd_export, true, "export                        print every node as JSON Lines"},
    {"apply", cmd_apply, true, "apply FILE|-                  merge remote operations (JSON Lines)"},
    {"oplog", cmd_oplog, true, "oplog [--after P:L]           print logged operations"},
    {"hash", cmd_hash, true, "hash                          print the state hash"},
    {"stats", cmd_stats, true, "stats                         print counters"},
    {"shell", cmd_shell, true, "shell                         interactive prompt for these verbs"},
    {"bench", cmd_bench, false, "bench core [--nodes N]        run a benchmark, print JSON"},
    {"id", cmd_id, false, "id new [--words 12|24] [--out FILE] | id address KEY_OR_MNEMONIC|- |\n"
                          "      id import (--key K|--id F) --out FILE   identities (docs/identity.md)"},
    {"sm", cmd_sm, false, "sm canon | sign (--key K|--id F) | verify | envelope (--key K|--id F)\n"
                          "      --kind KIND [--at MS] | envelope-verify [--now MS] [--max-age MS] |\n"
                          "      seal|open (--key K|--id F)       JSON on stdin (docs/signing.md)"},
};

static void usage(FILE *f) {
  fprintf(f, "usage: genosdb [--db PATH] COMMAND [ARGS]\n\ncommands:\n");
  for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++)
    fprintf(f, "  %s%s\n", COMMANDS[i].needs_db ? "--db PATH " : "", COMMANDS[i].usage);
  fprintf(f, "\nexit status: 0 ok, 1 not found, 2 bad input, 3 other failure\n");
}

int cli_dispatch(const cli_global *g, int argc, char **argv) {
  if (argc < 1) return cli_usage("missing command (try --help)");
  for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++) {
    const cli_command *c = &COMMANDS[i];
    if (strcmp(c->name, argv[0])) continue;
    if (c->needs_db && !g->db_path)
      return cli_usage("%s: no database given (use: genosdb --db PATH %s)", c->name, c->usage);
    return c->fn(g, argc, argv);
  }
  return cli_usage("unknown command \"%s\" (try --help)", argv[0]);
}

int main(int argc, char **argv) {
  cli_global g = {.prog = argv[0]};
  int i = 1;
  for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
    if (!strcmp(argv[i], "--db")) {
      if (i + 1 >= argc) return cli_usage("--db needs a PATH");
      g.db_path = argv[++i];
    } else if (!strncmp(argv[i], "--db=", 5)) {
      g.db_path = argv[i] + 5;
    } else if (!strcmp(argv[i], "--help")) {
      usage(stdout);
      return CLI_OK;
    } else if (!strcmp(argv[i], "--version")) {
      printf("genosdb %s\n", GDB_VERSION_STRING);
      return CLI_OK;
    } else {
      return cli_usage("unknown option \"%s\" (try --help)", argv[i]);
    }
  }
  if (i >= argc) {
    usage(stderr);
    return CLI_USAGE;
  }
  return cli_dispatch(&g, argc - i, argv + i);
}
