/*
 * test.h — the unit-test harness: named cases that register themselves, each runnable alone
 * (`test_core hlc_vectors`), checks that report file:line and the values involved.
 */
#ifndef GDB_TEST_H
#define GDB_TEST_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef void (*gdb_test_fn)(void);
void gdb_test_register(const char *name, gdb_test_fn fn);
/* Marks the running case failed (checks call this). */
void gdb_test_failed(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Path of a file under tests/ (vectors, fixtures). Static buffer. */
const char *gdb_test_path(const char *rel);
/* A fresh, empty directory for this case's files (removed at exit unless the case failed). */
const char *gdb_test_tmpdir(void);

#define TEST(name)                                                                                 \
  static void test_##name(void);                                                                   \
  __attribute__((constructor)) static void register_##name(void) {                                 \
    gdb_test_register(#name, test_##name);                                                         \
  }                                                                                                \
  static void test_##name(void)

#define CHECK(cond)                                                                                \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      gdb_test_failed(__FILE__, __LINE__, "CHECK(%s)", #cond);                                     \
      return;                                                                                      \
    }                                                                                              \
  } while (0)

#define CHECK_MSG(cond, ...)                                                                       \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      gdb_test_failed(__FILE__, __LINE__, __VA_ARGS__);                                            \
      return;                                                                                      \
    }                                                                                              \
  } while (0)

#define CHECK_INT(a, b)                                                                            \
  do {                                                                                             \
    long long a_ = (long long)(a), b_ = (long long)(b);                                            \
    if (a_ != b_) {                                                                                \
      gdb_test_failed(__FILE__, __LINE__, "%s == %lld, expected %s == %lld", #a, a_, #b, b_);      \
      return;                                                                                      \
    }                                                                                              \
  } while (0)

#define CHECK_STR(a, b)                                                                            \
  do {                                                                                             \
    const char *a_ = (a), *b_ = (b);                                                               \
    if (!a_ || !b_ || strcmp(a_, b_)) {                                                            \
      gdb_test_failed(__FILE__, __LINE__, "%s == \"%s\"\n      expected \"%s\"", #a,               \
                      a_ ? a_ : "(null)", b_ ? b_ : "(null)");                                     \
      return;                                                                                      \
    }                                                                                              \
  } while (0)

/* Checks that a library call returned GDB_OK, printing gdb_errmsg() otherwise. */
#define CHECK_OK(expr)                                                                             \
  do {                                                                                             \
    int rc_ = (expr);                                                                              \
    if (rc_ != 0) {                                                                                \
      gdb_test_failed(__FILE__, __LINE__, "%s returned %d: %s", #expr, rc_, gdb_errmsg());         \
      return;                                                                                      \
    }                                                                                              \
  } while (0)

#endif
