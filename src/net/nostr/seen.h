/*
 * seen.h — a bounded, thread-safe memory of events whose signature the relay has already
 * checked, so an event arriving again (the same event published by several peers, or to
 * several relays that forward it) skips the ~60 µs BIP-340 verification. See seen.c.
 */
#ifndef GDB_NOSTR_SEEN_H
#define GDB_NOSTR_SEEN_H

#include "net/nostr/event.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct gdb_nostr_seen gdb_nostr_seen;

/* A cache of about max_entries events (rounded up to a power of two); NULL when max_entries
 * is 0 (no cache) or memory is short. Free with _free. */
gdb_nostr_seen *gdb_nostr_seen_new(size_t max_entries);
void gdb_nostr_seen_free(gdb_nostr_seen *s);
/* True when an event with the same id, pubkey and signature was recorded: its signature is
 * then known to be valid, since BIP-340 verification depends on those three alone. The caller
 * must still check that the id is the hash of the event's content. NULL s: false. */
bool gdb_nostr_seen_has(gdb_nostr_seen *s, const gdb_nostr_event *ev);
/* Records a verified event, replacing the oldest entry of its set when the set is full. */
void gdb_nostr_seen_add(gdb_nostr_seen *s, const gdb_nostr_event *ev);

#endif
