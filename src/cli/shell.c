/*
 * shell.c — `genosdb --db PATH shell`: an interactive prompt for the database verbs, with
 * line editing and history (libedit) on a terminal, and plain line reading otherwise (so
 * scripts can pipe commands in). The database stays open for the whole session.
 *
 * Arguments split at blanks; 'single' or "double" quotes group words; an argument starting
 * with { or [ runs to the end of the line, so JSON needs no quoting: put {"name": "Ada"}.
 */
#include "cli/cli.h"

#include <editline/readline.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_ARGS 64

/* Splits line in place into argv (MAX_ARGS); returns argc, or -1 on an unterminated quote. */
int cli_split(char *line, char **argv) {
  int argc = 0;
  char *p = line;
  while (*p) {
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') p++;
    if (!*p) break;
    if (argc == MAX_ARGS - 1) return -1;
    if (*p == '{' || *p == '[') {
      size_t n = strlen(p);
      while (n && (p[n - 1] == '\n' || p[n - 1] == '\r' || p[n - 1] == ' ')) p[--n] = 0;
      argv[argc++] = p;
      break;
    }
    char *out = p;
    argv[argc++] = out;
    char quote = 0;
    for (; *p; p++) {
      if (quote) {
        if (*p == quote) quote = 0;
        else *out++ = *p;
      } else if (*p == '\'' || *p == '"') {
        quote = *p;
      } else if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
        p++;
        break;
      } else {
        *out++ = *p;
      }
    }
    if (quote) return -1;
    *out = 0;
  }
  argv[argc] = NULL;
  return argc;
}

static void help(void) {
  puts("verbs: put [--id ID] JSON · get ID · link SRC DST · remove ID · clear · map [OPTIONS_JSON]\n"
       "       explain OPTIONS_JSON · index create|drop FIELD [--kind K] · index list\n"
       "       import [--sync] FILE · export · backup DEST · apply FILE · oplog [--after P:L]\n"
       "       hash · stats\n"
       "       help · quit");
}

static char *history_path(void) {
  const char *env = getenv("GENOSDB_HISTORY"), *home = getenv("HOME");
  char *p = NULL;
  if (env) return strdup(env);
  if (home && asprintf(&p, "%s/.genosdb_history", home) < 0) p = NULL;
  return p;
}

int cmd_shell(gdb_t *db, const cli_global *g, int argc, char **argv) {
  if (argc != 1) return cli_usage("shell: takes no arguments");
  (void)argv;
  bool tty = isatty(STDIN_FILENO);
  char *hist = tty ? history_path() : NULL;
  if (tty) {
    using_history();
    if (hist) read_history(hist);
    gdb_stats s;
    gdb_get_stats(db, &s);
    printf("genosdb %s — %s (%llu nodes). Type help for the verbs, quit to leave.\n", GDB_VERSION_STRING,
           g->db_path, (unsigned long long)s.nodes);
  }
  int last = CLI_OK;
  for (;;) {
    char *line = NULL;
    if (tty) {
      line = readline("genosdb> ");
    } else {
      size_t cap = 0;
      if (getline(&line, &cap, stdin) < 0) {
        free(line);
        line = NULL;
      }
    }
    if (!line) break;
    if (tty && line[strspn(line, " \t")]) add_history(line);
    char *args[MAX_ARGS];
    int n = cli_split(line, args);
    if (n < 0) {
      last = cli_usage("unterminated quote or too many arguments");
    } else if (n == 0) {
      /* blank line */
    } else if (!strcmp(args[0], "quit") || !strcmp(args[0], "exit")) {
      free(line);
      break;
    } else if (!strcmp(args[0], "help")) {
      help();
      last = CLI_OK;
    } else if (!strcmp(args[0], "shell")) {
      last = cli_usage("already in the shell");
    } else {
      last = cli_run_db_command(db, g, n, args);
      fflush(stdout);
    }
    free(line);
  }
  if (hist) {
    write_history(hist);
    free(hist);
  }
  /* A script's status is that of its last command. */
  return tty ? CLI_OK : last;
}
