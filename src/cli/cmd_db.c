/*
 * cmd_db.c — the database verbs of the CLI: put, get, link, remove, clear, export,
 * apply, oplog, hash, stats, backup. Each prints JSON, one object per line.
 */
#include "cli/cli.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Fails with a usage message unless argc - first == want positional arguments, none of them
 * an unknown flag. */
static int positional(int argc, char **argv, int first, int want, const char *usage) {
  for (int i = first; i < argc; i++)
    if (argv[i][0] == '-' && argv[i][1] == '-')
      return cli_usage("%s: unknown flag \"%s\" (usage: %s)", argv[0], argv[i], usage);
  if (argc - first != want)
    return cli_usage("%s: expected %d argument%s (usage: %s)", argv[0], want, want == 1 ? "" : "s", usage);
  return CLI_OK;
}

int cmd_put(gdb_t *db, const cli_global *g, int argc, char **argv) {
  (void)g;
  const char *id = NULL, *json = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--id")) {
      if (++i >= argc) return cli_usage("put: --id needs a value");
      id = argv[i];
    } else if (argv[i][0] == '-' && argv[i][1] == '-') {
      return cli_usage("put: unknown flag \"%s\" (usage: put [--id ID] JSON|-)", argv[i]);
    } else if (json) {
      return cli_usage("put: one JSON value expected (quote it: put '{\"a\":1}')");
    } else {
      json = argv[i];
    }
  }
  if (!json) return cli_usage("put: missing the JSON value (usage: put [--id ID] JSON|-)");
  char *buf = NULL;
  size_t len = strlen(json);
  if (!strcmp(json, "-")) {
    if (!(buf = cli_read_file("-", &len))) return cli_usage("put: cannot read stdin");
    json = buf;
  }
  char out[GDB_ID_BUFSZ];
  int rc = gdb_put_json(db, id, json, len, out);
  free(buf);
  if (rc) return cli_fail(rc, "put");
  cli_println(out);
  return CLI_OK;
}

int cmd_get(gdb_t *db, const cli_global *g, int argc, char **argv) {
  (void)g;
  int rc = positional(argc, argv, 1, 1, "get ID");
  if (rc) return rc;
  gdb_node *n;
  if ((rc = gdb_get(db, argv[1], &n))) return cli_fail(rc, "get");
  rc = cli_print_node(n);
  gdb_node_release(n);
  return rc;
}

static void print_ok(void) { cli_println("{\"ok\":true}"); }

int cmd_link(gdb_t *db, const cli_global *g, int argc, char **argv) {
  (void)g;
  int rc = positional(argc, argv, 1, 2, "link SRC DST");
  if (rc) return rc;
  if ((rc = gdb_link(db, argv[1], argv[2]))) return cli_fail(rc, "link");
  print_ok();
  return CLI_OK;
}

int cmd_remove(gdb_t *db, const cli_global *g, int argc, char **argv) {
  (void)g;
  int rc = positional(argc, argv, 1, 1, "remove ID");
  if (rc) return rc;
  if ((rc = gdb_remove(db, argv[1]))) return cli_fail(rc, "remove");
  print_ok();
  return CLI_OK;
}

int cmd_clear(gdb_t *db, const cli_global *g, int argc, char **argv) {
  (void)g;
  int rc = positional(argc, argv, 1, 0, "clear");
  if (rc) return rc;
  gdb_stats s;
  gdb_get_stats(db, &s);
  if ((rc = gdb_clear(db))) return cli_fail(rc, "clear");
  printf("{\"removed\":%" PRIu64 "}\n", s.nodes);
  return CLI_OK;
}

static int export_one(gdb_node *n, void *data) {
  (void)data;
  return cli_print_node(n);
}

int cmd_export(gdb_t *db, const cli_global *g, int argc, char **argv) {
  (void)g;
  int rc = positional(argc, argv, 1, 0, "export");
  if (rc) return rc;
  return gdb_foreach(db, export_one, NULL);
}

