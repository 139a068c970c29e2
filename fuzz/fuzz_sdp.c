/*
 * fuzz_sdp.c — libFuzzer target for the SDP parser of the rtc layer: any input either parses
 * or fails with GDB_EINVAL; a parsed description formats back into SDP that parses again to
 * the same credentials and fingerprint.
 */
#include "net/rtc/sdp.h"

#include "genosdb.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  gdb_sdp s;
  int rc = gdb_sdp_parse((const char *)data, size, &s);
  if (rc != GDB_OK) {
    if (rc != GDB_EINVAL && rc != GDB_ENOMEM) abort();
    return 0;
  }
  gdb_sdp_local l = {.session_id = 1,
                     .ufrag = s.ufrag,
                     .pwd = s.pwd,
                     .fp_alg = s.fp_alg,
                     .fp = s.fp,
                     .fp_len = s.fp_len,
                     .setup = GDB_SDP_SETUP_ACTIVE,
                     .mid = s.mid[0] ? s.mid : "0",
                     .sctp_port = s.sctp_port,
                     .max_message_size = 262144,
                     .candidates = (const char *const *)s.candidates,
                     .n_candidates = s.n_candidates,
                     .offer = &s};
  char *text = gdb_sdp_format(&l);
  if (text) {
    gdb_sdp again;
    if (gdb_sdp_parse(text, strlen(text), &again) == GDB_OK) {
      if (strcmp(again.ufrag, s.ufrag) || strcmp(again.pwd, s.pwd) || again.fp_len != s.fp_len ||
          memcmp(again.fp, s.fp, s.fp_len))
        abort();
      gdb_sdp_clear(&again);
    }
    free(text);
  }
  gdb_sdp_clear(&s);
  return 0;
}
