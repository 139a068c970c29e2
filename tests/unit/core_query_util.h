/*
 * core_query_util.h — helpers for the query conformance tests (core_query_*.c): a database
 * with named nodes, and results compared as comma-separated ids in result order.
 */
#ifndef GDB_TEST_CORE_QUERY_UTIL_H
#define GDB_TEST_CORE_QUERY_UTIL_H

#include "genosdb.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>

static inline int q_put(gdb_t *db, const char *id, const char *json) {
  return gdb_put_json(db, id, json, strlen(json), NULL);
}

/* The ids a query returns, comma-separated ("" for none), or "ERR <code>: <message>".
 * Caller frees. */
static inline char *q_ids(gdb_t *db, const char *opts) {
  gdb_result *r;
  int rc = gdb_map(db, opts, &r);
  size_t cap = 256, len = 0;
  char *out = malloc(cap);
  out[0] = 0;
  if (rc) {
    snprintf(out, cap, "ERR %d: %s", rc, gdb_errmsg());
    return out;
  }
  for (size_t i = 0; i < gdb_result_len(r); i++) {
    const char *id = gdb_node_id(gdb_result_at(r, i));
    size_t l = strlen(id);
    while (len + l + 2 > cap) out = realloc(out, cap *= 2);
    if (i) out[len++] = ',';
    memcpy(out + len, id, l + 1);
    len += l;
  }
  gdb_result_free(r);
  return out;
}

#define CHECK_IDS(db, opts, want)                                                                  \
  do {                                                                                             \
    const char *o_ = (opts);                                                                       \
    char *got_ = q_ids((db), o_);                                                                  \
    int ok_ = !strcmp(got_, (want));                                                               \
    if (!ok_)                                                                                      \
      gdb_test_failed(__FILE__, __LINE__, "map %s\n      got  [%s]\n      want [%s]",              \
                      o_ ? o_ : "(null)", got_, (want));                                           \
    free(got_);                                                                                    \
    if (!ok_) return;                                                                              \
  } while (0)

/* A query that must fail with code, its message containing needle. */
#define CHECK_QUERY_FAILS(db, opts, code, needle)                                                  \
  do {                                                                                             \
    gdb_result *r_ = NULL;                                                                         \
    int rc_ = gdb_map((db), (opts), &r_);                                                          \
    gdb_result_free(r_);                                                                           \
    if (rc_ != (code) || !strstr(gdb_errmsg(), (needle)))                                          \
      gdb_test_failed(__FILE__, __LINE__,                                                          \
                      "map %s\n      returned %d \"%s\"\n      wanted %d with \"%s\"", (opts),     \
                      rc_, gdb_errmsg(), (code), (needle));                                        \
    if (rc_ != (code) || !strstr(gdb_errmsg(), (needle))) return;                                  \
  } while (0)

#endif
