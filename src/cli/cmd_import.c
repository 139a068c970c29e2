/*
 * cmd_import.c — `import [--sync] FILE|-`: JSON Lines in, one id out per line once the line is
 * acknowledged. With --sync, ids are printed only after the lines are committed to disk; the
 * CLI commits in groups (every 8,192 lines or 256 KiB of input, 50 ms after the group's first
 * line, or as soon as the input goes quiet) so durability costs one fsync per group. Output is flushed whenever
 * the import would wait for input, so a process on the other end of a pipe sees each id as
 * soon as it is acknowledged, without a write per line during a bulk load.
 *
 * A line is either a value (a JSON object) or a node {"id":…,"value":{…},"edges":[…]}: an
 * object whose keys are only id, value, edges and timestamp, with an object "value". A file
 * is checked whole before anything is stored, so a bad line changes nothing; standard input
 * is streamed and stops at the first bad line, after the lines before it.
 */
#include "cli/cli.h"

#include <errno.h>
#include <msgpack.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Lines from a file descriptor, read in large chunks; unlike stdio it can tell whether the next
 * line is already here, so the import knows when it is about to wait for input. */
typedef struct line_reader {
  int fd;
  char *buf;
  size_t start, end, cap;
  bool eof;
} line_reader;

static bool lr_ready(const line_reader *r) {
  return r->eof || (r->end > r->start && memchr(r->buf + r->start, '\n', r->end - r->start));
}

/* Reads more input, waiting at most timeout_ms (-1: no limit). Returns 1 when it waited in
 * vain, 0 after a read (or at the end), -1 on a read error (errno set). */
