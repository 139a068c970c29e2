/*
 * seen.c — the verified-events cache (see seen.h). A 4-way set-associative table: the set is
 * picked by the first bytes of the id (a SHA-256, so uniformly spread), and a full set drops
 * its oldest entry (round robin). That bounds memory exactly (128 bytes per entry: id, pubkey,
 * signature), needs no allocation after creation, and costs one short scan per lookup; an
 * exact LRU over a hash table would cost a list update on every hit for no gain here, where
 * repeats arrive within seconds of the first copy. One mutex: lookups take well under a
 * microsecond next to the 60 µs verification they save, and the relay runs one verifier
 * thread per core.
 */
#include "net/nostr/seen.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

#define WAYS 4

typedef struct seen_entry {
  uint8_t id[32], pubkey[32], sig[64];
} seen_entry;

typedef struct seen_set {
  seen_entry e[WAYS];
  uint8_t used, next; /* entries filled; the one to replace next when full */
} seen_set;

struct gdb_nostr_seen {
  GMutex mu;
  seen_set *sets;
  size_t mask; /* sets - 1 (a power of two) */
};

gdb_nostr_seen *gdb_nostr_seen_new(size_t max_entries) {
  if (!max_entries) return NULL;
  size_t sets = 1;
  while (sets * WAYS < max_entries && sets < ((size_t)1 << 28)) sets <<= 1;
  gdb_nostr_seen *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->sets = calloc(sets, sizeof *s->sets);
  if (!s->sets) {
    free(s);
    return NULL;
  }
  s->mask = sets - 1;
  g_mutex_init(&s->mu);
  return s;
}

void gdb_nostr_seen_free(gdb_nostr_seen *s) {
  if (!s) return;
  g_mutex_clear(&s->mu);
  free(s->sets);
  free(s);
}

static seen_set *set_of(gdb_nostr_seen *s, const uint8_t id[32]) {
  uint64_t h;
  memcpy(&h, id, sizeof h);
  return &s->sets[h & s->mask];
}

bool gdb_nostr_seen_has(gdb_nostr_seen *s, const gdb_nostr_event *ev) {
  if (!s) return false;
  bool hit = false;
  g_mutex_lock(&s->mu);
  seen_set *set = set_of(s, ev->id);
  for (int i = 0; i < set->used && !hit; i++)
    hit = !memcmp(set->e[i].id, ev->id, 32) && !memcmp(set->e[i].pubkey, ev->pubkey, 32) &&
          !memcmp(set->e[i].sig, ev->sig, 64);
  g_mutex_unlock(&s->mu);
  return hit;
}

void gdb_nostr_seen_add(gdb_nostr_seen *s, const gdb_nostr_event *ev) {
  if (!s) return;
  g_mutex_lock(&s->mu);
  seen_set *set = set_of(s, ev->id);
  seen_entry *e;
  for (int i = 0; i < set->used; i++)
    if (!memcmp(set->e[i].id, ev->id, 32) && !memcmp(set->e[i].pubkey, ev->pubkey, 32) &&
        !memcmp(set->e[i].sig, ev->sig, 64))
      goto out; /* already there (two copies verified at once) */
  if (set->used < WAYS) {
    e = &set->e[set->used++];
  } else {
    e = &set->e[set->next];
    set->next = (uint8_t)((set->next + 1) % WAYS);
  }
  memcpy(e->id, ev->id, 32);
  memcpy(e->pubkey, ev->pubkey, 32);
  memcpy(e->sig, ev->sig, 64);
out:
  g_mutex_unlock(&s->mu);
}
