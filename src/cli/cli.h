/*
 * cli.h — shared pieces of the genosdb command line. The CLI is a thin client of the library:
 * each command parses its arguments, calls genosdb.h, and prints JSON, one object per line.
 *
 * Exit codes: 0 success, 1 not found, 2 bad input (message on stderr), 3 any other failure
 * (database busy, I/O, corrupt file, network).
 */
#ifndef GDB_CLI_H
#define GDB_CLI_H

#include "genosdb.h"

#include <stdbool.h>
#include <stddef.h>

enum { CLI_OK = 0, CLI_NOTFOUND = 1, CLI_USAGE = 2, CLI_FAIL = 3 };

/* Options that come before the command. */
typedef struct cli_global {
  const char *db_path; /* --db PATH */
  const char *prog;    /* argv[0] */
} cli_global;

/* A command: argv[0] is the command name; returns an exit code. Database commands receive
 * the open database (main opens --db; the shell keeps one open for all its commands). */
typedef int (*cli_cmd_fn)(const cli_global *g, int argc, char **argv);
typedef int (*cli_db_fn)(gdb_t *db, const cli_global *g, int argc, char **argv);

/* Prints "genosdb: <msg>" to stderr and returns CLI_USAGE. */
int cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Maps a library error to an exit code after printing "genosdb: <what>: <gdb_errmsg()>". */
int cli_fail(int err, const char *what);
/* Reads a whole file ("-" for stdin) into a NUL-terminated buffer; caller frees. */
char *cli_read_file(const char *path, size_t *len);
/* Opens the --db database (error printed and exit code returned on failure). */
int cli_open_db(const cli_global *g, const gdb_options *opts, gdb_t **db);
/* Writes one line to stdout and flushes it (so acknowledged ids reach a pipe at once). */
void cli_println(const char *s);
/* Prints a node as one JSON line. */
int cli_print_node(const gdb_node *n);
/* Splits a command line in place into argv (64 slots) as the shell does: blanks separate,
 * quotes group, an argument starting with { or [ runs to the end of the line. Returns argc,
 * or -1 on an unterminated quote or too many arguments. */
int cli_split(char *line, char **argv);
/* Runs one database command line against an open database (used by main and the shell). */
int cli_run_db_command(gdb_t *db, const cli_global *g, int argc, char **argv);

/* Database commands (src/cli/cmd_db.c, cmd_import.c, shell.c). */
int cmd_put(gdb_t *db, const cli_global *g, int argc, char **argv);
int cmd_get(gdb_t *db, const cli_global *g, int argc, char **argv);
int cmd_link(gdb_t *db, const cli_global *g, int argc, char **argv);
int cmd_remove(gdb_t *db, const cli_global *g, int argc, char **argv);
int cmd_clear(gdb_t *db, const cli_global *g, int argc, char **argv);
int cmd_map(gdb_t *db, const cli_global *g, int argc, char **argv); /* cmd_query.c */
int cmd_watch(gdb_t *db, const cli_global *g, int argc, char **argv);
int cmd_explain(gdb_t *db, const cli_global *g, int argc, char **argv);
int cmd_index(gdb_t *db, const cli_global *g, int argc, char **argv);
int cmd_import(gdb_t *db, const cli_global *g, int argc, char **argv);
int cmd_export(gdb_t *db, const cli_global *g, int argc, char **argv);
int cmd_apply(gdb_t *db, const cli_global *g, int argc, char **argv);
int cmd_oplog(gdb_t *db, const cli_global *g, int argc, char **argv);
int cmd_hash(gdb_t *db, const cli_global *g, int argc, char **argv);
int cmd_backup(gdb_t *db, const cli_global *g, int argc, char **argv);
int cmd_stats(gdb_t *db, const cli_global *g, int argc, char **argv);
int cmd_shell(gdb_t *db, const cli_global *g, int argc, char **argv);

/* Other commands (one file each: src/cli/cmd_<area>.c, bench/bench.c). */
int cmd_bench(const cli_global *g, int argc, char **argv);
int cmd_relay(const cli_global *g, int argc, char **argv);
int cmd_nostr(const cli_global *g, int argc, char **argv);
int cmd_rtc(const cli_global *g, int argc, char **argv);
int cmd_id(const cli_global *g, int argc, char **argv);
int cmd_sm(const cli_global *g, int argc, char **argv);

#endif