static int lr_fill(line_reader *r, int timeout_ms) {
  if (timeout_ms >= 0) {
    struct pollfd p = {.fd = r->fd, .events = POLLIN};
    int n;
    while ((n = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR) {}
    if (n == 0) return 1;
  }
  if (r->start > 0) { /* keep the unread part at the front */
    memmove(r->buf, r->buf + r->start, r->end - r->start);
    r->end -= r->start;
    r->start = 0;
  }
  if (r->cap - r->end < 65536) {
    size_t cap = r->cap ? r->cap * 2 : 262144;
    char *b = realloc(r->buf, cap);
    if (!b) return errno = ENOMEM, -1;
    r->buf = b;
    r->cap = cap;
  }
  ssize_t n;
  while ((n = read(r->fd, r->buf + r->end, r->cap - r->end)) < 0 && errno == EINTR) {}
  if (n < 0) return -1;
  if (n == 0) r->eof = true;
  r->end += (size_t)n;
  return 0;
}

/* Takes the next line (its newline included, as getline gives it) once lr_ready(); false at
 * the end of the input. The line stays valid until the next lr_fill. */
static bool lr_take(line_reader *r, const char **line, size_t *len) {
  if (r->start == r->end) return false;
  char *s = r->buf + r->start, *nl = memchr(s, '\n', r->end - r->start);
  *len = nl ? (size_t)(nl - s) + 1 : r->end - r->start;
  *line = s;
  r->start += *len;
  return true;
}

/* One input line, parsed once by the library into canonical MessagePack and read from there. */
typedef struct import_line {
  uint8_t *mp;          /* the whole line (gdb_free) */
  msgpack_unpacked un;  /* its tree */
  const uint8_t *value; /* the value to store: mp, or vbuf for the node form */
  size_t value_len;
  msgpack_sbuffer vbuf;
  char *id;                    /* explicit id (malloc) or NULL */
  const msgpack_object *edges; /* array of strings, or NULL */
} import_line;

static void line_free(import_line *l) {
  gdb_free(l->mp);
  msgpack_unpacked_destroy(&l->un);
  msgpack_sbuffer_destroy(&l->vbuf);
  free(l->id);
}

static bool key_is(const msgpack_object *k, const char *name) {
  return k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(name) &&
         !memcmp(k->via.str.ptr, name, k->via.str.size);
}

/* The node form: an object whose keys are only id, value, edges and timestamp, with an object
 * "value". */
static bool is_node_form(const msgpack_object *o) {
  const msgpack_object *v = NULL;
  for (uint32_t i = 0; i < o->via.map.size; i++) {
    const msgpack_object *k = &o->via.map.ptr[i].key;
    if (key_is(k, "value")) v = &o->via.map.ptr[i].val;
    else if (!key_is(k, "id") && !key_is(k, "edges") && !key_is(k, "timestamp")) return false;
  }
  return v && v->type == MSGPACK_OBJECT_MAP;
}

/* Parses one line; on failure writes the reason into err and returns false (l needs no free). */
static bool parse_line(const char *text, size_t len, import_line *l, char *err, size_t errcap) {
  memset(l, 0, sizeof *l);
  msgpack_sbuffer_init(&l->vbuf);
  msgpack_unpacked_init(&l->un);
  size_t mp_len;
  while (len && (text[len - 1] == '\n' || text[len - 1] == '\r')) len--; /* one line, for the messages */
  if (gdb_json_to_value(text, len, &l->mp, &mp_len)) {
    snprintf(err, errcap, "%s", gdb_errmsg());
    goto fail;
  }
  if (msgpack_unpack_next(&l->un, (const char *)l->mp, mp_len, NULL) != MSGPACK_UNPACK_SUCCESS) {
    snprintf(err, errcap, "could not read the parsed value back");
    goto fail;
  }
  const msgpack_object *o = &l->un.data;
  if (o->type != MSGPACK_OBJECT_MAP) {
    snprintf(err, errcap, "a line must be a JSON object (a value, or {\"id\":…,\"value\":{…},\"edges\":[…]})");
    goto fail;
  }
  l->value = l->mp;
  l->value_len = mp_len;
  if (!is_node_form(o)) return true;
  for (uint32_t i = 0; i < o->via.map.size; i++) {
    const msgpack_object *k = &o->via.map.ptr[i].key, *v = &o->via.map.ptr[i].val;
    if (key_is(k, "value")) {
      msgpack_packer pk;
      msgpack_packer_init(&pk, &l->vbuf, msgpack_sbuffer_write);
      if (msgpack_pack_object(&pk, *v)) {
        snprintf(err, errcap, "out of memory");
        goto fail;
      }
      l->value = (const uint8_t *)l->vbuf.data;
      l->value_len = l->vbuf.size;
    } else if (key_is(k, "id")) {
      if (v->type != MSGPACK_OBJECT_STR) {
        snprintf(err, errcap, "\"id\" must be a string");
        goto fail;
      }
      if (!(l->id = strndup(v->via.str.ptr, v->via.str.size))) {
        snprintf(err, errcap, "out of memory");
        goto fail;
      }
    } else if (key_is(k, "edges")) {
      bool ok = v->type == MSGPACK_OBJECT_ARRAY;
      for (uint32_t j = 0; ok && j < v->via.array.size; j++) ok = v->via.array.ptr[j].type == MSGPACK_OBJECT_STR;
      if (!ok) {
        snprintf(err, errcap, "\"edges\" must be an array of id strings");
        goto fail;
      }
      l->edges = v;
    }
  }
  return true;
fail:
  line_free(l);
  memset(l, 0, sizeof *l);
  return false;
}

/* Calls fn on every edge target of l as a NUL-terminated string; stops at the first error. */
static int each_edge(const import_line *l, int (*fn)(void *ctx, const char *target), void *ctx) {
  if (!l->edges) return GDB_OK;
  char stack[GDB_ID_BUFSZ + 1];
  for (uint32_t i = 0; i < l->edges->via.array.size; i++) {
    const msgpack_object_str *t = &l->edges->via.array.ptr[i].via.str;
    char *s = t->size < sizeof stack ? stack : malloc((size_t)t->size + 1);
    if (!s) return GDB_ENOMEM;
    memcpy(s, t->ptr, t->size);
    s[t->size] = 0;
    int rc = fn(ctx, s);
    if (s != stack) free(s);
    if (rc) return rc;
  }
  return GDB_OK;
}

static int check_edge(void *ctx, const char *target) {
  (void)ctx;
  return gdb_id_check(target);
}

/* Everything storing l would check, with nothing stored: the all-or-nothing pass over a file.
 * On failure the reason goes to err. */
static bool check_line(gdb_t *db, const import_line *l, char *err, size_t errcap) {
  if (gdb_put_check(db, l->id, l->value, l->value_len)) {
    snprintf(err, errcap, "%s", gdb_errmsg());
    return false;
  }
  if (each_edge(l, check_edge, NULL)) {
    snprintf(err, errcap, "edges: %s", gdb_errmsg());
    return false;
  }
  return true;
}

typedef struct link_ctx {
  gdb_t *db;
  const char *source;
} link_ctx;

static int link_edge(void *ctx, const char *target) {
  link_ctx *x = ctx;
  return gdb_link(x->db, x->source, target);
}

/* Stores a parsed line; its id goes to out_id. */
static int store_line(gdb_t *db, const import_line *l, char *out_id) {
  int rc = gdb_put(db, l->id, l->value, l->value_len, out_id);
  link_ctx x = {db, out_id};
  return rc ? rc : each_edge(l, link_edge, &x);
}

typedef struct progress {
  bool on;
  long long total; /* bytes, or -1 when unknown */
  long long bytes, lines;
  struct timespec start, last;
} progress;

static double since(const struct timespec *a) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - a->tv_sec) + (double)(now.tv_nsec - a->tv_nsec) / 1e9;
}

