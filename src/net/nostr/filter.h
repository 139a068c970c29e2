/*
 * filter.h — private entry to the NIP-01 filters for the relay and the pool (parsing from an
 * already parsed JSON value).
 */
#ifndef GDB_NOSTR_FILTER_H
#define GDB_NOSTR_FILTER_H

#include "genosdb.h"

#include <jansson.h>

/* Parses one filter object (borrowed). *out: gdb_nostr_filter_free(). */
int gdb_nostr_filter_from_json(json_t *obj, gdb_nostr_filter **out);
/* Appends bytes that are equal for two filters exactly when they match the same events
 * (the limit aside): what lets subscriptions with equal filters share one match per event. */
struct gdb_buf;
void gdb_nostr_filter_key(const gdb_nostr_filter *f, struct gdb_buf *b);

#endif
