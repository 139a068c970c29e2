/*
 * cmd_sm.c — `genosdb id ...` (identities) and `genosdb sm ...` (canonical JSON, signed
 * operations, envelopes, sealed values): thin wrappers over the sm section of genosdb.h.
 *
 * Input is read from stdin: one or more JSON values, each on its own line or pretty-printed;
 * each gives one line of JSON on stdout. Keys come from --key (a 0x private key or a recovery
 * phrase; or the GENOSDB_KEY variable, which keeps the secret out of the process list) or from
 * --id FILE, an identity file unlocked with GENOSDB_PASSPHRASE or a passphrase typed at the
 * terminal.
 */
#include "cli/cli.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* ───────────── helpers ───────────── */

typedef struct sm_opts {
  const char *key, *id_file, *kind, *out;
  int64_t at, now, max_age;
  bool has_at, has_now;
  int words;
} sm_opts;

static bool parse_i64(const char *s, int64_t *out) {
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || end == s || *end) return false;
  *out = v;
  return true;
}

/* Parses the options of argv[from..]; positional arguments are left in pos (at most 1). */
static int parse_opts(int argc, char **argv, int from, sm_opts *o, const char **pos) {
  *o = (sm_opts){.max_age = GDB_SM_ENVELOPE_MAX_AGE_MS, .words = 12};
  if (pos) *pos = NULL;
  for (int i = from; i < argc; i++) {
    const char *a = argv[i], *eq = strchr(a, '=');
    static const char *const WITH_VALUE[] = {"--key", "--id",      "--kind",  "--at",
                                             "--now", "--max-age", "--words", "--out"};
    const char *name = a, *val = NULL;
    char nbuf[32];
    if (a[0] == '-' && a[1] == '-' && eq && (size_t)(eq - a) < sizeof nbuf) {
      memcpy(nbuf, a, (size_t)(eq - a));
      nbuf[eq - a] = 0;
      name = nbuf;
      val = eq + 1;
    }
    bool known = false;
    for (size_t k = 0; k < sizeof WITH_VALUE / sizeof WITH_VALUE[0]; k++)
      if (!strcmp(name, WITH_VALUE[k])) known = true;
    if (!known) {
      if (a[0] == '-' && a[1] && strcmp(a, "-"))
        return cli_usage("%s: unknown option \"%s\"", argv[0], a);
      if (!pos || *pos)
        return cli_usage("%s: unexpected argument \"%s\"%s", argv[0], a,
                         pos ? " (quote a recovery phrase as one argument)" : "");
      *pos = a;
      continue;
    }
    if (!val) {
      if (i + 1 >= argc) return cli_usage("%s: %s needs a value", argv[0], name);
      val = argv[++i];
    }
    bool ok = true;
    if (!strcmp(name, "--key"))
      o->key = val;
    else if (!strcmp(name, "--id"))
      o->id_file = val;
    else if (!strcmp(name, "--kind"))
      o->kind = val;
    else if (!strcmp(name, "--out"))
      o->out = val;
    else if (!strcmp(name, "--at"))
      ok = o->has_at = parse_i64(val, &o->at);
    else if (!strcmp(name, "--now"))
      ok = o->has_now = parse_i64(val, &o->now);
    else if (!strcmp(name, "--max-age"))
      ok = parse_i64(val, &o->max_age) && o->max_age >= 0;
    else if (!strcmp(name, "--words")) {
      int64_t w = 0;
      ok = parse_i64(val, &w) && (w == 12 || w == 24);
      o->words = (int)w;
      if (!ok) return cli_usage("%s: --words must be 12 or 24", argv[0]);
    }
    if (!ok)
      return cli_usage("%s: %s needs a number of milliseconds, not \"%s\"", argv[0], name, val);
  }
  return CLI_OK;
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A passphrase from GENOSDB_PASSPHRASE or the terminal (twice when confirm). Caller frees. */
static char *read_passphrase(const char *prompt, bool confirm) {
  const char *env = getenv("GENOSDB_PASSPHRASE");
  if (env) return strdup(env);
  FILE *tty = fopen("/dev/tty", "r+");
  if (!tty) {
    cli_usage("no passphrase: set GENOSDB_PASSPHRASE or run in a terminal");
    return NULL;
  }
  struct termios old, quiet;
  bool restore = tcgetattr(fileno(tty), &old) == 0;
  if (restore) {
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
  }
  char a[1024] = "", b[1024] = "";
  fprintf(tty, "%s", prompt);
  fflush(tty);
  bool ok = fgets(a, sizeof a, tty) != NULL;
  if (ok && confirm) {
    fprintf(tty, "\nAgain: ");
    fflush(tty);
    ok = fgets(b, sizeof b, tty) != NULL;
  }
  fprintf(tty, "\n");
  if (restore) tcsetattr(fileno(tty), TCSAFLUSH, &old);
  fclose(tty);
  a[strcspn(a, "\r\n")] = 0;
  b[strcspn(b, "\r\n")] = 0;
  char *res = NULL;
  if (!ok)
    cli_usage("no passphrase given");
  else if (confirm && strcmp(a, b))
    cli_usage("the two passphrases differ");
  else
    res = strdup(a);
  explicit_bzero(a, sizeof a);
  explicit_bzero(b, sizeof b);
  return res;
}

static void passphrase_free(char *p) {
  if (!p) return;
  explicit_bzero(p, strlen(p));
  free(p);
}

/* The identity of --id FILE, --key, or GENOSDB_KEY. Returns an exit code. */
static int load_identity(const char *cmd, const sm_opts *o, gdb_identity **out) {
  if (o->id_file) {
    char prompt[600];
    snprintf(prompt, sizeof prompt, "Passphrase for %s: ", o->id_file);
    char *pass = read_passphrase(prompt, false);
    if (!pass) return CLI_USAGE;
    int rc = gdb_id_load(o->id_file, pass, out);
    passphrase_free(pass);
    if (rc == GDB_ECRYPTO) { /* a wrong passphrase is bad input, not a failure of the tool */
      cli_fail(rc, cmd);
      return CLI_USAGE;
    }
    return rc ? cli_fail(rc, cmd) : CLI_OK;
  }
  const char *key = o->key ? o->key : getenv("GENOSDB_KEY");
  if (!key)
    return cli_usage("%s: which identity? (--key KEY_OR_MNEMONIC, GENOSDB_KEY, or --id FILE)", cmd);
  int rc = gdb_id_from_secret(key, out);
  return rc ? cli_fail(rc, cmd) : CLI_OK;
}

/* Calls fn on each JSON value of stdin; stops at the first failing one. */
typedef int (*value_fn)(const char *text, size_t len, void *data);

static int each_input_value(const char *cmd, value_fn fn, void *data) {
  size_t len;
  char *buf = cli_read_file("-", &len);
  if (!buf) return cli_usage("%s: cannot read stdin", cmd);
  int code = CLI_OK, n = 0;
  size_t at = 0;
  while (code == CLI_OK) {
    while (at < len && strchr(" \t\r\n", buf[at])) at++;
    if (at >= len) break;
    json_error_t err;
    json_t *j = json_loadb(buf + at, len - at,
                           JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK | JSON_ALLOW_NUL, &err);
    if (!j) {
      code = cli_usage("%s: input value %d is not valid JSON: %s (line %d, column %d)", cmd, n + 1,
                       err.text, err.line, err.column);
      break;
    }
    json_decref(j);
    code = fn(buf + at, (size_t)err.position, data);
    at += (size_t)err.position;
    n++;
  }
  if (code == CLI_OK && n == 0) code = cli_usage("%s: no JSON on stdin", cmd);
  free(buf);
  return code;
}

/* Prints *out (then frees it) or reports rc. */
static int print_owned(int rc, char **out, const char *what) {
  if (rc) return cli_fail(rc, what);
  cli_println(*out);
  free(*out);
  return CLI_OK;
}

/* ───────────── genosdb id ───────────── */

static int id_new(int argc, char **argv) {
  sm_opts o;
  int code = parse_opts(argc, argv, 2, &o, NULL);
  if (code) return code;
  char *phrase = NULL, *pass = NULL;
  gdb_identity *id = NULL;
  int rc = gdb_mnemonic_generate(o.words, &phrase);
  if (!rc) rc = gdb_id_from_mnemonic(phrase, NULL, NULL, &id);
  if (rc) {
    code = cli_fail(rc, "id new");
    goto done;
  }
  if (o.out) {
    pass = read_passphrase("Passphrase for the new identity file: ", true);
    if (!pass) {
      code = CLI_USAGE;
      goto done;
    }
    if ((rc = gdb_id_save(id, o.out, pass, NULL))) {
      code = cli_fail(rc, "id new");
      goto done;
    }
  }
  printf("{\"address\":\"%s\",\"mnemonic\":\"%s\"}\n", gdb_id_address(id), phrase);
  fflush(stdout);
done:
  passphrase_free(pass);
  gdb_secret_free(phrase);
  gdb_id_free(id);
  return code;
}

static int id_import(int argc, char **argv) {
  sm_opts o;
  int code = parse_opts(argc, argv, 2, &o, NULL);
  if (code) return code;
  if (!o.out) return cli_usage("id import: where to? (--out FILE)");
  gdb_identity *id = NULL;
  if ((code = load_identity("id import", &o, &id))) return code;
  char *pass = read_passphrase("Passphrase for the new identity file: ", true);
  if (!pass) {
    gdb_id_free(id);
    return CLI_USAGE;
  }
  int rc = gdb_id_save(id, o.out, pass, NULL);
  passphrase_free(pass);
  if (rc)
    code = cli_fail(rc, "id import");
  else
    printf("{\"address\":\"%s\"}\n", gdb_id_address(id));
  gdb_id_free(id);
  return code;
}

static int id_address(int argc, char **argv) {
  sm_opts o;
  const char *pos;
  int code = parse_opts(argc, argv, 2, &o, &pos);
  if (code) return code;
  char line[4096];
  if (pos && !strcmp(pos, "-")) { /* the secret on stdin, out of the process list */
    if (!fgets(line, sizeof line, stdin)) return cli_usage("id address: nothing on stdin");
    line[strcspn(line, "\r\n")] = 0;
    pos = line;
  }
  if (pos) o.key = pos;
  gdb_identity *id = NULL;
  code = load_identity("id address", &o, &id);
  explicit_bzero(line, sizeof line);
  if (code) return code;
  printf("{\"address\":\"%s\"}\n", gdb_id_address(id));
  gdb_id_free(id);
  return CLI_OK;
}

int cmd_id(const cli_global *g, int argc, char **argv) {
  (void)g;
  if (argc < 2) return cli_usage("id: new, import or address? (try genosdb --help)");
  if (!strcmp(argv[1], "new")) return id_new(argc, argv);
  if (!strcmp(argv[1], "import")) return id_import(argc, argv);
  if (!strcmp(argv[1], "address")) return id_address(argc, argv);
  return cli_usage("id: unknown subcommand \"%s\" (new, import, address)", argv[1]);
}

/* ───────────── genosdb sm ───────────── */

typedef struct sm_run {
  gdb_identity *id;
  sm_opts *o;
} sm_run;

static int do_canon(const char *text, size_t len, void *data) {
  (void)data;
  char *out = NULL;
  int rc = gdb_canonical_json(text, len, &out, NULL);
  return print_owned(rc, &out, "sm canon");
}

static int do_sign(const char *text, size_t len, void *data) {
  sm_run *r = data;
  char *out = NULL;
  int rc = gdb_sm_sign_op_json(r->id, text, len, &out, NULL);
  return print_owned(rc, &out, "sm sign");
}

static void print_verdict(const gdb_sm_verdict *v, bool signer_null) {
  if (v->ok)
    printf("{\"ok\":true,\"signer\":\"%s\"}\n", v->signer);
  else
    printf("{\"detail\":\"%s\",\"ok\":false,\"reason\":\"%s\"%s}\n",
           gdb_sm_reason_detail(v->reason), gdb_sm_reason_name(v->reason),
           signer_null ? ",\"signer\":null" : "");
  fflush(stdout);
}

static int do_verify(const char *text, size_t len, void *data) {
  (void)data;
  gdb_sm_verdict v;
  int rc = gdb_sm_verify_op_json(text, len, &v);
  if (rc) return cli_fail(rc, "sm verify");
  print_verdict(&v, false);
  return CLI_OK;
}

static int do_envelope(const char *text, size_t len, void *data) {
  sm_run *r = data;
  char *out = NULL;
  int64_t at = r->o->has_at ? r->o->at : now_ms();
  int rc = gdb_sm_envelope_sign(r->id, r->o->kind, at, text, len, &out, NULL);
  return print_owned(rc, &out, "sm envelope");
}

static int do_envelope_verify(const char *text, size_t len, void *data) {
  sm_run *r = data;
  gdb_sm_verdict v;
  int64_t now = r->o->has_now ? r->o->now : now_ms();
  int rc = gdb_sm_envelope_verify(text, len, now, r->o->max_age, &v);
  if (rc) return cli_fail(rc, "sm envelope-verify");
  print_verdict(&v, true);
  return CLI_OK;
}

static int do_seal(const char *text, size_t len, void *data) {
  sm_run *r = data;
  char *out = NULL;
  int rc = gdb_sm_seal_json(r->id, text, len, &out, NULL);
  return print_owned(rc, &out, "sm seal");
}

static int do_open(const char *text, size_t len, void *data) {
  sm_run *r = data;
  char *out = NULL;
  gdb_seal_state st;
  int rc = gdb_sm_open_json(r->id, text, len, &out, NULL, &st);
  if (rc) return cli_fail(rc, "sm open");
  static const char *const NAMES[] = {"opened", "plain", "foreign", "unreadable"};
  printf("{\"state\":\"%s\",\"value\":%s}\n", NAMES[st], out);
  fflush(stdout);
  free(out);
  return CLI_OK;
}

int cmd_sm(const cli_global *g, int argc, char **argv) {
  (void)g;
  static const struct {
    const char *name;
    value_fn fn;
    bool needs_key;
  } SUB[] = {
      {"canon", do_canon, false},
      {"sign", do_sign, true},
      {"verify", do_verify, false},
      {"envelope", do_envelope, true},
      {"envelope-verify", do_envelope_verify, false},
      {"seal", do_seal, true},
      {"open", do_open, true},
  };
  if (argc < 2)
    return cli_usage("sm: canon, sign, verify, envelope, envelope-verify, seal or open?");
  for (size_t i = 0; i < sizeof SUB / sizeof SUB[0]; i++) {
    if (strcmp(argv[1], SUB[i].name)) continue;
    char what[64];
    snprintf(what, sizeof what, "sm %s", SUB[i].name);
    sm_opts o;
    int code = parse_opts(argc, argv, 2, &o, NULL);
    if (code) return code;
    if (!strcmp(SUB[i].name, "envelope") && !o.kind)
      return cli_usage("sm envelope: which kind? (--kind KIND)");
    sm_run r = {NULL, &o};
    if (SUB[i].needs_key && (code = load_identity(what, &o, &r.id))) return code;
    code = each_input_value(what, SUB[i].fn, &r);
    gdb_id_free(r.id);
    return code;
  }
  return cli_usage("sm: unknown subcommand \"%s\" (canon, sign, verify, envelope, envelope-verify, "
                   "seal, open)",
                   argv[1]);
}