static void progress_show(progress *p, bool final) {
  if (!p->on || (!final && since(&p->last) < 0.1)) return;
  clock_gettime(CLOCK_MONOTONIC, &p->last);
  double secs = since(&p->start);
  double rate = secs > 0 ? (double)p->lines / secs : 0;
  if (p->total > 0) {
    int pct = (int)(100.0 * (double)p->bytes / (double)p->total), bar = pct * 30 / 100;
    fprintf(stderr, "\r[%.*s%*s] %3d%%  %lld lines  %.0f lines/s ", bar, "==============================", 30 - bar, "",
            pct, p->lines, rate);
  } else {
    fprintf(stderr, "\r%lld lines  %.0f lines/s ", p->lines, rate);
  }
  if (final) fputc('\n', stderr);
}

/* A --sync group's input at most: one transaction stays small next to the space a nearly
 * full disk has left. */
#define GROUP_BYTES (256 * 1024)

/* Ids waiting for their group commit (--sync). */
typedef struct pending {
  char **ids;
  size_t n, cap;
  size_t bytes; /* of input in the group */
  struct timespec since;
} pending;

static int flush_pending(gdb_t *db, pending *p) {
  if (!p->n) return CLI_OK;
  int rc = gdb_flush(db);
  if (rc) { /* not on disk: these ids are never printed */
    for (size_t i = 0; i < p->n; i++) free(p->ids[i]);
    p->n = p->bytes = 0;
    return cli_fail(rc, "import");
  }
  for (size_t i = 0; i < p->n; i++) {
    fputs(p->ids[i], stdout);
    fputc('\n', stdout);
    free(p->ids[i]);
  }
  fflush(stdout);
  p->n = p->bytes = 0;
  return CLI_OK;
}

