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
  cli_cmd_fn fn;  /* commands without a database */
  cli_db_fn dbfn; /* commands on --db */
  const char *usage;
} cli_command;

static const cli_command COMMANDS[] = {
    {"put", NULL, cmd_put, "put [--id ID] JSON|-            store a value, print its id"},
    {"get", NULL, cmd_get, "get ID                          print a node"},
    {"link", NULL, cmd_link, "link SRC DST                    add the edge SRC -> DST"},
    {"remove", NULL, cmd_remove, "remove ID                       remove a node and its edges"},
    {"clear", NULL, cmd_clear, "clear                           remove every node"},
    {"map", NULL, cmd_map, "map [OPTIONS_JSON]              print matching nodes, one per line"},
    {"watch", NULL, cmd_watch, "watch [OPTIONS_JSON|--id ID]    print live events; runs commands read on stdin"},
    {"explain", NULL, cmd_explain, "explain [OPTIONS_JSON]          print how a query runs (plan and counts)"},
    {"index", NULL, cmd_index, "index create|drop FIELD [--kind eq|range|text|prefix|geo] | index list"},
    {"import", NULL, cmd_import, "import [--sync] FILE|-          load JSON Lines, print each id"},
    {"export", NULL, cmd_export, "export                          print every node as JSON Lines"},
    {"backup", NULL, cmd_backup, "backup DEST                     copy the database file (a faithful backup)"},
    {"apply", NULL, cmd_apply, "apply FILE|-                    merge remote operations"},
    {"oplog", NULL, cmd_oplog, "oplog [--after PHYSICAL:LOGICAL] print logged operations"},
    {"hash", NULL, cmd_hash, "hash                            print the state hash"},
    {"stats", NULL, cmd_stats, "stats                           print counters"},
    {"shell", NULL, cmd_shell, "shell                           interactive prompt for these verbs"},
    {"relay", cmd_relay, NULL, "relay [--port N] [--bind ADDR]  run the embedded Nostr relay"},
    {"nostr", cmd_nostr, NULL, "nostr publish|sub|room ...      Nostr signaling diagnostics"},
    {"rtc", cmd_rtc, NULL, "rtc answer|offer [OPTIONS]      WebRTC data channel peer (JSON signaling)"},
    {"id", cmd_id, NULL, "id new|address|import ...       identities and keys (docs/identity.md)"},
    {"sm", cmd_sm, NULL, "sm canon|sign|verify|envelope|envelope-verify|seal|open   (docs/signing.md)"},
    {"bench", cmd_bench, NULL, "bench core|query|relay|rtc|sm  run a benchmark, print JSON"},
};
#define NCOMMANDS (sizeof COMMANDS / sizeof COMMANDS[0])

static void usage(FILE *f) {
  fprintf(f, "usage: genosdb [--db PATH] COMMAND [ARGS]\n\ncommands:\n");
  for (size_t i = 0; i < NCOMMANDS; i++)
    fprintf(f, "  %s%s\n", COMMANDS[i].dbfn ? "--db PATH " : "          ", COMMANDS[i].usage);
  fprintf(f, "\nexit status: 0 ok, 1 not found, 2 bad input, 3 other failure\n");
}

static const cli_command *find_command(const char *name) {
  for (size_t i = 0; i < NCOMMANDS; i++)
    if (!strcmp(COMMANDS[i].name, name)) return &COMMANDS[i];
  return NULL;
}

int cli_run_db_command(gdb_t *db, const cli_global *g, int argc, char **argv) {
  const cli_command *c = argc ? find_command(argv[0]) : NULL;
  if (!c || !c->dbfn) return cli_usage("unknown command \"%s\" (try help)", argc ? argv[0] : "");
  return c->dbfn(db, g, argc, argv);
}

static int dispatch(const cli_global *g, int argc, char **argv) {
  const cli_command *c = find_command(argv[0]);
  if (!c) return cli_usage("unknown command \"%s\" (try --help)", argv[0]);
  if (c->fn) return c->fn(g, argc, argv);
  if (!g->db_path) return cli_usage("%s: no database given (usage: genosdb --db PATH %s)", c->name, c->usage);
  gdb_t *db;
  int rc = cli_open_db(g, NULL, &db);
  if (rc) return rc;
  rc = c->dbfn(db, g, argc, argv);
  int crc = gdb_close(db);
  if (crc && rc == CLI_OK) rc = cli_fail(crc, "close");
  return rc;
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
  return dispatch(&g, argc - i, argv + i);
}
