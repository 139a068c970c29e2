/*
 * test_main.c — runs the registered cases of one test binary: all of them, or those named on
 * the command line; `--list` prints the names.
 */
#include "test.h"

#include "genosdb.h"

#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_TESTS 1024

typedef struct test_case {
  const char *name;
  gdb_test_fn fn;
} test_case;
static test_case tests[MAX_TESTS];
static int ntests;
static bool current_failed;
static const char *current_name;
static char tmpdir[512];

void gdb_test_register(const char *name, gdb_test_fn fn) {
  if (ntests < MAX_TESTS) tests[ntests++] = (test_case){name, fn};
}

void gdb_test_failed(const char *file, int line, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "  FAIL %s (%s:%d): ", current_name, file, line);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  current_failed = true;
}

const char *gdb_test_path(const char *rel) {
  static _Thread_local char buf[1024];
  snprintf(buf, sizeof buf, "%s/%s", GDB_TEST_DIR, rel);
  return buf;
}

const char *gdb_test_tmpdir(void) {
  if (!tmpdir[0]) {
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/gdbtest-%s-XXXXXX", base ? base : "/tmp", current_name);
    if (!mkdtemp(tmpdir)) {
      perror("mkdtemp");
      exit(1);
    }
  }
  return tmpdir;
}

static void cleanup_tmpdir(void) {
  if (!tmpdir[0]) return;
  if (!current_failed) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "  could not remove %s\n", tmpdir);
  } else {
    fprintf(stderr, "  kept %s\n", tmpdir);
  }
  tmpdir[0] = 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "--list")) {
    for (int i = 0; i < ntests; i++) puts(tests[i].name);
    return 0;
  }
  int failed = 0, ran = 0;
  for (int i = 0; i < ntests; i++) {
    bool wanted = argc < 2;
    for (int a = 1; a < argc; a++)
      if (!strcmp(argv[a], tests[i].name)) wanted = true;
    if (!wanted) continue;
    current_name = tests[i].name;
    current_failed = false;
    tests[i].fn();
    cleanup_tmpdir();
    ran++;
    if (current_failed) failed++;
    fprintf(stderr, "%s %s\n", current_failed ? "FAIL" : "ok  ", tests[i].name);
  }
  if (!ran) {
    fprintf(stderr, "no test matched\n");
    return 1;
  }
  fprintf(stderr, "%d/%d passed\n", ran - failed, ran);
  return failed ? 1 : 0;
}
