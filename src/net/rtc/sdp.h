/*
 * sdp.h — the subset of SDP (RFC 8866) a WebRTC data channel needs: one
 * "m=application … UDP/DTLS/SCTP webrtc-datachannel" section with its ICE credentials,
 * DTLS fingerprint and role, SCTP port and max-message-size. The parser reads any browser's
 * offer or answer, ignores what it does not need, and remembers other media sections only so
 * an answer can reject them. The writer produces what Chromium accepts.
 */
#ifndef GDB_RTC_SDP_H
#define GDB_RTC_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GDB_SDP_MAX_LEN (256u * 1024u) /* larger descriptions are refused */
#define GDB_SDP_MAX_CANDIDATES 64
#define GDB_SDP_MAX_OTHER 16 /* media sections other than ours that an answer rejects */

typedef enum gdb_sdp_setup {
  GDB_SDP_SETUP_NONE = 0,
  GDB_SDP_SETUP_ACTPASS,
  GDB_SDP_SETUP_ACTIVE,
  GDB_SDP_SETUP_PASSIVE,
} gdb_sdp_setup;

typedef struct gdb_sdp_other {
  char media[16]; /* "audio", "video", ... */
  char proto[40];
  char fmt[16]; /* first format token */
  char mid[64];
} gdb_sdp_other;

typedef struct gdb_sdp {
  char ufrag[257], pwd[257];
  char fp_alg[16]; /* "sha-256", lower case */
  uint8_t fp[64];  /* fingerprint bytes */
  size_t fp_len;
  gdb_sdp_setup setup;
  char mid[64];              /* "" when the section has none */
  uint16_t sctp_port;        /* 5000 when absent */
  uint32_t max_message_size; /* 65536 when absent (RFC 8841) */
  uint32_t max_packet;       /* a=x-gdb-max-packet: largest SCTP packet accepted; 0 if absent */
  bool end_of_candidates;
  size_t n_candidates;
  char *candidates[GDB_SDP_MAX_CANDIDATES]; /* "candidate:…" strings, owned */
  int mline_before;                         /* media sections before ours (for rejected answers) */
  size_t n_other;
  gdb_sdp_other other[GDB_SDP_MAX_OTHER];
} gdb_sdp;

/* Parses text into *out (zeroed first). On failure returns GDB_EINVAL with a message naming
 * the line, and *out holds nothing to free. Release a parsed description with
 * gdb_sdp_clear(). */
int gdb_sdp_parse(const char *text, size_t len, gdb_sdp *out);
void gdb_sdp_clear(gdb_sdp *s);

/* What gdb_sdp_format writes. */
typedef struct gdb_sdp_local {
  uint64_t session_id;
  const char *ufrag, *pwd;
  const char *fp_alg;
  const uint8_t *fp;
  size_t fp_len;
  gdb_sdp_setup setup;
  const char *mid;
  uint16_t sctp_port;
  uint32_t max_message_size;
  uint32_t max_packet;           /* written as a=x-gdb-max-packet when non-zero */
  const char *const *candidates; /* "candidate:…" */
  size_t n_candidates;
  bool end_of_candidates;
  const gdb_sdp *offer; /* when answering: mirror its other sections as rejected */
} gdb_sdp_local;

/* Writes an SDP description. Returns a NUL-terminated string (caller frees with free()) or
 * NULL on allocation failure. */
char *gdb_sdp_format(const gdb_sdp_local *l);

/* "AB:CD:…" of n bytes into out (3n bytes). */
void gdb_sdp_fingerprint_hex(const uint8_t *fp, size_t n, char *out);

#endif
