/* fuzz_nostr_message.c — the NIP-01 message parser (both directions), with the events and
 * filters inside it: parse, verify, match, re-encode; and the relay's verification job (the
 * same parse on a worker, with the seen-event cache). Must never crash or leak. */
#include "genosdb.h"
#include "net/nostr/filter.h"
#include "net/nostr/message.h"
#include "net/nostr/verifier.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static gdb_nostr_seen *seen;
  if (!seen) seen = gdb_nostr_seen_new(64);
  for (int pass = 0; pass < 2; pass++) { /* the second may answer from the cache */
    gdb_nostr_vjob *job = gdb_nostr_vjob_new((const char *)data, size, 16);
    if (!job) break;
    job->verify = true;
    gdb_nostr_vjob_run(job, seen);
    if (job->rc && !job->err[0]) abort(); /* a refusal always says why */
    gdb_nostr_vjob_free(job);
  }
  for (int dir = 0; dir < 2; dir++) {
    gdb_nostr_msg m;
    int rc = gdb_nostr_msg_parse((const char *)data, size, (gdb_nostr_msg_dir)dir, 16, &m);
    if (rc == GDB_OK && m.event) {
      (void)gdb_nostr_event_verify(m.event);
      (void)gdb_nostr_event_pow(m.event);
      char *c = NULL;
      if (gdb_nostr_event_commitment(m.event, &c, NULL) == GDB_OK) gdb_free(c);
      /* the JSON we render must parse back */
      gdb_nostr_event *back = NULL;
      const char *j = gdb_nostr_event_json(m.event);
      if (gdb_nostr_event_parse(j, strlen(j), &back) != GDB_OK) abort();
      if (strcmp(gdb_nostr_event_json(back), j)) abort();
      gdb_nostr_event_release(back);
    }
    for (size_t i = 0; rc == GDB_OK && i < m.n_filters; i++) {
      static gdb_nostr_event *probe;
      if (!probe) {
        uint8_t sk[32] = {1};
        gdb_nostr_event_sign(sk, 1700000000, 1, "[[\"x\",\"a\"],[\"p\",\"b\"]]", "c", &probe);
      }
      if (probe) (void)gdb_nostr_filter_match(m.filters[i], probe);
      (void)gdb_nostr_filter_limit(m.filters[i]);
      gdb_buf key = {0}; /* the relay's subscription-group key */
      gdb_nostr_filter_key(m.filters[i], &key);
      gdb_buf_free(&key);
    }
    gdb_buf b = {0};
    if (rc == GDB_OK && m.message) gdb_nostr_msg_notice(&b, m.message);
    gdb_buf_free(&b);
    gdb_nostr_msg_clear(&m);
  }
  return 0;
}
