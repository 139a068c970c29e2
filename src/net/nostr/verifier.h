/*
 * verifier.h — parses and verifies incoming EVENT messages on a small pool of worker threads,
 * off the network thread, and hands each finished job back to the network thread. The relay
 * keeps the order of its answers itself (a queue per connection): this pool finishes jobs in
 * any order. See verifier.c.
 */
#ifndef GDB_NOSTR_VERIFIER_H
#define GDB_NOSTR_VERIFIER_H

#include "net/nostr/message.h"
#include "net/nostr/seen.h"

#include <glib.h>

/* One message to parse (and, for an EVENT, verify). Fields marked "in" are the submitter's,
 * "out" are written by the worker and may be read on the network thread once the job is
 * handed back; the rest belong to the submitter (the verifier never touches them). */
typedef struct gdb_nostr_vjob {
  char *text; /* in: the raw message, NUL-terminated (owned by the job: freed by _vjob_free) */
  size_t len;
  size_t max_filters; /* in: limit for a REQ (the parser's argument) */
  bool verify;        /* in: verify the event (false: parse only, e.g. over a rate limit) */
  int rc;             /* out: the parse result */
  int vrc;            /* out: the verification result (GDB_OK when it passed or was skipped) */
  bool from_cache;    /* out: the signature was known valid (gdb_nostr_seen) */
  char err[256];      /* out: what was wrong (gdb_errmsg() of the failure) */
  gdb_nostr_msg msg;  /* out: the parsed message (cleared by _vjob_free) */
  /* the submitter's */
  void *owner;
  struct gdb_nostr_vjob *next;
  bool submitted, done, limited, notice;
  struct gdb_nostr_vjob *wnext; /* the verifier's queues (do not touch) */
} gdb_nostr_vjob;

/* A job holding a copy of the n bytes at s; NULL when memory is short. */
gdb_nostr_vjob *gdb_nostr_vjob_new(const char *s, size_t n, size_t max_filters);
void gdb_nostr_vjob_free(gdb_nostr_vjob *job);
/* Does the work of a job on the calling thread (what a worker does). seen may be NULL. */
void gdb_nostr_vjob_run(gdb_nostr_vjob *job, gdb_nostr_seen *seen);
/* Verifies a parsed event: the id, then the signature unless seen knows it (*from_cache),
 * recording it in seen when it passes. Fails as gdb_nostr_event_verify() does. */
int gdb_nostr_vjob_check(const gdb_nostr_event *ev, gdb_nostr_seen *seen, bool *from_cache);

typedef struct gdb_nostr_verifier gdb_nostr_verifier;
/* Called on ctx's thread for each finished job, in the order the workers finished them. */
typedef void (*gdb_nostr_verifier_done_fn)(gdb_nostr_vjob *job, void *data);

/* Starts threads workers (named gdb-verify) that check signatures against seen (borrowed, may
 * be NULL) and a GSource on ctx that calls done. NULL on failure (error recorded). */
gdb_nostr_verifier *gdb_nostr_verifier_new(GMainContext *ctx, unsigned threads,
                                           gdb_nostr_seen *seen, gdb_nostr_verifier_done_fn done,
                                           void *data);
/* Queues a job (any thread). The job comes back through done. */
void gdb_nostr_verifier_submit(gdb_nostr_verifier *v, gdb_nostr_vjob *job);
/* On ctx's thread: lets the workers finish every queued job, joins them, hands the finished
 * jobs to done, and frees the verifier. */
void gdb_nostr_verifier_free(gdb_nostr_verifier *v);

#endif
