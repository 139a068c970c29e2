/*
 * cmd_query.c — the query verbs of the CLI: map, watch, explain and index. Each is a thin
 * wrapper over genosdb.h's queries section; bad options are reported by the library (with a
 * "did you mean" when one is close) and exit with status 2.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* At most one OPTIONS_JSON argument and no flags. */
static int options_arg(int argc, char **argv, const char **opts) {
  *opts = NULL;
  for (int i = 1; i < argc; i++) {
    if (argv[i][0] == '-' && argv[i][1] == '-')
      return cli_usage("%s: unknown flag \"%s\" (usage: %s [OPTIONS_JSON])", argv[0], argv[i],
                       argv[0]);
  }
  if (argc > 2)
    return cli_usage("%s: expected at most one OPTIONS_JSON argument (quote it)", argv[0]);
  if (argc == 2) *opts = argv[1];
  return CLI_OK;
}

int cmd_map(gdb_t *db, const cli_global *g, int argc, char **argv) {
  (void)g;
  const char *opts;
  int rc = options_arg(argc, argv, &opts);
  if (rc) return rc;
  gdb_result *r;
  if ((rc = gdb_map(db, opts, &r))) return cli_fail(rc, "map");
  for (size_t i = 0; i < gdb_result_len(r) && !rc; i++) rc = cli_print_node(gdb_result_at(r, i));
  gdb_result_free(r);
  return rc;
}

int cmd_explain(gdb_t *db, const cli_global *g, int argc, char **argv) {
  (void)g;
  const char *opts;
  int rc = options_arg(argc, argv, &opts);
  if (rc) return rc;
  char *plan;
  if ((rc = gdb_explain(db, opts, &plan))) return cli_fail(rc, "explain");
  cli_println(plan);
  gdb_free(plan);
  return CLI_OK;
}

/* ── watch ── */

typedef struct watch_out {
  FILE *out; /* the original standard output: events only */
} watch_out;

static void put_json_string(FILE *f, const char *s) {
  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\')
      fprintf(f, "\\%c", *p);
    else if (*p < 0x20)
      fprintf(f, "\\u%04x", *p);
    else
      fputc(*p, f);
  }
  fputc('"', f);
}

/* {"action":…,"id":…,"value":…}: for "removed", the node's value when it left. */
static void print_event(gdb_watch *w, gdb_event ev, gdb_node *node, void *data) {
  (void)w;
  watch_out *o = data;
  size_t len, jlen;
  const uint8_t *v = gdb_node_value(node, &len);
  char *json = NULL;
  if (gdb_value_to_json(v, len, &json, &jlen)) json = NULL;
  fprintf(o->out, "{\"action\":\"%s\",\"id\":", gdb_event_name(ev));
  put_json_string(o->out, gdb_node_id(node));
  fprintf(o->out, ",\"value\":%s}\n", json ? json : "null");
  fflush(o->out);
  gdb_free(json);
}

int cmd_watch(gdb_t *db, const cli_global *g, int argc, char **argv) {
  const char *opts = NULL, *id = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--id")) {
      if (++i >= argc) return cli_usage("watch: --id needs a node id");
      id = argv[i];
    } else if (argv[i][0] == '-' && argv[i][1] == '-') {
      return cli_usage("watch: unknown flag \"%s\" (usage: watch [OPTIONS_JSON] | watch --id ID)",
                       argv[i]);
    } else if (opts) {
      return cli_usage("watch: expected at most one OPTIONS_JSON argument (quote it)");
    } else {
      opts = argv[i];
    }
  }
  if (id && opts) return cli_usage("watch: give OPTIONS_JSON or --id ID, not both");
  fflush(stdout);
  int events_fd = dup(STDOUT_FILENO);
  FILE *out = events_fd >= 0 ? fdopen(events_fd, "w") : NULL;
  if (!out) return cli_usage("watch: cannot duplicate standard output");
  watch_out o = {out};
  gdb_watch *w;
  int rc = id ? gdb_get_watch(db, id, print_event, &o, &w)
              : gdb_map_watch(db, opts, print_event, &o, &w);
  if (rc) {
    fclose(out);
    return cli_fail(rc, "watch");
  }
  /* Commands read on stdin change the database; their own output goes to stderr so that
   * stdout carries events only. */
  int saved = dup(STDOUT_FILENO);
  dup2(STDERR_FILENO, STDOUT_FILENO);
  char *line = NULL;
  size_t cap = 0;
  int last = CLI_OK;
  while (getline(&line, &cap, stdin) >= 0) {
    char *args[64];
    int n = cli_split(line, args);
    if (n < 0)
      last = cli_usage("watch: unterminated quote or too many arguments in a command");
    else if (n > 0 && (!strcmp(args[0], "watch") || !strcmp(args[0], "shell")))
      last = cli_usage("watch: \"%s\" cannot run inside watch", args[0]);
    else if (n > 0)
      last = cli_run_db_command(db, g, n, args);
    fflush(stdout);
  }
  free(line);
  fflush(stdout);
  dup2(saved, STDOUT_FILENO);
  close(saved);
  gdb_watch_cancel(w);
  fclose(out);
  return last == CLI_USAGE ? CLI_USAGE : CLI_OK;
}

/* ── index ── */

int cmd_index(gdb_t *db, const cli_global *g, int argc, char **argv) {
  (void)g;
  const char *usage = "index create FIELD [--kind eq|range|text|prefix|geo] | index drop FIELD "
                      "[--kind K] | index list";
  if (argc < 2) return cli_usage("index: what to do? (usage: %s)", usage);
  const char *action = argv[1], *field = NULL, *kind_name = "range";
  for (int i = 2; i < argc; i++) {
    if (!strcmp(argv[i], "--kind")) {
      if (++i >= argc) return cli_usage("index: --kind needs one of eq, range, text, prefix, geo");
      kind_name = argv[i];
    } else if (argv[i][0] == '-' && argv[i][1] == '-') {
      return cli_usage("index: unknown flag \"%s\" (usage: %s)", argv[i], usage);
    } else if (field) {
      return cli_usage("index: one FIELD expected (usage: %s)", usage);
    } else {
      field = argv[i];
    }
  }
  int rc;
  if (!strcmp(action, "list")) {
    if (field) return cli_usage("index list takes no FIELD");
    char *list;
    if ((rc = gdb_index_list(db, &list))) return cli_fail(rc, "index");
    cli_println(list);
    gdb_free(list);
    return CLI_OK;
  }
  bool create = !strcmp(action, "create");
  if (!create && strcmp(action, "drop")) {
    const char *hint = !strncmp(action, "cr", 2) || !strncmp(action, "ce", 2)
                           ? " (did you mean \"create\"?)"
                       : action[0] == 'd' ? " (did you mean \"drop\"?)"
                       : action[0] == 'l' ? " (did you mean \"list\"?)"
                                          : "";
    return cli_usage("index: unknown action \"%s\"%s (usage: %s)", action, hint, usage);
  }
  if (!field) return cli_usage("index %s: which FIELD? (usage: %s)", action, usage);
  gdb_index_kind kind;
  if ((rc = gdb_index_kind_parse(kind_name, &kind))) return cli_fail(rc, "index");
  rc = create ? gdb_index_create(db, field, kind) : gdb_index_drop(db, field, kind);
  if (rc) return cli_fail(rc, "index");
  printf("{\"ok\":true,\"action\":\"%s\",\"kind\":\"%s\"}\n", action, gdb_index_kind_name(kind));
  return CLI_OK;
}
