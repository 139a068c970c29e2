/*
 * util.c — helpers shared by the CLI commands: error reporting, file reading, opening --db.
 */
#include "cli/cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_usage(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("genosdb: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  return CLI_USAGE;
}

int cli_fail(int err, const char *what) {
  const char *msg = gdb_errmsg();
  size_t wl = strlen(what);
  if (!strncmp(msg, what, wl) && msg[wl] == ':') /* the library already named the verb */
    fprintf(stderr, "genosdb: %s\n", msg);
  else
    fprintf(stderr, "genosdb: %s: %s\n", what, msg[0] ? msg : gdb_strerror(err));
  switch (err) {
  case GDB_ENOTFOUND: return CLI_NOTFOUND;
  case GDB_EINVAL:
  case GDB_ETOOBIG:
  case GDB_EQUERY: return CLI_USAGE;
  default: return CLI_FAIL;
  }
}

char *cli_read_file(const char *path, size_t *len) {
  FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
  if (!f) return NULL;
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap);
  for (size_t r; buf && (r = fread(buf + n, 1, cap - n - 1, f)) > 0;) {
    n += r;
    if (cap - n - 1 == 0) {
      char *p = realloc(buf, cap *= 2);
      if (!p) {
        free(buf);
        buf = NULL;
      } else {
        buf = p;
      }
    }
  }
  bool bad = ferror(f);
  if (f != stdin) fclose(f);
  if (!buf || bad) {
    free(buf);
    return NULL;
  }
  buf[n] = 0;
  if (len) *len = n;
  return buf;
}

int cli_open_db(const cli_global *g, const gdb_options *opts, gdb_t **db) {
  gdb_options o;
  if (opts)
    o = *opts;
  else
    gdb_options_init(&o);
  int rc = gdb_open(g->db_path, &o, db);
  if (rc) return cli_fail(rc, "open");
  return CLI_OK;
}

void cli_println(const char *s) {
  fputs(s, stdout);
  fputc('\n', stdout);
  fflush(stdout);
}

int cli_print_node(const gdb_node *n) {
  char *j = gdb_node_json(n);
  if (!j) return cli_fail(GDB_ENOMEM, "print");
  cli_println(j);
  gdb_free(j);
  return CLI_OK;
}
