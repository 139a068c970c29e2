/*
 * event.h — private view of a Nostr event (NIP-01) for the relay, the filters and the pool:
 * the parsed fields, the binary id/pubkey/sig, and the compact JSON cached for relaying.
 */
#ifndef GDB_NOSTR_EVENT_H
#define GDB_NOSTR_EVENT_H

#include "genosdb.h"

#include <jansson.h>

struct gdb_nostr_event {
  int refs; /* atomic */
  char id_hex[65], pubkey_hex[65], sig_hex[129];
  uint8_t id[32], pubkey[32], sig[64];
  int64_t created_at;
  int kind;
  json_t *tags;  /* array of arrays of strings (owned reference) */
  char *content; /* NUL-terminated UTF-8 (no NUL inside: parse refuses \u0000) */
  size_t content_len;
  char *json; /* compact JSON of the whole event */
  size_t json_len;
};

/* Builds an event from a parsed JSON object (borrowed); checks shape and types only. */
int gdb_nostr_event_from_json(json_t *obj, gdb_nostr_event **out);
/* Appends s as a JSON string with the NIP-01 escapes (\n \" \\ \r \t \b \f); other control
 * characters as \u00XX when json_safe (the wire form), raw otherwise (the id commitment). */
struct gdb_buf;
void gdb_nostr_put_string(struct gdb_buf *b, const char *s, size_t n, bool json_safe);
/* A process-wide secp256k1 context (created once, randomized). */
struct secp256k1_context_struct;
const struct secp256k1_context_struct *gdb_nostr_secp(void);
/* BIP-340 primitives (exposed for the test vectors): sign msg32 with aux32 as auxiliary
 * randomness; verify sig64 of msg32 by the x-only pubkey32. */
int gdb_nostr_schnorr_sign(const uint8_t seckey[32], const uint8_t msg32[32],
                           const uint8_t aux32[32], uint8_t sig64[64]);
bool gdb_nostr_schnorr_verify(const uint8_t pubkey32[32], const uint8_t msg32[32],
                              const uint8_t sig64[64]);
/* The two halves of gdb_nostr_event_verify(): the id is the SHA-256 of the event's content
 * (cheap: a serialization and a hash), and the BIP-340 signature of the id by the pubkey is
 * valid (the costly part, which the relay may skip for an event it has verified before). */
int gdb_nostr_event_verify_id(const gdb_nostr_event *ev);
int gdb_nostr_event_verify_sig(const gdb_nostr_event *ev);
/* Kind classes of NIP-01. */
static inline bool gdb_nostr_kind_ephemeral(int kind) { return kind >= 20000 && kind < 30000; }
/* NIP-01: a relay keeps only the newest replaceable event per (pubkey, kind) and the newest
 * addressable one per (pubkey, kind, "d" tag). */
static inline bool gdb_nostr_kind_replaceable(int kind) {
  return kind == 0 || kind == 3 || (kind >= 10000 && kind < 20000);
}
static inline bool gdb_nostr_kind_addressable(int kind) { return kind >= 30000 && kind < 40000; }

#endif
