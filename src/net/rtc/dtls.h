/*
 * dtls.h — one DTLS 1.2 session over OpenSSL with memory I/O: datagrams from ICE go in with
 * gdb_rtc_dtls_feed(), records going out leave one datagram at a time through a send
 * function. Each peer connection has its own self-signed ECDSA P-256 certificate; the remote
 * certificate must match the fingerprint from the remote SDP or the handshake fails.
 * Used on the network thread only.
 */
#ifndef GDB_RTC_DTLS_H
#define GDB_RTC_DTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct gdb_rtc_cert gdb_rtc_cert;
typedef struct gdb_rtc_dtls gdb_rtc_dtls;

/* A fresh key pair and self-signed certificate. *out: release with gdb_rtc_cert_free(). */
int gdb_rtc_cert_new(gdb_rtc_cert **out);
void gdb_rtc_cert_free(gdb_rtc_cert *c);
/* The SHA-256 fingerprint of the certificate (32 bytes). */
const uint8_t *gdb_rtc_cert_fingerprint(const gdb_rtc_cert *c);

typedef enum gdb_rtc_dtls_state {
  GDB_DTLS_HANDSHAKING,
  GDB_DTLS_CONNECTED,
  GDB_DTLS_CLOSED, /* close_notify received */
  GDB_DTLS_FAILED, /* handshake failure, fingerprint mismatch, bad record */
} gdb_rtc_dtls_state;

typedef struct gdb_rtc_dtls_io {
  void (*send)(void *data, const uint8_t *pkt, size_t len); /* one datagram out */
  void (*recv)(void *data, const uint8_t *msg, size_t len); /* one application record in */
  void *data;
} gdb_rtc_dtls_io;

/* A session in the given role that accepts only a peer certificate whose fp_alg digest is fp.
 * *out: release with gdb_rtc_dtls_free(). */
int gdb_rtc_dtls_new(gdb_rtc_cert *cert, bool client, const char *fp_alg, const uint8_t *fp,
                     size_t fp_len, uint16_t mtu, const gdb_rtc_dtls_io *io, gdb_rtc_dtls **out);
void gdb_rtc_dtls_free(gdb_rtc_dtls *d);
/* The client sends its ClientHello; the server waits. */
void gdb_rtc_dtls_start(gdb_rtc_dtls *d);
/* Processes one datagram; application records go to io->recv. Returns the state after. */
gdb_rtc_dtls_state gdb_rtc_dtls_feed(gdb_rtc_dtls *d, const uint8_t *pkt, size_t len);
gdb_rtc_dtls_state gdb_rtc_dtls_state_of(const gdb_rtc_dtls *d);
/* Why the session failed (static or session-owned text). */
const char *gdb_rtc_dtls_error(const gdb_rtc_dtls *d);
/* Encrypts one application record; false when not connected or on error. */
bool gdb_rtc_dtls_write(gdb_rtc_dtls *d, const void *msg, size_t len);
/* Milliseconds until the handshake needs gdb_rtc_dtls_handle_timeout, or -1 for none. */
int gdb_rtc_dtls_timeout_ms(gdb_rtc_dtls *d);
gdb_rtc_dtls_state gdb_rtc_dtls_handle_timeout(gdb_rtc_dtls *d);
/* Changes the largest datagram the session writes (SCTP packet plus record overhead). */
void gdb_rtc_dtls_set_mtu(gdb_rtc_dtls *d, uint16_t mtu);
/* Sends close_notify. */
void gdb_rtc_dtls_close(gdb_rtc_dtls *d);

/* True when a datagram is DTLS by RFC 7983 demultiplexing (first byte 20..63). */
static inline bool gdb_rtc_is_dtls(const uint8_t *pkt, size_t len) {
  return len > 0 && pkt[0] >= 20 && pkt[0] <= 63;
}

#endif
