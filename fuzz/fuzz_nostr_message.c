/* fuzz_nostr_message.c — the NIP-01 message parser (both directions), with the events and
 * filters inside it: parse, verify, match, re-encode. Must never crash or leak. */
#include "genosdb.h"
#include "net/nostr/message.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
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
    }
    gdb_buf b = {0};
    if (rc == GDB_OK && m.message) gdb_nostr_msg_notice(&b, m.message);
    gdb_buf_free(&b);
    gdb_nostr_msg_clear(&m);
  }
  return 0;
}
