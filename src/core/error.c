/*
 * error.c — error codes, their names, and the per-thread detailed message.
 */
#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char errmsg[1024];

const char *gdb_strerror(int err) {
  switch (err) {
  case GDB_OK: return "ok";
  case GDB_ENOTFOUND: return "not found";
  case GDB_EINVAL: return "invalid input";
  case GDB_ETOOBIG: return "too big";
  case GDB_EBUSY: return "database busy";
  case GDB_ECORRUPT: return "corrupt data";
  case GDB_EIO: return "i/o error";
  case GDB_ENOMEM: return "out of memory";
  case GDB_EVERSION: return "unsupported version";
  case GDB_ECLOSED: return "closed";
  case GDB_EQUERY: return "invalid query";
  case GDB_EDENIED: return "permission denied";
  case GDB_ECRYPTO: return "cryptographic failure";
  case GDB_ETIMEOUT: return "timed out";
  case GDB_ESTATE: return "invalid state";
  case GDB_ENET: return "network error";
  case GDB_EPROTO: return "protocol error";
  default: return "unknown error";
  }
}

const char *gdb_errmsg(void) { return errmsg; }

void gdb_clear_error(void) { errmsg[0] = 0; }

int gdb_fail(int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(errmsg, sizeof errmsg, fmt, ap);
  va_end(ap);
  return code;
}

int gdb_fail_prefix(int code, const char *prefix) {
  char tmp[sizeof errmsg];
  const char *rest = errmsg[0] ? errmsg : gdb_strerror(code);
  size_t n = 0;
  for (const char *parts[] = {prefix, ": ", rest}, **p = parts; p < parts + 3; p++) {
    size_t l = strlen(*p);
    if (l > sizeof tmp - 1 - n) l = sizeof tmp - 1 - n;
    memcpy(tmp + n, *p, l);
    n += l;
  }
  tmp[n] = 0;
  memcpy(errmsg, tmp, n + 1);
  return code;
}
