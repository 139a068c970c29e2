/*
 * error.h — the library's error plumbing: every failing path calls gdb_fail() with a code
 * and a message that tells a person what was wrong and what to do; gdb_errmsg() reads it back.
 */
#ifndef GDB_CORE_ERROR_H
#define GDB_CORE_ERROR_H

#include "genosdb.h"

#if defined(__GNUC__)
#define GDB_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define GDB_PRINTF(a, b)
#endif

/* Records a formatted message for this thread and returns code (a negative gdb_err). */
int gdb_fail(int code, const char *fmt, ...) GDB_PRINTF(2, 3);
/* Prefixes the current message with "prefix: " (for callers adding context); returns code. */
int gdb_fail_prefix(int code, const char *prefix);
/* Clears this thread's message. */
void gdb_clear_error(void);

#endif
