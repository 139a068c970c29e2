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
  bool sync;           /* --sync: durability "sync" */
  const char *prog;    /* argv[0] */
} cli_global;

/* A command: argv[0] is the command name; returns an exit code. */
typedef int (*cli_cmd_fn)(const cli_global *g, int argc, char **argv);

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

/* Commands, one file each (src/cli/cmd_<area>.c and bench/bench_<suite>.c). */
int cmd_put(const cli_global *g, int argc, char **argv);
int cmd_get(const cli_global *g, int argc, char **argv);
int cmd_link(const cli_global *g, int argc, char **argv);
int cmd_remove(const cli_global *g, int argc, char **argv);
int cmd_clear(const cli_global *g, int argc, char **argv);
int cmd_map(const cli_global *g, int argc, char **argv);
int cmd_import(const cli_global *g, int argc, char **argv);
int cmd_export(const cli_global *g, int argc, char **argv);
int cmd_apply(const cli_global *g, int argc, char **argv);
int cmd_oplog(const cli_global *g, int argc, char **argv);
int cmd_hash(const cli_global *g, int argc, char **argv);
int cmd_stats(const cli_global *g, int argc, char **argv);
int cmd_shell(const cli_global *g, int argc, char **argv);
int cmd_bench(const cli_global *g, int argc, char **argv);
int cmd_id(const cli_global *g, int argc, char **argv);
int cmd_sm(const cli_global *g, int argc, char **argv);

/* Runs one command line (used by main and by the shell). */
int cli_dispatch(const cli_global *g, int argc, char **argv);

#endif