int cmd_import(gdb_t *db, const cli_global *g, int argc, char **argv) {
  (void)g;
  bool sync = false;
  const char *path = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--sync")) sync = true;
    else if (argv[i][0] == '-' && argv[i][1] == '-') return cli_usage("import: unknown flag \"%s\" (usage: import [--sync] FILE|-)", argv[i]);
    else if (path) return cli_usage("import: one input expected (usage: import [--sync] FILE|-)");
    else path = argv[i];
  }
  if (!path) return cli_usage("import: missing the input (usage: import [--sync] FILE|-)");
  FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
  if (!f) return cli_usage("import: cannot open %s", path);
  struct stat st;
  bool regular = fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode);
  progress prog = {.on = isatty(STDERR_FILENO), .total = regular ? (long long)st.st_size : -1};
  clock_gettime(CLOCK_MONOTONIC, &prog.start);
  prog.last = prog.start;

  line_reader in = {.fd = fileno(f)};
  const char *line;
  size_t len;
  char err[512];
  long long lineno = 0;
  int rc = CLI_OK;
  if (regular) { /* check the whole file before storing anything */
    while (rc == CLI_OK) {
      if (!lr_ready(&in) && lr_fill(&in, -1) < 0) {
        rc = cli_usage("import: cannot read %s: %s", path, strerror(errno));
        break;
      }
      if (!lr_ready(&in)) continue;
      if (!lr_take(&in, &line, &len)) break;
      lineno++;
      if (strspn(line, " \t\r\n") >= len) continue;
      import_line l;
      if (!parse_line(line, len, &l, err, sizeof err)) {
        rc = cli_usage("import: %s line %lld: %s; nothing was imported", path, lineno, err);
      } else {
        if (!check_line(db, &l, err, sizeof err))
          rc = cli_usage("import: %s line %lld: %s; nothing was imported", path, lineno, err);
        line_free(&l);
      }
    }
    if (rc == CLI_OK && lseek(in.fd, 0, SEEK_SET) != 0)
      rc = cli_usage("import: cannot reread %s: %s", path, strerror(errno));
    in.start = in.end = 0;
    in.eof = false;
    lineno = 0;
  }
  pending pend = {0};
  clock_gettime(CLOCK_MONOTONIC, &pend.since);
  while (rc == CLI_OK) {
    if (!lr_ready(&in)) { /* about to wait for input: show what is acknowledged */
      int timeout = -1;
      if (pend.n) {
        double left = 0.05 - since(&pend.since);
        timeout = left > 0 ? (int)(left * 1000) + 1 : 0;
      }
      fflush(stdout);
      int got = lr_fill(&in, timeout);
      if (got < 0) {
        rc = cli_usage("import: cannot read %s: %s; the lines before it were imported",
                       strcmp(path, "-") ? path : "standard input", strerror(errno));
        break;
      }
      if (got == 1) rc = flush_pending(db, &pend); /* the input went quiet */
      continue;
    }
    if (!lr_take(&in, &line, &len)) break;
    lineno++;
    prog.bytes += (long long)len;
    if (strspn(line, " \t\r\n") >= len) continue;
    import_line l;
    if (!parse_line(line, len, &l, err, sizeof err)) {
      rc = cli_usage("import: line %lld: %s; the lines before it were imported", lineno, err);
      break;
    }
    /* a streamed line is checked whole first, so it is stored completely or not at all */
    if (!regular && !check_line(db, &l, err, sizeof err)) {
      line_free(&l);
      rc = cli_usage("import: line %lld: %s; the lines before it were imported", lineno, err);
      break;
    }
    char id[GDB_ID_BUFSZ];
    int e = store_line(db, &l, id);
    line_free(&l);
    if (e) {
      char what[128];
      snprintf(what, sizeof what, "import: line %lld (the lines before it were imported)", lineno);
      rc = cli_fail(e, what);
      break;
    }
    prog.lines++;
    if (!sync) {
      fputs(id, stdout);
      fputc('\n', stdout);
    } else {
      if (pend.n == pend.cap) {
        size_t cap = pend.cap ? pend.cap * 2 : 1024;
        char **ids = realloc(pend.ids, cap * sizeof *ids);
        if (!ids) {
          rc = cli_fail(GDB_ENOMEM, "import");
          break;
        }
        pend.ids = ids;
        pend.cap = cap;
      }
      if (pend.n == 0) clock_gettime(CLOCK_MONOTONIC, &pend.since);
      if (!(pend.ids[pend.n] = strdup(id))) {
        rc = cli_fail(GDB_ENOMEM, "import");
        break;
      }
      pend.n++;
      pend.bytes += len;
      if (pend.n >= 8192 || pend.bytes >= GROUP_BYTES || since(&pend.since) > 0.05)
        rc = flush_pending(db, &pend);
    }
    progress_show(&prog, false);
  }
  if (rc == CLI_OK || pend.n) {
    int r2 = flush_pending(db, &pend); /* lines stored before an error are still acknowledged */
    if (rc == CLI_OK) rc = r2;
  }
  progress_show(&prog, true);
  fflush(stdout);
  free(pend.ids);
  free(in.buf);
  if (f != stdin) fclose(f);
  return rc;
}