int cmd_apply(gdb_t *db, const cli_global *g, int argc, char **argv) {
  (void)g;
  int rc = positional(argc, argv, 1, 1, "apply FILE|-");
  if (rc) return rc;
  size_t len;
  char *text = cli_read_file(argv[1], &len);
  if (!text) return cli_usage("apply: cannot read %s", argv[1]);
  /* A JSON array, or JSON Lines of operations: make the latter an array. */
  size_t i = 0;
  while (i < len && (text[i] == ' ' || text[i] == '\n' || text[i] == '\r' || text[i] == '\t')) i++;
  char *json = text;
  if (i < len && text[i] != '[') {
    json = malloc(len * 2 + 3);
    size_t w = 0;
    json[w++] = '[';
    bool first = true;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
      if (strspn(line, " \t\r") == strlen(line)) continue;
      if (!first) json[w++] = ',';
      first = false;
      size_t l = strlen(line);
      memcpy(json + w, line, l);
      w += l;
    }
    json[w++] = ']';
    json[w] = 0;
    len = w;
  }
  gdb_apply_result res;
  rc = gdb_apply_remote_json(db, json, len, &res);
  const char *why = gdb_errmsg();
  if (json != text) free(json);
  free(text);
  if (rc) return cli_fail(rc, "apply");
  printf("{\"applied\":%zu,\"ignored\":%zu,\"rejected\":%zu}\n", res.applied, res.ignored, res.rejected);
  if (res.rejected && why[0]) fprintf(stderr, "genosdb: apply: %zu rejected; first: %s\n", res.rejected, why);
  return res.rejected ? CLI_USAGE : CLI_OK;
}

static int print_op(const gdb_op *op, void *data) {
  (void)data;
  char *j = gdb_op_to_json(op);
  if (!j) return GDB_ENOMEM;
  cli_println(j);
  gdb_free(j);
  return 0;
}

int cmd_oplog(gdb_t *db, const cli_global *g, int argc, char **argv) {
  (void)g;
  gdb_hlc after = {0, 0};
  for (int i = 1; i < argc; i++) {
    long long p, l;
    char tail;
    if (!strcmp(argv[i], "--after") && i + 1 < argc) {
      if (sscanf(argv[++i], "%lld:%lld%c", &p, &l, &tail) != 2)
        return cli_usage("oplog: --after takes PHYSICAL:LOGICAL, e.g. 1700000000000:42");
      after = (gdb_hlc){p, l};
    } else {
      return cli_usage("oplog: unexpected \"%s\" (usage: oplog [--after PHYSICAL:LOGICAL])", argv[i]);
    }
  }
  gdb_hlc now = gdb_last_seen(db);
  int rc = gdb_oplog_since(db, after, print_op, NULL);
  if (rc) return cli_fail(rc, "oplog");
  fprintf(stderr, "genosdb: clock %lld:%lld, log %s\n", (long long)now.physical, (long long)now.logical,
          gdb_oplog_covers(db, after) ? "complete after that point" : "no longer holds everything after that point");
  return CLI_OK;
}

int cmd_hash(gdb_t *db, const cli_global *g, int argc, char **argv) {
  (void)g;
  int rc = positional(argc, argv, 1, 0, "hash");
  if (rc) return rc;
  char hex[65];
  if ((rc = gdb_state_hash(db, hex))) return cli_fail(rc, "hash");
  printf("{\"hash\":\"%s\"}\n", hex);
  return CLI_OK;
}

int cmd_backup(gdb_t *db, const cli_global *g, int argc, char **argv) {
  (void)g;
  int rc = positional(argc, argv, 1, 1, "backup DEST");
  if (rc) return rc;
  if ((rc = gdb_backup(db, argv[1]))) return cli_fail(rc, "backup");
  json_t *o = json_pack("{s:s}", "backup", argv[1]);
  char *t = o ? json_dumps(o, JSON_COMPACT) : NULL;
  if (t) cli_println(t);
  free(t);
  json_decref(o);
  return CLI_OK;
}

int cmd_stats(gdb_t *db, const cli_global *g, int argc, char **argv) {
  (void)g;
  int rc = positional(argc, argv, 1, 0, "stats");
  if (rc) return rc;
  gdb_stats s;
  gdb_get_stats(db, &s);
  gdb_hlc t = gdb_last_seen(db);
  printf("{\"peer\":\"%s\",\"nodes\":%" PRIu64 ",\"tombstones\":%" PRIu64 ",\"edges\":%" PRIu64
         ",\"oplog\":%" PRIu64 ",\"clock\":{\"physical\":%lld,\"logical\":%lld}}\n",
         gdb_peer_id(db), s.nodes, s.tombstones, s.edges, s.oplog_len, (long long)t.physical, (long long)t.logical);
  return CLI_OK;
}
